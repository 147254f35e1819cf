//! Score functions `s(x) = ∇ log ρ(x)`. Every score works on flattened states: a batch is an
//! `[B, D]` array whose rows are states (for an N×N grid, D = N², row-major with x = axis 0).
pub mod exact;
pub mod gaussian;

pub use crate::core::score::Score;

pub mod kgmm;
pub mod kmeans;
pub mod learned;
