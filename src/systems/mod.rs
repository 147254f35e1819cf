//! Simulators. No rhai here.
pub mod spectral;
