//! Script-side handle types wrapping the numerics (cheap to clone: `Arc` inside).
use crate::score::Score;
use crate::systems::allen_cahn::AcSystem;
use crate::trajectory::Trajectory;
use std::sync::Arc;

/// A grid system of SPEC 3.1 (Allen–Cahn, or OU when λ = 0). Script type "system".
#[derive(Clone)]
pub struct GridSystem(pub Arc<AcSystem>);

/// A stored ensemble run. Script type "trajectory".
#[derive(Clone)]
pub struct TrajHandle(pub Arc<Trajectory>);

/// Any score function. Script type "score".
#[derive(Clone)]
pub struct ScoreHandle(pub Arc<dyn Score>);

/// A trained (or partly trained) learned score model. Script type "model".
#[derive(Clone)]
pub struct ModelHandle(pub Arc<crate::score::learned::LearnedModel>);
