//! Group commit for the live bot: the commits that wait while one is being written go
//! together in the next transaction (each in its own savepoint, see
//! `CommitStore::commit_group`). Nothing waits on purpose: a lone event commits at once, and
//! under load each transaction takes every commit queued meanwhile. A caller hears its outcome
//! only once the transaction holding its commit has committed.

use crate::store::{Commit, CommitOutcome, DynStore, Result};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// At most this many commits share a transaction, so one transaction stays short.
const GROUP_LIMIT: usize = 64;

type Request = (Commit, oneshot::Sender<Result<CommitOutcome>>);

#[derive(Debug, Default)]
pub struct GroupStats {
    /// Transactions written.
    pub groups: AtomicU64,
    /// Commits they held.
    pub commits: AtomicU64,
}

pub(super) struct GroupCommitter {
    queue: mpsc::UnboundedSender<Request>,
    pub(super) stats: Arc<GroupStats>,
}

impl GroupCommitter {
    pub(super) fn start(store: DynStore) -> GroupCommitter {
        let (queue, mut rx) = mpsc::unbounded_channel::<Request>();
        let stats = Arc::new(GroupStats::default());
        let counted = Arc::clone(&stats);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while batch.len() < GROUP_LIMIT {
                    match rx.try_recv() {
                        Ok(more) => batch.push(more),
                        Err(_) => break,
                    }
                }
                let (commits, replies): (Vec<Commit>, Vec<_>) = batch.into_iter().unzip();
                counted.groups.fetch_add(1, Ordering::Relaxed);
                counted
                    .commits
                    .fetch_add(commits.len() as u64, Ordering::Relaxed);
                match store.commit_group(&commits).await {
                    Ok(outcomes) => {
                        for (reply, outcome) in replies.into_iter().zip(outcomes) {
                            let _ = reply.send(Ok(outcome));
                        }
                    }
                    // Nothing was written: each commit gets its own answer, error included,
                    // so that one bad commit does not fail the others.
                    Err(_) => {
                        for (c, reply) in commits.iter().zip(replies) {
                            let _ = reply.send(store.commit(c).await);
                        }
                    }
                }
            }
        });
        GroupCommitter { queue, stats }
    }

    /// Queues `c`; `None` if the committer has stopped (the caller commits alone).
    pub(super) async fn commit(&self, c: &Commit) -> Option<Result<CommitOutcome>> {
        let (reply, answer) = oneshot::channel();
        self.queue.send((c.clone(), reply)).ok()?;
        answer.await.ok()
    }
}
