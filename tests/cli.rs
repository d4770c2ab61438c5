//! The binary's start-up: configuration problems stop it with one clear line, and the
//! offline commands (check-config, backup, seed-demo, forget-owner, migrate-to) work.

mod common;

use std::path::Path;
use std::process::Output;

use common::{butler_command, temp_dir};

fn butler(dir: &Path, args: &[&str], token: Option<&str>) -> Output {
    let mut cmd = butler_command();
    cmd.current_dir(dir)
        .args(args)
        .env_remove("TELOXIDE_TOKEN")
        .env_remove("TELOXIDE_API_URL");
    if let Some(t) = token {
        cmd.env("TELOXIDE_TOKEN", t);
    }
    cmd.output().expect("butler runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write_config(dir: &Path, body: &str) {
    std::fs::write(dir.join("butler.toml"), body).unwrap();
}

const GOOD: &str = "staff_chat_id = -1001\nmanagers = [7]\n";

#[test]
fn no_token_stops_start_up_with_one_line() {
    let dir = temp_dir();
    write_config(dir.path(), GOOD);
    let o = butler(dir.path(), &[], None);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("TELOXIDE_TOKEN is not set"), "{err}");
}

#[test]
fn an_unset_staff_chat_stops_start_up() {
    let dir = temp_dir();
    let o = butler(dir.path(), &[], Some("1:x"));
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("staff_chat_id is not set"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn an_unknown_time_zone_names_the_key() {
    let dir = temp_dir();
    write_config(dir.path(), &format!("{GOOD}timezone = \"Mars/Olympus\"\n"));
    let err = stderr(&butler(dir.path(), &[], Some("1:x")));
    assert!(
        err.contains("timezone") && err.contains("Mars/Olympus"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
}

#[test]
fn a_bad_cron_expression_names_the_key() {
    let dir = temp_dir();
    write_config(
        dir.path(),
        &format!("{GOOD}[schedule]\ndaily_summary = \"0 0 25 * * *\"\n"),
    );
    let err = stderr(&butler(dir.path(), &[], Some("1:x")));
    assert!(err.contains("schedule.daily_summary"), "{err}");
    assert_eq!(err.lines().count(), 1);
}

#[test]
fn an_unwritable_database_path_stops_start_up() {
    let dir = temp_dir();
    write_config(
        dir.path(),
        &format!("{GOOD}database_url = \"sqlite:///nonexistent-dir/x/butler.db\"\n"),
    );
    let err = stderr(&butler(dir.path(), &[], Some("1:x")));
    assert!(
        err.contains("database_url") && err.contains("nonexistent-dir"),
        "{err}"
    );
}

#[test]
fn check_config_prints_the_effective_settings_with_the_token_masked() {
    let dir = temp_dir();
    write_config(dir.path(), GOOD);
    let o = butler(dir.path(), &["check-config"], Some("123456:SECRET-PART"));
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("staff_chat_id = -1001"), "{out}");
    assert!(
        out.contains("timezone = \"Asia/Shanghai\""),
        "defaults are shown: {out}"
    );
    assert!(out.contains("123456:***"), "{out}");
    assert!(!out.contains("SECRET-PART"));
    // What is kept, and how often the same answer is given, are shown too.
    assert!(
        out.contains("[retention]\ninbox_days = 7\noutbox_days = 14\n"),
        "{out}"
    );
    assert!(
        out.contains("[limits]\nhint_minutes = 5\nrepeat_minutes = 5\n"),
        "{out}"
    );
}

#[test]
fn webhook_mode_without_its_secret_or_with_a_bad_one_stops_start_up_naming_the_key() {
    let dir = temp_dir();
    let webhook =
        "[telegram]\nmode = \"webhook\"\nwebhook_url = \"https://butler.example.com/telegram\"\n";
    write_config(dir.path(), &format!("{GOOD}{webhook}"));
    for args in [&[][..], &["check-config"][..]] {
        let o = butler(dir.path(), args, Some("1:x"));
        assert!(!o.status.success());
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains("telegram.secret_token"), "{args:?}: {err}");
    }
    write_config(
        dir.path(),
        &format!("{GOOD}{webhook}secret_token = \"not/allowed\"\n"),
    );
    let o = butler(dir.path(), &[], Some("1:x"));
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("telegram.secret_token") && err.contains("A-Z"),
        "{err}"
    );
    assert!(
        !err.contains("not/allowed"),
        "the secret is not repeated: {err}"
    );
}

#[test]
fn check_config_reports_the_first_problem() {
    let dir = temp_dir();
    write_config(dir.path(), "staff_chat_id = 5\nmistake = 1\n");
    let o = butler(dir.path(), &["check-config"], Some("1:x"));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("mistake"), "{}", stderr(&o));
}

