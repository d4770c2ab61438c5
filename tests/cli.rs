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
