//! Ensembles of independent Navier–Stokes members: [`simulate_ns`], [`simulate_ns_with_states`]
//! and the throughput benchmark [`bench_ns_member_steps`].
//!
//! **State and continuation.** A member's state is its vorticity *and* its forcing phases
//! ([`NsState`]). A [`Trajectory`] stores fields only, so [`simulate_ns_with_states`] also
//! returns every member's final `NsState`; pass those as `init` to continue the run (use a new
//! `seed`: member `m` draws from `stream_rng(seed, m)`, and reusing the seed would replay the
//! first run's phase increments) or as start states of the impulse ensemble
//! ([`super::impulse::impulse_ns`]).
//!
//! **Reproducibility.** Member `m` draws its initial phases, its initial field (when no `init`
//! is given) and all its phase increments from `crate::core::rng::stream_rng(seed, m)`, in that order;
//! results are bit-identical for any number of threads.
use super::forcing::PhasePath;
use super::system::{NsSystem, NsWorkspace, BLOWUP_RMS};
use crate::core::progress::Progress;
use crate::core::rng::{stream_rng, Rng};
use crate::core::trajectory::Trajectory;
use crate::{Error, Result};
use ndarray::parallel::prelude::*;
use ndarray::{Array4, ArrayViewMut3, Axis};
use num_complex::Complex64 as C64;
use rand::RngExt;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};

/// Steps between Ctrl-C polls / progress updates.
pub(crate) const POLL_EVERY: u64 = 256;

/// The full state of one member: vorticity and forcing phases at time `t`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NsState {
    /// Vorticity, `n*n` values, row-major with x = axis 0 (`zeta[ix * n + iy]`).
    pub zeta: Vec<f64>,
    /// Forcing phases, one per forced wavenumber (`NsSystem::forcing().modes()` order).
    pub phases: Vec<f64>,
    /// Physical time.
    pub t: f64,
}

/// Options of an ensemble run. Times are physical; frames are `dt · save_every` apart.
///
/// Defaults: 4 members, spin-up 300 time units (measured at the default parameters, N = 32:
/// enstrophy is stationary after ≈ 50 time units, the energy — held mostly by the |k| = 1
/// modes, damped by the hypo-drag on a ~50-unit time scale — after ≈ 200–300; the paper used
/// 1024), 8 time units of frames at every step (1024 frames, the paper's data window), seed 0,
/// initial RMS 0.5 (the stationary vorticity RMS is ≈ 0.44).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NsRunOpts {
    /// Number of independent members.
    pub members: usize,
    /// Spin-up time discarded before frame 0 (rounded to whole steps).
    pub spinup: f64,
    /// Time covered by the stored frames: `round(duration / (dt·save_every))` frames, frame 0
    /// right after the spin-up.
    pub duration: f64,
    /// Integrator steps between stored frames.
    pub save_every: usize,
    /// Seed; member `m` uses `stream_rng(seed, m)`.
    pub seed: u64,
    /// RMS of the random initial vorticity (a Gaussian field on the forced, resolved
    /// wavenumbers, k ≠ 0) when no `init` states are given.
    pub init_amp: f64,
}

impl Default for NsRunOpts {
    fn default() -> Self {
        NsRunOpts {
            members: 4,
            spinup: 300.0,
            duration: 8.0,
            save_every: 1,
            seed: 0,
            init_amp: 0.5,
        }
    }
}

/// Whole number of steps in `time` (≥ 0).
pub(crate) fn steps_in(what: &str, time: f64, dt: f64) -> Result<u64> {
    if !(time.is_finite() && time >= 0.0) {
        return Err(Error::invalid(format!(
            "{what} = {time} must be finite and ≥ 0 (physical time units)"
        )));
    }
    Ok((time / dt).round() as u64)
}

/// One member being integrated: spectrum, phase path, time and step counter.
pub(crate) struct Member {
    pub(crate) z: Vec<C64>,
    pub(crate) path: PhasePath,
    pub(crate) t: f64,
    pub(crate) step: u64,
}

