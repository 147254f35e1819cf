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

    /// Shape of the values at one lag (`[N, N]`, `[D, D]`, `[n_obs]`, ...).
    pub fn tail(&self) -> &[usize] {
        &self.values.shape()[1..]
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

/// Default curves to compare or plot when none are given: `[k, 0, …, 0]` for
/// `k = 0..min(4, n)` with `n` the smallest first trailing size of the responses, so they fit
/// every one — on a grid the first four offsets downstream of the kicked pixel (the paper's
/// figure), for a vector system the response of x₀..x₃ to a kick of x₀, for observables the
/// first four. Empty when the responses have no trailing axes or different ranks.
pub fn default_curves(rs: &[&Response]) -> Vec<Vec<usize>> {
    let Some(rank) = rs.first().map(|r| r.tail().len()) else {
        return Vec::new();
    };
    if rank == 0 || rs.iter().any(|r| r.tail().len() != rank) {
        return Vec::new();
    }
    let n = rs.iter().map(|r| r.tail()[0]).min().unwrap_or(0).min(4);
    (0..n)
        .map(|k| {
            let mut idx = vec![0; rank];
            idx[0] = k;
            idx
        })
        .collect()
}

/// Whether a trailing shape can be the offsets of a periodic N×N grid (N even, ≥ 4, as every
/// grid system requires). `[D, D]` with D odd or below 4 is certainly a vector system; an even
/// D ≥ 4 cannot be told apart from a grid by shape alone.
pub fn grid_like(tail: &[usize]) -> bool {
    tail.len() == 2 && tail[0] == tail[1] && tail[0] >= 4 && tail[0].is_multiple_of(2)
}

/// A short label for the curve `idx` of responses with trailing shape `tail`: on a grid
/// "(1,1) → (1+dx,1+dy)" (1-based pixels, the kick at (1,1)); for a vector system
/// "x[j] → x[i]" (the response of x_i to a kick of x_j, 0-based like script indices); for
/// observables "A[k]".
pub fn curve_label(tail: &[usize], idx: &[usize]) -> String {
    let list = |v: &[usize], base: usize| {
        v.iter()
            .map(|i| (i + base).to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    if grid_like(tail) {
        format!("(1,1) → ({})", list(idx, 1))
    } else if idx.len() == 2 {
        format!("x[{}] → x[{}]", idx[1], idx[0])
    } else if idx.len() == 1 {
        format!("A[{}]", idx[0])
    } else {
        format!("[{}]", list(idx, 0))
    }
}

#[cfg(test)]
mod curve_tests {
    use super::*;

    fn resp(tail: &[usize]) -> Response {
        let mut sh = vec![3];
        sh.extend_from_slice(tail);
        Response {
            name: "r".into(),
            dt: 1.0,
            values: ArrayD::zeros(ndarray::IxDyn(&sh)),
            stderr: None,
            normalized: false,
        }
    }

    #[test]
    fn defaults_fit_every_response() {
        let (g, v1, v2, o) = (resp(&[8, 8]), resp(&[1, 1]), resp(&[2, 2]), resp(&[3]));
        assert_eq!(default_curves(&[&g]).len(), 4);
        assert_eq!(default_curves(&[&v1]), vec![vec![0, 0]]);
        assert_eq!(default_curves(&[&g, &v2]), vec![vec![0, 0], vec![1, 0]]);
        assert_eq!(default_curves(&[&o]), vec![vec![0], vec![1], vec![2]]);
        assert!(default_curves(&[&g, &o]).is_empty());
        for r in [&g, &v1, &v2, &o] {
            for c in default_curves(&[r]) {
                assert!(r.curve(&c).is_some());
            }
        }
    }

    #[test]
    fn labels_by_geometry() {
        assert_eq!(curve_label(&[8, 8], &[1, 0]), "(1,1) → (2,1)");
        assert_eq!(curve_label(&[2, 2], &[0, 1]), "x[1] → x[0]");
        assert_eq!(curve_label(&[3], &[2]), "A[2]");
    }
}
