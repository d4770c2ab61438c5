//! The binary's start-up: configuration problems stop it with one clear line, and the
//! offline commands (check-config, backup) work.

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

const COMMANDS: [&str; 6] = [
    "run",
    "sandbox",
    "check-config",
    "backup",
    "export",
    "seed-demo",
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
    let before = std::fs::read(&db).unwrap();
    let o = butler(
        dir.path(),
        &["seed-demo", "--tickets", "5", "--groups", "1"],
        None,
    );
    one_line_failure(&o, "holds 1 owner groups not made by seed-demo");
    assert_eq!(std::fs::read(&db).unwrap(), before, "nothing was added");

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
