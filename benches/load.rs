//! Load benchmarks: the real `butler` binary against the in-process Bot API emulator.
//!
//! ```sh
//! cargo bench --bench load                       # everything, 5 runs each, medians
//! cargo bench --bench load -- --quick            # small numbers, 1 run (a smoke test)
//! cargo bench --bench load -- reports --runs 3   # one scenario
//! cargo bench --bench load -- --postgres reports # Butler's database on PostgreSQL
//! ```
//!
//! Scenarios (see BENCHMARKS.md for what bounds each figure):
//!
//! - `reports`: owners in many groups send `/repair`, with the emulator's rate limits and
//!   Butler's pacer off. A burst (every report queued at once) gives reports per second,
//!   CPU seconds per 1,000 reports and peak RSS; open-loop runs at the target rate and
//!   at a quarter of it give the latency from the update being queued to the
//!   confirmation being sent. Every report must get exactly one confirmation, one card
//!   and one ticket.
//! - `broadcast`: the morning greeting to 1,000 groups with Telegram's limits on in the
//!   emulator and Butler's pacer on, fired by the real scheduler from a cron expression
//!   a few seconds ahead; once more over a 100 ms round trip.
//! - `flood`: report latency during a 10,000-message private flood: a stranger writes
//!   privately at 2,000 messages a second while owners in 40 groups report, Telegram's
//!   limits on in the emulator and Butler's pacer on; p50/p99 from the report being
//!   queued to its confirmation, and how many answers the flood got.
//! - `figures`: `/stats` and the daily summary on a database of 1,000,000 tickets, in
//!   process (the SQL alone) and end to end, and cold start to the first `getUpdates`.
//! - `console`: the web console's board (filtered, searched, deep pages) and a ticket's
//!   page on the same million tickets, server time through its router in process.
//! - `failover` (PostgreSQL only): two instances on one schema, the leader killed with
//!   SIGKILL while owners report: time to the new leader's first message.
//!
//! Options: `--quick` (or `BUTLER_BENCH_QUICK=1`), `--runs N`, scenario names to pick;
//! `--postgres[=URL]` (or `BUTLER_BENCH_POSTGRES=URL`) puts Butler's database on
//! PostgreSQL (default `postgres://127.0.0.1:5432/test`), a fresh schema for each run;
//! `BUTLER_BENCH_KEEP`, `BUTLER_BENCH_LOG`, `BUTLER_BENCH_DEBUG` (see BENCHMARKS.md).
//! Generated databases are cached in `target/bench-data/` (or `BUTLER_BENCH_DATA`), on
//! PostgreSQL as schemas named `butler_bench_…`.
//! Missed targets are reported as MISSED, not as a failing exit status.
//! Wall-clock targets live here and in BENCHMARKS.md, never in the tests.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use butler_emulator::{Call, Emulator, EmulatorHandle, Options, RateLimits, State, User};
use chrono::{Timelike, Utc};

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "load/console.rs"]
mod console;
#[path = "load/failover.rs"]
mod failover;
#[path = "load/pg.rs"]
mod pg;

use pg::{Backend, RunDb};

use common::{
    LANG, MANAGER, Process, STAFF, STAFF_CHAT, STAFF_CHAT_TITLE, butler_with_config, log_level,
    name_of, on_emulator,
};

/// Owners are 1_000_000 + n; groups of the `reports` scenario are -2_000_000 - n.
const OWNER_BASE: u64 = 1_000_000;
const GROUP_BASE: i64 = -2_000_000;
/// Reports an owner may send a minute (Butler's flood limit is 5).
const REPORTS_PER_OWNER: usize = 4;
/// Demo groups made by `butler seed-demo` are -1_000_001 …
const DEMO_GROUP_BASE: i64 = -1_000_000;

/// Deadlines far beyond the demo data's year, so that the SLA and rating sweeps find
/// nothing to say: their one-time alerts about the demo's old open tickets would queue
/// ahead of `/stats` in the staff chat (at one message a second) and spend the broadcast's
/// budget of 30 a second. The sweeps' queries still run.
const QUIET_SWEEPS: &str = "[sla]\ntake_minutes = 1000000\nfirst_update_minutes = 1000000\nresolve_hours = 100000\n[rating]\nreminder_hours = 100000\nexpire_hours = 100001\n";

struct Targets;
impl Targets {
    const REPORTS_PER_SEC: f64 = 2_000.0;
    const P99_MS: f64 = 50.0;
    const BROADCAST_SHARE: f64 = 0.95;
    const TELEGRAM_PER_SEC: f64 = 30.0;
    const FIGURES_MS: f64 = 200.0;
    const RSS_MB: f64 = 64.0;
    const COLD_START_MS: f64 = 1_000.0;
    const FLOOD_P99_MS: f64 = 1_000.0;
    const FLOOD_ANSWERS: usize = 5;
}

#[derive(Debug, Clone)]
struct Opts {
    quick: bool,
    runs: usize,
    reports: bool,
    broadcast: bool,
    figures: bool,
    flood: bool,
    console: bool,
    failover: bool,
    data: PathBuf,
    /// Where Butler's database lives.
    db: Backend,
}

impl Opts {
    fn parse() -> anyhow::Result<Opts> {
        let mut quick = std::env::var("BUTLER_BENCH_QUICK").is_ok_and(|v| v != "0");
        let mut runs = None;
        let mut picked = Vec::new();
        let mut postgres = std::env::var(pg::URL_ENV).ok().filter(|u| !u.is_empty());
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            if let Some(url) = a.strip_prefix("--postgres=") {
                postgres = Some(url.to_owned());
                continue;
            }
            match a.as_str() {
                // cargo bench passes --bench to every bench target.
                "--bench" => {}
                "--quick" => quick = true,
                "--postgres" => {
                    postgres.get_or_insert_with(|| pg::DEFAULT_URL.to_owned());
                }
                "--runs" => {
                    runs = Some(
                        args.next()
                            .and_then(|n| n.parse().ok())
                            .filter(|n| *n > 0)
                            .context("--runs needs a positive number")?,
                    )
                }
                "reports" | "broadcast" | "figures" | "flood" | "console" | "failover" => {
                    picked.push(a)
                }
                other => bail!(
                    "unknown argument {other:?}; use [--quick] [--runs N] [--postgres[=URL]] \
                     [reports] [broadcast] [figures] [flood] [console] [failover]"
                ),
            }
        }
        let all = picked.is_empty();
        let data = std::env::var_os("BUTLER_BENCH_DATA")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                let target = std::env::var_os("CARGO_TARGET_DIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
                target.join("bench-data")
            });
        Ok(Opts {
            quick,
            runs: runs.unwrap_or(if quick { 1 } else { 5 }),
            reports: all || picked.iter().any(|p| p == "reports"),
            broadcast: all || picked.iter().any(|p| p == "broadcast"),
            figures: all || picked.iter().any(|p| p == "figures"),
            flood: all || picked.iter().any(|p| p == "flood"),
            console: all || picked.iter().any(|p| p == "console"),
            failover: all || picked.iter().any(|p| p == "failover"),
            data,
            db: postgres.map_or(Backend::Sqlite, Backend::Postgres),
        })
    }
}

