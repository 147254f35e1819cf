//! General Itô SDEs `dx = F(x) dt + G(x) dW` of any dimension D (SPEC 1: the noise covariance
//! per unit time is `D = G Gᵀ`, no hidden √2 — a user who wants `√2 σ dW` writes `G = √2 σ`).
//!
//! - [`Drift`] is `F`, [`Noise`] is `G` (constant D×K matrix, diagonal, or state dependent
//!   through [`NoiseFn`]); [`Sde`] bundles them with a name used in every error message.
//! - [`Sde::simulate`] integrates an ensemble ([`SdeRunOpts`]: Euler–Maruyama or stochastic
//!   Heun, see [`Method`]) into a [`Trajectory`](crate::core::trajectory::Trajectory) `[M, T, D]`.
//! - Perturbation ensembles live in [`crate::response::sde_ensemble`].
//!
//! Implementations of the traits return `Result` so that closure-backed ones (Rhai, later) can
//! report their own errors. The integrator prefills every output buffer with NaN before calling
//! an implementation and checks the result, so a component left unwritten, a NaN or an `Err`
//! becomes an [`Error`] naming the system, the member and the time — never a panic.
//!
//! **Threads.** Members run in parallel (rayon) when every part of the system is
//! [`Drift::parallel_safe`]; otherwise they run one after another *on the calling thread*, and
//! the implementation is never called from another thread. A closure-backed drift that holds
//! non-`Send` state (a Rhai closure) can therefore implement `Send + Sync` by an `unsafe impl`
//! as long as it returns `false` from `parallel_safe()` — that is the contract that makes the
//! `unsafe impl` sound. Results are bit-identical for any thread count either way: member `m`
//! draws its noise from `crate::core::rng::stream_rng(seed, m)`.
use crate::{Error, Result};
use ndarray::Array2;
use std::sync::Arc;

mod run;
pub(crate) mod stepper;

pub(crate) use run::{plan as run_plan, POLL};
pub use run::{Method, SdeInit, SdeRunOpts};

/// The drift `F(x)` of an SDE.
pub trait Drift: Send + Sync {
    /// State dimension D.
    fn dim(&self) -> usize;
    /// Writes `F(x)` into `out` (length D). `out` arrives filled with NaN: every component must
    /// be written. Return `Err` for anything the implementation cannot evaluate; a closure that
    /// produces a vector of the wrong length should return it through [`copy_checked`].
    fn eval(&self, x: &[f64], out: &mut [f64]) -> Result<()>;
    /// False when `eval` must only be called from the thread that started the run (closure
    /// backed drifts); members then run sequentially. Default true.
    fn parallel_safe(&self) -> bool {
        true
    }
}

/// A state-dependent noise matrix `G(x)` (D×K, written row-major into `g`).
pub trait NoiseFn: Send + Sync {
    /// State dimension D (rows of G).
    fn dim(&self) -> usize;
    /// Number K of independent Brownian motions (columns of G).
    fn k(&self) -> usize;
    /// Writes `G(x)` row-major (`g[i * K + k] = G_ik`) into `g` (length D·K, prefilled with NaN).
    fn eval(&self, x: &[f64], g: &mut [f64]) -> Result<()>;
    /// As [`Drift::parallel_safe`].
    fn parallel_safe(&self) -> bool {
        true
    }
}

/// The noise matrix `G` of `dx = F dt + G dW` (covariance per unit time `G Gᵀ`).
#[derive(Clone)]
pub enum Noise {
    /// A constant D×K matrix.
    Constant(Array2<f64>),
    /// `G = diag(g)`, K = D.
    Diagonal(Vec<f64>),
    /// `G(x)`, evaluated at every step (the Itô convention: at the start of the step).
    StateDependent(Arc<dyn NoiseFn>),
}

impl Noise {
    /// Number K of Brownian motions.
    pub fn k(&self) -> usize {
        match self {
            Noise::Constant(g) => g.ncols(),
            Noise::Diagonal(g) => g.len(),
            Noise::StateDependent(f) => f.k(),
        }
    }
    /// True for additive (state-independent) noise.
    pub fn is_additive(&self) -> bool {
        !matches!(self, Noise::StateDependent(_))
    }
    fn parallel_safe(&self) -> bool {
        match self {
            Noise::StateDependent(f) => f.parallel_safe(),
            _ => true,
        }
    }
}

/// An SDE `dx = F(x) dt + G(x) dW` with a name for messages and legends.
#[derive(Clone)]
pub struct Sde {
    name: String,
    drift: Arc<dyn Drift>,
    noise: Noise,
    /// Row-major copy of a constant G (D·K), for the hot loop.
    g_const: Vec<f64>,
}