impl Member {
    /// A member from a given state (checked: lengths and finiteness).
    pub(crate) fn from_state(sys: &NsSystem, s: &NsState, ws: &mut NsWorkspace) -> Result<Self> {
        sys.check_len("initial state zeta", s.zeta.len())?;
        let np = sys.forcing().phases_len();
        if s.phases.len() != np {
            return Err(Error::shape(format!(
                "initial state has {} phases but this system forces {np} wavenumbers; start \
                 states must come from a system with the same n and forcing_k2_max",
                s.phases.len()
            )));
        }
        if let Some(i) = s.zeta.iter().position(|v| !v.is_finite()) {
            return Err(Error::invalid(format!(
                "initial state zeta[{i}] = {} is not finite",
                s.zeta[i]
            )));
        }
        if s.phases.iter().any(|v| !v.is_finite()) || !s.t.is_finite() {
            return Err(Error::invalid(
                "initial state phases / time must be finite".to_string(),
            ));
        }
        let mut z = sys.zero_spec();
        sys.to_spec(&s.zeta, &mut z, ws);
        let path = PhasePath::new(sys.forcing(), s.phases.clone(), z.len());
        Ok(Member {
            z,
            path,
            t: s.t,
            step: 0,
        })
    }

    /// A random start at t = 0: uniform phases, then a Gaussian vorticity field on the forced,
    /// resolved wavenumbers (k ≠ 0) scaled to RMS `init_amp` (n² normals are always drawn).
    pub(crate) fn random(
        sys: &NsSystem,
        rng: &mut Rng,
        init_amp: f64,
        ws: &mut NsWorkspace,
    ) -> Self {
        let phases = sys.forcing().random_phases(rng);
        let mut field = std::mem::take(&mut ws.field);
        for v in field.iter_mut() {
            *v = rng.sample::<f64, _>(StandardNormal);
        }
        let mut z = sys.zero_spec();
        sys.to_spec(&field, &mut z, ws);
        ws.field = field;
        let (n, k2max) = (sys.n(), sys.params().forcing_k2_max);
        let sp = sys.spectral();
        for (i, v) in z.iter_mut().enumerate() {
            let k2 = sp.k2()[i];
            let nyq = sp.is_x_nyquist(i) || i / n == n / 2;
            if k2 == 0.0 || k2 > k2max || nyq {
                *v = C64::new(0.0, 0.0);
            }
        }
        let rms = sys.rms(&z);
        let scale = if rms > 0.0 { init_amp / rms } else { 0.0 };
        for v in z.iter_mut() {
            *v *= scale;
        }
        let path = PhasePath::new(sys.forcing(), phases, z.len());
        Member {
            z,
            path,
            t: 0.0,
            step: 0,
        }
    }

    /// One RK4 step with freshly drawn phase increments. `who` names the member in errors.
    pub(crate) fn step(
        &mut self,
        sys: &NsSystem,
        rng: &mut Rng,
        ws: &mut NsWorkspace,
        who: &dyn Fn() -> String,
    ) -> Result<()> {
        let (f0, fh, f1) = self.path.advance(sys.forcing(), rng, sys.dt());
        let rms = sys.rk4(&mut self.z, f0, fh, f1, ws);
        self.step += 1;
        self.t += sys.dt();
        if !(rms.is_finite() && rms <= BLOWUP_RMS) {
            return Err(sys.blowup(&who(), self.step, self.t, rms));
        }
        Ok(())
    }

    /// The member's full state.
    pub(crate) fn state(&self, sys: &NsSystem, ws: &mut NsWorkspace) -> NsState {
        let mut zeta = vec![0.0; sys.n() * sys.n()];
        sys.to_field(&self.z, &mut zeta, ws);
        NsState {
            zeta,
            phases: self.path.phases().to_vec(),
            t: self.t,
        }
    }
}

/// A random start state (t = 0) as [`simulate_ns`] makes it for member `m` of `seed`.
pub fn random_ns_state(sys: &NsSystem, seed: u64, m: u64, init_amp: f64) -> NsState {
    let mut ws = sys.workspace();
    let mut rng = stream_rng(seed, m);
    Member::random(sys, &mut rng, init_amp, &mut ws).state(sys, &mut ws)
}

