//! Script API for the grid systems of SPEC 3.1: `allen_cahn`, `ou`, `simulate`.
use rhai::plugin::*;
use rhai::Module;

/// The `systems` topic module.
pub fn module() -> Module {
    let mut m = exported_module!(systems_api);
    m.set_custom_type::<crate::engine::handles::GridSystem>("system");
    m
}

#[fdtlab_macros::guarded]
#[export_module]
pub mod systems_api {
    use crate::engine::array::NdArray;
    use crate::engine::error::rt;
    use crate::engine::handles::{GridSystem, TrajHandle};
    use crate::engine::options::parse_opts;
    use crate::systems::allen_cahn::{simulate as ac_simulate, AcParams, AcSystem, RunOpts};
    use rhai::{Dynamic, EvalAltResult, Map, FLOAT, INT};
    use std::sync::Arc;

    type Res<T> = Result<T, Box<EvalAltResult>>;

    fn build(p: AcParams) -> Res<GridSystem> {
        Ok(GridSystem(Arc::new(AcSystem::new(p)?)))
    }

    /// The preconditioned stochastic Allen–Cahn system of SPEC 3.1 with the paper's parameters:
    /// `dθ = [Q f(θ) + κΔθ − U∂ₓθ − γθ] dt + N Q^{1/2} dW`, `f = λθ(1 − θ²)`, on an N×N periodic
    /// grid (N 32, λ 4000, κ 2.5e-4, U 0.02, γ 0, ε² 0.004, dt 1/32).
    ///
    /// ```rhai
    /// let sys = allen_cahn();
    /// assert_eq(sys.n, 32);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn allen_cahn() -> Res<GridSystem> {
        build(AcParams::allen_cahn())
    }

    /// Allen–Cahn with options overriding the paper's values: `n`, `lambda`, `kappa`, `u`,
    /// `gamma`, `eps2`, `dt` (unknown keys are errors).
    ///
    /// ```rhai
    /// let sys = allen_cahn(#{ n: 16, dt: 1.0 / 64 });
    /// assert_eq(sys.dt, 1.0 / 64);
    /// ```
    #[rhai_fn(name = "allen_cahn", return_raw)]
    pub fn allen_cahn_opts(opts: Map) -> Res<GridSystem> {
        build(parse_opts::<AcParams>(opts, "allen_cahn")?)
    }

    /// The linear limit of Allen–Cahn (λ = 0): an Ornstein–Uhlenbeck process with spatially
    /// correlated noise, γ = 0.01 so the mean mode is stationary (SPEC 3.1). Its exact score is
    /// Gaussian and its exact response is known (`analytic_response`).
    ///
    /// ```rhai
    /// let sys = ou();
    /// assert_eq(sys.params.lambda, 0.0);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn ou() -> Res<GridSystem> {
        build(AcParams::ou())
    }

    /// OU with options (same keys as `allen_cahn`; defaults λ = 0, γ = 0.01). `gamma: 0` is
    /// refused: the mean mode would random-walk with no stationary state.
    ///
    /// ```rhai
    /// let sys = ou(#{ n: 16 });
    /// assert_eq(sys.n, 16);
    /// ```
    #[rhai_fn(name = "ou", return_raw)]
    pub fn ou_opts(mut opts: Map) -> Res<GridSystem> {
        opts.entry("lambda".into())
            .or_insert(Dynamic::from_float(0.0));
        opts.entry("gamma".into())
            .or_insert(Dynamic::from_float(0.01));
        build(parse_opts::<AcParams>(opts, "ou")?)
    }

    /// Simulates an ensemble of independent members: spin-up, then a frame every `save_every`
    /// steps. Options: `members` (8), `spinup` (100, time units), `duration` (200, time units
    /// of stored record), `save_every` (32 steps), `seed` (0), `init_amp` (0.1). Members run in
    /// parallel and are bit-identical for a seed whatever the thread count. Stops with an error
    /// naming member and time on NaN/blow-up; Ctrl-C stops it. A run whose trajectory (plus
    /// per-thread buffers) would exceed the memory budget is refused before it starts (see
    /// `memory_budget`, `set_memory_budget`).
    ///
    /// ```rhai
    /// let tr = ou(#{ n: 8 }).simulate(#{ members: 2, spinup: 1.0, duration: 4.0 });
    /// assert_eq(tr.frames, 4);
    /// assert_eq(tr.data.shape, [2, 4, 8, 8]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn simulate(sys: &mut GridSystem, opts: Map) -> Res<TrajHandle> {
        let o: RunOpts = parse_opts(opts, "simulate")?;
        Ok(TrajHandle::new(ac_simulate(&sys.0, &o, None)?))
    }

    /// Simulates starting from given states `init` (ndarray `[members, N, N]`, e.g. `tr.last`),
    /// to continue a run. Use a new `seed` for a continuation.
    ///
    /// ```rhai
    /// let sys = ou(#{ n: 8 });
    /// let a = sys.simulate(#{ members: 2, spinup: 1.0, duration: 2.0 });
    /// let b = sys.simulate(#{ members: 2, spinup: 0.0, duration: 2.0, seed: 1 }, a.last);
    /// assert_eq(b.members, 2);
    /// ```
    #[rhai_fn(name = "simulate", return_raw)]
    pub fn simulate_from(sys: &mut GridSystem, opts: Map, init: NdArray) -> Res<TrajHandle> {
        let o: RunOpts = parse_opts(opts, "simulate")?;
        let n = sys.0.n();
        let a = init.view();
        let a3 = a.into_dimensionality::<ndarray::Ix3>().map_err(|_| {
            rt(format!(
                "simulate: init must have shape [members, {n}, {n}]"
            ))
        })?;
        if a3.shape()[1] != n || a3.shape()[2] != n || a3.shape()[0] != o.members {
            return Err(rt(format!(
                "simulate: init has shape {:?} but members = {} on a {n}×{n} grid needs [{}, {n}, {n}]",
                a3.shape(),
                o.members,
                o.members
            )));
        }
        Ok(TrajHandle::new(ac_simulate(&sys.0, &o, Some(a3))?))
    }

    /// Grid size N.
    ///
    /// ```rhai
    /// assert_eq(allen_cahn().n, 32);
    /// ```
    #[rhai_fn(get = "n", pure)]
    pub fn n(sys: &mut GridSystem) -> INT {
        sys.0.n() as INT
    }

    /// Integrator time step (time units).
    ///
    /// ```rhai
    /// assert_eq(ou().dt, 1.0 / 32);
    /// ```
    #[rhai_fn(get = "dt", pure)]
    pub fn dt(sys: &mut GridSystem) -> FLOAT {
        sys.0.params().dt
    }

    /// All parameters as a map (`n`, `lambda`, `kappa`, `u`, `gamma`, `eps2`, `dt`).
    ///
    /// ```rhai
    /// assert_eq(allen_cahn().params.lambda, 4000.0);
    /// ```
    #[rhai_fn(get = "params", pure, return_raw)]
    pub fn params(sys: &mut GridSystem) -> Res<Dynamic> {
        let j = serde_json::to_value(sys.0.params()).map_err(|e| rt(e.to_string()))?;
        Ok(crate::engine::options::json_to_dynamic(&j))
    }

    /// The drift `F(θ)` of one field (ndarray `[N, N]`).
    ///
    /// ```rhai
    /// let sys = ou(#{ n: 8 });
    /// let f = sys.drift(zeros([8, 8]));
    /// assert_eq(f.max(), 0.0);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn drift(sys: &mut GridSystem, field: NdArray) -> Res<NdArray> {
        let n = sys.0.n();
        if field.shape() != [n, n] {
            return Err(rt(format!(
                "drift: field has shape {:?}, expected [{n}, {n}]",
                field.shape()
            )));
        }
        let x: Vec<f64> = field.view().iter().copied().collect();
        let mut out = vec![0.0; n * n];
        let mut ws = sys.0.workspace();
        sys.0.drift(&x, &mut out, &mut ws)?;
        Ok(NdArray::from_shape_vec(&[n, n], out)?)
    }

    /// Describes the system.
    ///
    /// ```rhai
    /// print(ou());
    /// ```
    #[rhai_fn(name = "to_string", pure)]
    pub fn to_string(sys: &mut GridSystem) -> String {
        sys.0.describe()
    }

    /// Describes the system (debug form).
    ///
    /// ```rhai
    /// debug(ou());
    /// ```
    #[rhai_fn(name = "to_debug", pure)]
    pub fn to_debug(sys: &mut GridSystem) -> String {
        sys.0.describe()
    }
}
