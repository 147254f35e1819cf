//! fdtlab — linear response of stochastic systems via the (generalised) fluctuation–dissipation
//! theorem, scriptable from Rhai.
//!
//! Layout (numerics never import rhai; [`engine`] is the only bridge):
//! - [`systems`]: simulators (spectral Allen–Cahn / OU on a periodic grid).
//! - [`score`]: score functions `∇ log ρ` (exact, Gaussian).
//! - [`response`]: correlation engine, Gaussian FDT, GFDT, perturbation ensembles, analytic OU.
//! - [`plot`]: PNG/SVG figures with an embedded font.
//! - [`engine`]: the Rhai engine constructor and every exported function.
//! - [`repl`]: the interactive session.
//! - Ground layer (imports nothing above it): [`error`], [`trajectory`], [`rng`], [`stats`]
//!   (between-group standard errors), [`warn`] (the warning channel), [`progress`], [`io`].
pub mod error;
pub mod interrupt;
pub mod io;
pub mod progress;
pub mod rng;
pub mod stats;
pub mod trajectory;
pub mod warn;

pub mod plot;
pub mod response;
pub mod score;
pub mod systems;

pub mod bench;
pub mod engine;
pub mod repl;

pub use error::{Error, Result};
