//! Ensemble runs of the Allen–Cahn / OU system: [`simulate`] and the speed benchmark.
use super::system::{AcSystem, AcWorkspace, BLOWUP_LIMIT};
use crate::core::progress::Progress;
use crate::core::rng::stream_rng;
use crate::core::trajectory::Trajectory;
use crate::{Error, Result};
use ndarray::{Array4, ArrayView2, ArrayView3, Axis};
use rand::RngExt;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};

/// Steps between interrupt checks, progress updates and the real-space blow-up check.
pub(crate) const CHECK_EVERY: usize = 256;

/// Options of an ensemble run ([`simulate`]). Defaults: 8 members, 100 time units of spin-up,
/// 200 time units stored every 32 steps, seed 0, initial amplitude 0.1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunOpts {
    /// Independent ensemble members (each with its own random stream).
    pub members: usize,
    /// Spin-up before the first stored frame, in time units (rounded to whole steps).
    pub spinup: f64,
    /// Length of the stored record in time units; frames = round(duration / (dt·save_every)).
    pub duration: f64,
    /// Integrator steps between stored frames.
    pub save_every: usize,
    /// Seed of the run; member m uses `stream_rng(seed, m)`.
    pub seed: u64,
    /// Standard deviation of the iid Gaussian initial field (when no initial state is given).
    pub init_amp: f64,
}

impl Default for RunOpts {
    fn default() -> Self {
        RunOpts {
            members: 8,
            spinup: 100.0,
            duration: 200.0,
            save_every: 32,
            seed: 0,
            init_amp: 0.1,
        }
    }
}

/// Step counts derived from [`RunOpts`] and dt.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plan {
    pub spin_steps: usize,
    pub frames: usize,
    pub save_every: usize,
    pub total_steps: usize,
}

impl RunOpts {
    /// Checks the options against the integrator step `dt`; returns the step plan.
    pub(crate) fn plan(&self, dt: f64) -> Result<Plan> {
        if self.members == 0 {
            return Err(Error::invalid(
                "members = 0: an ensemble needs at least one member; pass members ≥ 1",
            ));
        }
        if self.save_every == 0 {
            return Err(Error::invalid(
                "save_every = 0: frames are stored every save_every steps; pass save_every ≥ 1 \
                 (e.g. 32 = one time unit at dt = 1/32)",
            ));
        }
        if !(self.spinup.is_finite() && self.spinup >= 0.0) {
            return Err(Error::invalid(format!(
                "spinup = {} must be finite and ≥ 0 (time units); pass e.g. spinup: 100",
                self.spinup
            )));
        }
        if !(self.duration.is_finite() && self.duration > 0.0) {
            return Err(Error::invalid(format!(
                "duration = {} must be positive and finite (time units of stored record); \
                 pass e.g. duration: 200",
                self.duration
            )));
        }
        if !(self.init_amp.is_finite() && self.init_amp >= 0.0) {
            return Err(Error::invalid(format!(
                "init_amp = {} must be finite and ≥ 0; pass e.g. init_amp: 0.1",
                self.init_amp
            )));
        }
        let frame_dt = dt * self.save_every as f64;
        let frames = (self.duration / frame_dt).round();
        if frames < 1.0 {
            return Err(Error::invalid(format!(
                "duration = {} is shorter than one frame interval dt·save_every = {frame_dt}; \
                 pass a longer duration or a smaller save_every",
                self.duration
            )));
        }
        let spin = (self.spinup / dt).round();
        let total = spin + (frames - 1.0) * self.save_every as f64;
        if frames > 1e12 || total > 1e15 {
            return Err(Error::invalid(format!(
                "spinup = {}, duration = {} need {total:.3e} steps of dt = {dt}: too many; \
                 shorten the run",
                self.spinup, self.duration
            )));
        }
        Ok(Plan {
            spin_steps: spin as usize,
            frames: frames as usize,
            save_every: self.save_every,
            total_steps: total as usize,
        })
    }

    /// Checks the options against the integrator step `dt` (see [`simulate`]).
    pub fn validate(&self, dt: f64) -> Result<()> {
        self.plan(dt).map(|_| ())
    }
}

