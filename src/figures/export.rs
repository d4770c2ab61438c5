//! The export: five sheets — tickets reported in the period (repairs and suggestions;
//! complaints only counted, as they may be about staff), ratings given in it, each staff
//! member's figures, dispatch, and the figures of kinds (complaints' clocks, urgent
//! repairs, hurry-ups, withdrawals, repeats) — as one XLSX workbook or as CSV files.
//!
//! In the XLSX, times are Excel date-times in the configured time zone with a date
//! format, counts and scores are numbers, rates are numbers with a percent format.
//! CSV (UTF-8 with a byte-order mark, so that Excel reads Chinese right) writes the same
//! cells as text: times as `2026-11-24 14:15:00` local time, rates as fractions (0.875).
//! Headers and sheet names are in the staff language.
//!
//! What owners wrote is data, never a formula: a CSV text cell that a spreadsheet would
//! read as one (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a
//! leading `'` (OWASP's advice against CSV injection); the XLSX writes every text as a
//! string cell, cut to Excel's 32,767 characters with a closing `…`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};
use chrono_tz::Tz;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};

use crate::config::SlaSettings;
use crate::domain::dispatch::StaffDispatch;
use crate::domain::figures::{Period, RatingRow, Ratio, Scope, StaffFigures, TicketRow};
use crate::domain::kind_figures::KindFigures;
use crate::i18n::{self, Locale, t};
use crate::store::{self, TicketScope, Tx};

/// One cell, typed.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    /// A number shown with one decimal.
    Decimal(f64),
    /// A fraction shown as a percentage.
    Percent(f64),
    Time(NaiveDateTime),
}

/// One sheet: a file name stem, a localized name and header, and rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    /// One of [`STEMS`]: the CSV file name without `.csv`.
    pub stem: &'static str,
    pub name: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error("xlsx: {0}")]
    Xlsx(#[from] XlsxError),
    #[error("writing {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The file formats of `butler export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Xlsx,
    Csv,
}

impl std::str::FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "xlsx" => Ok(Self::Xlsx),
            "csv" => Ok(Self::Csv),
            other => Err(format!("unknown format {other:?}: use xlsx or csv")),
        }
    }
}

/// What `butler export` was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRequest {
    /// First and last local day, both included.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub format: ExportFormat,
    /// The XLSX file, or for CSV the directory for the three files.
    pub out: PathBuf,
    /// Whether files already there may be overwritten (`--force`).
    pub force: bool,
}

impl ExportRequest {
    /// The whole local days asked for, in `tz`.
    pub fn period(&self, tz: Tz) -> Option<Period> {
        Period::local_days(self.from, self.to, tz)
    }
}

/// The sheets' CSV file names without `.csv`, in the order written.
pub const STEMS: [&str; 5] = ["tickets", "ratings", "staff", "dispatch", "kinds"];

/// The sheets for `period` (deadlines under `sla`), read in one transaction.
pub async fn sheets(
    tx: &mut Tx<'_>,
    period: Period,
    sla: &SlaSettings,
    locale: Locale,
    tz: Tz,
) -> Result<Vec<Sheet>, store::Error> {
    let scope = Scope::all();
    let tickets = tx.ticket_rows(period, scope).await?;
    let ratings = tx.rating_rows(period, scope).await?;
    let staff = tx.staff_figures(period, scope, sla.take_minutes).await?;
    let dispatch = tx.dispatch_figures(period).await?;
    let limits = super::kinds::limits(sla);
    let kinds = tx
        .kind_figures(period, scope, TicketScope::All, limits, period.to)
        .await?;
    Ok(vec![
        ticket_sheet(&tickets, locale, tz),
        rating_sheet(&ratings, locale, tz),
        staff_sheet(&staff, locale),
        dispatch_sheet(&dispatch, locale),
        kinds_sheet(&kinds, locale),
    ])
}