fn main() -> ExitCode {
    let opts = match Opts::parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("load: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(run_all(opts)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("load: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run_all(opts: Opts) -> anyhow::Result<()> {
    fs::create_dir_all(&opts.data)?;
    println!("{}", machine());
    match &opts.db {
        Backend::Sqlite => println!("database: SQLite (a file in a temporary directory)"),
        Backend::Postgres(base) => println!(
            "database: {}, at {base}, a fresh schema for each run",
            pg::describe(base).await?
        ),
    }
    println!(
        "mode: {} ({} run{} per scenario, medians shown)\n",
        if opts.quick { "quick" } else { "full" },
        opts.runs,
        if opts.runs == 1 { "" } else { "s" }
    );
    let mut verdicts = Vec::new();
    if opts.reports {
        verdicts.extend(reports(&opts).await?);
    }
    if opts.broadcast {
        verdicts.extend(broadcast(&opts).await?);
    }
    if opts.figures {
        verdicts.extend(figures(&opts).await?);
    }
    if opts.console {
        verdicts.extend(console::console(&opts).await?);
    }
    if opts.flood {
        verdicts.extend(flood(&opts).await?);
    }
    if opts.failover {
        verdicts.extend(failover::failover(&opts).await?);
    }
    println!("\n== targets ==");
    for v in &verdicts {
        println!(
            "{:<44} {:>14}   target {:<12} {}",
            v.what,
            v.value,
            v.target,
            if v.met { "met" } else { "MISSED" }
        );
    }
    println!("load average at the end: {}", load_average());
    Ok(())
}

struct Verdict {
    what: String,
    value: String,
    target: String,
    met: bool,
}

fn verdict(what: &str, value: String, target: &str, met: bool) -> Verdict {
    Verdict {
        what: what.into(),
        value,
        target: target.into(),
        met,
    }
}

// ---- the machine ---------------------------------------------------------------------

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mem = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or("?".into(), |kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0));
    let rustc = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "rustc ?".into());
    format!(
        "machine: {cores} cores ({cpu}), {mem} memory, {rustc}\nload average at the start: {}",
        load_average()
    )
}

fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

// ---- numbers -------------------------------------------------------------------------

