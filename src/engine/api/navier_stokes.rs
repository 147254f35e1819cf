//! Script API for the stochastically forced 2-D Navier–Stokes system (SPEC 3.2): simulation,
//! perturbation ensembles and diagnostics. Its trajectories work with every estimator.
use rhai::plugin::*;
use rhai::Module;

/// The `navier_stokes` topic module.
pub fn module() -> Module {
    let mut m = exported_module!(ns_api);
    m.set_custom_type::<crate::engine::handles::NsHandle>("ns_system");
    m
}

#[fdtlab_macros::guarded]
#[export_module]
pub mod ns_api {
    use crate::core::response::Response;
    use crate::engine::array::NdArray;
    use crate::engine::error::rt;
    use crate::engine::handles::{NsHandle, TrajHandle};
    use crate::engine::options::{parse_opts, take};
    use crate::systems::navier_stokes::{
        impulse_ns, ns_energy_enstrophy, ns_energy_spectrum, simulate_ns_with_states,
        NsImpulseOpts, NsParams, NsRunOpts, NsSystem,
    };
    use rhai::{EvalAltResult, Map, FLOAT, INT};
    use std::sync::Arc;

    type Res<T> = Result<T, Box<EvalAltResult>>;

    /// The stochastically forced 2-D Navier–Stokes system in vorticity form (SPEC 3.2) with the
    /// paper's parameters at N = 32 (Δt = 1/128, background flow π, hypo-drag 1e-2,
    /// hyperviscosity 1e-5, forcing amplitude 300(N/128)², phases diffusing inside every step,
    /// 2/3-rule dealiasing).
    ///
    /// ```rhai
    /// let ns = navier_stokes();
    /// assert_eq(ns.n, 32);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn navier_stokes() -> Res<NsHandle> {
        Ok(NsHandle(Arc::new(NsSystem::new(NsParams::default())?)))
    }

    /// Navier–Stokes with options: `n`, `dt`, `background_u`, `hypo`, `hyper`, `forcing_amp`,
    /// `forcing_k2_max`, `mean_forcing_removal`, `dealias`.
    ///
    /// ```rhai
    /// let ns = navier_stokes(#{ n: 16 });
    /// assert_eq(ns.n, 16);
    /// ```
    #[rhai_fn(name = "navier_stokes", return_raw)]
    pub fn navier_stokes_opts(opts: Map) -> Res<NsHandle> {
        let p: NsParams = parse_opts(opts, "navier_stokes")?;
        Ok(NsHandle(Arc::new(NsSystem::new(p)?)))
    }

    /// Simulates independent members (vorticity frames `[M, T, N, N]`); the final vorticity and
    /// forcing phases of each member are kept with the trajectory for `ns_impulse_response`
    /// and for continuing. Options: `members`, `spinup`, `duration` (time units), `save_every`
    /// (steps), `seed`, `init_amp`, and `from`: a trajectory made by `simulate` to continue
    /// from its members' final states (vorticity and phases; `members` defaults to its member
    /// count and `spinup` to 0, so frame 0 is that state). Give a continuation a new `seed`:
    /// member m draws its phase increments from stream m of the seed, so the same seed
    /// replays the earlier noise. A run over the memory budget is refused before it starts
    /// (see `memory_budget`).
    ///
    /// ```rhai
    /// let ns = navier_stokes(#{ n: 16 });
    /// let tr = ns.simulate(#{ members: 2, spinup: 0.5, duration: 0.25, save_every: 4 });
    /// assert_eq(tr.frames, 8);
    /// let more = ns.simulate(#{ from: tr, duration: 0.25, save_every: 4, seed: 1 });
    /// assert_eq(more.members, 2);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn simulate(sys: &mut NsHandle, opts: Map) -> Res<TrajHandle> {
        let mut opts = opts;
        let from: Option<TrajHandle> = take(&mut opts, "from", "simulate")?;
        let init = match &from {
            Some(t) => Some(t.1.clone().ok_or_else(|| {
                rt("simulate: option 'from' must be a trajectory made by navier_stokes().simulate(..) \
                    (it carries the final states); this one has none")
            })?),
            None => None,
        };
        if let Some(st) = &init {
            if !opts.contains_key("members") {
                opts.insert("members".into(), rhai::Dynamic::from_int(st.len() as INT));
            }
            if !opts.contains_key("spinup") {
                opts.insert("spinup".into(), rhai::Dynamic::from_float(0.0));
            }
        }
        let o: NsRunOpts = parse_opts(opts, "simulate")?;
        let (t, states) = simulate_ns_with_states(&sys.0, &o, init.as_ref().map(|s| s.as_slice()))?;
        Ok(TrajHandle(Arc::new(t), Some(Arc::new(states))))
    }

    /// Perturbation ensemble on Navier–Stokes: impulse ±`eps` at pixel (1,1) (or random signs on
    /// all pixels), common random numbers including the forcing phases, starting from the final
    /// states of `traj`'s members (chained forward when there are more experiments than members).
    /// Options: `eps` (1/64), `window` (lags), `save_every`, `experiments`, `mode`, `seed`, `pixel`.
    ///
    /// ```rhai
    /// let ns = navier_stokes(#{ n: 16 });
    /// let tr = ns.simulate(#{ members: 2, spinup: 0.5, duration: 0.1, save_every: 4 });
    /// let r = ns_impulse_response(ns, tr, #{ experiments: 2, window: 8 });
    /// assert_eq(r.lags, 8);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn ns_impulse_response(sys: NsHandle, traj: TrajHandle, opts: Map) -> Res<Response> {
        let o: NsImpulseOpts = parse_opts(opts, "ns_impulse_response")?;
        let states = traj.1.as_ref().ok_or_else(|| {
            rt("ns_impulse_response: this trajectory has no Navier–Stokes states; pass one made by navier_stokes().simulate(..)")
        })?;
        Ok(impulse_ns(&sys.0, states, &o)?)
    }

    /// Energy ½⟨|u'|²⟩ (background flow excluded) and enstrophy ½⟨ζ²⟩ per member and frame:
    /// `#{ energy: [M, T], enstrophy: [M, T] }` as ndarrays.
    ///
    /// ```rhai
    /// let ns = navier_stokes(#{ n: 16 });
    /// let d = ns_energy(ns, ns.simulate(#{ members: 1, spinup: 0.1, duration: 0.1, save_every: 4 }));
    /// assert_eq(d.energy.shape, [1, 3]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn ns_energy(sys: NsHandle, traj: TrajHandle) -> Res<Map> {
        let (e, z) = ns_energy_enstrophy(&sys.0, &traj.0)?;
        let mut m = Map::new();
        m.insert(
            "energy".into(),
            rhai::Dynamic::from(NdArray::from_array(e.into_dyn())),
        );
        m.insert(
            "enstrophy".into(),
            rhai::Dynamic::from(NdArray::from_array(z.into_dyn())),
        );
        Ok(m)
    }

    /// Isotropic energy spectrum averaged over members and frames: `#{ k, e }` (ndarrays,
    /// shells of |k|).
    ///
    /// ```rhai
    /// let ns = navier_stokes(#{ n: 16 });
    /// let s = ns_spectrum(ns, ns.simulate(#{ members: 1, spinup: 0.1, duration: 0.1, save_every: 4 }));
    /// assert(s.k.len > 1);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn ns_spectrum(sys: NsHandle, traj: TrajHandle) -> Res<Map> {
        let (k, e) = ns_energy_spectrum(&sys.0, &traj.0)?;
        let arr = |v: Vec<f64>| {
            rhai::Dynamic::from(NdArray::from_array(ndarray::Array1::from(v).into_dyn()))
        };
        let mut m = Map::new();
        m.insert("k".into(), arr(k));
        m.insert("e".into(), arr(e));
        Ok(m)
    }

    /// Grid size N.
    ///
    /// ```rhai
    /// assert_eq(navier_stokes().n, 32);
    /// ```
    #[rhai_fn(get = "n", pure)]
    pub fn n(sys: &mut NsHandle) -> INT {
        sys.0.n() as INT
    }

    /// Integrator time step (time units).
    ///
    /// ```rhai
    /// assert_eq(navier_stokes().dt, 1.0 / 128);
    /// ```
    #[rhai_fn(get = "dt", pure)]
    pub fn dt(sys: &mut NsHandle) -> FLOAT {
        sys.0.dt()
    }

    /// Describes the system.
    ///
    /// ```rhai
    /// print(navier_stokes());
    /// ```
    #[rhai_fn(name = "to_string", pure)]
    pub fn to_string(sys: &mut NsHandle) -> String {
        sys.0.describe()
    }

    /// Describes the system (debug form).
    ///
    /// ```rhai
    /// debug(navier_stokes());
    /// ```
    #[rhai_fn(name = "to_debug", pure)]
    pub fn to_debug(sys: &mut NsHandle) -> String {
        sys.0.describe()
    }
}