/// The figures of kinds, one a row: the value (a count, a rate, minutes), and for a
/// rate its part and whole.
fn kinds_sheet(k: &KindFigures, locale: Locale) -> Sheet {
    let count = |key: &str, n: i64| vec![Cell::Text(t(locale, key, &[])), Cell::Int(n)];
    let share = |key: &str, r: Ratio| {
        vec![
            Cell::Text(t(locale, key, &[])),
            ratio(r),
            Cell::Int(r.part),
            Cell::Int(r.whole),
        ]
    };
    let take = |d: Option<chrono::Duration>| opt(d, |d| Cell::Decimal(minutes(d)));
    let label = |key: &str| Cell::Text(t(locale, key, &[]));
    Sheet {
        stem: "kinds",
        name: t(locale, "export.sheet.kinds", &[]),
        header: header(locale, &["figure", "value", "part", "whole"]),
        rows: vec![
            count("figure.complaints", k.complaints),
            share("figure.complaint_first_response", k.first_response),
            share("figure.complaint_reply", k.reply),
            count("figure.suggestions", k.suggestions),
            count("figure.urgent", k.urgent),
            count("figure.urgent_waiting", k.urgent_waiting),
            vec![
                label("figure.urgent_median_minutes"),
                take(k.urgent_take.median),
                Cell::Empty,
                Cell::Int(k.urgent_take.count),
            ],
            count("figure.hurry_ups", k.hurry_ups),
            count("figure.cancelled", k.cancelled),
            share("figure.repeats", k.repeats),
        ],
    }
}

/// How each staff member's tickets came to them, and how many they returned.
fn dispatch_sheet(rows: &[StaffDispatch], locale: Locale) -> Sheet {
    Sheet {
        stem: "dispatch",
        name: t(locale, "export.sheet.dispatch", &[]),
        header: header(
            locale,
            &["staff", "self_taken", "assigned", "transferred", "returned"],
        ),
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    text(&r.name),
                    Cell::Int(r.self_taken),
                    Cell::Int(r.assigned),
                    Cell::Int(r.transferred),
                    Cell::Int(r.returned),
                ]
            })
            .collect(),
    }
}

fn header(locale: Locale, keys: &[&str]) -> Vec<String> {
    keys.iter()
        .map(|k| t(locale, &format!("export.column.{k}"), &[]))
        .collect()
}

fn local(at: DateTime<Utc>, tz: Tz) -> Cell {
    Cell::Time(at.with_timezone(&tz).naive_local())
}

fn opt<T>(value: Option<T>, cell: impl FnOnce(T) -> Cell) -> Cell {
    value.map_or(Cell::Empty, cell)
}

fn text(s: &str) -> Cell {
    Cell::Text(s.to_owned())
}

fn minutes_between(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    minutes(b - a)
}

fn minutes(d: chrono::Duration) -> f64 {
    d.num_seconds() as f64 / 60.0
}

fn ratio(r: Ratio) -> Cell {
    opt(r.value(), Cell::Percent)
}

fn ticket_sheet(rows: &[TicketRow], locale: Locale, tz: Tz) -> Sheet {
    Sheet {
        stem: "tickets",
        name: t(locale, "export.sheet.tickets", &[]),
        header: header(
            locale,
            &[
                "ticket",
                "reported_at",
                "group",
                "unit",
                "owner",
                "category",
                "status",
                "taken_by",
                "taken_at",
                "done_at",
                "minutes_to_take",
                "hours_to_done",
                "hours_paused",
                "reopened",
                "score",
                "text",
                "kind",
                "urgency",
                "repeat_of",
                "hurry_ups",
            ],
        ),
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    Cell::Int(r.id),
                    local(r.reported_at, tz),
                    text(&r.group),
                    opt(r.unit.as_deref(), text),
                    text(&r.owner),
                    Cell::Text(i18n::category_name(locale, r.category)),
                    Cell::Text(t(locale, &format!("status.{}", r.status.code()), &[])),
                    opt(r.taken_by.as_deref(), text),
                    opt(r.taken_at, |at| local(at, tz)),
                    opt(r.done_at, |at| local(at, tz)),
                    opt(r.taken_at, |at| {
                        Cell::Decimal(minutes_between(r.reported_at, at))
                    }),
                    opt(r.done_at, |at| {
                        let paused = minutes(r.paused_before_done);
                        Cell::Decimal((minutes_between(r.reported_at, at) - paused) / 60.0)
                    }),
                    Cell::Decimal(minutes(r.paused) / 60.0),
                    Cell::Int(r.reopened),
                    opt(r.score, |s| Cell::Int(i64::from(s))),
                    text(&r.text),
                    Cell::Text(t(locale, &format!("kind.{}", r.kind.code()), &[])),
                    text(r.urgency.code()),
                    opt(r.repeat_of, Cell::Int),
                    Cell::Int(r.hurry_ups),
                ]
            })
            .collect(),
    }
}