fn median(xs: &[f64]) -> f64 {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

// ---- the butler process ----------------------------------------------------------------

/// A running `butler` and the directory it runs in.
struct Butler {
    process: Process,
    spawned: Instant,
}

/// A directory for one run (database, configuration, Butler's log): removed afterwards,
/// unless `BUTLER_BENCH_KEEP` is set, when its path is printed instead.
struct RunDir {
    path: PathBuf,
    _removed_on_drop: Option<tempfile::TempDir>,
}

impl RunDir {
    fn new() -> anyhow::Result<RunDir> {
        let dir = tempfile::Builder::new().prefix("butler-bench-").tempdir()?;
        if std::env::var_os("BUTLER_BENCH_KEEP").is_some() {
            let path = dir.keep();
            println!("(kept: {})", path.display());
            return Ok(RunDir {
                path,
                _removed_on_drop: None,
            });
        }
        Ok(RunDir {
            path: dir.path().to_owned(),
            _removed_on_drop: Some(dir),
        })
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

/// Butler's configuration in `dir`, on the database at `url`.
fn write_config(dir: &Path, url: &str, extra: &str) -> anyhow::Result<PathBuf> {
    let config = dir.join("butler.toml");
    fs::write(
        &config,
        format!(
            "database_url = \"{url}\"\nstaff_chat_id = {STAFF_CHAT}\nmanagers = [{MANAGER}]\n\
             default_locale = \"en\"\ntimezone = \"UTC\"\n{extra}\n"
        ),
    )?;
    Ok(config)
}

impl Butler {
    fn spawn(emu: &EmulatorHandle, config: &Path, dir: &Path) -> anyhow::Result<Butler> {
        let spawned = Instant::now();
        let mut command = butler_with_config(config, dir);
        on_emulator(&mut command, &emu.api_url());
        log_level(&mut command, "BUTLER_BENCH_LOG", "info");
        let process = Process::spawn(&mut command, &dir.join("butler.log"), false);
        Ok(Butler { process, spawned })
    }

    fn pid(&self) -> u32 {
        self.process.id()
    }

    /// User + system CPU seconds so far.
    fn cpu_seconds(&self) -> f64 {
        cpu_seconds(&self.pid().to_string())
    }

    /// Peak resident memory (VmHWM) in MiB.
    fn peak_rss_mb(&self) -> f64 {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    }

    fn log_tail(&self, lines: usize) -> String {
        self.process.log_tail(lines)
    }

    /// SIGKILL, as a crash or a power cut; returns once the process is gone.
    fn kill9(&mut self) {
        self.process.kill9();
    }

    /// SIGTERM and wait (at most 20 s), as a service manager stops it.
    async fn stop(mut self) -> anyhow::Result<()> {
        self.process.stop().await;
        Ok(())
    }
}

/// User + system CPU seconds of process `pid` ("self": this one) so far.
fn cpu_seconds(pid: &str) -> f64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / clock_ticks()
}

fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}

async fn start_emulator() -> anyhow::Result<EmulatorHandle> {
    start_emulator_after(0).await
}

/// An emulator whose update ids start above `last_update` (the last one a reused
/// database has stored: Butler asks only for later ones).
async fn start_emulator_after(last_update: i32) -> anyhow::Result<EmulatorHandle> {
    let options = Options {
        first_update_id: (last_update + 1).max(1000),
        ..Options::default()
    };
    let emu = Emulator::start_with("127.0.0.1:0".parse()?, options).await?;
    for id in [STAFF, MANAGER] {
        emu.add_user(User::new(id, name_of(id)).language(LANG));
    }
    emu.create_group(STAFF_CHAT, STAFF_CHAT_TITLE, &[STAFF, MANAGER])?;
    Ok(emu)
}

/// Waits until Butler's first `getUpdates`; the time since the process was spawned.
async fn until_polling(emu: &EmulatorHandle, butler: &Butler) -> anyhow::Result<Duration> {
    emu.wait_for(|s| s.polls_started() > 0, Duration::from_secs(60))
        .await
        .map_err(|_| anyhow::anyhow!("butler never polled for updates\n{}", butler.log_tail(20)))?;
    Ok(butler.spawned.elapsed())
}

/// Checks `done` every 20 ms until it holds or `timeout` passes.
async fn poll_until(
    emu: &EmulatorHandle,
    timeout: Duration,
    mut done: impl FnMut(&State) -> bool,
) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if emu.read(&mut done) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn is_send(c: &Call) -> bool {
    c.ok() && c.method == "sendMessage"
}

fn reply_to(c: &Call) -> Option<i32> {
    c.params
        .get("reply_parameters")
        .and_then(|r| r.get("message_id"))
        .and_then(|m| m.as_i64())
        .map(|m| m as i32)
}

// ---- scenario: reports ---------------------------------------------------------------

struct ReportsRun {
    burst_per_sec: f64,
    burst_p50: f64,
    burst_p99: f64,
    /// Open-loop runs at set rates, in the order of [`PACES`].
    paced: Vec<Paced>,
    cpu_per_1000: f64,
    /// The emulator and this driver, in this process, for comparison.
    emu_cpu_per_1000: f64,
    peak_rss: f64,
    lost: usize,
    doubled: usize,
}

/// Reports at a set rate: what was offered, what was handled, and the latencies.
#[derive(Clone, Copy)]
struct Paced {
    offered: f64,
    handled: f64,
    p50: f64,
    p99: f64,
}

/// The open-loop rates (reports a second) and how long each runs: the target rate, and a
/// quarter of it (a load the bot carries, for the latency it adds by itself).
const PACES: [(f64, f64); 2] = [(Targets::REPORTS_PER_SEC, 2.0), (500.0, 3.0)];

/// What happened to a set of reports, read from the emulator's calls and the database.
struct Tally {
    first_queued: Duration,
    last_sent: Duration,
    latencies: Vec<f64>,
    lost: usize,
    doubled: usize,
}

async fn reports(opts: &Opts) -> anyhow::Result<Vec<Verdict>> {
    let (burst_n, groups, pace_scale) = if opts.quick {
        (2_000, 40, 0.5)
    } else {
        (10_000, 100, 1.0)
    };
    let paces: Vec<(f64, usize)> = PACES
        .iter()
        .map(|(rate, secs)| (*rate, (rate * secs * pace_scale) as usize))
        .collect();
    println!(
        "== reports: {burst_n} reports queued at once, then {} at a set rate, from owners \
         in {groups} groups; no rate limits, pacer off ==",
        paces
            .iter()
            .map(|(rate, n)| format!("{n} at {rate:.0}/s"))
            .collect::<Vec<_>>()
            .join(" and ")
    );
    let mut runs = Vec::new();
    for i in 0..opts.runs {
        let r = reports_run(&opts.db, burst_n, &paces, groups)
            .await
            .with_context(|| format!("reports, run {}", i + 1))?;
        let paced: Vec<String> = r
            .paced
            .iter()
            .map(|p| {
                format!(
                    "{:.0}/s offered: {:.0}/s handled, p50 {:.1} ms, p99 {:.1} ms",
                    p.offered, p.handled, p.p50, p.p99
                )
            })
            .collect();
        println!(
            "run {}: burst {:.0} reports/s (p50 {:.0} ms, p99 {:.0} ms, queueing included) | {} | \
             {:.2} CPU s per 1,000 (emulator and driver {:.2}) | peak RSS {:.1} MiB | lost {} doubled {}",
            i + 1,
            r.burst_per_sec,
            r.burst_p50,
            r.burst_p99,
            paced.join(" | "),
            r.cpu_per_1000,
            r.emu_cpu_per_1000,
            r.peak_rss,
            r.lost,
            r.doubled
        );
        runs.push(r);
    }
    let m = |f: &dyn Fn(&ReportsRun) -> f64| median(&runs.iter().map(f).collect::<Vec<_>>());
    let per_sec = m(&|r| r.burst_per_sec);
    let (cpu, rss) = (m(&|r| r.cpu_per_1000), m(&|r| r.peak_rss));
    let lost: usize = runs.iter().map(|r| r.lost).sum();
    let doubled: usize = runs.iter().map(|r| r.doubled).sum();
    println!(
        "median: {per_sec:.0} reports/s (burst); {cpu:.2} CPU s per 1,000 reports; peak RSS {rss:.1} MiB"
    );
    let mut verdicts = vec![verdict(
        "reports per second (burst, pacer off)",
        format!("{per_sec:.0}"),
        "≥ 2,000",
        per_sec >= Targets::REPORTS_PER_SEC,
    )];
    for (i, (rate, _)) in paces.iter().enumerate() {
        let p50 = m(&|r| r.paced[i].p50);
        let p99 = m(&|r| r.paced[i].p99);
        let handled = m(&|r| r.paced[i].handled);
        println!(
            "median at {rate:.0}/s offered: {handled:.0}/s handled, p50 {p50:.1} ms, p99 {p99:.1} ms"
        );
        verdicts.push(verdict(
            &format!("p99 report → confirmation at {rate:.0}/s"),
            format!("{p99:.1} ms"),
            "< 50 ms",
            p99 < Targets::P99_MS,
        ));
    }
    println!();
    verdicts.extend([
        verdict(
            "reports lost / doubled (all runs)",
            format!("{lost} / {doubled}"),
            "0 / 0",
            lost == 0 && doubled == 0,
        ),
        verdict(
            "peak RSS (reports)",
            format!("{rss:.1} MiB"),
            "< 64 MB",
            rss * 1024.0 * 1024.0 < Targets::RSS_MB * 1e6,
        ),
        verdict(
            "CPU seconds per 1,000 reports",
            format!("{cpu:.2} s"),
            "(reported)",
            true,
        ),
    ]);
    Ok(verdicts)
}

async fn reports_run(
    backend: &Backend,
    burst_n: usize,
    paces: &[(f64, usize)],
    groups: usize,
) -> anyhow::Result<ReportsRun> {
    let dir = RunDir::new()?;
    let emu = start_emulator().await?;
    // Owners: enough that nobody passes the flood limit; each group gets its share.
    let total = burst_n + paces.iter().map(|(_, n)| n).sum::<usize>();
    let owners = total.div_ceil(REPORTS_PER_OWNER);
    let group_ids: Vec<i64> = (1..=groups as i64).map(|g| GROUP_BASE - g).collect();
    let mut members: Vec<Vec<u64>> = vec![vec![MANAGER]; groups];
    for o in 0..owners {
        let id = OWNER_BASE + o as u64;
        emu.add_user(User::new(id, format!("Owner {o}")).language("en"));
        members[o % groups].push(id);
    }
    for (g, id) in group_ids.iter().enumerate() {
        emu.create_group(*id, &format!("Garden {g}"), &members[g])?;
    }
    let db = backend.fresh(dir.path()).await?;
    let config = write_config(dir.path(), &db.url, "[delivery]\nrate_limits = false\n")?;
    let butler = Butler::spawn(&emu, &config, dir.path())?;
    until_polling(&emu, &butler).await?;

    // The manager registers every group.
    for (g, id) in group_ids.iter().enumerate() {
        emu.user_sends_text(*id, MANAGER, &format!("/register Garden {g}"), None)?;
    }
    let registered = poll_until(&emu, Duration::from_secs(60), |s| {
        s.calls_of("sendMessage").iter().filter(|c| c.ok()).count() >= groups
    })
    .await;
    if !registered {
        bail!("the groups were not registered\n{}", butler.log_tail(20));
    }
    // Report i comes from owner i mod owners, so that each owner's reports are spread out.
    let owner_of = |i: usize| {
        let o = i % owners;
        (group_ids[o % groups], OWNER_BASE + o as u64)
    };

    // The burst: every report queued as fast as the driver can.
    let cursor = emu.read(|s| s.calls().len());
    let cpu0 = butler.cpu_seconds();
    let emu_cpu0 = cpu_seconds("self");
    let mut sent = Vec::with_capacity(burst_n);
    for i in 0..burst_n {
        let (chat, owner) = owner_of(i);
        let at = emu.elapsed();
        let m = emu.user_sends_text(
            chat,
            owner,
            &format!("/repair burst {i}: the tap leaks"),
            None,
        )?;
        sent.push((chat, m.id, at));
    }
    wait_answered(&emu, &butler, cursor, burst_n).await?;
    let cpu = butler.cpu_seconds() - cpu0;
    let emu_cpu = cpu_seconds("self") - emu_cpu0;
    let burst = emu.read(|s| tally(s, cursor, &sent));
    if std::env::var_os("BUTLER_BENCH_DEBUG").is_some() {
        println!("{}", emu.read(|s| diagnose(s, cursor)));
    }

    // Open loop at set rates: the driver does not wait for answers.
    let mut next = burst_n;
    let mut paced = Vec::new();
    let (mut lost, mut doubled) = (burst.lost, burst.doubled);
    for &(rate, n) in paces {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let cursor = emu.read(|s| s.calls().len());
        let mut sent = Vec::with_capacity(n);
        let start = Instant::now();
        let mut i = 0;
        while i < n {
            let due = ((start.elapsed().as_secs_f64() * rate) as usize + 1).min(n);
            while i < due {
                let (chat, owner) = owner_of(next + i);
                let at = emu.elapsed();
                let m = emu.user_sends_text(
                    chat,
                    owner,
                    &format!("/repair at {rate}/s {i}: no light"),
                    None,
                )?;
                sent.push((chat, m.id, at));
                i += 1;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let offered = n as f64 / start.elapsed().as_secs_f64();
        next += n;
        wait_answered(&emu, &butler, cursor, n).await?;
        let t = emu.read(|s| tally(s, cursor, &sent));
        lost += t.lost;
        doubled += t.doubled;
        let sorted = sorted(t.latencies);
        paced.push(Paced {
            offered,
            handled: n as f64 / (t.last_sent - t.first_queued).as_secs_f64(),
            p50: percentile(&sorted, 50.0),
            p99: percentile(&sorted, 99.0),
        });
    }
    let peak_rss = butler.peak_rss_mb();

    butler.stop().await?;
    // Tickets in the database: one per report, each for its own report message.
    let store = butler::store::Store::open(&db.url).await?;
    let tickets = store.open_tickets(10 * total as i64).await?;
    store.close().await;
    db.release().await?;
    let distinct: HashSet<(i64, i32)> = tickets
        .iter()
        .map(|t| (t.report_chat_id, t.report_message_id))
        .collect();
    lost += total.saturating_sub(distinct.len());
    doubled += tickets.len() - distinct.len() + distinct.len().saturating_sub(total);

    let bl = sorted(burst.latencies);
    Ok(ReportsRun {
        burst_per_sec: burst_n as f64 / (burst.last_sent - burst.first_queued).as_secs_f64(),
        burst_p50: percentile(&bl, 50.0),
        burst_p99: percentile(&bl, 99.0),
        paced,
        cpu_per_1000: cpu / burst_n as f64 * 1000.0,
        emu_cpu_per_1000: emu_cpu / burst_n as f64 * 1000.0,
        peak_rss,
        lost,
        doubled,
    })
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// Waits until `n` reports past `cursor` have their confirmation and card (two sends
/// each), at most a minute plus a millisecond a report.
async fn wait_answered(
    emu: &EmulatorHandle,
    butler: &Butler,
    cursor: usize,
    n: usize,
) -> anyhow::Result<()> {
    let mut seen = cursor;
    let mut sends = 0;
    let timeout = Duration::from_secs(60) + Duration::from_millis(n as u64);
    let done = poll_until(emu, timeout, |s| {
        let calls = s.calls();
        sends += calls[seen..].iter().filter(|c| is_send(c)).count();
        seen = calls.len();
        sends >= 2 * n
    })
    .await;
    if !done {
        bail!(
            "only {sends} of {} confirmations and cards were sent\n{}",
            2 * n,
            butler.log_tail(20)
        );
    }
    // Anything extra (a doubled answer) would come right after.
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(())
}

/// Confirmations (under each report) and cards (in the staff chat) sent since `cursor`.
fn tally(s: &State, cursor: usize, sent: &[(i64, i32, Duration)]) -> Tally {
    let queued: HashMap<(i64, i32), Duration> =
        sent.iter().map(|(c, m, at)| ((*c, *m), *at)).collect();
    let mut confirmations: HashMap<(i64, i32), usize> = HashMap::new();
    let mut latencies = Vec::with_capacity(sent.len());
    let mut cards = Vec::new();
    let mut last_sent = Duration::ZERO;
    for c in s.calls()[cursor..].iter().filter(|c| is_send(c)) {
        let Some(chat) = c.chat_id else { continue };
        let text = c.param_str("text").unwrap_or("");
        if chat == STAFF_CHAT && text.starts_with("🔧 #") {
            let id: String = text["🔧 #".len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            cards.push(id);
            last_sent = last_sent.max(c.at);
        } else if text.starts_with("Received: ticket #")
            && let Some(to) = reply_to(c)
            && let Some(at) = queued.get(&(chat, to))
        {
            *confirmations.entry((chat, to)).or_default() += 1;
            latencies.push(ms(c.at.saturating_sub(*at)));
            last_sent = last_sent.max(c.at);
        }
    }
    let distinct_cards: HashSet<&String> = cards.iter().collect();
    let lost = (sent.len() - confirmations.len()) + sent.len().saturating_sub(distinct_cards.len());
    let doubled =
        confirmations.values().map(|n| n - 1).sum::<usize>() + (cards.len() - distinct_cards.len());
    Tally {
        first_queued: sent.first().map_or(Duration::ZERO, |s| s.2),
        last_sent,
        latencies,
        lost,
        doubled,
    }
}

/// Where the time went, from the calls: the staff chat's pace (its sends are one at a
/// time, in order) and the getUpdates loop's.
fn diagnose(s: &State, cursor: usize) -> String {
    let calls = &s.calls()[cursor..];
    let gaps = |mut times: Vec<f64>| {
        times.sort_by(f64::total_cmp);
        let mut g: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        g.sort_by(f64::total_cmp);
        (
            percentile(&g, 50.0),
            percentile(&g, 90.0),
            g.iter().sum::<f64>() / g.len().max(1) as f64,
        )
    };
    let staff: Vec<f64> = calls
        .iter()
        .filter(|c| is_send(c) && c.chat_id == Some(STAFF_CHAT))
        .map(|c| ms(c.at))
        .collect();
    let polls: Vec<&Call> = calls.iter().filter(|c| c.method == "getUpdates").collect();
    let (s50, s90, smean) = gaps(staff.clone());
    let (p50, p90, pmean) = gaps(polls.iter().map(|c| ms(c.at)).collect());
    format!(
        "  staff chat: {} sends, gap p50 {s50:.2} ms p90 {s90:.2} ms mean {smean:.2} ms | \
         getUpdates: {} answered, gap p50 {p50:.2} ms p90 {p90:.2} ms mean {pmean:.2} ms",
        staff.len(),
        polls.len()
    )
}

// ---- scenario: broadcast -------------------------------------------------------------

struct BroadcastRun {
    deliver_all: f64,
    per_sec: f64,
    too_many: u64,
    delivered: usize,
    /// Reports sent during the greeting: ms from each report to its confirmation, and
    /// to its staff card (sorted); empty when none were sent.
    confirmations: Vec<f64>,
    cards: Vec<f64>,
}

/// Reports sent during the greeting of the "report during a broadcast" run, each from
/// another group, starting a second into the greeting, one every [`REPORT_EVERY`]: every
/// report puts a card in the staff chat, which as a group takes 20 messages a minute.
const REPORTS_DURING_BROADCAST: usize = 10;
const REPORT_EVERY: Duration = Duration::from_secs(3);

async fn broadcast(opts: &Opts) -> anyhow::Result<Vec<Verdict>> {
    let groups = if opts.quick { 200 } else { 1_000 };
    println!(
        "== broadcast: the morning greeting to {groups} groups, Telegram's limits on in the \
         emulator, Butler's pacer on =="
    );
    if let Backend::Sqlite = opts.db {
        // Made once, copied for each run (PostgreSQL seeds each run's schema).
        demo_db(opts, "groups", 1_000, groups).await?;
    }
    let mut runs = Vec::new();
    for i in 0..opts.runs {
        let r = broadcast_run(opts, groups, Duration::ZERO, 0)
            .await
            .with_context(|| format!("broadcast, run {}", i + 1))?;
        println!(
            "run {}: {} of {groups} delivered in {:.1} s after the scheduled time, {:.1} msgs/s, {} × 429",
            i + 1,
            r.delivered,
            r.deliver_all,
            r.per_sec,
            r.too_many
        );
        runs.push(r);
    }
    let per_sec = median(&runs.iter().map(|r| r.per_sec).collect::<Vec<_>>());
    let all = median(&runs.iter().map(|r| r.deliver_all).collect::<Vec<_>>());
    let too_many: u64 = runs.iter().map(|r| r.too_many).sum();
    let complete = runs.iter().all(|r| r.delivered == groups);
    println!(
        "median: {all:.1} s to deliver all, {per_sec:.1} msgs/s ({:.0} % of 30); 429s in all runs: {too_many}\n",
        per_sec / Targets::TELEGRAM_PER_SEC * 100.0
    );
    // The same over a network: each send waits a round trip for its answer, as from a
    // server to api.telegram.org. One run, a third of the groups.
    let rtt = Duration::from_millis(100);
    let far = broadcast_run(opts, groups / 3, rtt, 0)
        .await
        .context("broadcast over a 100 ms round trip")?;
    let during = reports_during_broadcast(opts, groups).await?;

    println!(
        "with a {} ms round trip: {} of {} delivered, {:.1} msgs/s, {} × 429\n",
        rtt.as_millis(),
        far.delivered,
        groups / 3,
        far.per_sec,
        far.too_many
    );
    Ok(vec![
        during,
        verdict(
            "broadcast msgs/s, 100 ms round trip (1 run)",
            format!("{:.1} ({:.0} %)", far.per_sec, far.per_sec / 30.0 * 100.0),
            "≥ 95 %",
            far.delivered == groups / 3
                && far.too_many == 0
                && far.per_sec >= Targets::BROADCAST_SHARE * Targets::TELEGRAM_PER_SEC,
        ),
        verdict(
            "broadcast msgs/s (share of 30)",
            format!("{per_sec:.1} ({:.0} %)", per_sec / 30.0 * 100.0),
            "≥ 95 %",
            complete && per_sec >= Targets::BROADCAST_SHARE * Targets::TELEGRAM_PER_SEC,
        ),
        verdict(
            "broadcast 429s (all runs)",
            too_many.to_string(),
            "0",
            too_many == 0,
        ),
    ])
}

/// The greeting again, with owners reporting during it: how long until each report's
/// confirmation and card, and what the reports cost the broadcast.
async fn reports_during_broadcast(opts: &Opts, groups: usize) -> anyhow::Result<Verdict> {
    println!(
        "== report latency during the greeting to {groups} groups: {REPORTS_DURING_BROADCAST} \
         reports, one every {} s, from 1 s into it ==",
        REPORT_EVERY.as_secs()
    );
    let mut runs = Vec::new();
    for i in 0..opts.runs {
        let r = broadcast_run(opts, groups, Duration::ZERO, REPORTS_DURING_BROADCAST)
            .await
            .with_context(|| format!("reports during a broadcast, run {}", i + 1))?;
        let p = |v: &[f64], q: f64| percentile(v, q);
        println!(
            "run {}: confirmation p50 {:.0} ms, p99 {:.0} ms; card p50 {:.0} ms, p99 {:.0} ms; \
             greeting {:.1} msgs/s, {} × 429, {} of {groups} delivered",
            i + 1,
            p(&r.confirmations, 50.0),
            p(&r.confirmations, 99.0),
            p(&r.cards, 50.0),
            p(&r.cards, 99.0),
            r.per_sec,
            r.too_many,
            r.delivered
        );
        runs.push(r);
    }
    let all = |f: fn(&BroadcastRun) -> &Vec<f64>| {
        sorted(runs.iter().flat_map(|r| f(r).iter().copied()).collect())
    };
    let (conf, cards) = (all(|r| &r.confirmations), all(|r| &r.cards));
    let p99 = percentile(&conf, 99.0).max(percentile(&cards, 99.0));
    let per_sec = median(&runs.iter().map(|r| r.per_sec).collect::<Vec<_>>());
    let too_many: u64 = runs.iter().map(|r| r.too_many).sum();
    let answered = conf.len() == REPORTS_DURING_BROADCAST * runs.len() && cards.len() == conf.len();
    println!(
        "all runs: confirmation p50 {:.0} / p99 {:.0} ms, card p50 {:.0} / p99 {:.0} ms; \
         greeting median {per_sec:.1} msgs/s; 429s: {too_many}\n",
        percentile(&conf, 50.0),
        percentile(&conf, 99.0),
        percentile(&cards, 50.0),
        percentile(&cards, 99.0),
    );
    Ok(verdict(
        "report → confirmation/card p99, in a broadcast",
        format!("{p99:.0} ms ({per_sec:.1}/s, {too_many}×429)"),
        "< 1 s",
        answered
            && p99 < 1_000.0
            && too_many == 0
            && per_sec >= Targets::BROADCAST_SHARE * Targets::TELEGRAM_PER_SEC,
    ))
}

/// The greeting to `groups` demo groups at a round trip of `round_trip`; with `reports`,
/// that many owners report during it (see [`REPORTS_DURING_BROADCAST`]).
async fn broadcast_run(
    opts: &Opts,
    groups: usize,
    round_trip: Duration,
    reports: usize,
) -> anyhow::Result<BroadcastRun> {
    let dir = RunDir::new()?;
    let db = demo_for_run(opts, "groups", 1_000, groups, dir.path()).await?;
    let emu = start_emulator().await?;
    for g in 1..=groups as i64 {
        let owner = OWNER_BASE + g as u64;
        emu.add_user(User::new(owner, format!("Owner {g}")).language(LANG));
        emu.create_group(DEMO_GROUP_BASE - g, &format!("Demo Garden {g}"), &[owner])?;
    }
    emu.set_rate_limits(Some(RateLimits::telegram()));
    emu.set_latency(round_trip);
    // A cron time a few seconds ahead, in the configured zone (UTC), seconds first.
    let fire = (Utc::now() + chrono::Duration::seconds(4))
        .with_nanosecond(0)
        .expect("valid");
    let cron = format!("{} {} {} * * *", fire.second(), fire.minute(), fire.hour());
    let config = write_config(
        dir.path(),
        &db.url,
        &format!("{QUIET_SWEEPS}[schedule]\nmorning_greeting = \"{cron}\"\n"),
    )?;
    let butler = Butler::spawn(&emu, &config, dir.path())?;
    until_polling(&emu, &butler).await?;
    // The scheduled instant on the emulator's clock.
    let to_fire = (fire - Utc::now()).to_std().unwrap_or_default();
    let fire_at = emu.elapsed() + to_fire;
    let is_greeting = |c: &&Call| {
        is_send(c) && reply_to(c).is_none() && c.chat_id.is_some_and(|id| id < DEMO_GROUP_BASE)
    };
    let sent = report_during(&emu, fire_at, reports, groups).await?;
    let timeout = Duration::from_secs(30) + Duration::from_secs_f64(groups as f64 / 20.0);
    poll_until(&emu, timeout, |s| {
        s.calls().iter().filter(is_greeting).count() >= groups
    })
    .await;
    let (delivered, first, last) = emu.read(|s| {
        let times: Vec<Duration> = s.calls().iter().filter(is_greeting).map(|c| c.at).collect();
        (
            times.len(),
            times.first().copied().unwrap_or_default(),
            times.last().copied().unwrap_or_default(),
        )
    });
    let too_many = emu.rate_limited_count();
    if std::env::var_os("BUTLER_BENCH_DEBUG").is_some() {
        let times: Vec<String> = emu.read(|s| {
            s.calls()
                .iter()
                .filter(is_greeting)
                .map(|c| format!("{:.0}", ms(c.at.saturating_sub(fire_at))))
                .collect()
        });
        println!(
            "  greeting sends (ms after the scheduled time): {}",
            times.join(" ")
        );
    }
    if !sent.is_empty() {
        poll_until(&emu, Duration::from_secs(30), |s| {
            answers(s, &sent).1.len() >= sent.len()
        })
        .await;
    }
    let (confirmations, cards) = emu.read(|s| answers(s, &sent));
    butler.stop().await?;
    db.release().await?;
    Ok(BroadcastRun {
        deliver_all: last.saturating_sub(fire_at).as_secs_f64(),
        per_sec: delivered.saturating_sub(1) as f64 / (last - first).as_secs_f64(),
        too_many,
        delivered,
        confirmations: sorted(confirmations),
        cards: sorted(cards),
    })
}

/// Sends `n` reports, one every [`REPORT_EVERY`] from 1 s after `fire_at`, each from the owner of
/// another demo group; returns (group, report message, when it was sent).
async fn report_during(
    emu: &EmulatorHandle,
    fire_at: Duration,
    n: usize,
    groups: usize,
) -> anyhow::Result<Vec<(i64, i32, Duration)>> {
    let mut sent = Vec::with_capacity(n);
    for i in 0..n {
        let due = fire_at + Duration::from_secs(1) + REPORT_EVERY * i as u32;
        tokio::time::sleep(due.saturating_sub(emu.elapsed())).await;
        // Groups spread over the greeting's order: some already greeted, some not.
        let g = 1 + (i * groups / n.max(1)) as i64;
        let chat = DEMO_GROUP_BASE - g;
        let at = emu.elapsed();
        let m = emu.user_sends_text(
            chat,
            OWNER_BASE + g as u64,
            &format!("/repair during the greeting {i}: the tap leaks"),
            None,
        )?;
        sent.push((chat, m.id, at));
    }
    Ok(sent)
}

/// Ms from each report in `sent` to its confirmation, and to its staff card, for those
/// answered so far. A card is matched by the ticket number its confirmation gave.
fn answers(s: &State, sent: &[(i64, i32, Duration)]) -> (Vec<f64>, Vec<f64>) {
    let calls = s.calls();
    let mut confirmations = Vec::new();
    let mut cards = Vec::new();
    for (chat, id, at) in sent {
        let Some(confirmation) = calls
            .iter()
            .find(|c| is_send(c) && c.chat_id == Some(*chat) && reply_to(c) == Some(*id))
        else {
            continue;
        };
        confirmations.push(ms(confirmation.at.saturating_sub(*at)));
        let text = confirmation.params["text"].as_str().unwrap_or("");
        let ticket: String = text
            .trim_start_matches("Received: ticket #")
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let head = format!("🔧 #{ticket} ");
        if let Some(card) = calls.iter().find(|c| {
            is_send(c)
                && c.chat_id == Some(STAFF_CHAT)
                && c.params["text"]
                    .as_str()
                    .is_some_and(|t| t.starts_with(&head))
        }) {
            cards.push(ms(card.at.saturating_sub(*at)));
        }
    }
    (confirmations, cards)
}

/// The demo year ends when it was made; /stats reads the last 30 days, so a cached demo
/// database is made again once it is a week old.
const DEMO_FRESH_SECS: u64 = 7 * 24 * 3600;

/// A database made by `butler seed-demo`, cached: a file in the data directory, or on
/// PostgreSQL a schema named after it (`butler_bench_…`); its URL.
async fn demo_db(opts: &Opts, name: &str, tickets: i64, groups: usize) -> anyhow::Result<String> {
    let Backend::Postgres(base) = &opts.db else {
        return demo_file(opts, name, tickets, groups).await;
    };
    let schema = format!("butler_bench_{name}_{tickets}t_{groups}g");
    let url = pg::schema_url(base, &schema);
    let seeded = pg::seeded_at(base, &schema).await?;
    if seeded.is_some_and(|at| unix_now().saturating_sub(at) < DEMO_FRESH_SECS) {
        return Ok(url);
    }
    pg::recreate(base, &schema).await?;
    println!("seeding schema {schema} ({tickets} tickets, {groups} groups) …");
    // The same rows as SQLite's, and minutes sooner than `seed-demo` on PostgreSQL, whose
    // milestone triggers run for each event (a million tickets' four million events had
    // not gone in after 13 minutes on these machines).
    copy_into_postgres(opts, name, tickets, groups, &url).await?;
    pg::mark_seeded(base, &schema, unix_now()).await?;
    Ok(url)
}

/// `butler seed-demo` into the (new, empty) schema `schema`; should that fail, the
/// SQLite demo database of the same name is copied into it by `butler migrate-to`.
async fn seed_postgres(
    opts: &Opts,
    name: &str,
    tickets: i64,
    groups: usize,
    base: &str,
    schema: &str,
) -> anyhow::Result<()> {
    let url = pg::schema_url(base, schema);
    let Err(e) = seed_demo(&url, tickets, groups) else {
        return Ok(());
    };
    println!("{e:#}\n… so the SQLite demo database is copied instead (butler migrate-to)");
    pg::recreate(base, schema).await?;
    copy_into_postgres(opts, name, tickets, groups, &url).await
}

/// The SQLite demo database of the same name copied into the empty PostgreSQL database
/// at `url` by `butler migrate-to`.
async fn copy_into_postgres(
    opts: &Opts,
    name: &str,
    tickets: i64,
    groups: usize,
    url: &str,
) -> anyhow::Result<()> {
    let file = demo_file(opts, name, tickets, groups).await?;
    // At this build's migrations, as migrate-to asks.
    butler::store::Store::open(&file).await?.close().await;
    let dir = RunDir::new()?;
    let config = write_config(dir.path(), &file, "")?;
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_butler"))
        .arg("--config")
        .arg(&config)
        .args(["migrate-to", url])
        .output()
        .context("running butler migrate-to")?;
    if !out.status.success() {
        bail!(
            "migrate-to failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{}", stdout.lines().last().unwrap_or(""));
    println!("(copying took {:.1} s)", started.elapsed().as_secs_f64());
    Ok(())
}

/// The SQLite demo database, cached in the data directory; its URL.
async fn demo_file(opts: &Opts, name: &str, tickets: i64, groups: usize) -> anyhow::Result<String> {
    let db = opts.data.join(format!("{name}-{tickets}t-{groups}g.db"));
    let url = format!("sqlite://{}", db.display());
    let stamp = db.with_extension("seeded");
    let fresh = fs::read_to_string(&stamp)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .is_some_and(|at| unix_now().saturating_sub(at) < DEMO_FRESH_SECS);
    if db.exists() && fresh {
        return Ok(url);
    }
    for ext in ["db", "db-wal", "db-shm", "seeded"] {
        let _ = fs::remove_file(db.with_extension(ext));
    }
    println!(
        "seeding {} ({tickets} tickets, {groups} groups) …",
        db.display()
    );
    seed_demo(&url, tickets, groups)?;
    fs::write(&stamp, unix_now().to_string())?;
    Ok(url)
}

/// A demo database of one run's own, in `dir`: a copy of the cached file, or on
/// PostgreSQL a fresh schema seeded for it (a schema cannot be copied as a file can).
async fn demo_for_run(
    opts: &Opts,
    name: &str,
    tickets: i64,
    groups: usize,
    dir: &Path,
) -> anyhow::Result<RunDb> {
    let db = opts.db.fresh(dir).await?;
    match (&opts.db, db.schema()) {
        (Backend::Postgres(base), Some(schema)) => {
            seed_postgres(opts, name, tickets, groups, base, schema).await?
        }
        _ => {
            let template = demo_file(opts, name, tickets, groups).await?;
            let from = template.trim_start_matches("sqlite://");
            copy_db(Path::new(from), &dir.join("butler.db"))?;
        }
    }
    Ok(db)
}

/// Runs `butler seed-demo` on the database at `url`.
fn seed_demo(url: &str, tickets: i64, groups: usize) -> anyhow::Result<()> {
    let dir = RunDir::new()?;
    let config = write_config(dir.path(), url, "")?;
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_butler"))
        .arg("--config")
        .arg(&config)
        .args(["seed-demo", "--tickets", &tickets.to_string()])
        .args(["--groups", &groups.to_string()])
        .output()
        .context("running butler seed-demo")?;
    if !out.status.success() {
        bail!("seed-demo failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    print!("{}", String::from_utf8_lossy(&out.stdout));
    println!("(seeding took {:.1} s)", started.elapsed().as_secs_f64());
    Ok(())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn copy_db(from: &Path, to: &Path) -> anyhow::Result<()> {
    fs::copy(from, to).with_context(|| format!("copying {}", from.display()))?;
    for ext in ["db-wal", "db-shm"] {
        let side = from.with_extension(ext);
        if side.exists() {
            fs::copy(&side, to.with_extension(ext))?;
        }
    }
    Ok(())
}

// ---- scenario: figures ---------------------------------------------------------------

struct FiguresRun {
    cold_start: f64,
    stats30: f64,
    /// `/stats 366`, asked in the warm-up run only (it reads the whole year).
    stats366: Option<f64>,
    summary: f64,
    rss: f64,
}

async fn figures(opts: &Opts) -> anyhow::Result<Vec<Verdict>> {
    let tickets: i64 = if opts.quick { 100_000 } else { 1_000_000 };
    println!("== figures: /stats and the daily summary on {tickets} tickets; cold start ==");
    let db = demo_db(opts, "tickets", tickets, 50).await?;
    let dir = RunDir::new()?;
    let config = write_config(dir.path(), &db, QUIET_SWEEPS)?;

    // The SQL alone, in this process: what `/stats` (30 days) and the daily summary read.
    let settings = butler::config::Settings::load(&config)?;
    let app = butler::build_app(settings, butler::clock::Clock::system()).await?;
    let overview = |days: u32| {
        let app = app.clone();
        async move {
            let period = butler::domain::figures::Period::last_days(Utc::now(), days);
            let started = Instant::now();
            let o = butler::figures::overview(&app.store, period, &app.settings).await?;
            anyhow::Ok((ms(started.elapsed()), o))
        }
    };
    let summary = || {
        let app = app.clone();
        async move {
            let now = Utc::now();
            let started = Instant::now();
            let mut read = app.store.begin_read().await?;
            let chat = app.settings.staff_chat_id;
            butler::jobs::summary::texts(&app, &mut read, now.date_naive(), now, chat).await?;
            drop(read);
            anyhow::Ok(ms(started.elapsed()))
        }
    };
    let (cold30, o) = overview(30).await?;
    println!(
        "first read (cold page cache): /stats {cold30:.0} ms ({} reported, {} taken, {} rated in 30 days, \
         {} staff), summary {:.0} ms",
        o.figures.reported,
        o.figures.taken(),
        o.figures.ratings(),
        o.staff.len(),
        summary().await?
    );
    let (mut s30, mut summ) = (Vec::new(), Vec::new());
    for _ in 0..opts.runs {
        s30.push(overview(30).await?.0);
        summ.push(summary().await?);
    }
    let (year, o) = overview(366).await?;
    println!(
        "SQL in process (median of {}): /stats {:.1} ms, daily summary {:.1} ms; \
         /stats 366 (1 run, {} rated in the year) {year:.0} ms",
        opts.runs,
        median(&s30),
        median(&summ),
        o.figures.ratings()
    );
    find_timings(&app, opts.runs).await?;
    app.store.close().await;
    let (sql30, sql_summary) = (median(&s30), median(&summ));

    // End to end, and cold start, against the real binary.
    let mut runs = Vec::new();
    let mut peak_rss: f64 = 0.0;
    for i in 0..=opts.runs {
        let r = figures_run(&db, dir.path(), &config, i == 0)
            .await
            .with_context(|| format!("figures, run {i}"))?;
        peak_rss = peak_rss.max(r.rss);
        if i == 0 {
            println!(
                "warm-up start (not counted): cold start {:.0} ms, /stats {:.0} ms, /stats 366 {:.0} ms, \
                 /summary {:.0} ms, peak RSS {:.1} MiB",
                r.cold_start,
                r.stats30,
                r.stats366.unwrap_or(f64::NAN),
                r.summary,
                r.rss
            );
            continue;
        }
        println!(
            "run {i}: cold start {:.0} ms | /stats {:.0} ms | /summary {:.0} ms | peak RSS {:.1} MiB",
            r.cold_start, r.stats30, r.summary, r.rss
        );
        runs.push(r);
    }
    let m = |f: fn(&FiguresRun) -> f64| median(&runs.iter().map(f).collect::<Vec<_>>());
    let (cold, e2e30, e2e_summary, rss) = (
        m(|r| r.cold_start),
        m(|r| r.stats30),
        m(|r| r.summary),
        m(|r| r.rss),
    );
    println!(
        "median end to end: cold start {cold:.0} ms, /stats {e2e30:.0} ms, /summary {e2e_summary:.0} ms, \
         peak RSS {rss:.1} MiB\n"
    );
    let under = |v: f64| v < Targets::FIGURES_MS;
    let label = if tickets == 1_000_000 {
        "1M".to_owned()
    } else {
        format!("{}k", tickets / 1000)
    };
    Ok(vec![
        verdict(
            &format!("/stats SQL on {label} tickets"),
            format!("{sql30:.1} ms"),
            "< 200 ms",
            under(sql30),
        ),
        verdict(
            &format!("daily summary SQL on {label} tickets"),
            format!("{sql_summary:.1} ms"),
            "< 200 ms",
            under(sql_summary),
        ),
        verdict(
            "/stats end to end (sent → answer)",
            format!("{e2e30:.0} ms"),
            "< 200 ms",
            under(e2e30),
        ),
        verdict(
            "/summary end to end (sent → answer)",
            format!("{e2e_summary:.0} ms"),
            "< 200 ms",
            under(e2e_summary),
        ),
        verdict(
            &format!("cold start to first getUpdates ({label})"),
            format!("{cold:.0} ms"),
            "< 1 s",
            cold < Targets::COLD_START_MS,
        ),
        verdict(
            &format!("peak RSS (figures, {label}, highest run)"),
            format!("{peak_rss:.1} MiB"),
            "< 64 MB",
            peak_rss * 1024.0 * 1024.0 < Targets::RSS_MB * 1e6,
        ),
    ])
}

/// `/find` on the demo tickets ("Demo report <id>", categories, no units), in process:
/// a word in every ticket (the index finds them all and ranks them), a number in a few,
/// a category, and a two-character word the index cannot use and no ticket holds (the
/// LIKE scan reads every ticket).
async fn find_timings(app: &butler::app::AppRef, runs: usize) -> anyhow::Result<()> {
    for query in ["report", "123456", "plumbing", "漏水"] {
        let q = butler::domain::SearchQuery::parse(query, butler::i18n::parse_category)
            .context("a query")?;
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..runs.max(1) {
            let started = Instant::now();
            found = app.store.search_tickets(&q, 10).await?.len();
            times.push(ms(started.elapsed()));
        }
        println!(
            "/find {query:?} in process (median of {}): {:.1} ms, {found} shown",
            times.len(),
            median(&times)
        );
    }
    Ok(())
}

async fn figures_run(
    db: &str,
    dir: &Path,
    config: &Path,
    whole_year: bool,
) -> anyhow::Result<FiguresRun> {
    let store = butler::store::Store::open(db).await?;
    let last_update = store.inbox_last_id().await?.unwrap_or(0);
    store.close().await;
    let emu = start_emulator_after(last_update).await?;
    let butler = Butler::spawn(&emu, config, dir)?;
    let cold_start = ms(until_polling(&emu, &butler).await?);
    // Let the start-up sweeps finish, as a bot that has been up a moment would have.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ask = |text: &'static str, user: u64| {
        let emu = emu.clone();
        async move {
            // Staff do not write more than once a second (Telegram's pace per chat).
            tokio::time::sleep(Duration::from_millis(1100)).await;
            let at = emu.elapsed();
            let m = emu.user_sends_text(STAFF_CHAT, user, text, None)?;
            let answered = emu
                .wait_find(
                    |s| {
                        s.calls()
                            .iter()
                            .rev()
                            .find(|c| {
                                is_send(c)
                                    && c.chat_id == Some(STAFF_CHAT)
                                    && reply_to(c) == Some(m.id)
                            })
                            .map(|c| c.at)
                    },
                    Duration::from_secs(60),
                )
                .await
                .map_err(|_| anyhow::anyhow!("no answer to {text}"))?;
            anyhow::Ok(ms(answered.saturating_sub(at)))
        }
    };
    let stats30 = ask("/stats", STAFF).await?;
    let stats366 = if whole_year {
        Some(ask("/stats 366", STAFF).await?)
    } else {
        None
    };
    let summary = ask("/summary", MANAGER).await?;
    let rss = butler.peak_rss_mb();
    butler.stop().await?;
    Ok(FiguresRun {
        cold_start,
        stats30,
        stats366,
        summary,
        rss,
    })
}

// ---- scenario: flood -----------------------------------------------------------------

/// The stranger who floods Butler's private chat.
const STRANGER: u64 = 3_000_000;

struct FloodRun {
    p50: f64,
    p99: f64,
    confirmed: usize,
    /// What Butler sent to the stranger.
    answers: usize,
}

async fn flood(opts: &Opts) -> anyhow::Result<Vec<Verdict>> {
    let (messages, reports) = if opts.quick {
        (2_000, 20)
    } else {
        (10_000, 40)
    };
    let rate = 2_000.0;
    println!(
        "== flood: {messages} private messages from one stranger at {rate:.0}/s, {reports} \
         reports from owners in {reports} groups among them; Telegram's limits on in the \
         emulator, Butler's pacer on =="
    );
    let mut runs = Vec::new();
    for i in 0..opts.runs {
        let r = flood_run(&opts.db, messages, reports, rate)
            .await
            .with_context(|| format!("flood, run {}", i + 1))?;
        println!(
            "run {}: {} of {reports} reports confirmed, p50 {:.1} ms, p99 {:.1} ms; {} answers to the flood",
            i + 1,
            r.confirmed,
            r.p50,
            r.p99,
            r.answers
        );
        runs.push(r);
    }
    let p50 = median(&runs.iter().map(|r| r.p50).collect::<Vec<_>>());
    let p99 = median(&runs.iter().map(|r| r.p99).collect::<Vec<_>>());
    let answers = runs.iter().map(|r| r.answers).max().unwrap_or(0);
    let complete = runs.iter().all(|r| r.confirmed == reports);
    println!("median: report → confirmation p50 {p50:.1} ms, p99 {p99:.1} ms\n");
    Ok(vec![
        verdict(
            &format!("p99 report → confirmation, {messages} private flood"),
            format!("{p99:.1} ms"),
            "< 1 s",
            complete && p99 < Targets::FLOOD_P99_MS,
        ),
        verdict(
            "answers to a private flood (most in a run)",
            answers.to_string(),
            "≤ 5",
            answers <= Targets::FLOOD_ANSWERS,
        ),
    ])
}

async fn flood_run(
    backend: &Backend,
    messages: usize,
    reports: usize,
    rate: f64,
) -> anyhow::Result<FloodRun> {
    let dir = RunDir::new()?;
    let emu = start_emulator().await?;
    emu.add_user(User::new(STRANGER, "Stranger").language("en"));
    let stranger_chat = emu.create_private_chat(STRANGER)?;
    let group_ids: Vec<i64> = (1..=reports as i64).map(|g| GROUP_BASE - g).collect();
    for (g, id) in group_ids.iter().enumerate() {
        let owner = OWNER_BASE + g as u64;
        emu.add_user(User::new(owner, format!("Owner {g}")).language("en"));
        emu.create_group(*id, &format!("Garden {g}"), &[MANAGER, owner])?;
    }
    emu.set_rate_limits(Some(RateLimits::telegram()));
    let db = backend.fresh(dir.path()).await?;
    let config = write_config(dir.path(), &db.url, QUIET_SWEEPS)?;
    let butler = Butler::spawn(&emu, &config, dir.path())?;
    until_polling(&emu, &butler).await?;
    for (g, id) in group_ids.iter().enumerate() {
        emu.user_sends_text(*id, MANAGER, &format!("/register Garden {g}"), None)?;
    }
    let registered = poll_until(&emu, Duration::from_secs(60), |s| {
        s.calls_of("sendMessage").iter().filter(|c| c.ok()).count() >= reports
    })
    .await;
    if !registered {
        bail!("the groups were not registered\n{}", butler.log_tail(20));
    }
    // Past every group's per-minute budget spent on the registrations' answers.
    tokio::time::sleep(Duration::from_secs(3)).await;

    // Open loop: the flood at `rate`, a report after every `messages / reports` of it.
    let cursor = emu.read(|s| s.calls().len());
    let every = messages / reports;
    let mut sent = Vec::with_capacity(reports);
    let start = Instant::now();
    let mut i = 0;
    while i < messages {
        let due = ((start.elapsed().as_secs_f64() * rate) as usize + 1).min(messages);
        while i < due {
            emu.user_sends_text(stranger_chat, STRANGER, &format!("hello? {i}"), None)?;
            i += 1;
            if i % every == 0 && sent.len() < reports {
                let chat = group_ids[sent.len()];
                let owner = OWNER_BASE + sent.len() as u64;
                let at = emu.elapsed();
                let m = emu.user_sends_text(chat, owner, "/repair the lift is stuck", None)?;
                sent.push((chat, m.id, at));
            }
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let is_confirmation = |c: &Call| {
        is_send(c)
            && c.param_str("text")
                .is_some_and(|t| t.starts_with("Received: ticket #"))
    };
    let confirmed = poll_until(&emu, Duration::from_secs(60), |s| {
        s.calls()[cursor..]
            .iter()
            .filter(|c| is_confirmation(c))
            .count()
            >= reports
    })
    .await;
    if !confirmed {
        println!(
            "  not every report was confirmed within a minute\n{}",
            butler.log_tail(10)
        );
    }
    // Every update of the flood fetched (and confirmed: nothing pending), a moment to answer.
    poll_until(&emu, Duration::from_secs(60), |s| {
        s.pending_updates().is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let t = emu.read(|s| tally(s, cursor, &sent));
    let answers = emu.read(|s| {
        s.calls()[cursor..]
            .iter()
            .filter(|c| is_send(c) && c.chat_id == Some(stranger_chat))
            .count()
    });
    butler.stop().await?;
    db.release().await?;
    let latencies = sorted(t.latencies);
    Ok(FloodRun {
        p50: percentile(&latencies, 50.0),
        p99: percentile(&latencies, 99.0),
        confirmed: latencies.len(),
        answers,
    })
}