#[test]
fn backup_writes_a_consistent_copy_of_the_database() {
    let dir = temp_dir();
    write_config(dir.path(), GOOD);
    create_database(&dir.path().join("butler.db"), &[]);
    let o = butler(dir.path(), &["backup", "copy.db"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let copy = std::fs::read(dir.path().join("copy.db")).unwrap();
    assert!(copy.starts_with(b"SQLite format 3\0"));
    // Never overwrites.
    let again = butler(dir.path(), &["backup", "copy.db"], None);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("already exists"));
}

#[test]
fn unknown_arguments_are_refused_with_the_usage() {
    let dir = temp_dir();
    let o = butler(dir.path(), &["--frobnicate"], None);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("usage: butler"));
}

// The command line (clap): help on every command, mistakes in one line.

const COMMANDS: [&str; 8] = [
    "run",
    "sandbox",
    "check-config",
    "backup",
    "export",
    "seed-demo",
    "forget-owner",
    "migrate-to",
];

#[test]
fn help_describes_butler_and_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let o = butler(dir.path(), &["--help"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(out.contains("Usage: butler [OPTIONS] [COMMAND]"), "{out}");
    for command in COMMANDS {
        assert!(out.contains(&format!("\n  {command} ")), "{command}: {out}");
    }
    for command in COMMANDS {
        for asked in [vec![command, "--help"], vec!["help", command]] {
            let o = butler(dir.path(), &asked, None);
            assert!(o.status.success(), "{asked:?}: {}", stderr(&o));
            let out = String::from_utf8_lossy(&o.stdout);
            assert!(
                out.contains(&format!("Usage: butler {command}")),
                "{asked:?}: {out}"
            );
            assert!(out.contains("--config <PATH>"), "{asked:?}: {out}");
        }
    }
    let export = butler(dir.path(), &["export", "-h"], None);
    let out = String::from_utf8_lossy(&export.stdout);
    for option in [
        "--from <YYYY-MM-DD>",
        "--to <YYYY-MM-DD>",
        "--format <xlsx|csv>",
        "--out <PATH>",
    ] {
        assert!(out.contains(option), "{option}: {out}");
    }
    assert!(
        !dir.path().join("butler.db").exists(),
        "help touches nothing"
    );
}

#[test]
fn an_unknown_command_or_flag_is_one_line_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), GOOD);
    for (args, expected) in [
        (
            &["frobnicate"][..],
            "butler: unknown command \"frobnicate\" (usage: butler ",
        ),
        (
            &["--frobnicate"],
            "butler: unknown argument \"--frobnicate\" (usage: butler ",
        ),
        (
            &["export", "--colour", "red"],
            "butler: export: unknown argument \"--colour\" (usage: butler export ",
        ),
        (
            &["sandbox", "--lang"],
            "butler: sandbox: --lang needs a value (usage: butler sandbox ",
        ),
        (
            &["seed-demo", "--tickets", "0"],
            "butler: seed-demo: --tickets needs a positive number",
        ),
        (
            &["backup"],
            "butler: backup: <FILE> is missing (usage: butler backup ",
        ),
        (
            &["check-config", "now"],
            "butler: check-config: unknown argument \"now\" (usage: butler check-config ",
        ),
    ] {
        let o = butler(dir.path(), args, Some("1:x"));
        assert!(!o.status.success(), "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with(expected), "{args:?}: {err}");
    }
}