fn rating_sheet(rows: &[RatingRow], locale: Locale, tz: Tz) -> Sheet {
    Sheet {
        stem: "ratings",
        name: t(locale, "export.sheet.ratings", &[]),
        header: header(
            locale,
            &[
                "ticket", "round", "score", "rated_at", "group", "owner", "category", "taken_by",
                "comment",
            ],
        ),
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    Cell::Int(r.ticket_id),
                    Cell::Int(r.round),
                    Cell::Int(i64::from(r.score)),
                    local(r.at, tz),
                    text(&r.group),
                    text(&r.owner),
                    Cell::Text(i18n::category_name(locale, r.category)),
                    opt(r.taken_by.as_deref(), text),
                    opt(r.comment.as_deref(), text),
                ]
            })
            .collect(),
    }
}

fn staff_sheet(rows: &[StaffFigures], locale: Locale) -> Sheet {
    Sheet {
        stem: "staff",
        name: t(locale, "export.sheet.staff", &[]),
        header: header(
            locale,
            &[
                "staff",
                "taken",
                "done",
                "ratings",
                "average_score",
                "satisfaction",
                "praise",
                "on_time_take",
                "median_minutes_to_take",
                "first_time_fix",
                "paused_tickets",
                "hours_paused",
            ],
        ),
        rows: rows
            .iter()
            .map(|s| {
                let f = &s.figures;
                vec![
                    text(&s.name),
                    Cell::Int(f.taken()),
                    Cell::Int(f.done()),
                    Cell::Int(f.ratings()),
                    opt(f.average_score(), Cell::Decimal),
                    ratio(f.satisfaction),
                    Cell::Int(f.praise),
                    ratio(f.on_time_take),
                    opt(f.time_to_take.median, |d| {
                        Cell::Decimal(d.num_seconds() as f64 / 60.0)
                    }),
                    ratio(f.first_time_fix),
                    Cell::Int(f.paused.tickets()),
                    Cell::Decimal(minutes(f.paused.total) / 60.0),
                ]
            })
            .collect(),
    }
}

fn excel_time(t: NaiveDateTime) -> Result<ExcelDateTime, XlsxError> {
    ExcelDateTime::from_ymd(t.year() as u16, t.month() as u8, t.day() as u8)?.and_hms(
        t.hour() as u16,
        t.minute() as u8,
        t.second(),
    )
}

/// The sheets as one XLSX workbook.
pub fn xlsx(sheets: &[Sheet]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let time = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let decimal = Format::new().set_num_format("0.0");
    let percent = Format::new().set_num_format("0.0%");
    for sheet in sheets {
        let ws = book.add_worksheet();
        ws.set_name(&sheet.name)?;
        for (c, h) in sheet.header.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, h, &bold)?;
        }
        for (r, row) in sheet.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Empty => {}
                    Cell::Text(s) => {
                        ws.write_string(r, c, xlsx_text(s))?;
                    }
                    Cell::Int(n) => {
                        ws.write_number(r, c, *n as f64)?;
                    }
                    Cell::Decimal(x) => {
                        ws.write_number_with_format(r, c, *x, &decimal)?;
                    }
                    Cell::Percent(x) => {
                        ws.write_number_with_format(r, c, *x, &percent)?;
                    }
                    Cell::Time(at) => {
                        ws.write_datetime_with_format(r, c, excel_time(*at)?, &time)?;
                    }
                }
            }
        }
        ws.set_freeze_panes(1, 0)?;
        ws.set_autofit_max_width(400);
        ws.autofit();
    }
    book.save_to_buffer()
}

/// One sheet as CSV text (UTF-8 with a byte-order mark, CRLF line ends as RFC 4180 has).
pub fn csv(sheet: &Sheet) -> String {
    let mut out = String::from('\u{feff}');
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .map(|c| csv_field(c))
            .collect::<Vec<_>>()
            .join(",")
            + "\r\n"
    };
    out.push_str(&line(sheet.header.clone()));
    for row in &sheet.rows {
        out.push_str(&line(row.iter().map(cell_text).collect()));
    }
    out
}

fn cell_text(cell: &Cell) -> String {
    match cell {
        Cell::Empty => String::new(),
        Cell::Text(s) => neutralised(s),
        Cell::Int(n) => n.to_string(),
        Cell::Decimal(x) => format!("{x:.1}"),
        Cell::Percent(x) => format!("{x:.4}"),
        Cell::Time(at) => at.format("%Y-%m-%d %H:%M:%S").to_string(),
    }
}

/// Excel's limit for the text of one cell, in UTF-16 code units.
pub const XLSX_MAX_TEXT: usize = 32_767;

