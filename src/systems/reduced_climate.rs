//! Scalar reduced climate model (SPEC 4, follow-up paper):
//!
//! ```text
//! dx = (F₀ + a x + b x² − c x³) dt + √2 s dW,    G = √2 s,  D = G² = 2 s²
//! ```
//!
//! with a = −0.0222, b = −0.2, c = 0.0494, F₀ = 0.6, s = 0.7071 by default. In one dimension
//! the stationary density is `ρ(x) ∝ exp(Φ(x)/s²)`, `Φ(x) = F₀x + a x²/2 + b x³/3 − c x⁴/4`
//! (zero probability flux), so the score is exact: `s(x) = F(x)/s²`. The density is normalised
//! by quadrature ([`Density1d`]) for exact moments, exact stationary samples (inverse CDF) and
//! the exact long-time step response to a shift of F₀ (u = 1):
//!
//! ```text
//! d⟨A⟩/dF₀ = ⟨A ∂_{F₀} log ρ⟩ = ⟨A (x − ⟨x⟩)⟩ / s² = Cov(A, x) / s²
//! ```
//!
//! because `∂_{F₀} log ρ = x/s² − ∂_{F₀} log Z = (x − ⟨x⟩)/s²`. This is `lim_{t→∞} ∫₀ᵗ R_A`.
use super::fokker_planck_1d::step_response_1d;
use super::observable::Observable;
use super::perturbation::ConstantPerturbation;
use super::sde::{Drift, Noise, Sde};
use crate::core::response::Response;
use crate::core::score::Score;
use crate::{Error, Result};
use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use rand::RngExt;
use serde::Deserialize;
use std::sync::Arc;

/// Parameters of the reduced climate model (defaults: SPEC 4).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ReducedClimate {
    /// Constant forcing F₀ (the perturbed parameter).
    pub f0: f64,
    /// Linear coefficient a.
    pub a: f64,
    /// Quadratic coefficient b.
    pub b: f64,
    /// Cubic damping c (> 0 for a confining drift).
    pub c: f64,
    /// Noise amplitude s (G = √2 s).
    pub s: f64,
}

impl Default for ReducedClimate {
    // s = 0.7071 is the published value (not exactly 1/√2).
    #[allow(clippy::approx_constant)]
    fn default() -> Self {
        ReducedClimate {
            f0: 0.6,
            a: -0.0222,
            b: -0.2,
            c: 0.0494,
            s: 0.7071,
        }
    }
}

impl ReducedClimate {
    /// Checks finiteness, `c > 0` (otherwise the state escapes to infinity) and `s > 0`.
    pub fn validate(&self) -> Result<()> {
        let p = [self.f0, self.a, self.b, self.c, self.s];
        if p.iter().any(|v| !v.is_finite()) {
            return Err(Error::invalid(format!(
                "reduced climate: parameters {self:?} must be finite"
            )));
        }
        if self.c <= 0.0 {
            return Err(Error::invalid(format!(
                "reduced climate: c = {} must be > 0 (the −c x³ term confines the state); pass c > 0",
                self.c
            )));
        }
        if self.s <= 0.0 {
            return Err(Error::invalid(format!(
                "reduced climate: s = {} must be > 0 (no stationary density without noise)",
                self.s
            )));
        }
        Ok(())
    }

    /// The drift `F(x) = F₀ + a x + b x² − c x³`.
    #[inline]
    pub fn f(&self, x: f64) -> f64 {
        self.f0 + x * (self.a + x * (self.b - self.c * x))
    }

    /// `log ρ(x) + log Z = Φ(x)/s²`.
    pub fn log_density_unnormalised(&self, x: f64) -> f64 {
        let phi = x * (self.f0 + x * (0.5 * self.a + x * (self.b / 3.0 - 0.25 * self.c * x)));
        phi / (self.s * self.s)
    }

    /// The SDE (named "reduced climate"; diagonal noise √2 s).
    pub fn sde(&self) -> Result<Sde> {
        self.validate()?;
        Sde::new(
            "reduced climate",
            Arc::new(self.clone()),
            Noise::Diagonal(vec![std::f64::consts::SQRT_2 * self.s]),
        )
    }

    /// The stationary density normalised by quadrature.
    pub fn density(&self) -> Result<Density1d> {
        self.validate()?;
        Density1d::new(|x| self.log_density_unnormalised(x))
    }

    /// Exact step response `∫₀ᵗ R_A` of each observable to a unit shift of F₀ (u = 1) at
    /// t = l·dt, from the linearised Fokker–Planck equation (no sampling error; see
    /// [`super::fokker_planck_1d`]). Values `[lags, n_obs]`.
    pub fn exact_step_response(
        &self,
        obs: &[&dyn Observable],
        dt: f64,
        lags: usize,
    ) -> Result<Response> {
        let rho = self.density()?;
        let u = ConstantPerturbation::new(vec![1.0])?;
        step_response_1d(
            |x| self.log_density_unnormalised(x),
            self.s * self.s,
            rho.range(),
            &u,
            obs,
            dt,
            lags,
        )
    }

    /// Exact long-time step response of `⟨xᵖ⟩`, p = 1..=p_max, to a unit shift of F₀:
    /// `Cov(xᵖ, x)/s²`.
    pub fn step_response_limit(&self, p_max: u32) -> Result<Vec<f64>> {
        let rho = self.density()?;
        let m1 = rho.expect(|x| x);
        let s2 = self.s * self.s;
        Ok((1..=p_max)
            .map(|p| rho.expect(|x| x.powi(p as i32) * (x - m1)) / s2)
            .collect())
    }
}

