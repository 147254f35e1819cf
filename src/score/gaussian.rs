//! Gaussian scores fitted to data (SPEC §2 "Gaussian approximation"):
//! - [`GaussianScore`]: `s(x) = −C⁻¹(x − μ)` with the dense sample mean and covariance, for
//!   vector trajectories `[M, T, D]` (any state shape is flattened);
//! - [`PeriodicGaussianScore`]: for periodic N×N grids, with a scalar mean μ and the
//!   translation-invariant (circulant) covariance, applied as the Fourier multiplier
//!   `ŝ(k) = −(θ̂(k) − N²μ δ_k0) / Ĉ(k)` where `Ĉ(k) = ⟨|θ̂(k) − N²μ δ_k0|²⟩ / N²` are the
//!   circulant covariance's eigenvalues. A fitted mode with no variance (relative
//!   [`MODE_RTOL`]; e.g. the modes removed by 2/3-rule dealiasing) gets `ŝ(k) = 0`: the
//!   pseudo-inverse, the score of the Gaussian on the data's support.
//!
//! Both are named "Gaussian score".
use crate::core::checks::is_above;
use crate::core::linalg::spd_inverse;
use crate::core::spectral::Spectral2d;
use crate::core::trajectory::Trajectory;
use crate::score::Score;
use crate::{Error, Result};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, Axis, Ix4};
use num_complex::Complex64;
use rayon::prelude::*;

/// Relative size (against the largest mode) at or below which a mode's variance counts as zero.
pub const MODE_RTOL: f64 = 1e-12;

fn check_batch(x: &ArrayView2<f64>, out: &ArrayViewMut2<f64>, d: usize) -> Result<()> {
    if x.ncols() != d || out.dim() != x.dim() {
        return Err(Error::shape(format!(
            "Gaussian score of dimension {d}: input is {:?}, output {:?}; both must be [batch, {d}]",
            x.dim(),
            out.dim()
        )));
    }
    Ok(())
}

/// Dense Gaussian score `s(x) = −C⁻¹ (x − μ)`.
#[derive(Clone, Debug)]
pub struct GaussianScore {
    mean: Array1<f64>,
    cov: Array2<f64>,
    precision: Array2<f64>,
}

impl GaussianScore {
    /// From a known mean and covariance (e.g. the Lyapunov solution of a linear OU process:
    /// the exact score). Errors if `cov` is not symmetric positive definite.
    pub fn new(mean: Array1<f64>, cov: Array2<f64>) -> Result<Self> {
        let d = mean.len();
        if cov.dim() != (d, d) {
            return Err(Error::shape(format!(
                "Gaussian score: mean has {d} components but covariance is {:?}",
                cov.dim()
            )));
        }
        let precision = spd_inverse(cov.view(), "Gaussian score covariance")?;
        Ok(GaussianScore {
            mean,
            cov,
            precision,
        })
    }

    /// Fits the sample mean and covariance of every frame of every member of `traj`.
    pub fn fit_trajectory(traj: &Trajectory) -> Result<Self> {
        let (m, t, d) = (traj.members(), traj.frames(), traj.state_dim());
        let x = traj
            .data
            .to_shape((m, t, d))
            .map_err(|e| Error::shape(format!("trajectory data: {e}")))?;
        crate::core::checks::check_finite3(&x.view(), "trajectory")?;
        let x = x
            .to_shape((m * t, d))
            .map_err(|e| Error::shape(format!("trajectory data: {e}")))?;
        Self::fit(x.view())
    }

