//! Two Butlers on one PostgreSQL schema (issue 17): one leads (it polls, sends and runs
//! the scheduler), the other stands by. `kill -9` the leader during a burst of reports,
//! and again during the morning greeting: the standby takes over, nothing is lost.
//!
//! Exactly once holds for what Butler decides (one ticket a report, one greeting run a
//! morning). What Telegram is sent is at least once: a message Telegram accepted just
//! before the kill, whose "sent" mark the dead leader had not yet written, goes out again
//! from the new leader (nobody can know Telegram took it). So each message may show
//! twice only if it was first sent before the kill; never three times, never lost.
//!
//! The failover time (the kill → the first message the new leader sends) is printed.
//!
//! Needs PostgreSQL (`BUTLER_TEST_POSTGRES`): SKIPPED without it, a failure under CI.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use butler_emulator::{EmulatorHandle, State, User};
use chrono::{Timelike, Utc};

use crate::common::{
    Process, butler_with_config, emulator_with_cast, log_level, on_emulator, tail, temp_dir,
};
use crate::harness::{
    GROUP, MANAGER, STAFF_CHAT, STEP, distinct, numbers_answering, tickets_named,
};

const RECEIVED: &str = "Received: ticket #";
const GREETING: &str = "Good morning, ";
/// Owners who report once each in the burst (user ids from 300).
const BURST: u64 = 24;
/// Owner groups greeted in the morning (chat ids -1_000_001 …).
const GROUPS: i64 = 100;

/// The PostgreSQL database to test on, or `None` (and SKIPPED said) without one.
fn postgres() -> Option<String> {
    let url = butler::store::testing::postgres_url();
    if url.is_none() {
        eprintln!(
            "SKIPPED: two instances need PostgreSQL: set {}",
            butler::store::testing::POSTGRES_ENV
        );
    }
    url
}

/// butler.toml for the cast on the PostgreSQL schema at `url`, with `tweaks`.
fn config(url: &str, tweaks: &str) -> String {
    format!(
        "database_url = \"{url}\"\nstaff_chat_id = {STAFF_CHAT}\nmanagers = [{MANAGER}]\ndefault_locale = \"en\"\ntimezone = \"Asia/Shanghai\"\n{tweaks}\n"
    )
}

/// One `butler` process of several on one database, logging to `<name>.log`.
struct Instance {
    name: &'static str,
    process: Process,
}

impl Instance {
    fn start(emu: &EmulatorHandle, config: &Path, name: &'static str) -> Instance {
        let dir = config.parent().expect("the config has a directory");
        let mut command = butler_with_config(config, dir);
        on_emulator(&mut command, &emu.api_url());
        log_level(&mut command, "BUTLER_E2E_LOG", "info");
        let process = Process::spawn(&mut command, &dir.join(format!("{name}.log")), false);
        Instance { name, process }
    }

    fn log(&self) -> String {
        self.process.log()
    }