/// The blow-up error for one member.
pub(crate) fn blowup(sys: &AcSystem, who: &str, step: usize, detail: &str) -> Error {
    let p = sys.params();
    Error::BlowUp(format!(
        "{who} blew up at step {step} (t = {:.4} time units after its start): {detail}. \
         The step dt = {} is probably too large for λ = {}, κ = {}, U = {}, ε² = {}: \
         try a smaller dt (e.g. dt / 2) or check the parameters",
        step as f64 * p.dt,
        p.dt,
        p.lambda,
        p.kappa,
        p.u,
        p.eps2
    ))
}

/// First bad value of a real field (non-finite or |θ| > limit), as a description.
pub(crate) fn bad_value(field: &[f64]) -> Option<String> {
    field
        .iter()
        .position(|v| v.is_nan() || v.abs() > BLOWUP_LIMIT)
        .map(|i| format!("θ = {} at grid index {i}", field[i]))
}

/// Runs an ensemble of `opts.members` independent members of `sys` and stores
/// `[M, T, N, N]` frames, T = round(duration / (dt·save_every)); frame 0 is the state at the end
/// of the spin-up (`t0` = spin-up steps × dt), frames are `dt·save_every` apart.
///
/// `init` (`[M, N, N]`) gives the initial states; without it each member starts from iid
/// N(0, init_amp²) values drawn from its own stream. Member m uses `stream_rng(seed, m)`, so
/// the result is bit-identical for any number of threads. Members run in parallel (rayon).
/// Errors: bad options or shapes, `BlowUp` (naming member and step) when a value becomes
/// non-finite or exceeds 1e6 (checked every step for λ > 0, every 256 steps and at every
/// stored frame otherwise), `Interrupted` after Ctrl-C.
pub fn simulate(
    sys: &AcSystem,
    opts: &RunOpts,
    init: Option<ArrayView3<f64>>,
) -> Result<Trajectory> {
    let plan = opts.plan(sys.params().dt)?;
    let prog = Progress::new(
        (plan.total_steps as u64 + 1) * opts.members as u64,
        "simulate",
        "member-steps",
    );
    let r = simulate_with(sys, opts, init, Some(&prog));
    prog.finish();
    r
}

/// [`simulate`] with an optional progress bar.
pub(crate) fn simulate_with(
    sys: &AcSystem,
    opts: &RunOpts,
    init: Option<ArrayView3<f64>>,
    prog: Option<&Progress>,
) -> Result<Trajectory> {
    let plan = opts.plan(sys.params().dt)?;
    let n = sys.n();
    if let Some(iv) = &init {
        let want = [opts.members, n, n];
        if iv.shape() != want {
            return Err(Error::shape(format!(
                "initial states have shape {:?} but {} members on a {n}×{n} grid need {want:?}",
                iv.shape(),
                opts.members
            )));
        }
        if let Some(((m, ix, iy), v)) = iv.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::invalid(format!(
                "initial state of member {m} has {v} at pixel ({ix}, {iy}); pass finite values"
            )));
        }
    }
    check_memory(sys, opts.members, plan.frames)?;
    let mut data = Array4::<f64>::zeros((opts.members, plan.frames, n, n));
    let abort = AtomicBool::new(false);
    let results: Vec<Result<()>> = data
        .axis_iter_mut(Axis(0))
        .into_par_iter()
        .enumerate()
        .map(|(m, mut slab)| {
            let out = slab
                .as_slice_mut()
                .expect("a freshly allocated array is contiguous");
            let x0 = init.as_ref().map(|iv| iv.index_axis(Axis(0), m));
            let r = run_member(sys, &plan, opts, m, x0, out, prog, &abort);
            if r.is_err() {
                abort.store(true, Ordering::Relaxed);
            }
            r
        })
        .collect();
    if let Some(e) = results.into_iter().find_map(|r| r.err()) {
        return Err(e);
    }
    Ok(Trajectory {
        data: data.into_dyn(),
        dt: sys.params().dt * plan.save_every as f64,
        t0: plan.spin_steps as f64 * sys.params().dt,
        system: sys.describe(),
    })
}