#[test]
fn bad_export_arguments_are_refused_in_one_line_before_the_database_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), GOOD);
    for (args, problem) in [
        ("--to 2026-11-30 --out x.xlsx", "--from is missing"),
        ("--from 2026-11-01 --to 2026-11-30", "--out is missing"),
        (
            "--from 2026-11-31 --to 2026-12-01 --out x",
            "--from \"2026-11-31\" is not a date like 2026-11-01",
        ),
        (
            "--from 2026-11-02 --to 2026-11-01 --out x",
            "--to 2026-11-01 is before --from 2026-11-02",
        ),
        (
            "--from 2026-11-01 --to 2026-11-30 --format pdf --out x",
            "unknown format \"pdf\": use xlsx or csv",
        ),
        (
            "--from 2026-11-01 --to 2026-11-30 --out",
            "--out needs a value",
        ),
    ] {
        let mut words = vec!["export"];
        words.extend(args.split_whitespace());
        let o = butler(dir.path(), &words, None);
        assert!(!o.status.success(), "{args}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{args}: {err}");
        assert!(
            err.starts_with(&format!("butler: export: {problem} (usage: butler export ")),
            "{args}: {err}"
        );
    }
    assert!(!dir.path().join("butler.db").exists());
    assert!(!dir.path().join("x").exists());
}

// Operator commands cannot hurt the data (issue 13, item 5).

/// A Butler database at `path` (created and migrated), with these owner groups.
fn create_database(path: &Path, groups: &[(i64, &str)]) {
    let url = format!("sqlite://{}", path.display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = butler::store::Store::open(&url).await.unwrap();
        let mut tx = store.begin().await.unwrap();
        for (chat, name) in groups {
            tx.register_group(*chat, name, 7, chrono::Utc::now())
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        store.close().await;
    });
}

fn one_line_failure(o: &Output, expected: &str) {
    assert!(!o.status.success(), "{o:?}");
    let err = stderr(o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(expected), "{expected}: {err}");
}

#[test]
fn backup_of_a_missing_database_fails_in_one_line_and_creates_nothing() {
    let dir = temp_dir();
    write_config(dir.path(), GOOD);
    let o = butler(dir.path(), &["backup", "out.db"], None);
    one_line_failure(&o, "does not exist");
    assert!(stderr(&o).contains("butler.db"), "{}", stderr(&o));
    assert!(!dir.path().join("butler.db").exists(), "no new database");
    assert!(!dir.path().join("out.db").exists(), "no empty backup");
}