impl Drift for ReducedClimate {
    fn dim(&self) -> usize {
        1
    }
    #[inline]
    fn eval(&self, x: &[f64], out: &mut [f64]) -> Result<()> {
        out[0] = self.f(x[0]);
        Ok(())
    }
}

impl Score for ReducedClimate {
    fn dim(&self) -> usize {
        1
    }
    fn name(&self) -> String {
        "exact score".into()
    }
    /// `s(x) = F(x)/s²`.
    fn eval_batch(&self, x: ArrayView2<f64>, mut out: ArrayViewMut2<f64>) -> Result<()> {
        if x.ncols() != 1 || out.dim() != x.dim() {
            return Err(Error::shape(format!(
                "reduced climate score: x is {:?} and out is {:?}; both must be [B, 1]",
                x.dim(),
                out.dim()
            )));
        }
        let inv = 1.0 / (self.s * self.s);
        for (o, v) in out.iter_mut().zip(x.iter()) {
            *o = self.f(*v) * inv;
        }
        Ok(())
    }
}

/// A 1-D probability density tabulated on a uniform grid covering everything above
/// `e^{−60}` of the maximum, normalised by Simpson's rule.
#[derive(Clone, Debug)]
pub struct Density1d {
    x0: f64,
    h: f64,
    rho: Vec<f64>,
    cdf: Vec<f64>,
}

/// Grid intervals of [`Density1d`] (even, for Simpson).
const GRID: usize = 40_000;

impl Density1d {
    /// Tabulates `exp(log_rho)` (unnormalised log density, must decay in both directions).
    pub fn new(log_rho: impl Fn(f64) -> f64) -> Result<Self> {
        // Coarse scan for the mode, then extend each side until 60 e-folds below it.
        let mut lmax = f64::NEG_INFINITY;
        let mut xmode = 0.0;
        let mut x = -1e3;
        while x <= 1e3 {
            let l = log_rho(x);
            if l > lmax {
                lmax = l;
                xmode = x;
            }
            x += 0.01;
        }
        if !lmax.is_finite() {
            return Err(Error::invalid(
                "density: log ρ is not finite anywhere on [−1000, 1000]",
            ));
        }
        let edge = |dir: f64| -> Result<f64> {
            let mut x = xmode;
            let mut lm = lmax;
            while (x - xmode).abs() < 1e4 {
                x += dir * 0.01;
                let l = log_rho(x);
                lm = lm.max(l);
                if l < lm - 60.0 {
                    return Ok(x);
                }
            }
            Err(Error::invalid(
                "density: ρ does not decay within 10⁴ of its mode; the drift must be confining",
            ))
        };
        let (lo, hi) = (edge(-1.0)?, edge(1.0)?);
        let h = (hi - lo) / GRID as f64;
        let logs: Vec<f64> = (0..=GRID).map(|k| log_rho(lo + k as f64 * h)).collect();
        let m = logs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let mut rho: Vec<f64> = logs.iter().map(|l| (l - m).exp()).collect();
        let z = simpson(&rho, h);
        rho.iter_mut().for_each(|r| *r /= z);
        let mut cdf = vec![0.0; GRID + 1];
        for k in 1..=GRID {
            cdf[k] = cdf[k - 1] + 0.5 * h * (rho[k - 1] + rho[k]);
        }
        let last = cdf[GRID];
        cdf.iter_mut().for_each(|c| *c /= last);
        Ok(Density1d {
            x0: lo,
            h,
            rho,
            cdf,
        })
    }

    /// `∫ f ρ dx` (Simpson).
    pub fn expect(&self, f: impl Fn(f64) -> f64) -> f64 {
        let g: Vec<f64> = self
            .rho
            .iter()
            .enumerate()
            .map(|(k, r)| r * f(self.x0 + k as f64 * self.h))
            .collect();
        simpson(&g, self.h)
    }

    /// Raw moment `⟨xᵖ⟩`.
    pub fn moment(&self, p: u32) -> f64 {
        self.expect(|x| x.powi(p as i32))
    }

    /// The grid range `[lo, hi]` (the density is below `e^{−60}` of its maximum outside).
    pub fn range(&self) -> (f64, f64) {
        (self.x0, self.x0 + GRID as f64 * self.h)
    }

    /// `ρ(x)` (linear interpolation; 0 outside the grid).
    pub fn pdf(&self, x: f64) -> f64 {
        let u = (x - self.x0) / self.h;
        if !(u >= 0.0 && u < GRID as f64) {
            return 0.0;
        }
        let k = u.floor() as usize;
        let w = u - k as f64;
        self.rho[k] * (1.0 - w) + self.rho[k + 1] * w
    }

    /// `n` independent samples `[n, 1]` by inverse CDF (piecewise linear CDF), from
    /// `stream_rng(seed, 0)`.
    pub fn sample(&self, n: usize, seed: u64) -> Array2<f64> {
        let mut rng = crate::core::rng::stream_rng(seed, 0);
        Array2::from_shape_fn((n, 1), |_| {
            let u: f64 = rng.random();
            let k = self.cdf.partition_point(|c| *c < u).clamp(1, GRID);
            let (c0, c1) = (self.cdf[k - 1], self.cdf[k]);
            let w = if c1 > c0 { (u - c0) / (c1 - c0) } else { 0.5 };
            self.x0 + (k as f64 - 1.0 + w) * self.h
        })
    }
}

fn simpson(y: &[f64], h: f64) -> f64 {
    let n = y.len() - 1;
    let mut s = y[0] + y[n];
    for (k, v) in y.iter().enumerate().take(n).skip(1) {
        s += if k % 2 == 1 { 4.0 * v } else { 2.0 * v };
    }
    s * h / 3.0
}

#[cfg(test)]
mod tests;