    /// Fits mean and covariance to sample rows `[n, D]`.
    pub fn fit(x: ArrayView2<f64>) -> Result<Self> {
        let (n, d) = x.dim();
        if n <= d {
            return Err(Error::invalid(format!(
                "Gaussian score fit: {n} samples for dimension {d}; \
                 need more samples than dimensions (simulate longer)"
            )));
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(Error::invalid(
                "Gaussian score fit: the data contain NaN or infinity",
            ));
        }
        // The centred copy of the data, and the covariance, its symmetrised copy, the
        // precision and the inversion's work matrix (D×D each).
        crate::budget::Request::new("gaussian_score")
            .buffer("the centred data", &[("samples", n), ("values", d)], 8)
            .buffer("the covariance matrices", &[("", 4), ("", d), ("", d)], 8)
            .fix("use data with fewer components")
            .check()?;
        let mean = x
            .mean_axis(Axis(0))
            .ok_or_else(|| Error::invalid("empty data"))?;
        let xc = &x - &mean;
        let cov = xc.t().dot(&xc) / (n as f64 - 1.0);
        let cov = (&cov + &cov.t()) * 0.5;
        let precision = spd_inverse(cov.view(), "Gaussian score fit: sample covariance")?;
        Ok(GaussianScore {
            mean,
            cov,
            precision,
        })
    }

    /// The mean μ.
    pub fn mean(&self) -> &Array1<f64> {
        &self.mean
    }
    /// The covariance C.
    /// The covariance (alias of [`GaussianScore::cov`]).
    pub fn covariance(&self) -> &Array2<f64> {
        &self.cov
    }

    pub fn cov(&self) -> &Array2<f64> {
        &self.cov
    }
    /// The precision C⁻¹.
    pub fn precision(&self) -> &Array2<f64> {
        &self.precision
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
        check_batch(&x, &out, self.dim())?;
        let xc = &x - &self.mean;
        // Rows: s = −P (x − μ) ⇔ S = −Xc Pᵀ = −Xc P (P symmetric).
        general_mat_mul(-1.0, &xc, &self.precision, 0.0, &mut out);
        Ok(())
    }
}

/// Gaussian score of a translation-invariant field on a periodic N×N grid (module docs).
#[derive(Clone)]
pub struct PeriodicGaussianScore {
    n: usize,
    mean: f64,
    c_hat: Vec<f64>,
    /// `1/Ĉ(k)`, or 0 on modes without variance (pseudo-inverse).
    prec: Vec<f64>,
    sp: Spectral2d,
}

impl PeriodicGaussianScore {
    /// From a known scalar mean and mode variances `Ĉ(k)` ([`Spectral2d`] layout, length
    /// `n (n/2 + 1)`), all positive.
    pub fn new(n: usize, mean: f64, c_hat: Vec<f64>) -> Result<Self> {
        let sp = Spectral2d::new(n)?;
        if c_hat.len() != sp.spec_len() {
            return Err(Error::shape(format!(
                "PeriodicGaussianScore: {} mode variances for an {n}×{n} grid, need {}",
                c_hat.len(),
                sp.spec_len()
            )));
        }
        check_modes(&sp, &c_hat, "mode variances")?;
        let prec = c_hat.iter().map(|c| 1.0 / c).collect();
        Ok(PeriodicGaussianScore {
            n,
            mean,
            c_hat,
            prec,
            sp,
        })
    }