/// `s` as an XLSX cell holds it: whole when it fits, else cut to [`XLSX_MAX_TEXT`] with
/// a closing `…` (never inside a character).
fn xlsx_text(s: &str) -> std::borrow::Cow<'_, str> {
    if s.encode_utf16().count() <= XLSX_MAX_TEXT {
        return s.into();
    }
    let mut units = 0;
    let mut cut = String::new();
    for ch in s.chars() {
        units += ch.len_utf16();
        if units > XLSX_MAX_TEXT - 1 {
            break;
        }
        cut.push(ch);
    }
    cut.push('…');
    cut.into()
}

/// A CSV text cell that a spreadsheet would take for a formula, with a leading `'`.
fn neutralised(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The export file name for a period: `butler-2026-11-01_2026-11-30.xlsx`.
pub fn file_name(period: Period, tz: Tz, extension: &str) -> String {
    let (first, last) = period.local_dates(tz);
    format!("butler-{first}_{last}.{extension}")
}

/// The files [`write`] would write to `out`.
pub fn targets(format: ExportFormat, out: &Path) -> Vec<PathBuf> {
    match format {
        ExportFormat::Xlsx => vec![out.to_owned()],
        ExportFormat::Csv => STEMS
            .iter()
            .map(|stem| out.join(format!("{stem}.csv")))
            .collect(),
    }
}

/// The first of the files [`write`] would write that is already there.
pub fn existing_target(format: ExportFormat, out: &Path) -> Option<PathBuf> {
    targets(format, out).into_iter().find(|p| p.exists())
}

/// Writes the export of `period` to `out`: an XLSX file, or for CSV a directory (created
/// if missing) holding a file per sheet ([`STEMS`]). Returns the files written.
pub async fn write(
    store: &store::Store,
    settings: &crate::config::Settings,
    period: Period,
    format: ExportFormat,
    out: &Path,
) -> Result<Vec<PathBuf>, ExportError> {
    let mut tx = store.begin_read().await?;
    let sheets = sheets(
        &mut tx,
        period,
        &settings.sla,
        settings.default_locale,
        settings.timezone,
    )
    .await?;
    drop(tx);
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ExportError::Io { path, source }
    };
    match format {
        ExportFormat::Xlsx => {
            let bytes = xlsx(&sheets)?;
            std::fs::write(out, bytes).map_err(io(out))?;
            Ok(vec![out.to_owned()])
        }
        ExportFormat::Csv => {
            std::fs::create_dir_all(out).map_err(io(out))?;
            let mut written = Vec::new();
            for sheet in &sheets {
                let path = out.join(format!("{}.csv", sheet.stem));
                std::fs::write(&path, csv(sheet)).map_err(io(&path))?;
                written.push(path);
            }
            Ok(written)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_with_commas_quotes_or_line_breaks_are_quoted() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn csv_text_that_a_spreadsheet_would_run_gets_a_leading_quote() {
        for (given, written) in [
            ("=1+2", "'=1+2"),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("a=b", "a=b"),
            ("", ""),
            ("水龙头漏水", "水龙头漏水"),
        ] {
            assert_eq!(cell_text(&Cell::Text(given.into())), written, "{given:?}");
        }
        // Numbers are ours, not text: a negative one stays a number.
        assert_eq!(cell_text(&Cell::Decimal(-1.5)), "-1.5");
    }

    #[test]
    fn xlsx_text_past_excels_limit_is_cut_with_a_mark() {
        let fits = "a".repeat(XLSX_MAX_TEXT);
        assert_eq!(xlsx_text(&fits), fits.as_str());
        let long = "a".repeat(40_000);
        let cut = xlsx_text(&long);
        assert_eq!(cut.encode_utf16().count(), XLSX_MAX_TEXT);
        assert!(cut.ends_with("a…"));
        // A character outside the BMP (two UTF-16 units) is never split.
        let wide = "😀".repeat(20_000);
        let cut = xlsx_text(&wide);
        assert!(cut.encode_utf16().count() <= XLSX_MAX_TEXT);
        assert!(cut.ends_with("😀…"));
    }

    #[test]
    fn a_csv_sheet_starts_with_a_byte_order_mark_and_its_header() {
        let sheet = Sheet {
            stem: "x",
            name: "X".into(),
            header: vec!["编号".into(), "满意率".into()],
            rows: vec![
                vec![Cell::Int(4), Cell::Percent(0.875)],
                vec![
                    Cell::Empty,
                    Cell::Time(
                        chrono::NaiveDate::from_ymd_opt(2026, 11, 24)
                            .unwrap()
                            .and_hms_opt(14, 15, 0)
                            .unwrap(),
                    ),
                ],
            ],
        };
        assert_eq!(
            csv(&sheet),
            "\u{feff}编号,满意率\r\n4,0.8750\r\n,2026-11-24 14:15:00\r\n"
        );
    }
}
