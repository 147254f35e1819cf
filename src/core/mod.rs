//! The ground floor: data types and helpers every layer shares, importing nothing above
//! itself (no systems, scores, estimators, plots, files or Rhai).
//!
//! - [`error`]: the crate error and `Result`.
//! - [`trajectory`]: stored runs; [`response`]: response functions with standard errors;
//!   [`score`]: the score trait.
//! - [`spectral`]: FFT plans on periodic grids; [`linalg`], [`lyapunov`]: dense linear algebra.
//! - [`checks`]: shared input checks; [`rng`]: per-member random streams;
//!   [`interrupt`]: Ctrl-C; [`progress`]: progress bars; [`atomic`]: atomic file writes.
pub mod atomic;
pub mod checks;
pub mod error;
pub mod interrupt;
pub mod linalg;
pub mod lyapunov;
pub mod progress;
pub mod response;
pub mod rng;
pub mod score;
pub mod spectral;
pub mod trajectory;
