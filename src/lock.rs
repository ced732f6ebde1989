//! Holding a state lock for a run: take it (waiting up to a timeout), keep it alive by
//! heartbeat at a third of the lease, release it at the end. Used by the CLI's sessions and by
//! the controller's reconciles.

use infra_state::{Backend, Lease, LockRequest, StateError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The lease length: `INFRA_LOCK_TTL` seconds, or 60.
pub fn lock_ttl() -> Duration {
    std::env::var("INFRA_LOCK_TTL")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .map(Duration::from_secs_f64)
        .unwrap_or(Duration::from_secs(60))
}

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
        let ttl = lock_ttl();
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
                            Err(error) => {
                                tracing::warn!(%error, "the state lock could not be renewed");
                                eprintln!("error: {error}");
                                break;
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
