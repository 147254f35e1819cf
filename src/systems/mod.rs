//! Simulators. No rhai here.
//!
//! - [`spectral`]: shared 2-D FFT plans for the grid simulators.
//! - [`sde`]: general Itô SDEs of any dimension, integrators, ensembles.
//! - [`perturbation`], [`observable`]: `u(x)` and `A(x)` for response experiments.
//! - [`linear_ou`], [`reduced_climate`], [`triad`]: the low-dimensional zoo (SPEC 4).
pub mod allen_cahn;
pub mod fokker_planck_1d;
pub(crate) mod gauss;
pub mod impulse;
pub mod linear_ou;
pub mod navier_stokes;
pub mod observable;
pub mod ou_green;
pub mod perturbation;
pub mod reduced_climate;
pub mod sde;
pub mod triad;
