//! One run at a time: a fresh run asked for while one is under way waits for that run's
//! result instead of starting another (so 200 requests make one observation per host).

use std::future::Future;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use tokio::sync::Mutex;

type Running<T> = Shared<BoxFuture<'static, Arc<T>>>;

struct State<T> {
    last: Option<Arc<T>>,
    running: Option<Running<T>>,
}

/// The last result of a kind of run, and the run under way if any.
pub struct Flight<T> {
    state: Mutex<State<T>>,
}

impl<T: Send + Sync + 'static> Default for Flight<T> {
    fn default() -> Self {
        Flight {
            state: Mutex::new(State {
                last: None,
                running: None,
            }),
        }
    }
}

impl<T: Send + Sync + 'static> Flight<T> {
    /// The last result, if a run has finished.
    pub async fn last(&self) -> Option<Arc<T>> {
        self.state.lock().await.last.clone()
    }

    /// A fresh result: joins the run under way, or starts one with `start` (which must drive
    /// itself, e.g. on its own thread, so that it finishes even if every asker goes away).
    pub async fn fresh<F>(&self, start: impl FnOnce() -> F) -> Arc<T>
    where
        F: Future<Output = Arc<T>> + Send + 'static,
    {
        let run = {
            let mut s = self.state.lock().await;
            match &s.running {
                Some(r) => r.clone(),
                None => {
                    let r = start().boxed().shared();
                    s.running = Some(r.clone());
                    r
                }
            }
        };
        let out = run.clone().await;
        let mut s = self.state.lock().await;
        if s.running.as_ref().is_some_and(|r| r.peek().is_some()) {
            s.running = None;
            s.last = Some(out.clone());
        }
        out
    }

    /// The last result, or a fresh one when there is none yet.
    pub async fn last_or_fresh<F>(&self, start: impl FnOnce() -> F) -> Arc<T>
    where
        F: Future<Output = Arc<T>> + Send + 'static,
    {
        match self.last().await {
            Some(l) => l,
            None => self.fresh(start).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_askers_share_one_run() {
        let flight = Arc::new(Flight::<usize>::default());
        let started = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (flight, started) = (flight.clone(), started.clone());
            tasks.push(tokio::spawn(async move {
                flight
                    .fresh(|| {
                        let n = started.fetch_add(1, Ordering::SeqCst) + 1;
                        async move {
                            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                            Arc::new(n)
                        }
                    })
                    .await
            }));
        }
        for t in tasks {
            assert_eq!(*t.await.unwrap(), 1);
        }
        assert_eq!(started.load(Ordering::SeqCst), 1);
        // Once finished, a fresh ask starts a second run; `last` keeps the newest.
        let second = flight
            .fresh(|| {
                started.fetch_add(1, Ordering::SeqCst);
                async { Arc::new(2) }
            })
            .await;
        assert_eq!(*second, 2);
        assert_eq!(*flight.last().await.unwrap(), 2);
    }
}
