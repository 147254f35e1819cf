//! Linear response estimators and the correlation engine.
//!
//! - [`xcorr`]: all-pairs time cross-correlation of vector data (FFT, real GEMMs).
//! - [`periodic`]: translation-invariant space–time correlation on periodic grids.
//! - [`batching`]: batches (members or time segments) and the delete-one jackknife.
//! - [`fdt_vec`], [`fdt_periodic`]: Gaussian FDT and GFDT estimators with error bars.
//! - [`stein`]: the Stein-identity check `−⟨x sᵀ⟩ = I` of a score.
//! - [`metrics`]: relative L2 error between responses.
//! - [`synthetic`]: processes with exact answers.

pub mod batching;
pub mod fdt_periodic;
pub mod fdt_vec;
pub mod metrics;
pub mod periodic;
pub mod stein;
pub mod synthetic;
pub mod xcorr;

pub use fdt_periodic::{gaussian_fdt_periodic, gfdt_periodic};
pub use fdt_vec::{gaussian_fdt_vec, gfdt_vec};
pub use metrics::{rel_err, RelErr};
pub use stein::{stein_check, SteinReport};

pub use crate::core::response::Response;

pub mod general;
mod lagged_sums;
pub mod sde_ensemble;
pub mod step;
