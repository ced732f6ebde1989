//! The `infra` binary: parse arguments, run, map the outcome to an exit code.

/// The evaluator and planner allocate many small values; mimalloc makes that markedly cheaper
/// than the system allocator (see docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    infra::cli::main()
}