/// Checks the memory of a run of `members` × `frames` against the budget: the trajectory and
/// one member's buffers per thread (workspace, two spectra, a field).
fn check_memory(sys: &AcSystem, members: usize, frames: usize) -> Result<()> {
    let n = sys.n();
    let threads = rayon::current_num_threads().min(members).max(1);
    let per_member = sys.workspace_bytes() + 2 * 16 * sys.spectral().spec_len() + 8 * n * n;
    crate::budget::Request::new("simulate")
        .buffer(
            "the trajectory",
            &[("members", members), ("frames", frames), ("", n), ("", n)],
            8,
        )
        .buffer(
            "the per-thread buffers",
            &[("threads", threads)],
            per_member,
        )
        .fix("use fewer members, a shorter duration or a larger save_every")
        .check()?;
    Ok(())
}

/// One member: initial state, spin-up and record into `out` (`frames * n * n`).
#[allow(clippy::too_many_arguments)]
fn run_member(
    sys: &AcSystem,
    plan: &Plan,
    opts: &RunOpts,
    m: usize,
    x0: Option<ArrayView2<f64>>,
    out: &mut [f64],
    prog: Option<&Progress>,
    abort: &AtomicBool,
) -> Result<()> {
    let d = sys.n() * sys.n();
    let mut rng = stream_rng(opts.seed, m as u64);
    let mut w: AcWorkspace = sys.workspace();
    let mut y = sys.zero_spec();
    let mut noise = sys.zero_spec();
    let mut field = vec![0.0; d];
    match x0 {
        Some(v) => {
            for (f, x) in field.iter_mut().zip(v.iter()) {
                *f = *x;
            }
        }
        None => {
            for f in field.iter_mut() {
                *f = opts.init_amp * rng.sample::<f64, _>(StandardNormal);
            }
        }
    }
    sys.spectral().forward(&field, &mut y, &mut w.sw);
    let who = format!("member {m}");
    let mut pending = 0u64;
    for s in 0..=plan.total_steps {
        if s > 0 {
            sys.fill_noise(&mut rng, &mut noise, &mut w);
            if !sys.step(&mut y, Some(&noise), &mut w) {
                sys.spectral().inverse(&y, &mut field, &mut w.sw);
                let detail = bad_value(&field).unwrap_or_else(|| "non-finite state".into());
                return Err(blowup(sys, &who, s - 1, &detail));
            }
        }
        pending += 1;
        let save = s >= plan.spin_steps && (s - plan.spin_steps).is_multiple_of(plan.save_every);
        if save || s % CHECK_EVERY == 0 {
            sys.spectral().inverse(&y, &mut field, &mut w.sw);
            if let Some(detail) = bad_value(&field) {
                return Err(blowup(sys, &who, s, &detail));
            }
            if save {
                let f = (s - plan.spin_steps) / plan.save_every;
                out[f * d..(f + 1) * d].copy_from_slice(&field);
            }
        }
        if s % CHECK_EVERY == 0 {
            crate::core::interrupt::check("simulate")?;
            if abort.load(Ordering::Relaxed) {
                return Ok(());
            }
            if let Some(p) = prog {
                p.inc(pending);
            }
            pending = 0;
        }
    }
    if let Some(p) = prog {
        p.inc(pending);
    }
    Ok(())
}

/// Speed of the integrator in member-steps per second: runs `members` members for `steps`
/// steps (after a short warm-up) on a local rayon pool of `threads` threads, storing one frame.
pub fn bench_member_steps(
    params: &super::AcParams,
    members: usize,
    steps: usize,
    threads: usize,
) -> Result<f64> {
    if members == 0 || steps == 0 || threads == 0 {
        return Err(Error::invalid(format!(
            "bench needs members, steps and threads ≥ 1 (got {members}, {steps}, {threads})"
        )));
    }
    let sys = AcSystem::new(params.clone())?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::invalid(format!("cannot start {threads} threads: {e}")))?;
    let dt = params.dt;
    let run = |steps: usize| -> Result<f64> {
        let opts = RunOpts {
            members,
            spinup: steps as f64 * dt,
            duration: dt,
            save_every: 1,
            seed: 1,
            init_amp: 0.1,
        };
        let t = std::time::Instant::now();
        pool.install(|| simulate_with(&sys, &opts, None, None))?;
        Ok(t.elapsed().as_secs_f64())
    };
    run(steps.div_ceil(10).min(50))?;
    let el = run(steps)?;
    Ok((members * steps) as f64 / el.max(1e-12))
}
