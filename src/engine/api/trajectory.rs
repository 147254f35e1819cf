//! Script API for stored runs: properties, frames, start states for perturbation ensembles.
use rhai::plugin::*;
use rhai::Module;

/// The `trajectory` topic module.
pub fn module() -> Module {
    let mut m = exported_module!(trajectory_api);
    m.set_custom_type::<crate::engine::handles::TrajHandle>("trajectory");
    m
}

#[fdtlab_macros::guarded]
#[export_module]
pub mod trajectory_api {
    use crate::core::trajectory::Trajectory;
    use crate::engine::array::{check_values, index_of, NdArray};
    use crate::engine::error::rt;
    use crate::engine::handles::TrajHandle;
    use crate::systems::impulse::start_states as ac_start_states;
    use ndarray::Axis;
    use rhai::{Dynamic, EvalAltResult, FLOAT, INT};

    type Res<T> = Result<T, Box<EvalAltResult>>;

    /// Wraps your own data as a trajectory: `data` is `[members, frames, ...state]` (for a grid
    /// `[M, T, N, N]`, for a vector system `[M, T, D]`), frames `dt` time units apart.
    ///
    /// ```rhai
    /// let tr = trajectory(zeros([2, 10, 3]), 0.1);
    /// assert_eq(tr.members, 2);
    /// assert_eq(tr.dt, 0.1);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn trajectory(data: Dynamic, dt: Dynamic) -> Res<TrajHandle> {
        let a = NdArray::from_dynamic(&data, "trajectory")?;
        let dt = crate::engine::array::num_arg(&dt, "trajectory: dt")?;
        if !(dt > 0.0 && dt.is_finite()) {
            return Err(rt(format!(
                "trajectory: dt = {dt} must be a positive time step"
            )));
        }
        if a.ndim() < 3 {
            return Err(rt(format!(
                "trajectory: data has shape {:?}; it needs [members, frames, ...state] (at least 3 axes; reshape a single run to [1, T, D])",
                a.shape()
            )));
        }
        if a.size() == 0 {
            let sh = a.shape();
            let which = if sh[0] == 0 {
                "no members"
            } else if sh[1] == 0 {
                "no frames"
            } else {
                "states with no values"
            };
            return Err(rt(format!(
                "trajectory: data has shape {sh:?}: {which}; pass [members ≥ 1, frames ≥ 1, \
                 ...state] with at least one value per state"
            )));
        }
        if !a.all_finite() {
            return Err(rt("trajectory: data contains NaN or infinity"));
        }
        // The trajectory owns its data: a copy unless `data` is not used elsewhere.
        check_values("trajectory", a.shape(), 8)?;
        Ok(TrajHandle::new(Trajectory {
            data: a.into_owned(),
            dt,
            t0: 0.0,
            system: crate::core::trajectory::USER_DATA.into(),
        }))
    }

    /// Number of independent members.
    ///
    /// ```rhai
    /// assert_eq(trajectory(zeros([3, 5, 2]), 1.0).members, 3);
    /// ```
    #[rhai_fn(get = "members", pure)]
    pub fn members(t: &mut TrajHandle) -> INT {
        t.0.members() as INT
    }

    /// Number of stored frames per member.
    ///
    /// ```rhai
    /// assert_eq(trajectory(zeros([3, 5, 2]), 1.0).frames, 5);
    /// ```
    #[rhai_fn(get = "frames", pure)]
    pub fn frames(t: &mut TrajHandle) -> INT {
        t.0.frames() as INT
    }

    /// Time between stored frames (time units): the lag unit of every response computed from it.
    ///
    /// ```rhai
    /// assert_eq(trajectory(zeros([1, 5, 2]), 0.5).dt, 0.5);
    /// ```
    #[rhai_fn(get = "dt", pure)]
    pub fn dt(t: &mut TrajHandle) -> FLOAT {
        t.0.dt
    }

    /// Physical time of frame 0 (the end of spin-up).
    ///
    /// ```rhai
    /// assert_eq(trajectory(zeros([1, 5, 2]), 0.5).t0, 0.0);
    /// ```
    #[rhai_fn(get = "t0", pure)]
    pub fn t0(t: &mut TrajHandle) -> FLOAT {
        t.0.t0
    }

    /// Description of the system that produced it.
    ///
    /// ```rhai
    /// assert_eq(trajectory(zeros([1, 5, 2]), 0.5).system, "user data");
    /// ```
    #[rhai_fn(get = "system", pure)]
    pub fn system(t: &mut TrajHandle) -> String {
        t.0.system.clone()
    }

    /// All data as an ndarray `[members, frames, ...state]` (a copy).
    ///
    /// ```rhai
    /// assert_eq(trajectory(zeros([1, 5, 2]), 0.5).data.shape, [1, 5, 2]);
    /// ```
    #[rhai_fn(get = "data", pure, return_raw)]
    pub fn data(t: &mut TrajHandle) -> Res<NdArray> {
        check_values("data", t.0.data.shape(), 8)?;
        Ok(NdArray::from_array(t.0.data.clone()))
    }

    /// The last frame of every member, `[members, ...state]`: the initial states to continue a run.
    ///
    /// ```rhai
    /// assert_eq(trajectory(zeros([2, 5, 3]), 1.0).last.shape, [2, 3]);
    /// ```
    #[rhai_fn(get = "last", pure)]
    pub fn last(t: &mut TrajHandle) -> NdArray {
        let f = t.0.frames() - 1;
        NdArray::from_array(t.0.data.index_axis(Axis(1), f).to_owned())
    }

    /// One stored state: member `m`, frame `k` (negative `k` counts from the end).
    ///
    /// ```rhai
    /// let tr = trajectory(zeros([2, 5, 3]), 1.0);
    /// assert_eq(tr.frame(1, -1).shape, [3]);
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn frame(t: &mut TrajHandle, m: INT, k: INT) -> Res<NdArray> {
        let mi = index_of(t.0.members(), m, "frame: member")?;
        let ki = index_of(t.0.frames(), k, "frame: frame")?;
        let a = t.0.data.index_axis(Axis(0), mi);
        Ok(NdArray::from_array(a.index_axis(Axis(0), ki).to_owned()))
    }

    /// Every stored value as a flat 1-D ndarray (e.g. for a pixel histogram).
    ///
    /// ```rhai
    /// assert_eq(trajectory(zeros([2, 5, 3]), 1.0).values().len, 30);
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn values(t: &mut TrajHandle) -> Res<NdArray> {
        check_values("values", &[t.0.data.len()], 8)?;
        let v: Vec<f64> = t.0.data.iter().copied().collect();
        Ok(NdArray::from_shape_vec(&[v.len()], v)?)
    }

    /// Keeps every `k`-th frame (frame spacing becomes `k·dt`), e.g. to decorrelate training data.
    ///
    /// ```rhai
    /// let tr = trajectory(zeros([1, 10, 2]), 1.0).thin(5);
    /// assert_eq(tr.frames, 2);
    /// assert_eq(tr.dt, 5.0);
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn thin(t: &mut TrajHandle, k: INT) -> Res<TrajHandle> {
        if k < 1 {
            return Err(rt(format!("thin: k = {k} must be ≥ 1")));
        }
        let view = t.0.data.slice_axis(
            Axis(1),
            ndarray::Slice::new(0, None, k.min(isize::MAX as INT) as isize),
        );
        check_values("thin", view.shape(), 8)?;
        let data = view.to_owned();
        Ok(TrajHandle::new(Trajectory {
            data,
            dt: t.0.dt * k as f64,
            t0: t.0.t0,
            system: t.0.system.clone(),
        }))
    }

    /// `count` independent start states for perturbation experiments: frames at least `spacing`
    /// time units apart within each member, taken round-robin across members; returns
    /// `[count, ...state]` (vector trajectories of the `sde` topic: `[count, D]`).
    ///
    /// ```rhai
    /// let tr = ou(#{ n: 8 }).simulate(#{ members: 2, spinup: 1.0, duration: 20.0 });
    /// let s = start_states(tr, 5.0, 6);
    /// assert_eq(s.shape, [6, 8, 8]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn start_states(t: TrajHandle, spacing: Dynamic, count: INT) -> Res<NdArray> {
        let spacing = crate::engine::array::num_arg(&spacing, "start_states: spacing")?;
        if count < 1 {
            return Err(rt(format!("start_states: count = {count} must be ≥ 1")));
        }
        if !crate::engine::api::scores::is_grid(&t.0) {
            // Vector states (SDE zoo): [count, D].
            let s = crate::response::sde_ensemble::starts_from_trajectory(
                &t.0,
                count as usize,
                spacing,
            )?;
            return Ok(NdArray::from_array(s.into_dyn()));
        }
        Ok(NdArray::from_array(
            ac_start_states(&t.0, spacing, count as usize)?.into_dyn(),
        ))
    }

    /// Summary line: members, frames, dt, system.
    ///
    /// ```rhai
    /// print(trajectory(zeros([1, 5, 2]), 0.5));
    /// ```
    #[rhai_fn(name = "to_string", pure)]
    pub fn to_string(t: &mut TrajHandle) -> String {
        super::describe(&t.0)
    }

    /// Summary line (debug form).
    ///
    /// ```rhai
    /// debug(trajectory(zeros([1, 5, 2]), 0.5));
    /// ```
    #[rhai_fn(name = "to_debug", pure)]
    pub fn to_debug(t: &mut TrajHandle) -> String {
        super::describe(&t.0)
    }
}

fn describe(t: &crate::core::trajectory::Trajectory) -> String {
    format!(
        "trajectory: {} members × {} frames of {:?}, dt = {} (t0 = {}) — {}",
        t.members(),
        t.frames(),
        t.state_shape(),
        t.dt,
        t.t0,
        t.system
    )
}
