//! Parameters of the stochastically forced 2-D Navier–Stokes system (SPEC 3.2).
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Parameters of the vorticity equation on the `n`×`n` periodic grid of [0, 2π)²
///
/// ```text
/// ∂ₜζ = −½[u·∇ζ + ∇·(uζ)] + 𝒟ζ + F − r⟨F⟩ₓ − ⟨ζ⟩ₓ,   ψ = Δ⁻¹ζ,  u = ∂ᵧψ + U,  v = −∂ₓψ
/// 𝒟(k) = −hypo·|k|⁻⁴ − hyper·|k|⁴  (k ≠ 0),   F = Re F⁻¹[a · mask_k · exp(iφ_k)],  dφ_k = √2 dW_k
/// ```
///
/// with `U = background_u`, `a = forcing_amp`, `mask = {|k|² ≤ forcing_k2_max}` without the
/// Nyquist row/column, `r = mean_forcing_removal`. Defaults ([`Default`]) are the paper's values
/// (N = 32, dt = 1/128, U = π, hypo 1e-2, hyper 1e-5, a = 300·(N/128)², |k|² ≤ 112.5, r = 0.9).
/// In scripts the options are a map such as `#{n: 32, dt: 0.0078125}`; unknown keys are an
/// error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NsParams {
    /// Grid points per side (even, ≥ 8).
    pub n: usize,
    /// RK4 step (physical time units).
    pub dt: f64,
    /// Speed U of the uniform background flow in +x (the paper: π).
    pub background_u: f64,
    /// Hypo-drag coefficient (large-scale damping `−hypo·|k|⁻⁴`).
    pub hypo: f64,
    /// Hyperviscosity coefficient (small-scale damping `−hyper·|k|⁴`).
    pub hyper: f64,
    /// Forcing amplitude `a`; `None` means the paper's `300·(N/128)²` (18.75 at N = 32).
    pub forcing_amp: Option<f64>,
    /// Forced wavenumbers: `|k|² ≤ forcing_k2_max` (Nyquist row/column excluded).
    pub forcing_k2_max: f64,
    /// Fraction `r` of the spatial mean of the forcing that is removed (`F − r⟨F⟩ₓ`).
    pub mean_forcing_removal: f64,
    /// 2/3-rule dealiasing (default true): the model lives on the resolved modes
    /// `|kx| < n/3, |ky| < n/3`; see the module docs. `false` gives the aliased pseudo-spectral
    /// model on the full grid (skew-symmetric form, conserves enstrophy but not energy).
    pub dealias: bool,
}

impl Default for NsParams {
    fn default() -> Self {
        NsParams {
            n: 32,
            dt: 1.0 / 128.0,
            background_u: std::f64::consts::PI,
            hypo: 1e-2,
            hyper: 1e-5,
            forcing_amp: None,
            forcing_k2_max: 112.5,
            mean_forcing_removal: 0.9,
            dealias: true,
        }
    }
}

impl NsParams {
    /// The forcing amplitude in use: `forcing_amp` or `300·(n/128)²`.
    pub fn amplitude(&self) -> f64 {
        self.forcing_amp
            .unwrap_or_else(|| 300.0 * (self.n as f64 / 128.0).powi(2))
    }

    /// Checks every value; the error names the bad value and the fix.
    pub fn validate(&self) -> Result<()> {
        let p = self;
        // No fixed upper bound: the memory a grid takes is checked against the budget
        // (`crate::budget`) when the system and its runs are built.
        if p.n < 8 || !p.n.is_multiple_of(2) {
            return Err(Error::invalid(format!(
                "n = {} must be even and at least 8; pass e.g. n: 32",
                p.n
            )));
        }
        if !(p.dt.is_finite() && p.dt > 0.0) {
            return Err(Error::invalid(format!(
                "dt = {} must be positive and finite; pass e.g. dt: 0.0078125 (1/128)",
                p.dt
            )));
        }
        if !p.background_u.is_finite() {
            return Err(Error::invalid(format!(
                "background_u = {} must be finite; pass e.g. background_u: 3.14159 (π) or 0",
                p.background_u
            )));
        }
        for (name, v, example) in [
            ("hypo", p.hypo, "hypo: 0.01"),
            ("hyper", p.hyper, "hyper: 1e-5"),
            ("forcing_k2_max", p.forcing_k2_max, "forcing_k2_max: 112.5"),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::invalid(format!(
                    "{name} = {v} must be finite and ≥ 0; pass e.g. {example}"
                )));
            }
        }
        if let Some(a) = p.forcing_amp {
            if !(a.is_finite() && a >= 0.0) {
                return Err(Error::invalid(format!(
                    "forcing_amp = {a} must be finite and ≥ 0; pass e.g. forcing_amp: 18.75, \
                     or leave it out for the paper's 300·(n/128)²"
                )));
            }
        }
        if !p.mean_forcing_removal.is_finite() {
            return Err(Error::invalid(format!(
                "mean_forcing_removal = {} must be finite; pass e.g. mean_forcing_removal: 0.9",
                p.mean_forcing_removal
            )));
        }
        Ok(())
    }
}
