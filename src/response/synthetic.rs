//! Processes with exact answers, for tests and benchmarks of the estimators:
//! - [`LinearOu`]: `dx = A x dt + G dW` (any stable, possibly non-symmetric A), simulated
//!   exactly at the frame spacing; exact response `e^{At}`, exact score `−C⁻¹x`.
//! - [`Ar1Field`]: a stationary Gaussian field on a periodic grid whose Fourier modes are
//!   independent AR(1) processes with advection; exact response `a(k)^τ` per mode.
use crate::core::checks::is_above;
use crate::core::linalg::cholesky;
use crate::core::lyapunov::{solve_lyapunov, to_na, to_nd};
use crate::core::response::Response;
use crate::core::spectral::Spectral2d;
use crate::core::trajectory::Trajectory;
use crate::score::gaussian::{GaussianScore, PeriodicGaussianScore};
use crate::{Error, Result};
use ndarray::{Array1, Array2, Array3, Array4};
#[cfg(test)]
use ndarray::{ArrayD, Axis};
use num_complex::Complex64;
use rand::RngExt;
use rand_distr::StandardNormal;
use rayon::prelude::*;

/// Linear OU process `dx = A x dt + G dW` (noise covariance per unit time `D = G Gᵀ`).
#[derive(Clone, Debug)]
pub struct LinearOu {
    /// Drift matrix A (D×D, all eigenvalues with negative real part).
    pub a: Array2<f64>,
    /// Noise matrix G (D×K).
    pub g: Array2<f64>,
}

impl LinearOu {
    /// Checks shapes and stability (the Lyapunov equation must have an SPD solution).
    pub fn new(a: Array2<f64>, g: Array2<f64>) -> Result<Self> {
        if a.nrows() != a.ncols() || g.nrows() != a.nrows() {
            return Err(Error::shape(format!(
                "LinearOu: A is {:?} and G is {:?}; need A D×D and G D×K",
                a.dim(),
                g.dim()
            )));
        }
        let ou = LinearOu { a, g };
        cholesky(ou.stationary_cov()?.view(), "OU stationary covariance").map_err(|e| {
            Error::invalid(format!("LinearOu: no stationary state (is A stable?): {e}"))
        })?;
        Ok(ou)
    }
    /// Dimension D.
    pub fn dim(&self) -> usize {
        self.a.nrows()
    }
    /// Stationary covariance C: `A C + C Aᵀ + G Gᵀ = 0`.
    pub fn stationary_cov(&self) -> Result<Array2<f64>> {
        solve_lyapunov(&self.a, &self.g.dot(&self.g.t()))
    }
    /// `e^{A t}`.
    pub fn propagator(&self, t: f64) -> Result<Array2<f64>> {
        Ok(to_nd(&(to_na(&self.a) * t).exp()))
    }
    /// The exact impulse response `e^{A ℓ dt}`, ℓ < lags: `[L, D, D]`, named "analytic".
    pub fn exact_response(&self, lags: usize, dt: f64) -> Result<Response> {
        let d = self.dim();
        let mut v = Array3::<f64>::zeros((lags, d, d));
        for (l, mut vl) in v.outer_iter_mut().enumerate() {
            vl.assign(&self.propagator(l as f64 * dt)?);
        }
        Ok(Response {
            name: "analytic".into(),
            dt,
            values: v.into_dyn(),
            stderr: None,
            normalized: true,
        })
    }
    /// The exact score `−C⁻¹ x`.
    pub fn exact_score(&self) -> Result<GaussianScore> {
        GaussianScore::new(Array1::zeros(self.dim()), self.stationary_cov()?)
    }
    /// Exact simulation at frame spacing `dt`: stationary start, then
    /// `x_{k+1} = e^{A dt} x_k + η`, `η ~ N(0, C − e^{A dt} C e^{Aᵀ dt})`. Member m uses
    /// `stream_rng(seed, m)`.
    pub fn simulate(
        &self,
        members: usize,
        frames: usize,
        dt: f64,
        seed: u64,
    ) -> Result<Trajectory> {
        if !is_above(dt, 0.0) || members == 0 || frames == 0 {
            return Err(Error::invalid(format!(
                "LinearOu::simulate: need dt > 0, members ≥ 1, frames ≥ 1 (got {dt}, {members}, {frames})"
            )));
        }
        let d = self.dim();
        let c = self.stationary_cov()?;
        let e = self.propagator(dt)?;
        let q = &c - &e.dot(&c).dot(&e.t());
        let lq = cholesky(((&q + &q.t()) * 0.5).view(), "OU one-step noise covariance")?;
        let lc = cholesky(c.view(), "OU stationary covariance")?;
        let mut data = Array3::<f64>::zeros((members, frames, d));
        data.outer_iter_mut()
            .into_par_iter()
            .enumerate()
            .for_each(|(m, mut xm)| {
                let mut rng = crate::core::rng::stream_rng(seed, m as u64);
                let mut z = Array1::<f64>::zeros(d);
                z.iter_mut().for_each(|v| *v = rng.sample(StandardNormal));
                let mut x = lc.dot(&z);
                for mut row in xm.outer_iter_mut() {
                    row.assign(&x);
                    z.iter_mut().for_each(|v| *v = rng.sample(StandardNormal));
                    x = e.dot(&x) + lq.dot(&z);
                }
            });
        Ok(Trajectory {
            data: data.into_dyn(),
            dt,
            t0: 0.0,
            system: format!("linear OU (D = {d}, exact AR(1) sampling)"),
        })
    }
}

