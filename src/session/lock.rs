//! Holding a state lock for a run: take it (waiting up to a timeout), keep it alive by
//! heartbeat at a third of the lease, release it at the end. Used by the CLI's sessions and by
//! the controller's reconciles.

use infra_state::{Backend, Lease, LockRequest, StateError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The lease length: `INFRA_LOCK_TTL` (seconds, or a duration such as `90s`), or 60 seconds.
///
/// # Errors
///
/// A value that is not a duration, or is absurd.
pub fn lock_ttl() -> Result<Duration, StateError> {
    match std::env::var("INFRA_LOCK_TTL") {
        Err(_) => Ok(Duration::from_secs(60)),
        Ok(text) => infra_provider::duration::parse(&text)
            .map(|ttl| ttl.max(Duration::from_millis(100)))
            .map_err(|reason| StateError::Invalid { what: "INFRA_LOCK_TTL".into(), reason }),
    }
}

/// How soon a failed renewal is tried again.
const RETRY: Duration = Duration::from_millis(500);

/// A lock held by this run, renewed in the background until released or dropped.
pub struct HeldLock {
    backend: Arc<dyn Backend>,
    lease: Arc<Mutex<Option<Lease>>>,
    stop: Arc<AtomicBool>,
    heartbeat: Option<std::thread::JoinHandle<()>>,
}

impl HeldLock {
    /// Takes the lock for `operation`, retrying while someone else holds it until `timeout`.
    ///
    /// # Errors
    ///
    /// [`StateError::Locked`] (with the holder) when the timeout passed; storage errors.
    pub fn acquire(backend: Arc<dyn Backend>, operation: &str, timeout: Duration) -> Result<HeldLock, StateError> {
        let ttl = lock_ttl()?;
        let request = LockRequest::for_this_process(operation, ttl);
        let deadline = Instant::now() + timeout;
        let lease = loop {
            match backend.lock(&request) {
                Ok(lease) => break lease,
                Err(StateError::Locked(_)) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(error) => return Err(error),
            }
        };
        let lease = Arc::new(Mutex::new(Some(lease)));
        let stop = Arc::new(AtomicBool::new(false));
        let heartbeat = {
            let (backend, lease, stop) = (backend.clone(), lease.clone(), stop.clone());
            std::thread::spawn(move || {
                let interval = ttl / 3;
                let mut waited = Duration::ZERO;
                while !stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(50));
                    waited += Duration::from_millis(50);
                    if waited < interval {
                        continue;
                    }
                    waited = Duration::ZERO;
                    let current = lease.lock().unwrap_or_else(|p| p.into_inner()).clone();
                    if let Some(current) = current {
                        match backend.renew(&current, ttl) {
                            Ok(renewed) => *lease.lock().unwrap_or_else(|p| p.into_inner()) = Some(renewed),
                            // Taken over: renewing again cannot help, and writes are fenced.
                            Err(error @ StateError::LostLock { .. }) => {
                                tracing::warn!(%error, "the state lock was lost");
                                eprintln!("error: {error}");
                                break;
                            }
                            // A storage hiccup (network, a busy database): try again soon; the
                            // lease is still ours until it expires.
                            Err(error) => {
                                tracing::warn!(%error, "the state lock could not be renewed; retrying");
                                waited = interval.saturating_sub(RETRY);
                            }
                        }
                    }
                }
            })
        };
        Ok(HeldLock { backend, lease, stop, heartbeat: Some(heartbeat) })
    }

    /// The current lease (renewals change its expiry).
    pub fn lease(&self) -> Option<Lease> {
        self.lease.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Stops the heartbeat and releases the lock.
    pub fn release(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(handle) = self.heartbeat.take() {
            let _ = handle.join();
        }
        if let Some(lease) = self.lease.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = self.backend.unlock(&lease);
        }
    }
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        self.release();
    }
}