    /// Fits μ (mean over members, frames and pixels) and `Ĉ(k)` (mean periodogram over all
    /// frames, k = 0 with the n − 1 correction for the estimated mean) of a grid trajectory.
    /// Modes with `Ĉ(k) ≤ MODE_RTOL · max Ĉ` get score 0 (pseudo-inverse; module docs).
    pub fn fit(traj: &Trajectory) -> Result<Self> {
        let a = traj.data.view().into_dimensionality::<Ix4>().map_err(|_| {
            Error::shape(format!(
                "PeriodicGaussianScore::fit needs a grid trajectory [members, frames, N, N], got {:?}; \
                 for vector data use GaussianScore::fit",
                traj.data.shape()
            ))
        })?;
        let (m, t, n) = crate::core::checks::grid_dims(&a)?;
        crate::core::checks::check_finite_grid(&a)?;
        let sp = Spectral2d::new(n)?;
        let k = sp.spec_len();
        let count = (m * t) as f64;
        if m * t < 2 {
            return Err(Error::invalid(
                "PeriodicGaussianScore::fit needs at least 2 frames",
            ));
        }
        let mean = a.mean().unwrap_or(0.0);
        let shift = mean * (n * n) as f64;
        let power = a
            .outer_iter()
            .into_par_iter()
            .map_init(
                || {
                    (
                        sp.workspace(),
                        vec![0.0; n * n],
                        vec![Complex64::new(0.0, 0.0); k],
                    )
                },
                |(ws, buf, spec), am| {
                    let mut p = vec![0.0; k];
                    for fr in am.outer_iter() {
                        buf.iter_mut().zip(fr.iter()).for_each(|(d, v)| *d = *v);
                        sp.forward(buf, spec, ws);
                        spec[0].re -= shift;
                        p.iter_mut()
                            .zip(spec.iter())
                            .for_each(|(p, s)| *p += s.norm_sqr());
                    }
                    p
                },
            )
            .reduce(
                || vec![0.0; k],
                |mut x, y| {
                    x.iter_mut().zip(&y).for_each(|(a, b)| *a += b);
                    x
                },
            );
        let n2 = (n * n) as f64;
        let c_hat: Vec<f64> = power
            .iter()
            .enumerate()
            .map(|(i, p)| p / n2 / if i == 0 { count - 1.0 } else { count })
            .collect();
        let max = c_hat.iter().cloned().fold(0.0, f64::max);
        if !is_above(max, 0.0) || !max.is_finite() {
            return Err(Error::invalid(format!(
                "PeriodicGaussianScore::fit: no mode has positive finite variance (max {max}); \
                 is the data constant?"
            )));
        }
        let prec = c_hat
            .iter()
            .map(|&c| {
                if is_above(c, MODE_RTOL * max) {
                    1.0 / c
                } else {
                    0.0
                }
            })
            .collect();
        Ok(PeriodicGaussianScore {
            n,
            mean,
            c_hat,
            prec,
            sp,
        })
    }

    /// Grid size N.
    pub fn n(&self) -> usize {
        self.n
    }
    /// The scalar mean μ.
    pub fn mean(&self) -> f64 {
        self.mean
    }
    /// Mode variances `Ĉ(k)` ([`Spectral2d`] layout).
    pub fn c_hat(&self) -> &[f64] {
        &self.c_hat
    }
}

/// Errors on a non-positive or relatively negligible mode variance, naming the mode.
fn check_modes(sp: &Spectral2d, c: &[f64], what: &str) -> Result<()> {
    let max = c.iter().cloned().fold(0.0, f64::max);
    if !is_above(max, 0.0) || !max.is_finite() {
        return Err(Error::invalid(format!(
            "{what}: no mode has positive finite variance (max {max}); is the data constant?"
        )));
    }
    if let Some((i, v)) = c
        .iter()
        .enumerate()
        .find(|(_, v)| !is_above(**v, MODE_RTOL * max) || !v.is_finite())
    {
        return Err(Error::invalid(format!(
            "{what}: mode (kx, ky) = ({}, {}) has variance {v:.3e} (largest {max:.3e}); \
             the field never varies in that mode, so its covariance cannot be inverted",
            sp.kx()[i],
            sp.ky()[i]
        )));
    }
    Ok(())
}

