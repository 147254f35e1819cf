//! ENSO-like triad with state-dependent (multiplicative) noise (SPEC 4, follow-up paper):
//!
//! ```text
//! dx₁ = (−d x₁ − w x₂ + x₃) dt + √2 σ₁ dW₁
//! dx₂ = (−d x₂ + w x₁) dt      + √2 σ₂ dW₂
//! dx₃ = −d_τ x₃ dt             + √2 σ₃(x₁) dW₃,   σ₃(x₁) = σ₃₀ (tanh x₁ + 1)
//! ```
//!
//! i.e. `G(x) = diag(√2σ₁, √2σ₂, √2σ₃(x₁))` (K = 3), `D = G Gᵀ`. Defaults d = 0.2, w = 0.4,
//! d_τ = 2, σ₁ = σ₂ = 0.3, σ₃₀ = 1.5. The noise of x₃ depends on x₁ only, so the Itô and
//! Stratonovich readings coincide (the noise-induced drift `½ Σ_j ∂_j G_33 G_j3` vanishes);
//! both integrators are Itô schemes anyway ([`crate::systems::sde`]).
//!
//! There is **no exact score**: the drift is linear but the noise makes the stationary law
//! non-Gaussian and not available in closed form. Use a learned (KGMM, DSM) or Gaussian score.
use super::sde::{Drift, Noise, NoiseFn, Sde};
use crate::{Error, Result};
use serde::Deserialize;
use std::f64::consts::SQRT_2;
use std::sync::Arc;

/// Parameters of the triad (defaults: SPEC 4).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Triad {
    /// Damping d of x₁, x₂.
    pub d: f64,
    /// Rotation frequency w.
    pub w: f64,
    /// Damping d_τ of x₃.
    pub d_tau: f64,
    /// Noise σ₁ of x₁.
    pub sigma1: f64,
    /// Noise σ₂ of x₂.
    pub sigma2: f64,
    /// Amplitude σ₃₀ of σ₃(x₁) = σ₃₀ (tanh x₁ + 1).
    pub sigma3: f64,
}

impl Default for Triad {
    fn default() -> Self {
        Triad {
            d: 0.2,
            w: 0.4,
            d_tau: 2.0,
            sigma1: 0.3,
            sigma2: 0.3,
            sigma3: 1.5,
        }
    }
}

impl Triad {
    /// Finite parameters, d > 0 and d_τ > 0 (damped), noise amplitudes ≥ 0.
    pub fn validate(&self) -> Result<()> {
        let p = [
            self.d,
            self.w,
            self.d_tau,
            self.sigma1,
            self.sigma2,
            self.sigma3,
        ];
        if p.iter().any(|v| !v.is_finite()) || self.d <= 0.0 || self.d_tau <= 0.0 {
            return Err(Error::invalid(format!(
                "triad: parameters {self:?} must be finite with d > 0 and d_tau > 0 (otherwise \
                 there is no stationary state)"
            )));
        }
        if self.sigma1 < 0.0 || self.sigma2 < 0.0 || self.sigma3 < 0.0 {
            return Err(Error::invalid("triad: noise amplitudes must be ≥ 0"));
        }
        Ok(())
    }

    /// `σ₃(x₁) = σ₃₀ (tanh x₁ + 1)`.
    pub fn sigma3_of(&self, x1: f64) -> f64 {
        self.sigma3 * (x1.tanh() + 1.0)
    }

    /// The SDE (named "ENSO triad", state-dependent noise).
    pub fn sde(&self) -> Result<Sde> {
        self.validate()?;
        Sde::new(
            "ENSO triad",
            Arc::new(self.clone()),
            Noise::StateDependent(Arc::new(TriadNoise(self.clone()))),
        )
    }
}

impl Drift for Triad {
    fn dim(&self) -> usize {
        3
    }
    #[inline]
    fn eval(&self, x: &[f64], out: &mut [f64]) -> Result<()> {
        out[0] = -self.d * x[0] - self.w * x[1] + x[2];
        out[1] = -self.d * x[1] + self.w * x[0];
        out[2] = -self.d_tau * x[2];
        Ok(())
    }
}

/// `G(x) = diag(√2σ₁, √2σ₂, √2σ₃(x₁))` of the triad.
#[derive(Clone, Debug)]
pub struct TriadNoise(pub Triad);

impl NoiseFn for TriadNoise {
    fn dim(&self) -> usize {
        3
    }
    fn k(&self) -> usize {
        3
    }
    #[inline]
    fn eval(&self, x: &[f64], g: &mut [f64]) -> Result<()> {
        g.fill(0.0);
        g[0] = SQRT_2 * self.0.sigma1;
        g[4] = SQRT_2 * self.0.sigma2;
        g[8] = SQRT_2 * self.0.sigma3_of(x[0]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systems::sde::{Method, SdeRunOpts};

    #[test]
    fn ito_variance_balance_and_thread_independence() {
        // Itô: d⟨x₃²⟩/dt = −2 d_τ ⟨x₃²⟩ + 2 ⟨σ₃(x₁)²⟩ = 0 in the stationary state, so
        // d_τ ⟨x₃²⟩ = ⟨σ₃(x₁)²⟩. Compare the two time averages over 16 members; the error bar
        // is the standard error of the per-member differences (members independent), 4 se.
        crate::core::progress::set_quiet(true);
        let tr = Triad::default();
        let o = SdeRunOpts {
            members: 16,
            dt: 0.005,
            spinup: 50.0,
            duration: 1000.0,
            save_every: 20,
            seed: 2,
            method: Method::Heun,
            ..Default::default()
        };
        let sde = tr.sde().unwrap();
        let pool = |n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .unwrap()
        };
        let a = pool(1).install(|| sde.simulate(&o).unwrap());
        let b = pool(2).install(|| sde.simulate(&o).unwrap());
        assert!(a
            .data
            .iter()
            .zip(b.data.iter())
            .all(|(x, y)| x.to_bits() == y.to_bits()));
        let per: Vec<f64> = (0..16)
            .map(|m| {
                let t = a.frames();
                (0..t)
                    .map(|f| {
                        let x1 = a.data[[m, f, 0]];
                        let x3 = a.data[[m, f, 2]];
                        tr.d_tau * x3 * x3 - tr.sigma3_of(x1).powi(2)
                    })
                    .sum::<f64>()
                    / t as f64
            })
            .collect();
        let mean = per.iter().sum::<f64>() / 16.0;
        let se = (per.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (15.0 * 16.0)).sqrt();
        let scale = (0..16).map(|m| a.data[[m, 10, 2]].powi(2)).sum::<f64>() / 16.0;
        eprintln!("triad balance {mean:.4} ± {se:.4} (⟨x3²⟩ scale {scale:.3})");
        assert!(mean.abs() < 4.0 * se);
        assert!(Triad {
            d: 0.0,
            ..Default::default()
        }
        .sde()
        .is_err());
    }
}