impl Sde {
    /// Checks that drift and noise agree on D and that constant noise entries are finite.
    pub fn new(name: impl Into<String>, drift: Arc<dyn Drift>, noise: Noise) -> Result<Self> {
        let name = name.into();
        let d = drift.dim();
        if d == 0 {
            return Err(Error::invalid(format!(
                "system '{name}': the drift has dimension 0; a state needs at least one component"
            )));
        }
        let g_const = match &noise {
            Noise::Constant(g) => {
                if g.nrows() != d || g.ncols() == 0 {
                    return Err(Error::shape(format!(
                        "system '{name}': noise matrix G is {}×{} but the drift has D = {d}; \
                         pass G with D = {d} rows and K ≥ 1 columns",
                        g.nrows(),
                        g.ncols()
                    )));
                }
                g.iter().cloned().collect()
            }
            Noise::Diagonal(g) => {
                if g.len() != d {
                    return Err(Error::shape(format!(
                        "system '{name}': diagonal noise has {} entries but D = {d}; pass {d}",
                        g.len()
                    )));
                }
                g.clone()
            }
            Noise::StateDependent(f) => {
                if f.dim() != d || f.k() == 0 {
                    return Err(Error::shape(format!(
                        "system '{name}': noise function is {}×{} but the drift has D = {d}; \
                         it must return a D×K matrix with K ≥ 1",
                        f.dim(),
                        f.k()
                    )));
                }
                Vec::new()
            }
        };
        if let Some(v) = g_const.iter().find(|v| !v.is_finite()) {
            return Err(Error::invalid(format!(
                "system '{name}': noise matrix contains {v}; pass finite entries"
            )));
        }
        Ok(Sde {
            name,
            drift,
            noise,
            g_const,
        })
    }
    /// The name used in messages and trajectory metadata.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// State dimension D.
    pub fn dim(&self) -> usize {
        self.drift.dim()
    }
    /// Number K of Brownian motions.
    pub fn noise_dim(&self) -> usize {
        self.noise.k()
    }
    /// The drift.
    pub fn drift(&self) -> &Arc<dyn Drift> {
        &self.drift
    }
    /// The noise.
    pub fn noise(&self) -> &Noise {
        &self.noise
    }
    /// True when members may run on rayon worker threads.
    pub fn parallel_safe(&self) -> bool {
        self.drift.parallel_safe() && self.noise.parallel_safe()
    }
}

impl std::fmt::Debug for Sde {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.noise {
            Noise::Constant(_) => "constant",
            Noise::Diagonal(_) => "diagonal",
            Noise::StateDependent(_) => "state-dependent",
        };
        write!(
            f,
            "Sde '{}' (D = {}, K = {}, {kind} noise)",
            self.name,
            self.dim(),
            self.noise_dim()
        )
    }
}

/// For closure-backed implementations: copies `src` into `out`, or returns a Shape error naming
/// `what` (e.g. "drift of system 'triad'") when the lengths differ.
pub fn copy_checked(src: &[f64], out: &mut [f64], what: &str) -> Result<()> {
    if src.len() != out.len() {
        return Err(Error::shape(format!(
            "{what} returned {} values but {} are needed; return one value per component",
            src.len(),
            out.len()
        )));
    }
    out.copy_from_slice(src);
    Ok(())
}

/// Dot product with four independent accumulators (a plain `sum()` is latency bound: one
/// dependent add per element; this lets the CPU overlap them — ≈ 3–4× faster for D ≥ 16).
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 4];
    let mut ca = a.chunks_exact(4);
    let mut cb = b.chunks_exact(4);
    for (x, y) in (&mut ca).zip(&mut cb) {
        acc[0] += x[0] * y[0];
        acc[1] += x[1] * y[1];
        acc[2] += x[2] * y[2];
        acc[3] += x[3] * y[3];
    }
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Prefixes an error message with `ctx` ("system 'x', member 3, t = 1.2"), keeping the variant.
pub(crate) fn in_context(e: Error, ctx: &str) -> Error {
    match e {
        Error::Invalid(m) => Error::Invalid(format!("{ctx}: {m}")),
        Error::Shape(m) => Error::Shape(format!("{ctx}: {m}")),
        Error::BlowUp(m) => Error::BlowUp(format!("{ctx}: {m}")),
        other => other,
    }
}

/// Short text of a state for messages: all components when D ≤ 6, else the first 4 and max |x|.
pub(crate) fn fmt_state(x: &[f64]) -> String {
    if x.len() <= 6 {
        format!("{x:?}")
    } else {
        let m = x.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        format!(
            "[{:?}, … ({} components, max |x_i| = {m:e})]",
            &x[..4],
            x.len()
        )
    }
}

#[cfg(test)]
mod tests;