/// Stationary Gaussian field on a periodic N×N grid (frames `dt` apart), mode by mode
/// `θ̂_{t+1}(k) = a(k) θ̂_t(k) + b(k) ξ̂_t(k)` with ξ unit white noise per pixel,
/// `a(k) = exp(−(γ + ν|k|²) dt − i U kx dt)` (no advection at the x-Nyquist modes, which must
/// stay real) and `b(k) = amp / (1 + |k|²/4)`; θ = mean + the inverse FFT.
/// Exact: `Ĉ(k) = b² / (1 − |a|²)`, `Ĉ(k, τ) = a(k)^τ Ĉ(k)`, Gaussian response `a(k)^τ`.
#[derive(Clone, Debug)]
pub struct Ar1Field {
    /// Grid size N (even, ≥ 4).
    pub n: usize,
    /// Time between frames.
    pub dt: f64,
    /// Damping of every mode.
    pub gamma: f64,
    /// Extra damping ν|k|².
    pub nu: f64,
    /// Advection speed in x.
    pub u: f64,
    /// Noise amplitude.
    pub amp: f64,
    /// Spatial mean.
    pub mean: f64,
}

impl Ar1Field {
    /// Parameters used by tests and the benchmark: γ = 0.05, ν = 0.02, U = 0.5, amp 1,
    /// mean 0.3, dt 1.
    pub fn default_for(n: usize) -> Self {
        Ar1Field {
            n,
            dt: 1.0,
            gamma: 0.05,
            nu: 0.02,
            u: 0.5,
            amp: 1.0,
            mean: 0.3,
        }
    }

    fn symbols(&self) -> Result<(Spectral2d, Vec<Complex64>, Vec<f64>)> {
        let sp = Spectral2d::new(self.n)?;
        if !is_above(self.gamma, 0.0) || self.nu < 0.0 || !is_above(self.dt, 0.0) {
            return Err(Error::invalid(
                "Ar1Field needs gamma > 0, nu ≥ 0 and dt > 0 for a stationary state",
            ));
        }
        let a = (0..sp.spec_len())
            .map(|i| {
                let kx = if sp.is_x_nyquist(i) { 0.0 } else { sp.kx()[i] };
                Complex64::new(
                    -(self.gamma + self.nu * sp.k2()[i]) * self.dt,
                    -self.u * kx * self.dt,
                )
                .exp()
            })
            .collect();
        let b = sp
            .k2()
            .iter()
            .map(|k2| self.amp / (1.0 + k2 / 4.0))
            .collect();
        Ok((sp, a, b))
    }

    /// Stationary mode variances `Ĉ(k)` ([`Spectral2d`] layout).
    pub fn c_hat(&self) -> Result<Vec<f64>> {
        let (_, a, b) = self.symbols()?;
        Ok(a.iter()
            .zip(&b)
            .map(|(a, b)| b * b / (1.0 - a.norm_sqr()))
            .collect())
    }

    /// The exact score `−C⁻¹(θ − mean)`.
    pub fn exact_score(&self) -> Result<PeriodicGaussianScore> {
        PeriodicGaussianScore::new(self.n, self.mean, self.c_hat()?)
    }

    /// The exact response `[L, N, N]` (inverse FFT of `a(k)^τ`), named "analytic".
    pub fn exact_response(&self, lags: usize) -> Result<Response> {
        let (sp, a, _) = self.symbols()?;
        let spec =
            ndarray::Array2::from_shape_fn((lags, sp.spec_len()), |(l, i)| a[i].powu(l as u32));
        let v = super::periodic::spectrum_to_real(&sp, spec.view());
        Ok(Response {
            name: "analytic".into(),
            dt: self.dt,
            values: v.into_dyn(),
            stderr: None,
            normalized: true,
        })
    }