#[test]
fn backup_only_reads_the_database_it_never_migrates_it() {
    let dir = temp_dir();
    write_config(dir.path(), GOOD);
    // An empty file is an SQLite database without tables: opening it as Butler's store
    // would migrate it (write the tables); a backup must leave it as it is.
    std::fs::write(dir.path().join("butler.db"), b"").unwrap();
    let o = butler(dir.path(), &["backup", "out.db"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.path().join("out.db").exists());
    assert_eq!(
        std::fs::metadata(dir.path().join("butler.db"))
            .unwrap()
            .len(),
        0,
        "the source is untouched"
    );
}

#[test]
fn an_explicit_config_that_does_not_exist_is_an_error_for_every_command() {
    let dir = temp_dir();
    for args in [
        &["run"][..],
        &[],
        &["sandbox", "--port", "0"],
        &["check-config"],
        &["backup", "out.db"],
        &[
            "export",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--out",
            "x.xlsx",
        ],
        &["seed-demo", "--tickets", "5", "--groups", "1"],
        &["forget-owner", "4242"],
        &["migrate-to", "postgres://127.0.0.1:1/none"],
    ] {
        let mut words = vec!["--config", "missing.toml"];
        words.extend(args);
        let o = butler(dir.path(), &words, Some("1:x"));
        one_line_failure(&o, "--config missing.toml: no such file");
        assert!(o.stdout.is_empty(), "{args:?}");
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "nothing was created: {left:?}");
}

#[test]
fn seed_demo_refuses_a_database_with_real_groups() {
    let dir = temp_dir();
    write_config(dir.path(), GOOD);
    let db = dir.path().join("butler.db");
    create_database(&db, &[(-100_123, "Sunrise Garden")]);
    let o = butler(
        dir.path(),
        &["seed-demo", "--tickets", "5", "--groups", "1"],
        None,
    );
    one_line_failure(&o, "holds 1 owner groups not made by seed-demo");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let counts = runtime.block_on(async {
        let url = format!("sqlite://{}", db.display());
        let store = butler::store::Store::open(&url).await.unwrap();
        let counts = store.table_counts().await.unwrap();
        store.close().await;
        counts
    });
    for (table, n) in [("owner_groups", 1), ("owners", 0), ("tickets", 0)] {
        assert!(
            counts.contains(&(table.to_owned(), n)),
            "nothing was added: {counts:?}"
        );
    }

    // A new database, and one that holds only seed-demo's groups, are seeded.
    let fresh = temp_dir();
    write_config(fresh.path(), GOOD);
    for _ in 0..2 {
        let o = butler(
            fresh.path(),
            &["seed-demo", "--tickets", "5", "--groups", "2"],
            None,
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    // A group made to look like a demo one but registered by someone else is real.
    create_database(
        &fresh.path().join("butler.db"),
        &[(-1_000_003, "Demo Garden 3")],
    );
    let o = butler(
        fresh.path(),
        &["seed-demo", "--tickets", "5", "--groups", "1"],
        None,
    );
    one_line_failure(&o, "holds 1 owner groups not made by seed-demo");
}

// An owner's right to be forgotten (issue 13, item 6).

const FORGET: u64 = 4242;
const KEEP: u64 = 4343;
const STAFF_CHAT: i64 = -1001;

/// What the database holds of the owner to forget, and of another owner.
const SECRETS: [&str; 6] = [
    "Zhang Forgetme",
    "Secret leak in the bathroom",
    "Secret detail words",
    "Secret comment here",
    "AgSecretFileId",
    "forgetme_user",
];
const KEPT: [&str; 3] = ["Keeper Person", "Keeper report text", "Keeper comment"];

/// Two owners' tickets with events, ratings, a photo, outbox rows (a card, a message to
/// the owner, a failed summary, an export file) and inbox updates (theirs, a staff
/// reply quoting them, the other owner's).
async fn two_owners(store: &butler::store::Store) {
    use butler::domain::{Actor, Category, EventKind};
    use butler::store::{NewTicket, PhotoKind};
    let now = chrono::Utc::now();
    let mut tx = store.begin().await.unwrap();
    tx.register_group(-100_500, "Sunrise Garden", 7, now)
        .await
        .unwrap();
    let staff = Actor {
        id: 77,
        name: "Wang".into(),
        is_manager: false,
    };
    for (user, name, text, detail, comment, message) in [
        (
            FORGET,
            SECRETS[0],
            SECRETS[1],
            Some(SECRETS[2]),
            SECRETS[3],
            1,
        ),
        (KEEP, KEPT[0], KEPT[1], None, KEPT[2], 2),
    ] {
        tx.touch_owner(user, name, Some("en"), now).await.unwrap();
        let new = NewTicket {
            group_chat_id: -100_500,
            report_message_id: message,
            owner_id: user,
            unit: None,
            category: Category::Plumbing,
            text,
            priority: false,
            kind: butler::domain::Kind::Repair,
            urgency: butler::domain::Urgency::B,
            repeat_of: None,
            reported_at: now,
            staff_chat: None,
        };
        let id = tx.insert_ticket(&new, now).await.unwrap().unwrap();
        let owner = Actor {
            id: user,
            name: name.into(),
            is_manager: false,
        };
        tx.add_event(id, EventKind::Reported, &owner, None, now)
            .await
            .unwrap();
        tx.add_event(id, EventKind::Detail, &owner, detail, now)
            .await
            .unwrap();
        tx.add_event(id, EventKind::Taken, &staff, None, now)
            .await
            .unwrap();
        assert!(tx.insert_rating(id, 1, user, 2, now).await.unwrap());
        tx.set_rating_comment(id, 1, comment).await.unwrap();
        let photo = if user == FORGET {
            SECRETS[4]
        } else {
            "AgKeeperFileId"
        };
        tx.add_photo(
            id,
            photo,
            PhotoKind::Report,
            user,
            -100_500,
            message + 10,
            None,
            now,
        )
        .await
        .unwrap();
        let card = format!(
            r#"{{"op":"text","chat_id":{STAFF_CHAT},"text":"{name}: {text}","remember":{{"ticket_id":{},"kind":"card"}}}}"#,
            id.0
        );
        tx.enqueue_payload(STAFF_CHAT, &card, false, now)
            .await
            .unwrap();
    }
    tx.remember_private_chat(FORGET, Some("en"), now)
        .await
        .unwrap();
    let to_owner = format!(r#"{{"op":"text","chat_id":{FORGET},"text":"Your report is taken"}}"#);
    tx.enqueue_payload(FORGET as i64, &to_owner, false, now)
        .await
        .unwrap();
    let summary = format!(
        r#"{{"op":"text","chat_id":{STAFF_CHAT},"text":"Open: {} – {}…"}}"#,
        SECRETS[0],
        &SECRETS[1][..12]
    );
    tx.enqueue_payload(STAFF_CHAT, &summary, true, now)
        .await
        .unwrap();
    tx.add_outbox_file(format!("export of {}", SECRETS[0]).as_bytes(), now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let due = store.outbox_due(now, 10).await.unwrap();
    for row in due.iter().filter(|r| r.payload.contains("Open: ")) {
        store.outbox_failed(row.id, "test").await.unwrap();
    }
    let from = |user: u64, name: &str| {
        format!(
            r#"{{"id":{user},"is_bot":false,"first_name":"{name}","username":"{}"}}"#,
            if user == FORGET {
                SECRETS[5]
            } else {
                "keeper_user"
            }
        )
    };
    let updates = vec![
        (
            1,
            format!(
                r#"{{"update_id":1,"message":{{"message_id":1,"date":0,"chat":{{"id":-100500,"type":"group","title":"Sunrise Garden"}},"from":{},"text":"/repair {}"}}}}"#,
                from(FORGET, SECRETS[0]),
                SECRETS[1]
            ),
        ),
        (
            2,
            format!(
                r#"{{"update_id":2,"callback_query":{{"id":"99","from":{},"chat_instance":"1","data":"rate:1:2"}}}}"#,
                from(FORGET, SECRETS[0])
            ),
        ),
        (
            3,
            format!(
                r#"{{"update_id":3,"message":{{"message_id":5,"date":0,"chat":{{"id":{STAFF_CHAT},"type":"supergroup","title":"Staff"}},"from":{{"id":77,"is_bot":false,"first_name":"Wang"}},"text":"on my way","reply_to_message":{{"message_id":4,"date":0,"chat":{{"id":{STAFF_CHAT},"type":"supergroup","title":"Staff"}},"from":{{"id":1,"is_bot":true,"first_name":"Butler"}},"text":"{}: {}"}}}}}}"#,
                SECRETS[0], SECRETS[1]
            ),
        ),
        (
            4,
            format!(
                r#"{{"update_id":4,"message":{{"message_id":2,"date":0,"chat":{{"id":-100500,"type":"group","title":"Sunrise Garden"}},"from":{},"text":"/repair {}"}}}}"#,
                from(KEEP, KEPT[0]),
                KEPT[1]
            ),
        ),
    ];
    store.inbox_receive(&updates, now).await.unwrap();
    for (id, _) in &updates {
        store.inbox_handled(*id, now).await.unwrap();
    }
}

#[test]
fn forget_owner_replaces_their_words_everywhere_and_keeps_the_counts() {
    let dir = temp_dir();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // butler.db in the directory, or a PostgreSQL schema (BUTLER_TEST_STORE=postgres).
    let url = runtime.block_on(butler::store::testing::database_url(dir.path()));
    write_config(dir.path(), &format!("{GOOD}database_url = \"{url}\"\n"));
    let store = runtime.block_on(butler::store::Store::open(&url)).unwrap();
    runtime.block_on(two_owners(&store));
    let before = runtime.block_on(store.table_counts()).unwrap();
    for secret in SECRETS {
        let found = runtime.block_on(store.columns_holding(secret)).unwrap();
        assert!(!found.is_empty(), "the fixture holds {secret:?}");
    }
    runtime.block_on(store.close());

    let o = butler(dir.path(), &["forget-owner", &FORGET.to_string()], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.starts_with("forgot owner 4242: name, 1 ticket texts, 2 events, 1 rating comments, 1 photos anonymised; 3 outbox messages, 1 files, 3 inbox updates, 1 chat rows deleted"),
        "{out}"
    );

    let store = runtime.block_on(butler::store::Store::open(&url)).unwrap();
    for secret in SECRETS {
        let found = runtime.block_on(store.columns_holding(secret)).unwrap();
        assert!(found.is_empty(), "{secret:?} is still in {found:?}");
    }
    assert!(
        runtime
            .block_on(store.columns_holding(r#""id":4242"#))
            .unwrap()
            .is_empty(),
        "none of their updates is left"
    );
    let after = runtime.block_on(store.table_counts()).unwrap();
    let count =
        |counts: &[(String, i64)], table: &str| counts.iter().find(|(t, _)| t == table).unwrap().1;
    for table in [
        "owners",
        "tickets",
        "ticket_events",
        "ratings",
        "photos",
        "owner_groups",
    ] {
        assert_eq!(count(&before, table), count(&after, table), "{table}");
    }
    assert_eq!(count(&after, "inbox"), 1, "the other owner's update stays");
    assert_eq!(count(&after, "outbox"), 1, "the other owner's card stays");
    for kept in KEPT {
        let found = runtime.block_on(store.columns_holding(kept)).unwrap();
        assert!(!found.is_empty(), "{kept:?} is kept");
    }
    let forgotten = runtime.block_on(store.owner(FORGET)).unwrap().unwrap();
    assert_eq!(
        forgotten.name, "（已删除）",
        "the placeholder in the default language"
    );
    assert!(!forgotten.watched);
    assert_eq!(
        runtime.block_on(store.owner(KEEP)).unwrap().unwrap().name,
        KEPT[0]
    );
    runtime.block_on(store.close());

    let unknown = butler(dir.path(), &["forget-owner", "999"], None);
    one_line_failure(&unknown, "no owner 999");
}

// Moving to PostgreSQL (issue 17, item 4).

/// What seed-demo does not write, so that every table holds rows: a watched owner's
/// priority ticket with a unit, repeating their earlier one (and an alert), the roster, a job run, a notice, an
/// unreachable chat, a console link and session, and a sent card remembered.
async fn the_rest(store: &butler::store::Store) -> i64 {
    use butler::domain::{Category, Unit};
    use butler::store::{AlertKind, BotMessage, BotMessageKind, ConsolePerson, JobOutcome};
    let now = chrono::Utc::now();
    let earlier = store.owner_tickets(KEEP, 1).await.unwrap()[0].id;
    let mut tx = store.begin().await.unwrap();
    tx.set_watched(KEEP, true, now).await.unwrap();
    let unit: Unit = "3-1201".parse().unwrap();
    let new = butler::store::NewTicket {
        group_chat_id: -100_500,
        report_message_id: 3,
        owner_id: KEEP,
        unit: Some(&unit),
        category: Category::Electrical,
        text: "Tab\there, a \\ backslash,\nnew line: 漏水",
        priority: true,
        kind: butler::domain::Kind::Repair,
        urgency: butler::domain::Urgency::A,
        repeat_of: Some(earlier),
        reported_at: now,
        staff_chat: None,
    };
    let id = tx.insert_ticket(&new, now).await.unwrap().unwrap();
    tx.record_alert(id, AlertKind::Take, 0, now).await.unwrap();
    tx.see_staff(77, "Wang", Some("Wang_W"), STAFF_CHAT, now)
        .await
        .unwrap();
    tx.claim_job("morning_greeting", now, JobOutcome::Ran, now)
        .await
        .unwrap();
    tx.insert_notice("Water off on Friday", 7, 7, 12, now)
        .await
        .unwrap();
    let person = ConsolePerson {
        user_id: 7,
        name: "Manager".into(),
        locale: "en".into(),
    };
    let later = now + chrono::Duration::minutes(10);
    tx.add_console_link("link-hash", &person, now, later)
        .await
        .unwrap();
    tx.add_console_session("session-hash", &person, "csrf", now, later)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    store
        .mark_unreachable(-100_777, "blocked", true, now)
        .await
        .unwrap();
    let card = store.outbox_due(now, 10).await.unwrap().remove(0);
    let remember = BotMessage {
        ticket_id: id,
        kind: BotMessageKind::Card,
        ref_id: None,
    };
    store
        .outbox_sent(&card, Some(&remember), &[900], now)
        .await
        .unwrap();
    id.0
}

#[test]
fn migrate_to_copies_every_table_into_an_empty_postgres_database_and_refuses_a_full_one() {
    use butler::domain::TicketId;
    use butler::store::{Store, testing};
    let Some(base) = testing::postgres_url() else {
        eprintln!(
            "SKIPPED: migrate-to needs PostgreSQL ({} is not set)",
            testing::POSTGRES_ENV
        );
        return;
    };
    // A SQLite file that is not Butler's (or not at its migrations) is refused and left
    // as it is.
    let empty = temp_dir();
    write_config(empty.path(), GOOD);
    std::fs::write(empty.path().join("butler.db"), b"").unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let target = runtime.block_on(testing::new_schema(&base));
    let o = butler(empty.path(), &["migrate-to", &target], None);
    one_line_failure(&o, "the SQLite database holds no Butler migrations");
    assert_eq!(
        std::fs::metadata(empty.path().join("butler.db"))
            .unwrap()
            .len(),
        0,
        "the source is untouched"
    );

    let dir = temp_dir();
    write_config(dir.path(), GOOD);
    let o = butler(
        dir.path(),
        &["seed-demo", "--tickets", "300", "--groups", "2"],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let sqlite = format!("sqlite://{}", dir.path().join("butler.db").display());
    let (counts, extra) = runtime.block_on(async {
        let store = Store::open(&sqlite).await.unwrap();
        two_owners(&store).await;
        let extra = store_and_close(&store, the_rest(&store).await).await;
        let counts = read_only_counts(&sqlite).await;
        (counts, extra)
    });
    for (table, n) in &counts {
        assert!(
            *n > 0,
            "every table has rows to copy, {table} too: {counts:?}"
        );
    }

    let o = butler(dir.path(), &["migrate-to", &target], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    for (table, n) in &counts {
        let line = format!(" {table} ");
        let line = out
            .lines()
            .find(|l| l.contains(&line))
            .unwrap_or_else(|| panic!("{table}: {out}"));
        assert!(
            line.contains(&format!(" {n} rows in SQLite,"))
                && line.contains(&format!(" {n} in PostgreSQL")),
            "{line}"
        );
    }
    assert!(out.contains("every count matches"), "{out}");
    assert!(out.contains(" rows/s)"), "the rate is said: {out}");

    runtime.block_on(async {
        let source = Store::open(&sqlite).await.unwrap();
        let copy = Store::open(&target).await.unwrap();
        assert_eq!(
            copy.table_counts().await.unwrap(),
            counts,
            "the same rows, table by table"
        );
        // A ticket reads back the same: its text, times, flags, unit, deadlines and score.
        for id in [1, 150, 300, extra - 1, extra] {
            let id = TicketId(id);
            let (a, b) = (
                source.ticket(id).await.unwrap(),
                copy.ticket(id).await.unwrap(),
            );
            assert!(a.is_some(), "ticket {id:?}");
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "ticket {id:?}");
        }
        let watched = copy.owner(KEEP).await.unwrap().unwrap();
        assert!(watched.watched, "a flag");
        let file = copy.outbox_file(1).await.unwrap().unwrap();
        assert_eq!(file, source.outbox_file(1).await.unwrap().unwrap(), "bytes");
        assert_eq!(
            copy.job_runs("morning_greeting").await.unwrap(),
            source.job_runs("morning_greeting").await.unwrap()
        );
        // The ids go on after the copied ones, and the triggers are on again: a new
        // staff member's take names them in staff_names.
        let mut tx = copy.begin().await.unwrap();
        let now = chrono::Utc::now();
        let next = tx.insert_notice("next", 7, 7, 13, now).await.unwrap();
        let li = butler::domain::Actor {
            id: 555,
            name: "Li".into(),
            is_manager: false,
        };
        tx.add_event(
            TicketId(extra),
            butler::domain::EventKind::Taken,
            &li,
            None,
            now,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(next, 2, "the notices' sequence was moved on");
        source.close().await;
        copy.close().await;
    });

    // A second run into the same, now full, database is refused and changes nothing.
    let again = butler(dir.path(), &["migrate-to", &target], None);
    one_line_failure(&again, "already holds Butler data");
    let err = stderr(&again);
    assert!(
        err.contains("tickets: ") && err.contains("nothing was copied"),
        "{err}"
    );
    let after = runtime.block_on(async {
        let copy = Store::open(&target).await.unwrap();
        let counts = copy.table_counts().await.unwrap();
        copy.close().await;
        counts
    });
    let rows = |c: &[(String, i64)], table: &str| c.iter().find(|(t, _)| t == table).unwrap().1;
    for table in ["notices", "staff_names", "ticket_events"] {
        assert_eq!(
            rows(&after, table),
            rows(&counts, table) + 1,
            "{table}: only the row added above"
        );
    }
    assert_eq!(rows(&after, "tickets"), rows(&counts, "tickets"));
}

/// Closes `store` and hands `value` back.
async fn store_and_close<T>(store: &butler::store::Store, value: T) -> T {
    store.close().await;
    value
}

/// The rows of each table of the SQLite database at `url`.
async fn read_only_counts(url: &str) -> Vec<(String, i64)> {
    let store = butler::store::Store::open(url).await.unwrap();
    let counts = store.table_counts().await.unwrap();
    store.close().await;
    counts
}

#[test]
fn migrate_to_refuses_what_it_cannot_copy_from_in_one_line() {
    let dir = temp_dir();
    write_config(dir.path(), GOOD);
    let o = butler(
        dir.path(),
        &["migrate-to", "postgres://127.0.0.1:1/none"],
        None,
    );
    one_line_failure(&o, "migrate-to: the database");
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
    assert!(!dir.path().join("butler.db").exists(), "no new database");

    let o = butler(dir.path(), &["migrate-to", "sqlite://other.db"], None);
    one_line_failure(&o, "is not a PostgreSQL URL");

    write_config(
        dir.path(),
        &format!("{GOOD}database_url = \"postgres://butler:hunter2@127.0.0.1:1/butler\"\n"),
    );
    let o = butler(
        dir.path(),
        &["migrate-to", "postgres://127.0.0.1:1/none"],
        None,
    );
    one_line_failure(&o, "database_url is PostgreSQL already");
    assert!(!stderr(&o).contains("hunter2"), "{}", stderr(&o));
}

#[test]
fn backup_on_postgres_points_to_pg_dump() {
    let dir = temp_dir();
    write_config(
        dir.path(),
        &format!("{GOOD}database_url = \"postgres://127.0.0.1:1/butler\"\n"),
    );
    let o = butler(dir.path(), &["backup", "out.db"], None);
    one_line_failure(
        &o,
        "backup: the database is PostgreSQL: back it up with pg_dump",
    );
    assert!(stderr(&o).contains("pg_restore"), "{}", stderr(&o));
    assert!(!dir.path().join("out.db").exists());
}
