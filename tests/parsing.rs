//! Property tests (proptest) of everything that parses people's input: commands and their
//! arguments, ticket numbers, units, report text, button data and the TOML settings. Each
//! property runs `CASES` cases: no input panics, and what is refused is refused clearly.

use butler::chat::commands::{
    GroupAdminCommand, ManagerCommand, OwnerCommand, PrivateCommand, StaffCommand,
};
use butler::config::Settings;
use butler::domain::{CardAction, ReportText, TicketId, Unit};
use butler::i18n::{Locale, t};
use proptest::prelude::*;
use teloxide::utils::command::BotCommands;

const CASES: u32 = 256;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A refusal's text, as the person reads it, is never empty in either language.
fn said(e: &butler::domain::Error) {
    for locale in [Locale::En, Locale::ZhCn] {
        let args = e.args();
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let text = t(locale, e.locale_key(), &args);
        assert!(!text.trim().is_empty() && text != e.locale_key(), "{e:?}");
    }
}

/// Text a person might send: any characters, or a command with any arguments.
fn message() -> impl Strategy<Value = String> {
    let names = prop_oneof![
        Just("repair"),
        Just("report"),
        Just("unit"),
        Just("my"),
        Just("help"),
        Just("start"),
        Just("take"),
        Just("done"),
        Just("reopen"),
        Just("category"),
        Just("note"),
        Just("stats"),
        Just("export"),
        Just("watch"),
        Just("unwatch"),
        Just("register"),
        Just("lang"),
        Just("notice"),
        Just("open"),
        Just("mine"),
        Just("summary"),
    ];
    prop_oneof![
        any::<String>(),
        (names, prop::option::of("@[A-Za-z_]{0,12}"), any::<String>())
            .prop_map(|(n, at, rest)| format!("/{n}{} {rest}", at.unwrap_or_default())),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn commands_parse_or_refuse_without_panicking(text in message()) {
        let _ = OwnerCommand::parse(&text, "butler_bot");
        let _ = GroupAdminCommand::parse(&text, "butler_bot");
        let _ = StaffCommand::parse(&text, "butler_bot");
        let _ = ManagerCommand::parse(&text, "butler_bot");
        let _ = PrivateCommand::parse(&text, "butler_bot");
    }

    #[test]
    fn ticket_numbers_are_positive_or_refused_with_a_message(raw in prop_oneof![
        any::<String>(), "[#＃]?-?[0-9]{0,20}", " *#?[0-9]{1,5} *"
    ]) {
        match raw.parse::<TicketId>() {
            Ok(id) => prop_assert!(id.0 > 0),
            Err(e) => said(&e),
        }
    }

    #[test]
    fn a_ticket_number_reads_back(n in 1i64..=i64::MAX) {
        prop_assert_eq!(format!("#{n}").parse::<TicketId>().unwrap(), TicketId(n));
        prop_assert_eq!(n.to_string().parse::<TicketId>().unwrap(), TicketId(n));
    }

    #[test]
    fn units_are_normalised_or_refused_with_a_message(raw in prop_oneof![
        any::<String>(), "[0-9A-Za-z]{0,9}([-－— /_][0-9A-Za-z]{0,9}){0,3}"
    ]) {
        match raw.parse::<Unit>() {
            Ok(unit) => {
                let parts: Vec<&str> = unit.split('-').collect();
                prop_assert!((2..=3).contains(&parts.len()), "{}", unit.as_ref());
                prop_assert!(unit.chars().all(|c| c == '-' || c.is_ascii_alphanumeric()));
                prop_assert_eq!(unit.parse::<Unit>().unwrap(), unit.clone(), "normalising is stable");
            }
            Err(e) => said(&e),
        }
    }

    #[test]
    fn report_text_is_trimmed_and_never_empty(raw in any::<String>()) {
        match ReportText::parse(&raw) {
            Ok(text) => {
                prop_assert!(!text.as_ref().is_empty());
                prop_assert_eq!(text.as_ref(), raw.trim());
            }
            Err(e) => {
                prop_assert!(raw.trim().is_empty());
                said(&e);
            }
        }
    }

    #[test]
    fn button_data_parses_to_what_butler_writes_or_is_refused(data in prop_oneof![
        any::<String>(),
        "(take|done|rate|nf|rerate|notice)(:[-+0-9a-z]{0,6}){0,4}",
    ]) {
        // Lenient about spelling ("take:+05"), but what it reads is what Butler writes.
        if let Some(action) = CardAction::parse(&data) {
            prop_assert_eq!(CardAction::parse(&action.encode()), Some(action));
        }
    }

    #[test]
    fn button_data_round_trips(action in card_action()) {
        let data = action.encode();
        prop_assert!(data.len() <= 64, "Telegram's limit for callback data: {data}");
        prop_assert_eq!(CardAction::parse(&data), Some(action));
    }

    #[test]
    fn any_toml_text_gives_settings_or_a_one_line_reason(text in any::<String>()) {
        if let Err(e) = Settings::from_toml(&text) {
            let why = e.to_string();
            prop_assert!(!why.trim().is_empty());
        }
    }

    #[test]
    fn any_value_of_a_known_key_gives_settings_or_a_reason(
        key in prop_oneof![
            Just("timezone"), Just("default_locale"), Just("staff_chat_id"), Just("managers"),
            Just("log_format"), Just("database_url"),
        ],
        value in toml_value(),
        section in prop_oneof![
            Just(""), Just("[sla]\ntake_minutes"), Just("[schedule]\nmorning_greeting"),
            Just("[schedule]\ncatch_up_minutes"), Just("[rating]\nlow_score"),
        ],
    ) {
        let text = if section.is_empty() {
            format!("{key} = {value}\n")
        } else {
            format!("{section} = {value}\n")
        };
        if let Err(e) = Settings::from_toml(&text) {
            prop_assert!(!e.to_string().trim().is_empty(), "{text}");
        }
    }
}

/// A TOML value of any shape people might write.
fn toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:?}")),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<String>().prop_map(|s| format!("{s:?}")),
        "\"[ -~]{0,20}\"",
        prop::collection::vec(any::<i64>(), 0..4).prop_map(|v| format!("{v:?}")),
        "[a-z0-9*/ ,-]{0,20}".prop_map(|s| format!("\"{s}\"")),
    ]
}

fn card_action() -> impl Strategy<Value = CardAction> {
    let id = 1i64..=i64::MAX;
    prop_oneof![
        id.clone().prop_map(|n| CardAction::Take(TicketId(n))),
        id.clone().prop_map(|n| CardAction::Done(TicketId(n))),
        id.clone().prop_map(|n| CardAction::Close(TicketId(n))),
        (id.clone(), id.clone(), any::<u8>()).prop_map(|(n, round, score)| CardAction::Rate {
            ticket: TicketId(n),
            round,
            score
        }),
        (id.clone(), id.clone()).prop_map(|(n, round)| CardAction::NotFixed {
            ticket: TicketId(n),
            round
        }),
        id.clone()
            .prop_map(|follow_up| CardAction::Rerate { follow_up }),
        (id, any::<bool>()).prop_map(|(id, send)| CardAction::Notice { id, send }),
    ]
}
