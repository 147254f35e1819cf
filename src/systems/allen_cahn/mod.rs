//! The preconditioned ("modified") stochastic Allen–Cahn equation and its linear limit, the
//! OU process (SPEC 3.1):
//!
//! `dθ = [Q f(θ) + κΔθ − U∂ₓθ − γθ] dt + N Q^{1/2} dW`, `f(θ) = λθ(1 − θ²)`,
//! `Q` with symbol `Σ_k = ε²/(1 + |k|²)`, periodic N×N grid on [0, 2π)², pseudo-spectral.
//!
//! Integrator: classical RK4 on the drift plus one Euler–Maruyama increment
//! `√dt · N · Q^{1/2} ξ` per step (per-step covariance `dt · N² · Q`). The state is kept in
//! spectral space between steps, so an RK4 stage costs one inverse FFT (for the cubic) and one
//! forward FFT; for λ = 0 there are no FFTs at all. The noise is drawn directly in Fourier
//! space with the exact law of the FFT of real white noise (tested).
mod params;
mod run;
mod system;
#[cfg(test)]
mod tests;

pub use params::AcParams;
pub use run::{bench_member_steps, simulate, RunOpts};
pub use system::{AcSystem, AcWorkspace, BLOWUP_LIMIT};

pub(crate) use run::{bad_value, blowup, CHECK_EVERY};
