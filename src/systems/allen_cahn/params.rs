//! Parameters of the preconditioned stochastic Allen–Cahn / OU system (SPEC 3.1).
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Parameters of
/// `dθ = [Q f(θ) + κΔθ − U∂ₓθ − γθ] dt + N Q^{1/2} dW`, `f(θ) = λθ(1 − θ²)`,
/// `Q` the Fourier multiplier with symbol `Σ_k = ε²/(1 + |k|²)`, on an `n`×`n` periodic grid
/// of [0, 2π)² with integer wavenumbers. Drift `F` as written, `G = N Q^{1/2}`,
/// noise covariance per unit time `D = N² Q`.
///
/// Defaults ([`Default`]) are the paper's Allen–Cahn values ([`AcParams::allen_cahn`]).
/// In scripts the options are a map such as `#{n: 32, lambda: 0, gamma: 0.01}`; unknown keys
/// are an error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AcParams {
    /// Grid points per side (even, ≥ 4).
    pub n: usize,
    /// Strength λ of the cubic `f(θ) = λθ(1 − θ²)`; 0 gives the OU process.
    pub lambda: f64,
    /// Diffusivity κ of the `κΔθ` term.
    pub kappa: f64,
    /// Advection speed U of the `−U∂ₓθ` term (in +x).
    pub u: f64,
    /// Linear damping γ of the `−γθ` term (fdtlab's addition; needed for the OU mean mode).
    pub gamma: f64,
    /// Noise scale ε² of the covariance symbol `Σ_k = ε²/(1 + |k|²)`.
    pub eps2: f64,
    /// Integrator step (physical time units).
    pub dt: f64,
}

impl Default for AcParams {
    fn default() -> Self {
        Self::allen_cahn()
    }
}

impl AcParams {
    /// The paper's Allen–Cahn system: n 32, λ 4000, κ 2.5e-4, U 0.02, γ 0, ε² 0.004, dt 1/32.
    pub fn allen_cahn() -> Self {
        AcParams {
            n: 32,
            lambda: 4000.0,
            kappa: 2.5e-4,
            u: 0.02,
            gamma: 0.0,
            eps2: 0.004,
            dt: 1.0 / 32.0,
        }
    }

    /// Its linear limit, the OU process: as [`AcParams::allen_cahn`] with λ = 0 and γ = 0.01
    /// (mean-mode variance ε²/(2γ) = 0.2, decorrelation time 1/γ = 100 time units).
    pub fn ou() -> Self {
        AcParams {
            lambda: 0.0,
            gamma: 0.01,
            ..Self::allen_cahn()
        }
    }

    /// True for the linear (OU) case λ = 0.
    pub fn is_linear(&self) -> bool {
        self.lambda == 0.0
    }

    /// Checks every value; the error names the bad value and the fix.
    pub fn validate(&self) -> Result<()> {
        let p = self;
        // No fixed upper bound: the memory a grid takes is checked against the budget
        // (`crate::budget`) when the system and its runs are built.
        if p.n < 4 || !p.n.is_multiple_of(2) {
            return Err(Error::invalid(format!(
                "n = {} must be even and at least 4; pass e.g. n: 32",
                p.n
            )));
        }
        if !(p.dt.is_finite() && p.dt > 0.0) {
            return Err(Error::invalid(format!(
                "dt = {} must be positive and finite; pass e.g. dt: 0.03125 (1/32)",
                p.dt
            )));
        }
        if !(p.eps2.is_finite() && p.eps2 > 0.0) {
            return Err(Error::invalid(format!(
                "eps2 = {} must be positive and finite (the noise covariance symbol is \
                 eps2/(1+|k|²)); pass e.g. eps2: 0.004",
                p.eps2
            )));
        }
        for (name, v, example) in [
            ("kappa", p.kappa, "kappa: 2.5e-4"),
            ("gamma", p.gamma, "gamma: 0.01"),
            (
                "lambda",
                p.lambda,
                "lambda: 4000 (Allen–Cahn) or lambda: 0 (OU)",
            ),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::invalid(format!(
                    "{name} = {v} must be finite and ≥ 0; pass e.g. {example}"
                )));
            }
        }
        if !p.u.is_finite() {
            return Err(Error::invalid(format!(
                "u = {} (advection speed) must be finite; pass e.g. u: 0.02",
                p.u
            )));
        }
        if p.lambda == 0.0 && p.gamma == 0.0 {
            return Err(Error::invalid(
                "lambda = 0 with gamma = 0 has no stationary state: the spatial-mean (k = 0) \
                 mode has no restoring force and random-walks forever (its variance grows like \
                 eps2·t). Pass gamma > 0, e.g. gamma: 0.01 (mean-mode variance eps2/(2 gamma))",
            ));
        }
        Ok(())
    }
}
