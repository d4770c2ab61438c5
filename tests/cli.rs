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
