//! The script API, one module per topic. [`TOPICS`] is the single list the engine registers
//! and `help()` groups by; add a line there for a new topic (see `engine/mod.rs`).
use rhai::Module;

pub mod array;
pub mod check;
pub mod closures;
pub mod general;
pub mod io;
pub mod learned;
pub mod memory;
pub mod navier_stokes;
pub mod plots;
pub mod responses;
pub mod scores;
pub mod sde;
pub mod systems;
pub mod trajectory;

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
        summary: "files (.npy, JSON, CSV), output folder, --quick flag, timing, warnings",
        module: io::module,
    },
    Topic {
        name: "memory",
        summary:
            "the memory budget every large request is checked against; size-checked pad and blob",
        module: memory::module,
    },
    Topic {
        name: "check",
        summary: "assertions for scripts, doc examples and test fixtures; exit(code)",
        module: check::module,
    },
    Topic {
        name: "systems",
        summary: "grid systems of SPEC 3.1 (Allen–Cahn, OU) and their simulation",
        module: systems::module,
    },
    Topic {
        name: "navier_stokes",
        summary:
            "stochastically forced 2-D Navier–Stokes (SPEC 3.2): simulation, ensembles, diagnostics",
        module: navier_stokes::module,
    },
    Topic {
        name: "sde",
        summary: "vector SDEs: typed in Rhai (closures: 20–60× slower, sequential members) or the \
             native zoo (linear OU, reduced climate, triad); simulate, exact scores, KGMM",
        module: sde::module,
    },
    Topic {
        name: "trajectory",
        summary: "stored runs: frames, data, start states",
        module: trajectory::module,
    },
    Topic {
        name: "scores",
        summary: "score functions ∇log ρ (exact, Gaussian) and the Stein check",
        module: scores::module,
    },
    Topic {
        name: "learned",
        summary: "learned scores by denoising score matching: train, save/load, sample, spectra",
        module: learned::module,
    },
    Topic {
        name: "response",
        summary: "Gaussian FDT, GFDT, perturbation ensembles, analytic OU, rel_err",
        module: responses::module,
    },
    Topic {
        name: "perturb",
        summary:
            "general perturbations u(x) and observables A(x): GFDT, Gaussian FDT, impulse/step \
                  ensembles, step and forced responses",
        module: general::module,
    },
    Topic {
        name: "plot",
        summary: "figures: response panels, lines, heatmaps, histograms (PNG/SVG)",
        module: plots::module,
    },
    Topic {
        name: "help",
        summary: "this help",
        module: super::help::module,
    },
];
