//! [`Response`]: a response function on one time axis, with its standard errors — what every
//! estimator, ensemble and analytic solution returns.
use ndarray::{ArrayD, Axis};

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