fn check_opts(sys: &NsSystem, o: &NsRunOpts, init: Option<&[NsState]>) -> Result<(u64, usize)> {
    if o.members == 0 {
        return Err(Error::invalid("members = 0; pass members ≥ 1"));
    }
    if o.save_every == 0 {
        return Err(Error::invalid(
            "save_every = 0; pass save_every ≥ 1 (integrator steps between frames)",
        ));
    }
    if !(o.init_amp.is_finite() && o.init_amp >= 0.0) {
        return Err(Error::invalid(format!(
            "init_amp = {} must be finite and ≥ 0; pass e.g. init_amp: 0.5",
            o.init_amp
        )));
    }
    let dt = sys.dt();
    let spin = steps_in("spinup", o.spinup, dt)?;
    let lag = dt * o.save_every as f64;
    if !(o.duration.is_finite() && o.duration > 0.0) {
        return Err(Error::invalid(format!(
            "duration = {} must be positive (physical time covered by the frames)",
            o.duration
        )));
    }
    // A duration beyond usize frames saturates; the memory check below refuses it.
    let frames = (o.duration / lag).round() as usize;
    if frames == 0 {
        return Err(Error::invalid(format!(
            "duration = {} is shorter than one frame interval dt·save_every = {lag}; pass \
             duration ≥ {lag} or a smaller save_every",
            o.duration
        )));
    }
    let n = sys.n();
    let threads = rayon::current_num_threads().min(o.members).max(1);
    crate::budget::Request::new("simulate")
        .buffer(
            "the trajectory",
            &[("members", o.members), ("frames", frames), ("", n), ("", n)],
            8,
        )
        .buffer(
            "the final states",
            &[("members", o.members), ("", n), ("", n)],
            8,
        )
        .buffer(
            "the per-thread buffers",
            &[("threads", threads)],
            sys.member_bytes(),
        )
        .fix("use fewer members, a shorter duration or a larger save_every")
        .check()?;
    if let Some(init) = init {
        if init.len() != o.members && init.len() != 1 {
            return Err(Error::shape(format!(
                "{} initial states for {} members; pass one per member (or one for all)",
                init.len(),
                o.members
            )));
        }
    }
    Ok((spin, frames))
}

/// Integrates member `m` into `out` (`[T, N, N]`) and returns its final state.
#[allow(clippy::too_many_arguments)]
fn run_member(
    sys: &NsSystem,
    o: &NsRunOpts,
    m: usize,
    init: Option<&NsState>,
    spin: u64,
    mut out: ArrayViewMut3<f64>,
    progress: &Progress,
    stop: &AtomicBool,
) -> Result<NsState> {
    let mut ws = sys.workspace();
    let mut rng = stream_rng(o.seed, m as u64);
    let mut mem = match init {
        Some(s) => Member::from_state(sys, s, &mut ws)?,
        None => Member::random(sys, &mut rng, o.init_amp, &mut ws),
    };
    let who = || format!("member {m}");
    let n = sys.n();
    let frames = out.shape()[0];
    let total = spin + (frames as u64 - 1) * o.save_every as u64;
    let mut field = vec![0.0; n * n];
    let mut frame = 0usize;
    let mut pending = 0u64;
    for s in 0..=total {
        if s >= spin && (s - spin).is_multiple_of(o.save_every as u64) {
            sys.to_field(&mem.z, &mut field, &mut ws);
            let mut dst = out.index_axis_mut(Axis(0), frame);
            for (d, v) in dst.iter_mut().zip(&field) {
                *d = *v;
            }
            frame += 1;
        }
        if s == total {
            break;
        }
        mem.step(sys, &mut rng, &mut ws, &who)?;
        pending += 1;
        if pending == POLL_EVERY {
            progress.inc(pending);
            pending = 0;
            crate::core::interrupt::check("the Navier–Stokes simulation")?;
            if stop.load(Ordering::Relaxed) {
                return Err(Error::Interrupted("(another member failed)".into()));
            }
        }
    }
    progress.inc(pending);
    Ok(mem.state(sys, &mut ws))
}

