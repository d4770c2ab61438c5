//! Scenario `failover` (PostgreSQL only): two Butlers on one schema, polling; the first
//! to start is the leader (it polls, sends and runs the jobs), the second waits as a
//! standby. Owners report at a steady pace; the leader is killed with SIGKILL mid-way.
//! The failover time runs from the kill to the first message the new leader sends; every
//! report must still get its confirmation and its card. A message Telegram took just
//! before the kill, whose "sent" mark the dead leader had not written, goes out again from
//! the new leader (at least once, as tests/e2e/leader.rs says): counted as "resent", apart
//! from a message doubled with no kill to explain it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::bail;
use butler_emulator::{State, User};

use super::{
    Backend, Butler, GROUP_BASE, MANAGER, OWNER_BASE, Opts, RunDir, STAFF_CHAT, Verdict, is_send,
    median, ms, percentile, poll_until, reply_to, sorted, start_emulator, tally, until_polling,
    verdict, wait_answered, write_config,
};

/// Standbys must take over within this (issue 17).
const TAKEOVER_MS: f64 = 10_000.0;
/// Sends that reach the emulator this soon after the kill are taken as the old leader's,
/// in flight (a standby looks for the lock every second or so: it cannot be this quick).
const IN_FLIGHT: Duration = Duration::from_millis(100);
/// Reports a second while the leader dies, each from an owner of its own.
const RATE: f64 = 20.0;
const GROUPS: usize = 10;

struct FailoverRun {
    /// Kill → first message sent by the new leader.
    takeover: f64,
    /// Reports sent before, during and after the takeover: ms to their confirmations.
    latencies: Vec<f64>,
    lost: usize,
    /// Sent twice, the first time just before the kill.
    resent: usize,
    /// Sent twice otherwise.
    doubled: usize,
}

pub async fn failover(opts: &Opts) -> anyhow::Result<Vec<Verdict>> {
    if let Backend::Sqlite = opts.db {
        println!("== failover: skipped (two instances share a database on PostgreSQL only) ==\n");
        return Ok(Vec::new());
    }
    let (secs, kill_at) = if opts.quick { (8.0, 2.0) } else { (15.0, 3.0) };
    let n = (RATE * secs) as usize;
    println!(
        "== failover: two instances on one schema, polling; {n} reports at {RATE:.0}/s, the \
         leader killed (SIGKILL) {kill_at:.0} s in; no rate limits, pacer off =="
    );
    let mut runs = Vec::new();
    for i in 0..opts.runs {
        let r = failover_run(&opts.db, n, Duration::from_secs_f64(kill_at)).await?;
        let l = sorted(r.latencies.clone());
        println!(
            "run {}: new leader's first message {:.0} ms after the kill | report → confirmation \
             p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms | lost {}, resent {} (in flight at the \
             kill), doubled {}",
            i + 1,
            r.takeover,
            percentile(&l, 50.0),
            percentile(&l, 99.0),
            l.last().copied().unwrap_or(f64::NAN),
            r.lost,
            r.resent,
            r.doubled
        );
        runs.push(r);
    }
    let takeover = median(&runs.iter().map(|r| r.takeover).collect::<Vec<_>>());
    let worst = runs.iter().map(|r| r.takeover).fold(0.0, f64::max);
    let lost: usize = runs.iter().map(|r| r.lost).sum();
    let doubled: usize = runs.iter().map(|r| r.doubled).sum();
    let resent: usize = runs.iter().map(|r| r.resent).sum();
    println!("median: {takeover:.0} ms from the kill to the new leader's first message\n");
    Ok(vec![
        verdict(
            "failover: kill -9 → new leader's first send",
            format!("{takeover:.0} ms (worst {worst:.0})"),
            "< 10 s",
            worst < TAKEOVER_MS,
        ),
        verdict(
            "failover: lost / doubled (+ resent at the kill)",
            format!("{lost} / {doubled} (+ {resent})"),
            "0 / 0",
            lost == 0 && doubled == 0,
        ),
    ])
}

