//! Group commit for the small writes that every message causes: an update's "handled"
//! mark, a sent message's "sent" mark and ids.
//!
//! Writes go through one connection (see [`Store`]), and taking it costs more than such
//! a write: under load the hand-over of the connection between tasks took four times
//! as long as the statement. So callers that write at about the same time write
//! together: each adds its item and waits; one writer task, started by the first caller
//! that finds none running, writes everything added so far in one trip, round after
//! round until nothing is left, and tells every caller how its round went. A caller
//! returns only once its item is written, as if it had written alone.

use std::sync::{Arc, Mutex, MutexGuard};

use futures::future::BoxFuture;
use tokio::sync::oneshot;

use super::{Error, Result, Store};

/// Writes one round's items, in one trip to the database where it can.
pub(super) type WriteAll<T> = fn(Store, Vec<T>) -> BoxFuture<'static, Result<()>>;

/// Items waiting for a round; see the module docs.
pub(super) struct Batched<T> {
    pending: Mutex<Pending<T>>,
    write_all: WriteAll<T>,
}

struct Pending<T> {
    items: Vec<T>,
    waiters: Vec<oneshot::Sender<std::result::Result<(), String>>>,
    /// A writer task is running and takes every item added meanwhile.
    writing: bool,
}

impl<T: Send + 'static> Batched<T> {
    pub(super) fn new(write_all: WriteAll<T>) -> Arc<Self> {
        Arc::new(Self {
            pending: Mutex::new(Pending {
                items: Vec::new(),
                waiters: Vec::new(),
                writing: false,
            }),
            write_all,
        })
    }

    fn pending(&self) -> MutexGuard<'_, Pending<T>> {
        // Nothing panics while holding the lock; a poisoned one still holds valid lists.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds `item` and returns once it is written, or with the error of its round.
    pub(super) async fn write(self: &Arc<Self>, store: &Store, item: T) -> Result<()> {
        let (done, written) = oneshot::channel();
        let start = {
            let mut p = self.pending();
            p.items.push(item);
            p.waiters.push(done);
            !std::mem::replace(&mut p.writing, true)
        };
        if start {
            // A task of its own, so that a caller giving up (a handler cancelled at
            // shutdown) cannot strand the others' items.
            let this = Arc::clone(self);
            let store = store.clone();
            tokio::spawn(async move { this.run(store).await });
        }
        match written.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(why)) => Err(Error::Batch(why)),
            Err(_) => Err(Error::Batch("the writer stopped before the write".into())),
        }
    }

    async fn run(&self, store: Store) {
        loop {
            let (items, waiters) = {
                let mut p = self.pending();
                if p.items.is_empty() {
                    p.writing = false;
                    return;
                }
                (std::mem::take(&mut p.items), std::mem::take(&mut p.waiters))
            };
            let result = (self.write_all)(store.clone(), items)
                .await
                .map_err(|e| e.to_string());
            for waiter in waiters {
                // A caller that gave up no longer listens.
                let _ = waiter.send(result.clone());
            }
        }
    }
}
