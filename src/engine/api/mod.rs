//! The script API, one module per topic. [`TOPICS`] is the single list the engine registers
//! and `help()` groups by; add a line there for a new topic (see `engine/mod.rs`).
use rhai::Module;

pub mod array;
pub mod check;
pub mod io;

/// A group of script functions: registered together, listed together by `help()`.
pub struct Topic {
    /// Short name shown by `help()` and accepted by `help("name")`.
    pub name: &'static str,
    /// One-line description for `help()`.
    pub summary: &'static str,
    /// Builds the module (usually `exported_module!(...)` plus loops of `FuncRegistration`).
    pub module: fn() -> Module,
}

/// Every topic, in the order `help()` lists them.
pub const TOPICS: &[Topic] = &[
    Topic {
        name: "ndarray",
        summary: "n-dimensional float arrays (numpy-like; value semantics, cheap copies)",
        module: array::module,
    },
    Topic {
        name: "io",
        summary: "files (.npy, JSON, CSV), output folder, --quick flag, timing",
        module: io::module,
    },
    Topic {
        name: "check",
        summary: "assertions for scripts, doc examples and test fixtures; exit(code)",
        module: check::module,
    },
    Topic {
        name: "help",
        summary: "this help",
        module: super::help::module,
    },
];
