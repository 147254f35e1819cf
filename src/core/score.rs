//! The [`Score`] trait: `s(x) = ∇ log ρ(x)` on flattened states. It lives on the ground floor
//! because systems implement it (their exact scores) and every estimator consumes it; the
//! implementations (Gaussian, KGMM, learned) live in [`crate::score`].
use crate::Result;
use ndarray::{ArrayView2, ArrayViewMut2};

/// A score function usable by every estimator and diagnostic.
pub trait Score: Send + Sync {
    /// Dimension D of one (flattened) state.
    fn dim(&self) -> usize;
    /// Shape of one state: `[D]` by default, `[N, N]` for scores on an N×N grid, the training
    /// data's state shape for learned scores. Lets callers refuse inputs whose size is a
    /// multiple of D but whose shape is not a batch of states.
    fn state_shape(&self) -> Vec<usize> {
        vec![self.dim()]
    }
    /// Short name for legends and tables, e.g. "exact score".
    fn name(&self) -> String;
    /// Writes `s(x_b)` into row b of `out` for every row of `x` (both `[B, D]`).
    fn eval_batch(&self, x: ArrayView2<f64>, out: ArrayViewMut2<f64>) -> Result<()>;
}
