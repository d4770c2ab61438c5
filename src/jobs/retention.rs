//! Retention, every ten minutes: handled updates older than `retention.inbox_days` and
//! sent or failed messages older than `retention.outbox_days` are deleted, so that the
//! database does not grow with traffic alone (tickets, events and ratings are kept).
//!
//! Rows go in small batches, each its own short write: other writers (a report, a
//! "sent" mark) wait for at most one batch, never for the whole prune. A run stops after
//! [`MAX_BATCHES`] a table; a larger backlog (the first run on an old database) is worked
//! off over the next runs.

use chrono::{DateTime, Duration, Utc};

use crate::app::App;
use crate::store;

/// Rows deleted per write.
pub const BATCH: i64 = 500;
/// Batches per table per run: up to 50,000 rows a table every ten minutes.
pub const MAX_BATCHES: usize = 100;

/// What one run deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub inbox: u64,
    pub outbox: u64,
}

/// Prunes what is older than the configured ages at `now`.
pub async fn sweep(app: &App, now: DateTime<Utc>) -> Result<Pruned, store::Error> {
    let keep = app.settings.retention;
    let inbox_before = now - Duration::days(keep.inbox_days.into());
    let outbox_before = now - Duration::days(keep.outbox_days.into());
    let pruned = Pruned {
        inbox: in_batches(|| app.store.prune_inbox(inbox_before, BATCH)).await?,
        outbox: in_batches(|| app.store.prune_outbox(outbox_before, BATCH)).await?,
    };
    if pruned != Pruned::default() {
        tracing::info!(
            inbox = pruned.inbox,
            outbox = pruned.outbox,
            "pruned old updates and sent messages"
        );
    }
    Ok(pruned)
}

/// Runs `batch` until it deletes less than a full batch, or [`MAX_BATCHES`] times.
async fn in_batches<F, Fut>(mut batch: F) -> Result<u64, store::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<u64, store::Error>>,
{
    let mut total = 0;
    for _ in 0..MAX_BATCHES {
        let deleted = batch().await?;
        total += deleted;
        if deleted < BATCH as u64 {
            break;
        }
        // Let the writers waiting meanwhile have the write connection first.
        tokio::task::yield_now().await;
    }
    Ok(total)
}
