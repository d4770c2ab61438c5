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
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use butler_emulator::{EmulatorHandle, State, User};
use chrono::{Timelike, Utc};

use crate::common::{
    Process, butler_with_config, cast_config, emulator_with_cast, log_level, on_emulator, tail,
    temp_dir,
};
use crate::harness::{
    GROUP, IN_FLIGHT, MANAGER, STAFF_CHAT, STEP, distinct, free_address, last_calls,
    numbers_answering, tickets_named, webhook_table,
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

/// The [`BURST`] owners (user ids from 300), members of the owner group.
fn add_burst_owners(emu: &EmulatorHandle) {
    for i in 0..BURST {
        emu.add_user(User::new(300 + i, format!("Owner {i}")).language("en"));
        emu.add_member(GROUP, 300 + i).unwrap();
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
        Pair::start_each(emu, url, dir, [tweaks, tweaks]).await
    }

    /// `a` then `b` on the schema at `url`, each with its own `tweaks`.
    async fn start_each(
        emu: EmulatorHandle,
        url: String,
        dir: tempfile::TempDir,
        tweaks: [&str; 2],
    ) -> Pair {
        let [a, b] = [("a", tweaks[0]), ("b", tweaks[1])].map(|(name, tweaks)| {
            let path: PathBuf = dir.path().join(format!("{name}.toml"));
            std::fs::write(&path, cast_config(&url, tweaks)).expect("writing the config");
            (name, path)
        });
        let a = Instance::start(&emu, &a.1, a.0);
        a.until_logged("leader: this instance runs").await;
        let b = Instance::start(&emu, &b.1, b.0);
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
        let calls = last_calls(&self.emu, 15);
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

    /// The first message sent after `kill` (by the new leader: later than what the dead one
    /// had in flight), as time since the kill.
    fn failover(&self, kill: Duration) -> Duration {
        self.emu
            .calls()
            .iter()
            .find(|c| c.ok() && c.method == "sendMessage" && c.at > kill + IN_FLIGHT)
            .map(|c| c.at - kill)
            .expect("a message sent after the kill")
    }

    /// The burst: half the [`BURST`] owners report; once some are confirmed, `before`
    /// looks, the leader is killed and the other half report; until every report is
    /// confirmed and carded, each once (see [`Pair::each_report_once`]). The failover time
    /// and how many reports were confirmed twice.
    async fn burst_survives_a_kill(&mut self, before: impl FnOnce(&Pair)) -> (Duration, usize) {
        let send = |pair: &Pair, i: u64| {
            pair.emu
                .user_sends_text(GROUP, 300 + i, &format!("/repair burst report {i}"), None)
                .unwrap()
        };
        let mut reports: Vec<_> = (0..BURST / 2).map(|i| send(&*self, i)).collect();
        self.until("the first reports are confirmed", STEP, |s| {
            (tickets_named(s, GROUP, RECEIVED).len() >= 3).then_some(())
        })
        .await;
        before(self);
        let kill = self.kill_leader();
        // What the dead leader had already written to the socket still lands: let the
        // emulator (on this test's thread) take it in before looking.
        tokio::time::sleep(IN_FLIGHT).await;
        let before_kill = self.emu.read(|s| tickets_named(s, GROUP, RECEIVED));
        reports.extend((BURST / 2..BURST).map(|i| send(&*self, i)));
        self.until("every report confirmed", 3 * STEP, |s| {
            (distinct(tickets_named(s, GROUP, RECEIVED)).len() as u64 >= BURST).then_some(())
        })
        .await;
        self.until("every card", STEP, |s| {
            (distinct(tickets_named(s, STAFF_CHAT, "🔧 #")).len() as u64 >= BURST).then_some(())
        })
        .await;
        let failover = self.failover(kill);
        tokio::time::sleep(Duration::from_secs(1)).await;
        (
            failover,
            self.each_report_once(&reports, &before_kill).await,
        )
    }

    /// After a kill: each of `reports` confirmed with one ticket number, once, or twice
    /// only when the first confirmation was sent before the kill (`before_kill`); one
    /// ticket a report, each carded; every update stored once and handled. The count of
    /// reports confirmed twice.
    async fn each_report_once(
        &self,
        reports: &[butler_emulator::Message],
        before_kill: &[(Option<i32>, i64)],
    ) -> usize {
        let confirmations = self.emu.read(|s| tickets_named(s, GROUP, RECEIVED));
        let mut tickets = BTreeSet::new();
        let mut twice = 0;
        for report in reports {
            let named = numbers_answering(&confirmations, report.id);
            let context = || format!("report {}: {named:?}\n{}", report.id, self.context());
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
        assert_eq!(tickets.len(), reports.len(), "one ticket a report");
        let cards = distinct(self.emu.read(|s| tickets_named(s, STAFF_CHAT, "🔧 #")));
        let carded: BTreeSet<i64> = cards.iter().map(|(_, n)| *n).collect();
        assert!(carded.is_superset(&tickets), "{}", self.context());
        assert_eq!(
            self.counts("SELECT COUNT(*), COUNT(DISTINCT report_message_id) FROM tickets")
                .await,
            (reports.len() as i64, reports.len() as i64)
        );
        let updates = self.emu.read(|s| s.next_update_id()) as i64 - 1000;
        assert_eq!(
            self.counts("SELECT COUNT(*), COUNT(handled_at) FROM inbox")
                .await,
            (updates, updates),
            "each update stored once and handled"
        );
        twice
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
    add_burst_owners(&emu);
    let mut pair = Pair::start(emu, url, temp_dir(), "[delivery]\nrate_limits = false").await;
    pair.register(GROUP, "Sunrise Garden").await;
    let (failover, twice) = pair
        .burst_survives_a_kill(|pair| {
            assert!(
                !pair.b.log().contains("leader: polling"),
                "only the leader polls\n{}",
                pair.context()
            );
        })
        .await;
    assert!(pair.emu.pending_updates().is_empty());
    assert!(pair.b.log().contains("leader: polling"), "b polls now");
    eprintln!(
        "failover (kill -9 of the leader → first message from the new leader): {} ms; \
         reports confirmed exactly once: {} of {BURST}, twice (sent as the kill came): {twice}",
        failover.as_millis(),
        BURST as usize - twice
    );
}

/// A stand-in for the reverse proxy in front of two instances: each connection goes to
/// the next instance in turn, or to the other one when that one refuses it.
struct Proxy {
    addr: std::net::SocketAddr,
    /// Connections each instance took, `a`'s then `b`'s.
    served: Arc<[AtomicUsize; 2]>,
}

impl Proxy {
    async fn start(to: [std::net::SocketAddr; 2]) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the proxy's port");
        let addr = listener.local_addr().expect("its address");
        let served = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
        let counts = Arc::clone(&served);
        tokio::spawn(async move {
            let mut turn = 0;
            while let Ok((mut inbound, _)) = listener.accept().await {
                turn += 1;
                let counts = Arc::clone(&counts);
                tokio::spawn(async move {
                    for i in [turn % 2, 1 - turn % 2] {
                        if let Ok(mut outbound) = tokio::net::TcpStream::connect(to[i]).await {
                            counts[i].fetch_add(1, Ordering::Relaxed);
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                            return;
                        }
                    }
                });
            }
        });
        Proxy { addr, served }
    }

    fn served(&self) -> [usize; 2] {
        [0, 1].map(|i| self.served[i].load(Ordering::Relaxed))
    }
}

/// Item 3 of issue 17 on webhooks: both instances take deliveries (a proxy sends them to
/// each in turn), a delivery repeated to the other instance is handled once, and after
/// the leader's kill -9 the standby takes every delivery and leads.
#[tokio::test]
async fn two_instances_on_webhooks_behind_one_proxy_each_take_deliveries_and_survive_kill_9() {
    let Some(base) = postgres() else { return };
    let url = butler::store::testing::new_schema(&base).await;
    let emu = emulator_with_cast().await;
    add_burst_owners(&emu);
    let listen = [free_address(), free_address()];
    let proxy = Proxy::start(listen).await;
    let public = format!("http://{}/telegram", proxy.addr);
    let tweaks = listen.map(|at| {
        format!(
            "[delivery]\nrate_limits = false\n[console]\nlisten = \"\"\n{}",
            webhook_table(&public, at)
        )
    });
    let mut pair = Pair::start_each(emu, url, temp_dir(), [&tweaks[0], &tweaks[1]]).await;
    pair.until("the webhook is set", STEP, |s| s.webhook().cloned())
        .await;
    pair.register(GROUP, "Sunrise Garden").await;
    // Three answers lost: Telegram delivers those updates again, to the other instance.
    pair.emu.lose_webhook_answers(3);
    let (failover, twice) = pair
        .burst_survives_a_kill(|pair| {
            let [a, b] = proxy.served();
            assert!(
                a > 0 && b > 0,
                "both take deliveries: {a} and {b}\n{}",
                pair.context()
            );
        })
        .await;
    assert!(pair.b.log().contains("leader: this instance runs"));
    let repeated = pair.emu.read(|s| {
        let ids: Vec<i32> = s.deliveries().iter().map(|d| d.update_id).collect();
        ids.len() - ids.iter().collect::<BTreeSet<_>>().len()
    });
    assert!(
        repeated >= 3,
        "the lost answers' updates were delivered again"
    );
    // Each went to the other instance, which stored nothing new and handled nothing.
    let told = [&pair.a, &pair.b].map(|i| i.log().matches("a repeated delivery").count());
    assert!(told[0] + told[1] >= 3, "{told:?}\n{}", pair.context());
    eprintln!(
        "webhooks, two instances: deliveries taken by a / b {:?}, {repeated} repeated; \
         failover {} ms; reports confirmed exactly once: {} of {BURST}, twice: {twice}",
        proxy.served(),
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
    std::fs::write(&setup, cast_config(&url, "[delivery]\nrate_limits = false")).unwrap();
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
            times.len() == 1 || (times.len() == 2 && times[0] <= kill + IN_FLIGHT),
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
