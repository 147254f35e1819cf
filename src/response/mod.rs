//! Linear response estimators and the correlation engine.
//!
//! - [`xcorr`]: all-pairs time cross-correlation of vector data (FFT, real GEMMs).
//! - [`periodic`]: translation-invariant space–time correlation on periodic grids.
//! - [`batching`]: batches (members or time segments) and the delete-one jackknife.
//! - [`fdt_vec`], [`fdt_periodic`]: Gaussian FDT and GFDT estimators with error bars.
//! - [`stein`]: the Stein-identity check `−⟨x sᵀ⟩ = I` of a score.
//! - [`metrics`]: relative L2 error between responses.
//! - [`linalg`]: small dense solves/inverses; [`synthetic`]: processes with exact answers.
use ndarray::{ArrayD, Axis};

pub mod batching;
pub mod fdt_periodic;
pub mod fdt_vec;
pub mod linalg;
pub mod metrics;
pub mod periodic;
pub mod stein;
pub mod synthetic;
pub mod xcorr;

pub use fdt_periodic::{gaussian_fdt_periodic, gfdt_periodic};
pub use fdt_vec::{gaussian_fdt_vec, gfdt_vec};
pub use metrics::{rel_err, RelErr};
pub use stein::{stein_check, SteinReport};

/// `x > bound`, false for NaN: parameter checks that must also reject NaN.
pub(crate) fn is_above(x: f64, bound: f64) -> bool {
    x > bound
}

/// A response function on one time axis.
///
/// `values` has shape `[L, ...]`: lag index first (lag ℓ is at time `ℓ · dt`), then
/// - for periodic N×N grids: `[L, N, N]`, indexed by the *offset* (dx, dy) mod N of the
///   observed pixel from the perturbed pixel (translation invariance), x = axis 1;
/// - for vector systems: `[L, D, D]`, `R_ij(t)` = response of x_i to a kick of x_j.
#[derive(Clone, Debug)]
pub struct Response {
    /// Legend name, e.g. "Gaussian FDT", "GFDT (exact score)", "ensemble", "analytic".
    pub name: String,
    /// Lag spacing in physical time units.
    pub dt: f64,
    /// The response, `[L, ...]` (see above).
    pub values: ArrayD<f64>,
    /// One standard error of `values` (same shape), when the estimator provides one.
    pub stderr: Option<ArrayD<f64>>,
    /// True for the normalised form `S(t) S(0)⁻¹`.
    pub normalized: bool,
}

impl Response {
    /// A GFDT estimate with its legend name: "GFDT (<score>)" or "GFDT (<score>, normalised)".
    pub fn gfdt(
        score: &str,
        dt: f64,
        values: ArrayD<f64>,
        stderr: ArrayD<f64>,
        normalized: bool,
    ) -> Self {
        let name = if normalized {
            format!("GFDT ({score}, normalised)")
        } else {
            format!("GFDT ({score})")
        };
        Response {
            name,
            dt,
            values,
            stderr: Some(stderr),
            normalized,
        }
    }

    /// Number of lags L.
    pub fn lags(&self) -> usize {
        self.values.shape()[0]
    }
    /// Physical times of the lags.
    pub fn times(&self) -> Vec<f64> {
        (0..self.lags()).map(|l| l as f64 * self.dt).collect()
    }
    /// The curve at one index into the trailing axes (e.g. `[dx, dy]` or `[i, j]`), with its
    /// standard error (zeros when none). Panics never: returns None for a bad index.
    pub fn curve(&self, idx: &[usize]) -> Option<(Vec<f64>, Vec<f64>)> {
        let tail = &self.values.shape()[1..];
        if idx.len() != tail.len() || idx.iter().zip(tail).any(|(i, n)| i >= n) {
            return None;
        }
        let pick = |a: &ArrayD<f64>| -> Vec<f64> {
            (0..self.lags())
                .map(|l| {
                    let lag = a.index_axis(Axis(0), l);
                    lag[ndarray::IxDyn(idx)]
                })
                .collect()
        };
        let v = pick(&self.values);
        let e = match &self.stderr {
            Some(s) => pick(s),
            None => vec![0.0; v.len()],
        };
        Some((v, e))
    }
}

pub mod general;
mod lagged_sums;
pub mod sde_ensemble;
pub mod step;
