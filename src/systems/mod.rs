//! Simulators. No rhai here.
pub mod navier_stokes;
pub mod spectral;
