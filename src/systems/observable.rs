//! Scalar observables `A(x)` whose mean response is measured (ensembles) or estimated (GFDT).
use crate::{Error, Result};

/// A scalar function of the state.
pub trait Observable: Send + Sync {
    /// Short name for legends, e.g. "x_0^2".
    fn name(&self) -> String;
    /// `A(x)`.
    fn eval(&self, x: &[f64]) -> Result<f64>;
    /// Checks that the observable makes sense in dimension `d` (e.g. a component index).
    fn check_dim(&self, _d: usize) -> Result<()> {
        Ok(())
    }
    /// As [`crate::systems::perturbation::Perturbation::parallel_safe`]. Default true.
    fn parallel_safe(&self) -> bool {
        true
    }
}

/// Built-in observables.
#[derive(Clone, Debug, PartialEq)]
pub enum BuiltinObservable {
    /// `x_i`.
    Component(usize),
    /// `x_i^p` (p ≥ 1): the p-th moment when averaged.
    Moment { i: usize, p: u32 },
    /// `x_i x_j` (a second-moment matrix entry).
    Product(usize, usize),
    /// `(1/D) Σ_i x_i`.
    Mean,
    /// `½ |x|²`.
    Energy,
}

impl BuiltinObservable {
    /// The moments `x_i^p` for p = 1..=4 (the follow-up paper's observables).
    pub fn moments(i: usize) -> Vec<BuiltinObservable> {
        (1..=4)
            .map(|p| BuiltinObservable::Moment { i, p })
            .collect()
    }
}

impl Observable for BuiltinObservable {
    fn name(&self) -> String {
        match self {
            BuiltinObservable::Component(i) => format!("x_{i}"),
            BuiltinObservable::Moment { i, p } => format!("x_{i}^{p}"),
            BuiltinObservable::Product(i, j) => format!("x_{i} x_{j}"),
            BuiltinObservable::Mean => "mean of x".into(),
            BuiltinObservable::Energy => "½|x|²".into(),
        }
    }
    fn eval(&self, x: &[f64]) -> Result<f64> {
        // Indices were validated by check_dim; `get` keeps a bad call an Err, not a panic.
        let c = |i: usize| {
            x.get(i).copied().ok_or_else(|| {
                Error::invalid(format!(
                    "observable {} needs component {i} but the state has {}",
                    self.name(),
                    x.len()
                ))
            })
        };
        Ok(match *self {
            BuiltinObservable::Component(i) => c(i)?,
            BuiltinObservable::Moment { i, p } => c(i)?.powi(p as i32),
            BuiltinObservable::Product(i, j) => c(i)? * c(j)?,
            BuiltinObservable::Mean => x.iter().sum::<f64>() / x.len() as f64,
            BuiltinObservable::Energy => 0.5 * x.iter().map(|v| v * v).sum::<f64>(),
        })
    }
    fn check_dim(&self, d: usize) -> Result<()> {
        let bad = |i: usize| {
            Err(Error::invalid(format!(
                "observable {}: component {i} does not exist in dimension {d}; use 0..{}",
                self.name(),
                d.saturating_sub(1)
            )))
        };
        match *self {
            BuiltinObservable::Component(i) if i >= d => bad(i),
            BuiltinObservable::Moment { i, .. } if i >= d => bad(i),
            BuiltinObservable::Moment { p: 0, .. } => Err(Error::invalid(format!(
                "observable {}: moment order p = 0 is constant; pass p ≥ 1",
                self.name()
            ))),
            BuiltinObservable::Product(i, j) if i.max(j) >= d => bad(i.max(j)),
            _ => Ok(()),
        }
    }
}

/// Checks every observable against dimension `d` and that there is at least one.
pub(crate) fn check_all(obs: &[&dyn Observable], d: usize) -> Result<()> {
    if obs.is_empty() {
        return Err(Error::invalid(
            "no observables given; pass at least one (e.g. the component x_0)",
        ));
    }
    obs.iter().try_for_each(|o| o.check_dim(d))
}
