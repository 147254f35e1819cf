//! The Gaussian ("quasi-Gaussian") score fitted to data: `s(x) = −C⁻¹ (x − μ)` with the sample
//! mean μ and covariance C (denominator N − 1). With it the GFDT reduces to the conventional
//! linear FDT `R(t) = C(t) C(0)⁻¹` for constant perturbations.
use crate::score::Score;
use crate::trajectory::Trajectory;
use crate::{Error, Result};
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, Axis};

/// Gaussian score with fitted mean and covariance.
#[derive(Clone, Debug)]
pub struct GaussianScore {
    mean: Array1<f64>,
    cov: Array2<f64>,
    prec: Array2<f64>,
}

impl GaussianScore {
    /// Fits to the rows of `points` `[N, D]` (N ≥ D + 1, finite).
    pub fn fit(points: ArrayView2<f64>) -> Result<Self> {
        let (n, d) = points.dim();
        if d == 0 || n <= d {
            return Err(Error::invalid(format!(
                "Gaussian score: {n} points in dimension {d}; pass more than D points"
            )));
        }
        if points.iter().any(|v| !v.is_finite()) {
            return Err(Error::invalid(
                "Gaussian score: the data contain NaN or inf",
            ));
        }
        let mean = points
            .mean_axis(Axis(0))
            .unwrap_or_else(|| Array1::zeros(d));
        let mut cov = Array2::<f64>::zeros((d, d));
        // Two passes (mean first) for accuracy; rows in order for determinism.
        let mut c = vec![0.0; d];
        for row in points.rows() {
            for i in 0..d {
                c[i] = row[i] - mean[i];
            }
            for i in 0..d {
                for j in 0..=i {
                    cov[[i, j]] += c[i] * c[j];
                }
            }
        }
        for i in 0..d {
            for j in 0..=i {
                let v = cov[[i, j]] / (n - 1) as f64;
                cov[[i, j]] = v;
                cov[[j, i]] = v;
            }
        }
        Self::new(mean, cov)
    }

    /// Fits to every frame of every member of a trajectory.
    pub fn fit_trajectory(traj: &Trajectory) -> Result<Self> {
        let n = traj.members() * traj.frames();
        let x = traj
            .data
            .view()
            .into_shape_with_order((n, traj.state_dim()))
            .map_err(|e| Error::shape(format!("Gaussian score: trajectory not contiguous: {e}")))?;
        Self::fit(x)
    }

    /// From a given mean and (symmetric positive definite) covariance.
    pub fn new(mean: Array1<f64>, cov: Array2<f64>) -> Result<Self> {
        let d = mean.len();
        if cov.dim() != (d, d) {
            return Err(Error::shape(format!(
                "Gaussian score: mean has {d} entries but the covariance is {:?}",
                cov.dim()
            )));
        }
        let cn = crate::systems::lyapunov::to_na(&cov);
        let chol = nalgebra::Cholesky::new(cn).ok_or_else(|| {
            Error::invalid(
                "Gaussian score: the covariance is singular (a component is constant or the \
                 components are linearly dependent); drop the redundant components",
            )
        })?;
        let p = chol.inverse();
        let prec = crate::systems::lyapunov::to_nd(&((&p + p.transpose()) * 0.5));
        Ok(GaussianScore { mean, cov, prec })
    }

    /// Fitted mean μ.
    pub fn mean(&self) -> &Array1<f64> {
        &self.mean
    }
    /// Fitted covariance C.
    pub fn covariance(&self) -> &Array2<f64> {
        &self.cov
    }
}

impl Score for GaussianScore {
    fn dim(&self) -> usize {
        self.mean.len()
    }
    fn name(&self) -> String {
        "Gaussian score".into()
    }
    fn eval_batch(&self, x: ArrayView2<f64>, mut out: ArrayViewMut2<f64>) -> Result<()> {
        let d = self.mean.len();
        if x.ncols() != d || out.dim() != x.dim() {
            return Err(Error::shape(format!(
                "Gaussian score: x is {:?} and out is {:?}; both must be [B, {d}]",
                x.dim(),
                out.dim()
            )));
        }
        let xc = &x - &self.mean;
        ndarray::linalg::general_mat_mul(-1.0, &xc, &self.prec, 0.0, &mut out);
        Ok(())
    }
}
