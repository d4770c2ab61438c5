//! The sender's wake-ups between instances on PostgreSQL (see `crate::leader`): one
//! instance, the leader, sends; a commit on another wakes it through the database.
//! A standby passes each of its wakes on ([`Outbox::relay_wakes`]); the leader hears
//! them ([`Outbox::hear_wakes`]). A wake-up lost on the way costs at most the worker's
//! look a second later.

use std::time::Duration;

use super::Outbox;

/// The pause after the database failed to take or give a wake-up.
const AGAIN: Duration = Duration::from_secs(1);

impl Outbox {
    /// In a standby, where no worker runs: passes each wake (a commit that enqueued) on
    /// to the leader's worker, as a `NOTIFY`. Wakes that come while one is passed on are
    /// passed on together. Runs until dropped.
    pub async fn relay_wakes(&self) {
        loop {
            self.wake.notified().await;
            if let Err(e) = self.store.outbox_announce().await {
                tracing::warn!(error = %e, "waking the leader's outbox sender failed");
                tokio::time::sleep(AGAIN).await;
            }
        }
    }

    /// In the leader: wakes the worker on each commit another instance announces. Runs
    /// until dropped, listening again after a failure.
    pub async fn hear_wakes(&self) {
        loop {
            match self.store.outbox_wakeups().await {
                Ok(mut wakeups) => loop {
                    if let Err(e) = wakeups.next().await {
                        tracing::warn!(error = %e, "listening for other instances' messages failed");
                        break;
                    }
                    self.notify();
                },
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for other instances' messages")
                }
            }
            tokio::time::sleep(AGAIN).await;
        }
    }
}
