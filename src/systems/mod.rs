//! Simulators. No rhai here.
pub mod allen_cahn;
pub(crate) mod gauss;
pub mod impulse;
pub mod navier_stokes;
pub mod ou_green;
pub mod spectral;