/// Runs `opts.members` independent members in parallel and stores the vorticity every
/// `save_every` steps after the spin-up: data `[M, T, N, N]` (axis 2 = x), `dt = dt·save_every`,
/// `t0` = time of frame 0. Without `init`, member `m` starts from [`random_ns_state`]; with
/// `init` (one state per member, or one for all) it continues from there. Returns the
/// trajectory and every member's final [`NsState`] (vorticity + phases), which is what a
/// continuation or an impulse ensemble needs.
pub fn simulate_ns_with_states(
    sys: &NsSystem,
    opts: &NsRunOpts,
    init: Option<&[NsState]>,
) -> Result<(Trajectory, Vec<NsState>)> {
    let (spin, frames) = check_opts(sys, opts, init)?;
    let n = sys.n();
    let mut data = Array4::<f64>::zeros((opts.members, frames, n, n));
    let total = (opts.members as u64).saturating_mul(
        spin.saturating_add((frames as u64 - 1).saturating_mul(opts.save_every as u64)),
    );
    let progress = Progress::new(total, "navier-stokes", "member-steps");
    let stop = AtomicBool::new(false);
    let results: Vec<Result<NsState>> = data
        .axis_iter_mut(Axis(0))
        .into_par_iter()
        .enumerate()
        .map(|(m, out)| {
            let start = init.map(|s| if s.len() == 1 { &s[0] } else { &s[m] });
            let r = run_member(sys, opts, m, start, spin, out, &progress, &stop);
            if r.is_err() {
                stop.store(true, Ordering::Relaxed);
            }
            r
        })
        .collect();
    progress.finish();
    let mut states = Vec::with_capacity(results.len());
    let mut first_err: Option<Error> = None;
    for r in results {
        match r {
            Ok(s) => states.push(s),
            // A member stopped because another failed: report the real failure instead.
            Err(Error::Interrupted(w)) if w.starts_with("(another") => {}
            Err(e) => {
                if first_err.is_none() {
                    first_err = Some(e);
                }
            }
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    let t_start = match init {
        Some(s) => s[0].t,
        None => 0.0,
    };
    let traj = Trajectory {
        data: data.into_dyn(),
        dt: sys.dt() * opts.save_every as f64,
        t0: t_start + spin as f64 * sys.dt(),
        system: sys.describe(),
    };
    Ok((traj, states))
}

/// As [`simulate_ns_with_states`], keeping only the trajectory.
pub fn simulate_ns(
    sys: &NsSystem,
    opts: &NsRunOpts,
    init: Option<&[NsState]>,
) -> Result<Trajectory> {
    simulate_ns_with_states(sys, opts, init).map(|(t, _)| t)
}

/// Throughput of the integrator: member-steps per second for `members` members of `steps`
/// steps each (random starts, RMS 0.5), on a pool of `threads` threads (0 = rayon's default).
pub fn bench_ns_member_steps(
    params: &super::params::NsParams,
    members: usize,
    steps: usize,
    threads: usize,
) -> Result<f64> {
    if members == 0 || steps == 0 {
        return Err(Error::invalid("members and steps must be ≥ 1"));
    }
    let sys = NsSystem::new(params.clone())?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::invalid(format!("cannot build a pool of {threads} threads: {e}")))?;
    pool.install(|| {
        let mut setup: Vec<(Member, NsWorkspace, Rng)> = (0..members)
            .map(|m| {
                let mut ws = sys.workspace();
                let mut rng = stream_rng(1, m as u64);
                let mem = Member::random(&sys, &mut rng, 0.5, &mut ws);
                (mem, ws, rng)
            })
            .collect();
        let start = std::time::Instant::now();
        setup
            .par_iter_mut()
            .enumerate()
            .try_for_each(|(m, (mem, ws, rng))| -> Result<()> {
                let who = || format!("member {m}");
                for _ in 0..steps {
                    mem.step(&sys, rng, ws, &who)?;
                }
                Ok(())
            })?;
        let secs = start.elapsed().as_secs_f64();
        Ok((members * steps) as f64 / secs)
    })
}