    /// Waits (at most [`STEP`]) until the log says `what`.
    async fn until_logged(&self, what: &str) {
        let deadline = tokio::time::Instant::now() + STEP;
        while !self.log().contains(what) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "waited {STEP:?} for instance {} to log {what:?}:\n{}",
                self.name,
                self.process.log_tail(40)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Two instances on one new schema: `a` started first (it leads), then `b` (a standby).
struct Pair {
    emu: EmulatorHandle,
    a: Instance,
    b: Instance,
    url: String,
    _dir: tempfile::TempDir,
}

impl Pair {
    /// `a` then `b` on the schema at `url`, both with `tweaks`.
    async fn start(emu: EmulatorHandle, url: String, dir: tempfile::TempDir, tweaks: &str) -> Pair {
        let path: PathBuf = dir.path().join("butler.toml");
        std::fs::write(&path, config(&url, tweaks)).expect("writing butler.toml");
        let a = Instance::start(&emu, &path, "a");
        a.until_logged("leader: this instance runs").await;
        let b = Instance::start(&emu, &path, "b");
        b.until_logged("standby: another instance leads").await;
        Pair {
            emu,
            a,
            b,
            url,
            _dir: dir,
        }
    }

    async fn until<T>(
        &self,
        what: &str,
        within: Duration,
        find: impl FnMut(&State) -> Option<T>,
    ) -> T {
        match self.emu.wait_find(find, within).await {
            Ok(found) => found,
            Err(_) => panic!("waited {within:?} for: {what}\n{}", self.context()),
        }
    }

    fn context(&self) -> String {
        let calls = self.emu.calls();
        let calls = calls[calls.len().saturating_sub(15)..]
            .iter()
            .map(|c| {
                format!(
                    "  {:>7.2}s {} {:?} → {}",
                    c.at.as_secs_f64(),
                    c.method,
                    c.chat_id,
                    c.status
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        format!(
            "last calls:\n{calls}\ninstance a (tail):\n{}\ninstance b (tail):\n{}",
            tail(&self.a.log(), 25),
            tail(&self.b.log(), 25)
        )
    }

    /// The manager registers `chat` as an owner group named `name`.
    async fn register(&self, chat: i64, name: &str) {
        let m = self
            .emu
            .user_sends_text(chat, MANAGER, &format!("/register {name}"), None)
            .unwrap();
        self.until("the group is registered", STEP, |s| {
            s.replies_to(chat, m.id)
                .into_iter()
                .find(|r| r.is_from_bot() && r.body().starts_with("This group is now registered"))
        })
        .await;
    }

    /// The kill: `a`, the leader, `kill -9`; returns the emulator's time of it.
    fn kill_leader(&mut self) -> Duration {
        let at = self.emu.elapsed();
        self.a.process.kill9();
        at
    }

    /// The first message sent after `kill` (by the new leader), as time since the kill.
    fn failover(&self, kill: Duration) -> Duration {
        self.emu
            .calls()
            .iter()
            .find(|c| c.ok() && c.method == "sendMessage" && c.at > kill)
            .map(|c| c.at - kill)
            .expect("a message sent after the kill")
    }

    /// One row of counts from the schema, by `sql` (test-only reads, no store method).
    async fn counts(&self, sql: &str) -> (i64, i64) {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.url)
            .await
            .expect("connecting to the schema");
        sqlx::query_as(sql)
            .fetch_one(&mut conn)
            .await
            .expect("counting")
    }
}

#[tokio::test]
async fn two_instances_on_postgres_a_burst_of_reports_survives_kill_9_of_the_leader() {
    let Some(base) = postgres() else { return };
    let url = butler::store::testing::new_schema(&base).await;
    let emu = emulator_with_cast().await;
    for i in 0..BURST {
        emu.add_user(User::new(300 + i, format!("Owner {i}")).language("en"));
        emu.add_member(GROUP, 300 + i).unwrap();
    }
    let mut pair = Pair::start(emu, url, temp_dir(), "[delivery]\nrate_limits = false").await;
    pair.register(GROUP, "Sunrise Garden").await;
    let send = |pair: &Pair, i: u64| {
        pair.emu
            .user_sends_text(GROUP, 300 + i, &format!("/repair burst report {i}"), None)
            .unwrap()
    };
    let mut reports: Vec<_> = (0..BURST / 2).map(|i| send(&pair, i)).collect();
    pair.until("the first reports are confirmed", STEP, |s| {
        (tickets_named(s, GROUP, RECEIVED).len() >= 3).then_some(())
    })
    .await;
    assert!(
        !pair.b.log().contains("leader: polling"),
        "only the leader polls\n{}",
        pair.context()
    );
    let kill = pair.kill_leader();
    let before_kill = pair.emu.read(|s| tickets_named(s, GROUP, RECEIVED));
    reports.extend((BURST / 2..BURST).map(|i| send(&pair, i)));

    pair.until("every report confirmed", 3 * STEP, |s| {
        (distinct(tickets_named(s, GROUP, RECEIVED)).len() as u64 >= BURST).then_some(())
    })
    .await;
    pair.until("every card", STEP, |s| {
        (distinct(tickets_named(s, STAFF_CHAT, "🔧 #")).len() as u64 >= BURST).then_some(())
    })
    .await;
    let failover = pair.failover(kill);
    tokio::time::sleep(Duration::from_secs(1)).await;

    let confirmations = pair.emu.read(|s| tickets_named(s, GROUP, RECEIVED));
    let mut tickets = BTreeSet::new();
    let mut twice = 0;
    for report in &reports {
        let named = numbers_answering(&confirmations, report.id);
        let context = || format!("report {}: {named:?}\n{}", report.id, pair.context());
        assert!(!named.is_empty(), "lost: {}", context());
        assert!(
            named.iter().all(|n| *n == named[0]),
            "two tickets: {}",
            context()
        );
        let in_flight = before_kill.iter().any(|(to, _)| *to == Some(report.id));
        assert!(
            named.len() == 1 || (named.len() == 2 && in_flight),
            "confirmed {} times: {}",
            named.len(),
            context()
        );
        twice += usize::from(named.len() == 2);
        tickets.insert(named[0]);
    }
    assert_eq!(tickets.len() as u64, BURST, "one ticket a report");
    let cards = distinct(pair.emu.read(|s| tickets_named(s, STAFF_CHAT, "🔧 #")));
    let carded: BTreeSet<i64> = cards.iter().map(|(_, n)| *n).collect();
    assert!(carded.is_superset(&tickets), "{}", pair.context());
    assert_eq!(
        pair.counts("SELECT COUNT(*), COUNT(DISTINCT report_message_id) FROM tickets")
            .await,
        (BURST as i64, BURST as i64)
    );
    let updates = pair.emu.read(|s| s.next_update_id()) as i64 - 1000;
    assert_eq!(
        pair.counts("SELECT COUNT(*), COUNT(handled_at) FROM inbox")
            .await,
        (updates, updates),
        "each update stored once and handled"
    );
    assert!(pair.emu.pending_updates().is_empty());
    assert!(pair.b.log().contains("leader: polling"), "b polls now");
    eprintln!(
        "failover (kill -9 of the leader → first message from the new leader): {} ms; \
         reports confirmed exactly once: {} of {BURST}, twice (sent as the kill came): {twice}",
        failover.as_millis(),
        BURST as usize - twice
    );
}

/// The greeting's sends: (the group, when), in order.
fn greetings(s: &State) -> Vec<(i64, Duration)> {
    s.calls()
        .iter()
        .filter(|c| {
            c.ok()
                && c.method == "sendMessage"
                && c.params["text"]
                    .as_str()
                    .is_some_and(|t| t.starts_with(GREETING))
        })
        .filter_map(|c| Some((c.chat_id?, c.at)))
        .collect()
}

#[tokio::test]
async fn two_instances_on_postgres_kill_9_of_the_leader_during_the_greeting_greets_each_group_once()
{
    let Some(base) = postgres() else { return };
    let url = butler::store::testing::new_schema(&base).await;
    let emu = emulator_with_cast().await;
    let groups: Vec<i64> = (1..=GROUPS).map(|g| -1_000_000 - g).collect();
    for (g, chat) in groups.iter().enumerate() {
        emu.create_group(*chat, &format!("Garden {g}"), &[MANAGER])
            .unwrap();
    }
    // The groups registered first, by one instance that then stops.
    let dir = temp_dir();
    let setup = dir.path().join("setup.toml");
    std::fs::write(&setup, config(&url, "[delivery]\nrate_limits = false")).unwrap();
    let mut registrar = Instance::start(&emu, &setup, "setup");
    registrar.until_logged("leader: polling").await;
    let mut asked = Vec::new();
    for (g, chat) in groups.iter().enumerate() {
        let m = emu
            .user_sends_text(*chat, MANAGER, &format!("/register Garden {g}"), None)
            .unwrap();
        asked.push((*chat, m.id));
    }
    emu.wait_find(
        |s| {
            asked
                .iter()
                .all(|(chat, id)| {
                    s.replies_to(*chat, *id)
                        .iter()
                        .any(|r| r.body().starts_with("This group is now registered"))
                })
                .then_some(())
        },
        3 * STEP,
    )
    .await
    .unwrap_or_else(|_| {
        panic!(
            "the groups are registered\n{}",
            registrar.process.log_tail(30)
        )
    });
    registrar.process.stop().await;

    // The greeting's time, 20 s ahead in the cast's zone (UTC+8, no DST), with Telegram's
    // pace kept: 100 groups take about 3.5 s.
    let fire = Utc::now() + chrono::Duration::hours(8) + chrono::Duration::seconds(20);
    let cron = format!("{} {} {} * * *", fire.second(), fire.minute(), fire.hour());
    let tweaks = format!("[schedule]\nmorning_greeting = \"{cron}\"\n");
    let mut pair = Pair::start(emu, url, dir, &tweaks).await;
    pair.until("the greeting is under way", 3 * STEP, |s| {
        (greetings(s).len() >= 15).then_some(())
    })
    .await;
    let kill = pair.kill_leader();
    let before_kill = pair.emu.read(greetings).len();
    assert!(
        before_kill < GROUPS as usize,
        "the kill came during the greeting, not after it"
    );
    pair.until("every group greeted", 3 * STEP, |s| {
        let greeted: BTreeSet<i64> = greetings(s).iter().map(|(chat, _)| *chat).collect();
        (greeted.len() as i64 >= GROUPS).then_some(())
    })
    .await;
    let failover = pair.failover(kill);
    tokio::time::sleep(Duration::from_secs(2)).await;

    let mut per_group: BTreeMap<i64, Vec<Duration>> = BTreeMap::new();
    for (chat, at) in pair.emu.read(greetings) {
        per_group.entry(chat).or_default().push(at);
    }
    assert_eq!(
        per_group.keys().copied().collect::<Vec<_>>(),
        groups.iter().rev().copied().collect::<Vec<_>>(),
        "every group greeted, and only the groups"
    );
    let mut twice = 0;
    for (chat, times) in &per_group {
        assert!(
            times.len() == 1 || (times.len() == 2 && times[0] <= kill),
            "group {chat} greeted {} times ({times:?}; the kill at {kill:?})\n{}",
            times.len(),
            pair.context()
        );
        twice += usize::from(times.len() == 2);
    }
    assert!(pair.b.log().contains("leader: this instance runs"));
    eprintln!(
        "failover during the greeting (kill -9 → first message from the new leader): {} ms; \
         {before_kill} greetings sent before the kill; groups greeted exactly once: {} of \
         {GROUPS}, twice (sent as the kill came): {twice}",
        failover.as_millis(),
        GROUPS as usize - twice
    );
}
