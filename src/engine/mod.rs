//! The only bridge between the numerics and Rhai: one engine constructor ([`new_engine`]) used
//! by `fdtlab run`, the REPL and the tests, so scripts and typed lines behave identically.
//!
//! # Adding an API module (a "topic")
//!
//! 1. Create `src/engine/api/<topic>.rs`:
//!    ```ignore
//!    use rhai::plugin::*;
//!    use rhai::Module;
//!
//!    pub fn module() -> Module {
//!        let mut m = exported_module!(sim_api);
//!        m.set_custom_type::<Trajectory>("trajectory"); // script name of a handle type
//!        m
//!    }
//!
//!    #[export_module]
//!    pub mod sim_api {
//!        use crate::engine::{options::parse_opts, array::NdArray};
//!        use rhai::{EvalAltResult, Map};
//!        type Res<T> = Result<T, Box<EvalAltResult>>;
//!
//!        /// Simulates an OU ensemble. First line = the summary `help()` shows.
//!        ///
//!        /// Options: `dt` (f64, 0.01), `steps` (int, 1000), `seed` (int, 1).
//!        ///
//!        /// ```rhai
//!        /// let tr = simulate_ou(#{dt: 0.01, steps: 100});
//!        /// assert_eq(tr.data.ndim, 3);
//!        /// ```
//!        #[rhai_fn(return_raw)]
//!        pub fn simulate_ou(opts: Map) -> Res<Trajectory> {
//!            let o: OuOpts = parse_opts(opts, "simulate_ou")?; // typo'd keys are errors
//!            Ok(crate::systems::ou::simulate(&o)?)          // crate::Error -> catchable error
//!        }
//!
//!        /// The trajectory's data as an ndarray [members, frames, ...].
//!        ///
//!        /// ```rhai
//!        /// let d = simulate_ou(#{steps: 10}).data;
//!        /// ```
//!        #[rhai_fn(get = "data", pure)]
//!        pub fn data(t: &mut Trajectory) -> NdArray { NdArray::from_array(t.data.clone()) }
//!    }
//!    ```
//! 2. `pub mod <topic>;` in `api/mod.rs` and one [`api::Topic`] line in [`api::TOPICS`].
//!
//! Rules the tests enforce (`tests/engine_docs.rs`): every registered function (properties
//! included; operators exempt) has a `///` doc comment with a ```` ```rhai ```` example, and
//! every example runs without error (in `--quick` mode, writing under a temp `out_path`). Use
//! ```` ```rhai,no_run ```` for an example too slow to run.
//!
//! Conventions:
//! - Fallible functions: `#[rhai_fn(return_raw)]` returning `Result<T, Box<EvalAltResult>>`;
//!   `?` on a [`crate::Result`] gives a catchable runtime error with the call-site position
//!   ([`error`]). Ad-hoc messages: `Err(error::rt(format!(..)))`.
//! - Methods that do not mutate: `pure`; properties: `get = "name"`.
//! - Numbers: script integers are not promoted to floats. Take `Dynamic` and call
//!   [`array::num_arg`], or register both `FLOAT` and `INT` overloads.
//! - Options: an object map → struct with [`options::parse_opts`]; handles (functions, models)
//!   come out of the map first with [`options::take`].
//! - Arrays: [`array::NdArray`] (`from_array`, `view`, `into_owned`, `from_dynamic`).
//! - Handle types (trajectories, models): `m.set_custom_type::<T>("name")` in `module()` and a
//!   `#[rhai_fn(name = "to_string", name = "to_debug", pure)]` function, so `print` and the REPL
//!   echo show something readable. Keep handles cheap to clone (`Arc` inside): Rhai clones
//!   values on assignment and argument passing.
//! - Run settings (`--quick`, output folder): [`config`] from a `NativeCallContext` argument.
//! - Long loops poll [`crate::core::interrupt::check`]; script loops are stopped by `on_progress`.
use rhai::{Dynamic, Engine, NativeCallContext};
use std::path::PathBuf;
use std::sync::Arc;

pub mod api;
pub mod array;
pub mod error;
pub mod explain;
pub mod guard;
pub mod handles;
pub mod help;
pub mod options;
pub mod stdlib;

pub use array::NdArray;
pub use error::{format_error, rt};
pub use options::parse_opts;

/// Settings of one run, visible to native functions through [`config`].
#[derive(Clone, Debug, PartialEq)]
pub struct EngineConfig {
    /// `--quick`: scripts use small sizes (tests run every script this way).
    pub quick: bool,
    /// Folder for `out_path(name)`.
    pub out_dir: PathBuf,
    /// Folder of the running script (base of `import "file"`); `None` in the REPL.
    pub script_dir: Option<PathBuf>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            quick: false,
            out_dir: PathBuf::from("out/repl"),
            script_dir: None,
        }
    }
}

/// The engine every fdtlab script runs in: limits, Ctrl-C polling, all [`api::TOPICS`], the
/// embedded stdlib and file imports.
pub fn new_engine(cfg: &EngineConfig) -> Engine {
    let mut engine = Engine::new();
    // Limits: generous enough for real scripts, tight enough to turn runaway recursion into an
    // error instead of a stack overflow.
    engine.set_max_call_levels(256);
    engine.set_max_expr_depths(256, 128);
    engine.set_max_operations(0);
    engine.set_max_modules(1000);
    engine.set_max_string_size(0);
    engine.set_max_array_size(0);
    engine.set_max_map_size(0);
    // Ctrl-C stops pure-script loops too (native loops poll `interrupt::check`).
    engine.on_progress(|_| {
        crate::core::interrupt::requested().then(|| Dynamic::from(error::INTERRUPTED.to_string()))
    });
    engine.set_default_tag(Dynamic::from(Arc::new(cfg.clone())));
    engine.register_type_with_name::<NdArray>("ndarray");
    for t in api::TOPICS {
        engine.register_global_module((t.module)().into());
    }
    stdlib::install(&mut engine, cfg.script_dir.as_deref());
    engine
}

/// The [`EngineConfig`] of the running engine (defaults if the engine was not made by
/// [`new_engine`]).
pub fn config(ctx: &NativeCallContext) -> Arc<EngineConfig> {
    ctx.tag()
        .and_then(|t| t.read_lock::<Arc<EngineConfig>>().map(|c| Arc::clone(&c)))
        .unwrap_or_else(|| Arc::new(EngineConfig::default()))
}
