//! fdtlab — linear response of stochastic systems via the (generalised) fluctuation–dissipation
//! theorem, scriptable from Rhai.
//!
//! Layout (numerics never import rhai; [`engine`] is the only bridge):
//! - [`budget`]: the memory budget every user-sized allocation is checked against.
//! - [`systems`]: simulators (spectral Allen–Cahn / OU on a periodic grid).
//! - [`score`]: score functions `∇ log ρ` (exact, Gaussian).
//! - [`response`]: correlation engine, Gaussian FDT, GFDT, perturbation ensembles, analytic OU.
//! - [`plot`]: PNG/SVG figures with an embedded font.
//! - [`engine`]: the Rhai engine constructor and every exported function.
//! - [`repl`]: the interactive session.
// `::fdtlab::…` paths (emitted by `#[fdtlab_macros::guarded]`) work inside the crate too.
extern crate self as fdtlab;

pub mod budget;
pub mod core;
pub mod io;
pub mod stats;
pub mod warn;

pub mod plot;
pub mod response;
pub mod score;
pub mod systems;

pub mod bench;
pub mod engine;
pub mod repl;

pub use crate::core::error::{Error, Result};
