//! Simulators. No rhai here.
