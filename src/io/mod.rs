//! File output helpers. Every file fdtlab writes goes through [`atomic::write_atomic`].
pub mod atomic;