    /// `[members, frames, N, N]`, started in the stationary state; member m uses
    /// `stream_rng(seed, m)`.
    pub fn simulate(&self, members: usize, frames: usize, seed: u64) -> Result<Trajectory> {
        let (sp, a, b) = self.symbols()?;
        let c = self.c_hat()?;
        let (n, k) = (self.n, sp.spec_len());
        let mut data = Array4::<f64>::zeros((members, frames, n, n));
        data.outer_iter_mut()
            .into_par_iter()
            .enumerate()
            .for_each(|(m, mut dm)| {
                let mut rng = crate::core::rng::stream_rng(seed, m as u64);
                let mut ws = sp.workspace();
                let mut noise = vec![0.0; n * n];
                let mut xi = vec![Complex64::new(0.0, 0.0); k];
                let mut th = vec![Complex64::new(0.0, 0.0); k];
                let mut field = vec![0.0; n * n];
                let mut draw =
                    |xi: &mut [Complex64], ws: &mut crate::core::spectral::SpectralWorkspace| {
                        noise
                            .iter_mut()
                            .for_each(|v| *v = rng.sample(StandardNormal));
                        sp.forward(&noise, xi, ws);
                    };
                draw(&mut th, &mut ws);
                th.iter_mut().zip(&c).for_each(|(t, c)| *t *= c.sqrt());
                for mut fr in dm.outer_iter_mut() {
                    sp.inverse(&th, &mut field, &mut ws);
                    fr.iter_mut()
                        .zip(&field)
                        .for_each(|(d, v)| *d = v + self.mean);
                    draw(&mut xi, &mut ws);
                    for i in 0..k {
                        th[i] = a[i] * th[i] + b[i] * xi[i];
                    }
                }
            });
        Ok(Trajectory {
            data: data.into_dyn(),
            dt: self.dt,
            t0: 0.0,
            system: format!("per-mode AR(1) Gaussian field (N = {n})"),
        })
    }
}

/// Mean over members of a `[M, T, ...]` array's frames (helper for tests).
#[cfg(test)]
pub(crate) fn frame_mean(x: &ArrayD<f64>) -> ArrayD<f64> {
    let m = x.shape()[0] * x.shape()[1];
    let flat = x
        .to_shape(
            std::iter::once(m)
                .chain(x.shape()[2..].iter().cloned())
                .collect::<Vec<_>>(),
        )
        .expect("contiguous");
    flat.mean_axis(Axis(0)).expect("non-empty")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn ou_sampling_has_the_stationary_covariance() {
        let ou = LinearOu::new(
            array![[-1.0, 2.0], [-0.5, -1.0]],
            array![[1.0, 0.0], [0.3, 0.8]],
        )
        .unwrap();
        let c = ou.stationary_cov().unwrap();
        let traj = ou.simulate(8, 5000, 0.1, 1).unwrap();
        let x = traj.data.to_shape((8 * 5000, 2)).unwrap();
        let emp = x.t().dot(&x) / (8.0 * 5000.0);
        // Correlation time ~1 time unit = 10 frames → ~40000/20 = 2000 effective samples:
        // relative error of a variance ≈ √(2/2000) ≈ 3 %; allow 15 % (5 se).
        for (e, c) in emp.iter().zip(c.iter()) {
            assert!((e - c).abs() < 0.15 * c.abs().max(0.3), "{emp} vs {c}");
        }
        let m = frame_mean(&traj.data);
        assert!(m.iter().all(|v| v.abs() < 0.1));
        assert!(LinearOu::new(array![[1.0]], array![[1.0]]).is_err());
    }

    #[test]
    fn ar1_field_mode_variances() {
        let f = Ar1Field::default_for(8);
        let traj = f.simulate(4, 400, 3).unwrap();
        let score = crate::score::gaussian::PeriodicGaussianScore::fit(&traj).unwrap();
        let exact = f.c_hat().unwrap();
        // Each mode variance is an average over 1600 frames with correlation time
        // ≤ 1/γ = 20 frames → ≥ 40 effective samples → relative se ≤ √(2/40) ≈ 0.22 for the
        // slowest (k = 0) mode; pooled over all 40 modes the mean ratio is within 5 %.
        let ratio: f64 = score
            .c_hat()
            .iter()
            .zip(&exact)
            .map(|(a, b)| a / b)
            .sum::<f64>()
            / exact.len() as f64;
        assert!((ratio - 1.0).abs() < 0.05, "{ratio}");
        // Spatial mean: sd per frame √(Ĉ(0)/N²) ≈ √(10/64) ≈ 0.4, ~40 effective frames →
        // se ≈ 0.063; 4 se ≈ 0.25.
        assert!((score.mean() - 0.3).abs() < 0.25);
        let r = f.exact_response(3).unwrap();
        assert!((r.values[[0, 0, 0]] - 1.0).abs() < 1e-14);
        assert!(r
            .values
            .index_axis(Axis(0), 0)
            .iter()
            .skip(1)
            .all(|v| v.abs() < 1e-14));
    }
}