impl Score for PeriodicGaussianScore {
    fn dim(&self) -> usize {
        self.n * self.n
    }
    fn state_shape(&self) -> Vec<usize> {
        vec![self.n, self.n]
    }
    fn name(&self) -> String {
        "Gaussian score".into()
    }
    fn eval_batch(&self, x: ArrayView2<f64>, mut out: ArrayViewMut2<f64>) -> Result<()> {
        check_batch(&x, &out, self.dim())?;
        let (n, k) = (self.n, self.sp.spec_len());
        let shift = self.mean * (n * n) as f64;
        x.axis_iter(Axis(0))
            .into_par_iter()
            .zip(out.axis_iter_mut(Axis(0)))
            .for_each_init(
                || {
                    (
                        self.sp.workspace(),
                        vec![0.0; n * n],
                        vec![0.0; n * n],
                        vec![Complex64::new(0.0, 0.0); k],
                    )
                },
                |(ws, xin, sout, spec), (xr, mut or)| {
                    xin.iter_mut().zip(xr.iter()).for_each(|(d, v)| *d = *v);
                    self.sp.forward(xin, spec, ws);
                    spec[0].re -= shift;
                    spec.iter_mut()
                        .zip(&self.prec)
                        .for_each(|(s, p)| *s = -*s * *p);
                    self.sp.inverse(spec, sout, ws);
                    or.iter_mut().zip(sout.iter()).for_each(|(d, v)| *d = *v);
                },
            );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array4, ArrayD};

    #[test]
    fn dense_score_is_minus_precision_times_deviation() {
        let mean = array![1.0, -2.0];
        let cov = array![[2.0, 0.5], [0.5, 1.0]];
        let s = GaussianScore::new(mean.clone(), cov.clone()).unwrap();
        let x = array![[1.0, -2.0], [2.0, 0.0]];
        let mut out = Array2::zeros((2, 2));
        s.eval_batch(x.view(), out.view_mut()).unwrap();
        assert!(out.row(0).iter().all(|v| v.abs() < 1e-15));
        // C s = −(x − μ)
        let cs = cov.dot(&out.row(1));
        assert!((cs[0] + 1.0).abs() < 1e-14 && (cs[1] + 2.0).abs() < 1e-14);
        let mut bad = Array2::zeros((2, 3));
        assert!(s.eval_batch(x.view(), bad.view_mut()).is_err());
        assert!(GaussianScore::new(mean, array![[1.0, 1.0], [1.0, 1.0]]).is_err());
    }

    #[test]
    fn fit_errors_name_the_problem() {
        // Component 1 constant.
        let mut d = ArrayD::<f64>::zeros(ndarray::IxDyn(&[2, 50, 2]));
        for (i, v) in d.iter_mut().enumerate() {
            if i % 2 == 0 {
                *v = ((i * 7919) % 13) as f64;
            } else {
                *v = 3.0;
            }
        }
        let traj = Trajectory {
            data: d,
            dt: 1.0,
            t0: 0.0,
            system: "test".into(),
        };
        let e = GaussianScore::fit_trajectory(&traj)
            .unwrap_err()
            .to_string();
        assert!(e.contains("component 1"), "{e}");
        // Constant grid.
        let g = Trajectory {
            data: Array4::<f64>::from_elem((2, 5, 4, 4), 1.5).into_dyn(),
            dt: 1.0,
            t0: 0.0,
            system: "test".into(),
        };
        let e = PeriodicGaussianScore::fit(&g).err().unwrap().to_string();
        assert!(e.contains("constant"), "{e}");
    }

    #[test]
    fn periodic_score_inverts_the_multiplier() {
        // Ĉ(k) = 1 + |k|²: the score of e^{ik·x} modes is −θ/(1+|k|²); check on a single mode.
        let n = 8;
        let sp = Spectral2d::new(n).unwrap();
        let c: Vec<f64> = sp.k2().iter().map(|k2| 1.0 + k2).collect();
        let s = PeriodicGaussianScore::new(n, 0.5, c).unwrap();
        let h = 2.0 * std::f64::consts::PI / n as f64;
        let x = Array2::from_shape_fn((1, n * n), |(_, i)| {
            0.5 + (2.0 * (i / n) as f64 * h + 1.0 * (i % n) as f64 * h).cos()
        });
        let mut out = Array2::zeros((1, n * n));
        s.eval_batch(x.view(), out.view_mut()).unwrap();
        for i in 0..n * n {
            let expect = -(x[[0, i]] - 0.5) / 6.0;
            assert!((out[[0, i]] - expect).abs() < 1e-13);
        }
    }
}
