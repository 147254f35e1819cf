//! Two-dimensional stochastically forced Navier–Stokes in vorticity form (SPEC 3.2):
//!
//! ```text
//! ∂ₜζ = −½[u·∇ζ + ∇·(uζ)] + 𝒟ζ + F − 0.9⟨F⟩ₓ − ⟨ζ⟩ₓ,   ψ = Δ⁻¹ζ (k = 0 → 0),
//! u = ∂ᵧψ + π,  v = −∂ₓψ,   𝒟(k) = −1e-2|k|⁻⁴ − 1e-5|k|⁴,
//! F = Re F⁻¹[a·mask_k·e^{iφ_k}],  dφ_k = √2 dW_k  (a = 300(N/128)², mask |k|² ≤ 112.5)
//! ```
//!
//! on [0, 2π)², N×N, pseudo-spectral with 2/3-rule dealiasing, classical RK4 (dt = 1/128).
//! - [`params`]: [`NsParams`] (defaults = the paper's values) and validation.
//! - [`system`]: [`NsSystem`], the spectral right-hand side and the RK4 step; dealiasing and the
//!   form of the advection term are documented there.
//! - [`forcing`]: the forcing definition, its phases and how they enter each RK4 step.
//! - [`ensemble`]: [`simulate_ns`], [`simulate_ns_with_states`] (state = vorticity + phases),
//!   [`bench_ns_member_steps`].
//! - [`impulse`]: the perturbation (impulse-response) ensemble [`impulse_ns`].
//! - [`diagnostics`]: energy / enstrophy time series and the isotropic energy spectrum.
//!
//! Noise convention (SPEC §1): the only noise is in the forcing phases, `dφ = √2 dW`
//! (`G = √2 I`, `D = 2 I` on the phases); given the phase path the vorticity equation is an ODE.
pub mod diagnostics;
pub mod ensemble;
pub mod forcing;
pub mod impulse;
pub mod params;
pub mod system;

pub use diagnostics::{ns_energy_enstrophy, ns_energy_spectrum};
pub use ensemble::{
    bench_ns_member_steps, random_ns_state, simulate_ns, simulate_ns_with_states, NsRunOpts,
    NsState,
};
pub use impulse::{impulse_ns, ImpulseMode, NsImpulseOpts};
pub use params::NsParams;
pub use system::NsSystem;

#[cfg(test)]
mod fdt_tests;
#[cfg(test)]
mod impulse_tests;
#[cfg(test)]
mod tests;
