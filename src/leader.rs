//! Which instance leads. Several Butlers may run on one PostgreSQL database: each hears
//! updates (webhook deliveries) and handles those it received, and one of them, the
//! leader, also runs what must run once: the outbox sender (so Telegram's limits and each
//! chat's order hold across instances), the scheduler and, on long polling, the poller.
//!
//! The leader is whoever holds PostgreSQL's advisory lock (`store::Candidate`, on a
//! connection of its own): no consensus of Butler's. A standby tries for it every
//! [`TRY_EVERY`]; when the leader's process ends, however it ends, PostgreSQL drops the
//! lock and a standby leads within about a second. A leader looks at its connection every
//! [`CHECK_EVERY`]; when it broke (or does not answer within [`CHECK_WAIT`]) the lock may
//! be someone else's already, so it steps down at once and becomes a standby.
//!
//! On SQLite there is one instance, and it leads ([`Leadership::sole`]).
//!
//! [`elect`] runs the election; [`Leadership`] tells the rest what this instance is, and
//! when that changes. Each time this instance takes the lead begins a new *term*.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::store::{Candidate, Store};

/// How often a standby tries for the lock.
pub const TRY_EVERY: Duration = Duration::from_secs(1);
/// How often the leader looks at the connection that holds the lock.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);
/// How long the leader waits for that connection to answer before stepping down.
pub const CHECK_WAIT: Duration = Duration::from_secs(2);

/// What this instance is, as it changes: the term while it leads, `None` as a standby.
#[derive(Clone, Debug)]
pub struct Leadership {
    role: watch::Receiver<Option<u64>>,
    instance: Arc<str>,
    sole: bool,
}

impl Leadership {
    /// The one instance on SQLite: it leads, in one term, for good.
    pub fn sole(instance: &str) -> Self {
        let (_, role) = watch::channel(Some(1));
        Self {
            role,
            instance: instance.into(),
            sole: true,
        }
    }

    /// The current term while this instance leads; `None` as a standby.
    pub fn term(&self) -> Option<u64> {
        *self.role.borrow()
    }

    pub fn leads(&self) -> bool {
        self.term().is_some()
    }

    /// Whether this is the one instance (SQLite): it leads, and nothing changes that.
    pub fn is_sole(&self) -> bool {
        self.sole
    }

    /// This instance's name in the logs (and in PostgreSQL's `pg_stat_activity`).
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Waits for the next change of role (never, for the sole instance).
    pub async fn changed(&mut self) {
        if self.role.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Waits until this instance leads; returns the term.
    pub async fn until_leading(&mut self) -> u64 {
        loop {
            if let Some(term) = *self.role.borrow_and_update() {
                return term;
            }
            self.changed().await;
        }
    }

    /// Waits until `term` is over: this instance no longer leads in it.
    pub async fn until_over(&mut self, term: u64) {
        while *self.role.borrow_and_update() == Some(term) {
            self.changed().await;
        }
    }
}

/// This process's name among instances: the host's name and the process id.
pub fn instance_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "butler".to_owned());
    format!("{host}-{}", std::process::id())
}

