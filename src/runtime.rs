//! The one bridge from the engine's synchronous code to async provider calls.
//!
//! The engine walks configuration on one thread and runs provider calls as futures. Inside
//! the multi-threaded runtime (the binary, the controller) the walk's thread is handed over
//! for the duration; without a runtime (unit tests of evaluation) the futures are polled
//! in place, which is enough for work that never touches the network.

/// Runs a future to completion from synchronous code.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| handle.block_on(future))
        }
        _ => futures::executor::block_on(future),
    }
}