async fn failover_run(
    backend: &Backend,
    n: usize,
    kill_at: Duration,
) -> anyhow::Result<FailoverRun> {
    let dir = RunDir::new()?;
    let standby_dir = dir.path().join("standby");
    std::fs::create_dir_all(&standby_dir)?;
    let emu = start_emulator().await?;
    let group_ids: Vec<i64> = (1..=GROUPS as i64).map(|g| GROUP_BASE - g).collect();
    let mut members: Vec<Vec<u64>> = vec![vec![MANAGER]; GROUPS];
    for o in 0..n {
        let id = OWNER_BASE + o as u64;
        emu.add_user(User::new(id, format!("Owner {o}")).language("en"));
        members[o % GROUPS].push(id);
    }
    for (g, id) in group_ids.iter().enumerate() {
        emu.create_group(*id, &format!("Garden {g}"), &members[g])?;
    }
    let db = backend.fresh(dir.path()).await?;
    let config = write_config(dir.path(), &db.url, "[delivery]\nrate_limits = false\n")?;
    let mut leader = Butler::spawn(&emu, &config, dir.path())?;
    until_polling(&emu, &leader).await?;
    let standby = Butler::spawn(&emu, &config, &standby_dir)?;
    let waiting = poll_until(&emu, Duration::from_secs(30), |_| {
        standby.log_tail(50).to_lowercase().contains("standby")
    })
    .await;
    if !waiting {
        bail!(
            "the second instance never said it was a standby (no leader election in this build?)\n{}",
            standby.log_tail(10)
        );
    }
    for (g, id) in group_ids.iter().enumerate() {
        emu.user_sends_text(*id, MANAGER, &format!("/register Garden {g}"), None)?;
    }
    let registered = poll_until(&emu, Duration::from_secs(60), |s| {
        s.calls_of("sendMessage").iter().filter(|c| c.ok()).count() >= GROUPS
    })
    .await;
    if !registered {
        bail!("the groups were not registered\n{}", leader.log_tail(20));
    }

    // Open loop at RATE; the leader is killed at `kill_at`.
    let cursor = emu.read(|s| s.calls().len());
    let mut sent = Vec::with_capacity(n);
    let mut killed = None;
    let start = Instant::now();
    let mut i = 0;
    while i < n {
        if killed.is_none() && start.elapsed() >= kill_at {
            let before = emu.elapsed();
            leader.kill9();
            killed = Some((before, emu.elapsed()));
        }
        let due = ((start.elapsed().as_secs_f64() * RATE) as usize + 1).min(n);
        while i < due {
            let chat = group_ids[i % GROUPS];
            let at = emu.elapsed();
            let m = emu.user_sends_text(
                chat,
                OWNER_BASE + i as u64,
                &format!("/repair failover {i}: the gate is stuck"),
                None,
            )?;
            sent.push((chat, m.id, at));
            i += 1;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let Some((kill_started, kill_done)) = killed else {
        bail!("the leader was never killed");
    };
    wait_answered(&emu, &standby, cursor, n).await?;
    let first = emu.read(|s| {
        s.calls()[cursor..]
            .iter()
            .filter(|c| is_send(c) && c.at > kill_done + IN_FLIGHT)
            .map(|c| c.at)
            .min()
    });
    let t = emu.read(|s| tally(s, cursor, &sent));
    let (resent, doubled) = emu.read(|s| repeats(s, cursor, kill_done + IN_FLIGHT));
    standby.stop().await?;
    db.release().await?;
    let Some(first) = first else {
        bail!("the new leader sent nothing");
    };
    Ok(FailoverRun {
        takeover: ms(first.saturating_sub(kill_started)),
        latencies: t.latencies,
        lost: t.lost,
        resent,
        doubled,
    })
}

/// Messages sent more than once since `cursor` (a confirmation by the report it answers,
/// a card by its ticket number): (those first sent by `kill`, the others).
fn repeats(s: &State, cursor: usize, kill: Duration) -> (usize, usize) {
    let mut first: HashMap<String, (Duration, usize)> = HashMap::new();
    for c in s.calls()[cursor..].iter().filter(|c| is_send(c)) {
        let text = c.param_str("text").unwrap_or("");
        let key = if c.chat_id == Some(STAFF_CHAT) && text.starts_with("🔧 #") {
            let n: String = text["🔧 #".len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            format!("card {n}")
        } else if let Some(to) = reply_to(c) {
            format!("{:?}/{to}", c.chat_id)
        } else {
            continue;
        };
        let e = first.entry(key).or_insert((c.at, 0));
        e.1 += 1;
    }
    let twice = first.values().filter(|(_, n)| *n > 1);
    let resent = twice.clone().filter(|(at, _)| *at <= kill).count();
    (resent, twice.count() - resent)
}
