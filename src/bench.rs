//! `fdtlab bench`: speed figures, one `name: value unit` line each.

/// Runs the benchmarks and prints one line per figure (filled in by the numerics).
pub fn run() -> crate::Result<()> {
    Ok(())
}
