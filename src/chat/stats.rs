//! The staff chat's figures: `/stats [days]`, `/stats chart` and `/export [days]`.

use teloxide::prelude::*;
use teloxide::types::Message;

use super::{AppRef, HandlerResult, reply_text};
use crate::domain::Error;
use crate::domain::figures::{Days, Period, StatsRequest};
use crate::figures;
use crate::i18n::{Locale, t};
use crate::outbox::Outgoing;

/// `/stats [days]`: the headline figures, those of kinds, top categories and the staff table;
/// `/stats chart`: the weekly trend chart.
pub async fn stats(
    bot: Bot,
    app: AppRef,
    msg: Message,
    args: String,
    locale: Locale,
) -> HandlerResult {
    let request = match args.parse::<StatsRequest>() {
        Ok(r) => r,
        Err(e) => return super::refuse(&app, &bot, &msg, locale, &e).await,
    };
    let now = app.now();
    // Figures are read without holding the write lock; the answer is written after.
    match request {
        StatsRequest::Figures(days) => {
            let period = Period::last_days(now, days.get());
            let overview = figures::overview(&app.store, period, &app.settings).await?;
            let text = figures::stats_text(&overview, days.get(), locale, &app.settings);
            app.send(&bot, vec![reply_text(&msg, text)]).await
        }
        StatsRequest::Chart => {
            let mut read = app.store.begin_read().await?;
            let png = figures::weekly_chart(&mut read, &app.settings, now, locale).await?;
            drop(read);
            let mut tx = app.store.begin().await?;
            let file = tx.add_outbox_file(&png, now).await?;
            let caption = t(
                locale,
                "chart.caption",
                &[("weeks", &figures::CHART_WEEKS.to_string())],
            );
            tx.enqueue(
                &Outgoing::PhotoFile {
                    chat_id: msg.chat.id.0,
                    file,
                    file_name: "chart.png".into(),
                    caption: Some(caption),
                },
                now,
            )
            .await?;
            app.commit(&bot, tx).await
        }
    }
}

/// `/export [days]`: the XLSX of the last days, sent to the staff chat.
pub async fn export(
    bot: Bot,
    app: AppRef,
    msg: Message,
    args: String,
    locale: Locale,
) -> HandlerResult {
    let allowed = msg.from.as_ref().map_or(Err(Error::ManagersOnly), |u| {
        app.actor(u)
            .may_export(app.settings.export.staff_may_export)
    });
    // A mistyped number is explained to anyone; the workbook goes to those allowed.
    let days = match args.parse::<Days>().and_then(|d| allowed.map(|()| d)) {
        Ok(d) => d,
        Err(e) => return super::refuse(&app, &bot, &msg, locale, &e).await,
    };
    let now = app.now();
    let period = Period::last_days(now, days.get());
    let mut read = app.store.begin_read().await?;
    let (bytes, file_name) = figures::xlsx_export(&mut read, &app.settings, period, locale).await?;
    drop(read);
    let mut tx = app.store.begin().await?;
    let file = tx.add_outbox_file(&bytes, now).await?;
    let (from, to) = period.local_dates(app.settings.timezone);
    let caption = t(
        locale,
        "export.caption",
        &[("from", &from.to_string()), ("to", &to.to_string())],
    );
    tx.enqueue(
        &Outgoing::Document {
            chat_id: msg.chat.id.0,
            file,
            file_name,
            caption: Some(caption),
        },
        now,
    )
    .await?;
    app.commit(&bot, tx).await
}
