//! Script-side handle types wrapping the numerics (cheap to clone: `Arc` inside).
use crate::core::trajectory::Trajectory;
use crate::score::Score;
use crate::systems::allen_cahn::AcSystem;
use crate::systems::navier_stokes::{NsState, NsSystem};
use std::sync::Arc;

/// A grid system of SPEC 3.1 (Allen–Cahn, or OU when λ = 0). Script type "system".
#[derive(Clone)]
pub struct GridSystem(pub Arc<AcSystem>);

/// A stored ensemble run. Script type "trajectory". For Navier–Stokes runs the second field
/// holds each member's final full state (vorticity and forcing phases), the start states of
/// perturbation experiments and continuations.
#[derive(Clone)]
pub struct TrajHandle(pub Arc<Trajectory>, pub Option<Arc<Vec<NsState>>>);

impl TrajHandle {
    /// A handle without extra state.
    pub fn new(t: Trajectory) -> Self {
        TrajHandle(Arc::new(t), None)
    }
}

/// The stochastically forced 2-D Navier–Stokes system (SPEC 3.2). Script type "ns_system".
#[derive(Clone)]
pub struct NsHandle(pub Arc<NsSystem>);

/// Any score function. Script type "score".
#[derive(Clone)]
pub struct ScoreHandle(pub Arc<dyn Score>);

/// A trained (or partly trained) learned score model. Script type "model".
#[derive(Clone)]
pub struct ModelHandle(pub Arc<crate::score::learned::LearnedModel>);