/// The election, running until [`Election::resign`].
pub struct Election {
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Election {
    /// Ends the election: a leader lets the lock go (another instance may lead at once),
    /// a standby stops trying. Call it once the leader's tasks have stopped.
    pub async fn resign(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// Starts the election for `store`'s database: on PostgreSQL a task that tries for the
/// lock, then holds it; on SQLite none (the sole instance leads).
pub fn elect(store: &Store, instance: &str) -> (Leadership, Election) {
    let (stop, stopping) = watch::channel(false);
    if !store.is_postgres() {
        let election = Election { stop, task: None };
        return (Leadership::sole(instance), election);
    }
    let (role_tx, role) = watch::channel(None);
    let instance: Arc<str> = instance.into();
    let task = tokio::spawn(run(store.clone(), instance.clone(), role_tx, stopping));
    let leadership = Leadership {
        role,
        instance,
        sole: false,
    };
    let task = Some(task);
    (leadership, Election { stop, task })
}

/// The election's loop: a standby tries for the lock every [`TRY_EVERY`] (connecting
/// again when its connection broke); a leader holds it until its connection breaks, then
/// is a standby again; until `stop`, when the lock is let go.
async fn run(
    store: Store,
    instance: Arc<str>,
    role: watch::Sender<Option<u64>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut term = 0;
    let mut candidate: Option<Candidate> = None;
    let mut said = false;
    while !*stop.borrow() {
        let leads = match candidate.as_mut() {
            None => match store.leader_candidate(&instance).await {
                Ok(c) => {
                    candidate = Some(c);
                    continue;
                }
                Err(e) => {
                    tracing::warn!(%instance, error = %e, "standby: cannot connect to try for the leader's lock");
                    false
                }
            },
            Some(c) => match c.try_lead().await {
                Ok(leads) => leads,
                Err(e) => {
                    tracing::warn!(%instance, error = %e, "standby: trying for the leader's lock failed");
                    candidate = None;
                    false
                }
            },
        };
        if let (true, Some(held)) = (leads, candidate.as_mut()) {
            term += 1;
            tracing::info!(%instance, term, "leader: this instance runs the outbox sender, the scheduler and the poller");
            role.send_replace(Some(term));
            let broke = hold(held, &mut stop).await;
            role.send_replace(None);
            if !broke {
                break;
            }
            tracing::warn!(%instance, "standby: the connection holding the leader's lock broke; the leader's tasks are stopped");
            // Dropped: the lock goes with the connection, if it still stood.
            candidate = None;
            said = true;
            continue;
        }
        if !said {
            tracing::info!(%instance, "standby: another instance leads; trying for the lock every second");
            said = true;
        }
        tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            _ = tokio::time::sleep(TRY_EVERY) => {}
        }
    }
    role.send_replace(None);
    if let Some(held) = candidate {
        held.resign().await;
    }
}

/// Holds the lead: looks at the connection every [`CHECK_EVERY`]. Returns `true` when it
/// broke (or stopped answering), `false` at the stop.
async fn hold(held: &mut Candidate, stop: &mut watch::Receiver<bool>) -> bool {
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return false,
            _ = tokio::time::sleep(CHECK_EVERY) => {}
        }
        match tokio::time::timeout(CHECK_WAIT, held.still_there()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the leader's connection broke");
                return true;
            }
            Err(_) => {
                tracing::warn!(wait = ?CHECK_WAIT, "the leader's connection does not answer");
                return true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing;

    #[tokio::test]
    async fn on_sqlite_the_one_instance_leads_for_good() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}", dir.path().join("b.db").display()))
            .await
            .unwrap();
        let (mut leadership, election) = elect(&store, "solo");
        assert!(leadership.is_sole());
        assert_eq!(leadership.until_leading().await, 1);
        let over = tokio::time::timeout(Duration::from_millis(200), leadership.until_over(1));
        assert!(over.await.is_err(), "the term never ends");
        election.resign().await;
    }

    #[tokio::test]
    async fn a_standby_leads_once_the_leader_resigns() {
        let Some(base) = testing::postgres_url() else {
            eprintln!(
                "SKIPPED: leadership needs PostgreSQL ({})",
                testing::POSTGRES_ENV
            );
            return;
        };
        let url = testing::new_schema(&base).await;
        let (a, b) = (
            Store::open(&url).await.unwrap(),
            Store::open(&url).await.unwrap(),
        );
        let (mut first, first_election) = elect(&a, "a");
        let term = tokio::time::timeout(Duration::from_secs(10), first.until_leading())
            .await
            .expect("the first leads");
        let (second, second_election) = elect(&b, "b");
        // Three of the standby's tries.
        tokio::time::sleep(3 * TRY_EVERY).await;
        assert!(first.leads() && !second.leads(), "one leader at a time");
        first_election.resign().await;
        first.until_over(term).await;
        let mut second = second;
        tokio::time::timeout(Duration::from_secs(10), second.until_leading())
            .await
            .expect("the standby takes over");
        assert!(!first.leads());
        second_election.resign().await;
    }
}
