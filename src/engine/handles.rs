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

/// The script name of a value's type with its article, for messages ("a trajectory", "an
/// integer", "a map"): never a Rust path such as `fdtlab::engine::handles::TrajHandle`.
pub fn script_type(v: &rhai::Dynamic) -> String {
    script_type_name(v.type_name())
}

/// [`script_type`] from a type name as Rhai reports it (e.g. the `Err` of `Dynamic::as_int`).
pub fn script_type_name(full: &str) -> String {
    let short = full.rsplit("::").next().unwrap_or(full);
    let name = match short {
        "i64" | "i32" | "INT" => "integer",
        "f64" | "f32" | "FLOAT" => "float",
        "bool" => "bool (true/false)",
        "ImmutableString" | "String" | "string" | "&str" => "string",
        "char" => "char",
        "()" => "() (no value)",
        "Array" | "array" => "array",
        "Map" | "map" => "map",
        "FnPtr" | "Fn" => "function",
        "Blob" | "blob" => "blob",
        "TrajHandle" => "trajectory",
        "NdArray" => "ndarray",
        "ModelHandle" => "model",
        "NsHandle" => "ns_system",
        "GridSystem" => "system",
        "SdeHandle" => "sde",
        "ScoreHandle" => "score",
        "Response" => "response",
        "PertSpec" => "perturbation",
        "ObsSpec" => "observable",
        other => other,
    };
    let article = match name.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        Some('(') => "",
        _ => "a",
    };
    if article.is_empty() {
        name.to_string()
    } else {
        format!("{article} {name}")
    }
}

/// A hint for a value given where numbers are expected: which of its parts holds them.
pub fn numbers_hint(v: &rhai::Dynamic) -> &'static str {
    if v.is::<TrajHandle>() {
        "; pass its numbers, tr.data ([members, frames, ...state])"
    } else if v.is::<crate::core::response::Response>() {
        "; pass its numbers, r.values (and r.stderr)"
    } else {
        ""
    }
}
