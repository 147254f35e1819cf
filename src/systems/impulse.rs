//! Perturbation-ensemble ground truth for the Allen–Cahn / OU system (SPEC 2, "Ground truth").
//!
//! Each experiment starts two copies from a stationary state `x₀`, displaced by `±ε p`, drives
//! both with the *same* noise (common random numbers: one draw per step, applied to both) and
//! records the central difference `D(t) = (θ⁺(t) − θ⁻(t)) / (2ε)`, which is the impulse
//! response to the kick `p` up to O(ε²). Two probes:
//!
//! - **pixel**: `p` = unit vector at pixel (0, 0); the response at offset r is `D(r, t)`.
//! - **random_signs**: `p_x = σ_x` iid ±1 on every pixel (drawn from the experiment's stream);
//!   the estimate is the cross-correlation `R_e(r, t) = (1/N²) Σ_x D(x + r, t) σ_x`, computed
//!   with FFTs (`FFT(R_e) = FFT(D) · conj(FFT(σ)) / N²`). Assumptions: linearity to O(ε²), so
//!   `D(x + r, t) = Σ_y R_{x₀}(x + r, y, t) σ_y + O(ε²)`, and translation invariance of the law
//!   of the start states and of the dynamics, so `E[R_{x₀}(x + r, y, t)] = R(x + r − y, t)`.
//!   Then `E[R_e(r, t)] = (1/N²) Σ_{x,y} R(x + r − y, t) E[σ_y σ_x] = R(r, t)`: the cross terms
//!   y ≠ x have zero mean because the signs are independent.
//!   Variance: one experiment averages the response over all N² source pixels at once, which
//!   removes most of the state-to-state (and noise) variability of a single-pixel kick; the
//!   price is the sign cross terms, whose variance is about `Σ_r R(r, t)² / N²` per
//!   experiment. For a nonlinear, strongly state-dependent system (Allen–Cahn) this is usually
//!   much smaller than the variance of a pixel kick; for the linear OU process the pixel
//!   probe is better (its CRN difference is deterministic, zero variance). Pilot on Allen–Cahn
//!   N = 32 (64 experiments each, offsets (0..3, 0), lags 0..50): relative standard error
//!   31 % (pixel) vs 3.6 % (random signs), i.e. ≈ 7000 vs ≈ 90 experiments for 3 %.
//!
//! The result is the mean over experiments with its standard error (std/√E per element).
//! Experiments run in parallel in fixed chunks whose (Welford) accumulators are merged in chunk
//! order, and experiment e uses `stream_rng(seed, e)`: bit-identical for any thread count.
//!
//! **Reused start states.** Experiment e starts from `starts[e mod S]`. When there are fewer
//! distinct start states G than experiments E (S < E, or repeated states in `starts`),
//! experiments from the same state are not independent (they share `x₀` and differ only in
//! noise), and `std/√E` would understate the error. The standard error is then computed
//! *between* the G start states ([`crate::stats::BetweenGroups`]: the experiments of each
//! state are averaged first; `None` for G = 1) and a warning says so, with the numbers and
//! the fix (more start states, or at most G experiments).
use crate::core::progress::Progress;
use crate::core::response::Response;
use crate::core::rng::stream_rng;
use crate::core::trajectory::Trajectory;
use crate::systems::allen_cahn::{bad_value, blowup, AcSystem, AcWorkspace, CHECK_EVERY};
use crate::{Error, Result};
use ndarray::{s, Array3, ArrayView3, Axis};
use num_complex::Complex64 as C64;
use rand::RngExt;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};

/// Experiments per accumulation chunk (fixed: the reduction order must not depend on threads).
const CHUNK: usize = 8;
/// Chunks computed in parallel before they are merged (bounds memory: one accumulator each).
const BATCH: usize = 16;

/// The perturbation probe of an impulse experiment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeMode {
    /// Kick pixel (0, 0) only (the paper's reference experiment).
    #[default]
    Pixel,
    /// Kick every pixel by an independent random sign and cross-correlate (see module docs).
    RandomSigns,
}

/// Options of [`impulse_response`]. Defaults: ε = 0.0625 (2·dt at dt = 1/32), window 50 time
/// units, frames every time unit (`save_every: 0` = auto, round(1/dt) steps), 128 experiments,
/// pixel probe, seed 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImpulseOpts {
    /// Kick size ε (the copies start at x₀ ± ε p).
    pub eps: f64,
    /// Length of the response window in time units (lags 0..=window).
    pub window: f64,
    /// Steps between response frames; 0 means one time unit (round(1/dt) steps).
    pub save_every: usize,
    /// Number of experiments (pairs of copies); each uses start state `e mod S`.
    pub experiments: usize,
    /// `"pixel"` or `"random_signs"`.
    pub mode: ProbeMode,
    /// Seed; experiment e uses `stream_rng(seed, e)`.
    pub seed: u64,
}

impl Default for ImpulseOpts {
    fn default() -> Self {
        ImpulseOpts {
            eps: 0.0625,
            window: 50.0,
            save_every: 0,
            experiments: 128,
            mode: ProbeMode::Pixel,
            seed: 0,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Plan {
    save_every: usize,
    lags: usize,
    steps: usize,
}

impl ImpulseOpts {
    fn plan(&self, dt: f64) -> Result<Plan> {
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return Err(Error::invalid(format!(
                "eps = {} must be positive and finite; pass e.g. eps: 0.0625 (2·dt)",
                self.eps
            )));
        }
        if self.experiments == 0 {
            return Err(Error::invalid(
                "experiments = 0: pass experiments ≥ 1 (≥ 2 for a standard error)",
            ));
        }
        let save_every = if self.save_every == 0 {
            ((1.0 / dt).round() as usize).max(1)
        } else {
            self.save_every
        };
        let frame_dt = dt * save_every as f64;
        if !(self.window.is_finite() && self.window >= frame_dt) {
            return Err(Error::invalid(format!(
                "window = {} must be finite and at least one frame interval dt·save_every = \
                 {frame_dt}; pass e.g. window: 50",
                self.window
            )));
        }
        let lags = (self.window / frame_dt).round() as usize + 1;
        if lags > 1_000_000 || (lags - 1).saturating_mul(save_every) > 1_000_000_000 {
            return Err(Error::invalid(format!(
                "window = {} with frames every {frame_dt} is too long; shorten it",
                self.window
            )));
        }
        Ok(Plan {
            save_every,
            lags,
            steps: (lags - 1) * save_every,
        })
    }

    /// Checks the options against the integrator step `dt`.
    pub fn validate(&self, dt: f64) -> Result<()> {
        self.plan(dt).map(|_| ())
    }
}

/// Running mean and sum of squared deviations per element (Welford), mergeable (Chan et al.).
struct Acc {
    count: usize,
    mean: Vec<f64>,
    m2: Vec<f64>,
}

impl Acc {
    fn new(len: usize) -> Self {
        Acc {
            count: 0,
            mean: vec![0.0; len],
            m2: vec![0.0; len],
        }
    }
    /// Adds `x` to the elements starting at `off`, as sample number `c` (1-based).
    fn push(&mut self, off: usize, x: &[f64], c: usize) {
        let inv = 1.0 / c as f64;
        let mean = &mut self.mean[off..off + x.len()];
        let m2 = &mut self.m2[off..off + x.len()];
        for ((m, q), v) in mean.iter_mut().zip(m2.iter_mut()).zip(x) {
            let d = v - *m;
            *m += d * inv;
            *q += d * (v - *m);
        }
    }
    fn merge(&mut self, o: &Acc) {
        if o.count == 0 {
            return;
        }
        if self.count == 0 {
            self.count = o.count;
            self.mean.copy_from_slice(&o.mean);
            self.m2.copy_from_slice(&o.m2);
            return;
        }
        let (na, nb) = (self.count as f64, o.count as f64);
        let n = na + nb;
        for i in 0..self.mean.len() {
            let d = o.mean[i] - self.mean[i];
            self.mean[i] += d * nb / n;
            self.m2[i] += o.m2[i] + d * d * na * nb / n;
        }
        self.count += o.count;
    }
}

/// Per-task buffers for experiments (allocated once per chunk).
struct ExpWork {
    w: AcWorkspace,
    yp: Vec<C64>,
    ym: Vec<C64>,
    noise: Vec<C64>,
    dhat: Vec<C64>,
    sig_hat: Vec<C64>,
    probe: Vec<f64>,
    field: Vec<f64>,
}

/// Mean impulse response over `opts.experiments` perturbation experiments (module docs), as
/// `Response { name "ensemble", values [L, N, N] by offset (dx, dy) mod N from the kick,
/// stderr std/√E (None for E = 1), dt = dt·save_every }`, L = round(window/(dt·save_every))+1.
/// `starts` (`[S, N, N]`) are stationary start states, used cyclically (experiment e starts
/// from `starts[e mod S]`; take S ≥ E for independent experiments, see [`start_states`]; with
/// fewer distinct states than experiments the standard error is between states and a warning
/// is printed, see the module docs).
pub fn impulse_response(
    sys: &AcSystem,
    starts: ArrayView3<f64>,
    opts: &ImpulseOpts,
) -> Result<Response> {
    let plan = opts.plan(sys.params().dt)?;
    let prog = Progress::new(
        opts.experiments as u64,
        &format!("impulse ({:?})", opts.mode).to_lowercase(),
        "experiments",
    );
    let r = impulse_with(sys, starts, opts, plan, Some(&prog));
    prog.finish();
    r
}

fn impulse_with(
    sys: &AcSystem,
    starts: ArrayView3<f64>,
    opts: &ImpulseOpts,
    plan: Plan,
    prog: Option<&Progress>,
) -> Result<Response> {
    let n = sys.n();
    let d = n * n;
    let sh = starts.shape();
    if sh[0] == 0 || sh[1] != n || sh[2] != n {
        return Err(Error::shape(format!(
            "start states have shape {sh:?}; the {n}×{n} system needs [S ≥ 1, {n}, {n}] \
             (see start_states)"
        )));
    }
    if let Some(((s, ix, iy), v)) = starts.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(Error::invalid(format!(
            "start state {s} has {v} at pixel ({ix}, {iy}); pass finite states"
        )));
    }
    let e_total = opts.experiments;
    let used = starts.shape()[0].min(e_total);
    let (ids, groups) = crate::stats::distinct_rows(
        starts
            .outer_iter()
            .take(used)
            .map(|x| x.iter().copied().collect::<Vec<f64>>()),
    );
    if groups < e_total {
        crate::warn::warn(crate::stats::reuse_warning(
            "impulse_response",
            e_total,
            starts.shape()[0],
            groups,
        ));
        return impulse_grouped(sys, &starts, opts, plan, &ids, groups, prog);
    }
    let n_chunks = e_total.div_ceil(CHUNK);
    // The running mean and M2 of the total and of every chunk computed at once, the standard
    // error, and one experiment's buffers (workspace, five spectra, two fields) per chunk.
    let in_flight = n_chunks.min(BATCH);
    let per_chunk = sys.workspace_bytes() + 5 * 16 * sys.spectral().spec_len() + 2 * 8 * d;
    crate::budget::Request::new("impulse_response")
        .buffer(
            "the accumulators",
            &[
                ("", 2 * in_flight + 3),
                ("lags", plan.lags),
                ("", n),
                ("", n),
            ],
            8,
        )
        .buffer(
            "the experiment buffers",
            &[("chunks", in_flight)],
            per_chunk,
        )
        .fix("use a shorter window or a larger save_every")
        .check()?;
    let len = plan.lags * d;
    let abort = AtomicBool::new(false);
    let mut total = Acc::new(len);
    for b0 in (0..n_chunks).step_by(BATCH) {
        let b1 = (b0 + BATCH).min(n_chunks);
        let accs: Vec<Result<Acc>> = (b0..b1)
            .into_par_iter()
            .map(|c| {
                let r = run_chunk(sys, &starts, opts, plan, c, prog, &abort);
                if r.is_err() {
                    abort.store(true, Ordering::Relaxed);
                }
                r
            })
            .collect();
        for a in accs {
            total.merge(&a?);
        }
    }
    let values = Array3::from_shape_vec((plan.lags, n, n), total.mean)
        .expect("accumulator length is lags·n·n");
    let stderr = if e_total >= 2 {
        let f = 1.0 / ((e_total - 1) as f64 * e_total as f64);
        let se: Vec<f64> = total.m2.iter().map(|q| (q.max(0.0) * f).sqrt()).collect();
        Some(
            Array3::from_shape_vec((plan.lags, n, n), se)
                .expect("length is lags·n·n")
                .into_dyn(),
        )
    } else {
        None
    };
    Ok(Response {
        name: "ensemble".into(),
        dt: sys.params().dt * plan.save_every as f64,
        values: values.into_dyn(),
        stderr,
        normalized: false,
    })
}

/// [`impulse_with`] when experiments share start states: experiment e starts from
/// `starts[e mod S]`, whose distinct-state label is `ids[e mod S]` (of `groups`). The
/// experiments of each group, in experiment order, are cut into chunks of [`CHUNK`]; chunks
/// run in parallel in fixed batches and are merged in (group, chunk) order, so a group's mean
/// is complete when its last chunk is merged (one open group accumulator at a time) and the
/// result does not depend on the thread count. The standard error is the between-group one
/// (module docs).
fn impulse_grouped(
    sys: &AcSystem,
    starts: &ArrayView3<f64>,
    opts: &ImpulseOpts,
    plan: Plan,
    ids: &[usize],
    groups: usize,
    prog: Option<&Progress>,
) -> Result<Response> {
    let n = sys.n();
    let len = plan.lags * n * n;
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); groups];
    for e in 0..opts.experiments {
        members[ids[e % ids.len()]].push(e);
    }
    let tasks: Vec<(usize, &[usize])> = members
        .iter()
        .enumerate()
        .flat_map(|(g, m)| m.chunks(CHUNK).map(move |c| (g, c)))
        .collect();
    let abort = AtomicBool::new(false);
    let mut total = crate::stats::BetweenGroups::new(len, opts.experiments);
    let mut open: Option<(usize, Acc)> = None;
    let close = |open: Option<(usize, Acc)>, total: &mut crate::stats::BetweenGroups| {
        if let Some((_, acc)) = open {
            total.add(&crate::stats::GroupMean {
                count: acc.count,
                mean: acc.mean,
            });
        }
    };
    for batch in tasks.chunks(BATCH) {
        let accs: Vec<Result<Acc>> = batch
            .par_iter()
            .map(|(_, es)| {
                let mut ew = ExpWork::new(sys);
                let mut acc = Acc::new(len);
                for (j, &e) in es.iter().enumerate() {
                    if abort.load(Ordering::Relaxed) {
                        break;
                    }
                    let r = run_experiment(
                        sys,
                        starts,
                        opts,
                        plan,
                        e,
                        &mut acc,
                        j + 1,
                        &mut ew,
                        &abort,
                    );
                    if r.is_err() {
                        abort.store(true, Ordering::Relaxed);
                    }
                    r?;
                    acc.count += 1;
                    if let Some(p) = prog {
                        p.inc(1);
                    }
                }
                Ok(acc)
            })
            .collect();
        for ((g, _), a) in batch.iter().zip(accs) {
            let a = a?;
            if open.as_ref().map(|o| o.0) != Some(*g) {
                close(open.take(), &mut total);
                open = Some((*g, Acc::new(len)));
            }
            if let Some((_, acc)) = open.as_mut() {
                acc.merge(&a);
            }
        }
    }
    close(open.take(), &mut total);
    let shape = (plan.lags, n, n);
    let stderr = total.stderr().map(|se| {
        Array3::from_shape_vec(shape, se)
            .expect("length is lags·n·n")
            .into_dyn()
    });
    let values = Array3::from_shape_vec(shape, total.mean).expect("length is lags·n·n");
    Ok(Response {
        name: "ensemble".into(),
        dt: sys.params().dt * plan.save_every as f64,
        values: values.into_dyn(),
        stderr,
        normalized: false,
    })
}

impl ExpWork {
    fn new(sys: &AcSystem) -> Self {
        ExpWork {
            w: sys.workspace(),
            yp: sys.zero_spec(),
            ym: sys.zero_spec(),
            noise: sys.zero_spec(),
            dhat: sys.zero_spec(),
            sig_hat: sys.zero_spec(),
            probe: vec![0.0; sys.n() * sys.n()],
            field: vec![0.0; sys.n() * sys.n()],
        }
    }
}

/// Experiments `CHUNK·c ..` of chunk `c`, accumulated in order.
fn run_chunk(
    sys: &AcSystem,
    starts: &ArrayView3<f64>,
    opts: &ImpulseOpts,
    plan: Plan,
    c: usize,
    prog: Option<&Progress>,
    abort: &AtomicBool,
) -> Result<Acc> {
    let d = sys.n() * sys.n();
    let mut acc = Acc::new(plan.lags * d);
    let mut ew = ExpWork::new(sys);
    let e1 = (CHUNK * (c + 1)).min(opts.experiments);
    for (j, e) in (CHUNK * c..e1).enumerate() {
        if abort.load(Ordering::Relaxed) {
            return Ok(acc);
        }
        run_experiment(sys, starts, opts, plan, e, &mut acc, j + 1, &mut ew, abort)?;
        acc.count += 1;
        if let Some(p) = prog {
            p.inc(1);
        }
    }
    Ok(acc)
}

/// One ±ε experiment; its response frames are pushed into `acc` as sample `c`.
#[allow(clippy::too_many_arguments)]
fn run_experiment(
    sys: &AcSystem,
    starts: &ArrayView3<f64>,
    opts: &ImpulseOpts,
    plan: Plan,
    e: usize,
    acc: &mut Acc,
    c: usize,
    ew: &mut ExpWork,
    abort: &AtomicBool,
) -> Result<()> {
    let n = sys.n();
    let d = n * n;
    let sp = sys.spectral();
    let mut rng = stream_rng(opts.seed, e as u64);
    let x0 = starts.index_axis(Axis(0), e % starts.shape()[0]);
    match opts.mode {
        ProbeMode::Pixel => {
            ew.probe.fill(0.0);
            ew.probe[0] = 1.0;
        }
        ProbeMode::RandomSigns => {
            for p in ew.probe.iter_mut() {
                *p = if rng.random::<bool>() { 1.0 } else { -1.0 };
            }
            sp.forward(&ew.probe, &mut ew.sig_hat, &mut ew.w.sw);
            let scale = 1.0 / d as f64;
            for v in ew.sig_hat.iter_mut() {
                *v = v.conj() * scale;
            }
        }
    }
    for sign in [1.0, -1.0] {
        for ((f, x), p) in ew.field.iter_mut().zip(x0.iter()).zip(&ew.probe) {
            *f = x + sign * opts.eps * p;
        }
        let y = if sign > 0.0 { &mut ew.yp } else { &mut ew.ym };
        sp.forward(&ew.field, y, &mut ew.w.sw);
    }
    let inv2e = 0.5 / opts.eps;
    let who = format!("impulse experiment {e}");
    let mut record = |ew: &mut ExpWork, l: usize| {
        for ((dh, p), m) in ew.dhat.iter_mut().zip(&ew.yp).zip(&ew.ym) {
            *dh = (p - m) * inv2e;
        }
        if opts.mode == ProbeMode::RandomSigns {
            for (dh, s) in ew.dhat.iter_mut().zip(&ew.sig_hat) {
                *dh *= s;
            }
        }
        sp.inverse(&ew.dhat, &mut ew.field, &mut ew.w.sw);
        acc.push(l * d, &ew.field, c);
    };
    record(ew, 0);
    for s in 1..=plan.steps {
        sys.fill_noise(&mut rng, &mut ew.noise, &mut ew.w);
        let okp = sys.step(&mut ew.yp, Some(&ew.noise), &mut ew.w);
        let okm = sys.step(&mut ew.ym, Some(&ew.noise), &mut ew.w);
        let save = s % plan.save_every == 0;
        if !okp || !okm || save || s % CHECK_EVERY == 0 {
            for (copy, y) in [("+ε", &ew.yp), ("−ε", &ew.ym)] {
                sp.inverse(y, &mut ew.field, &mut ew.w.sw);
                if let Some(detail) = bad_value(&ew.field) {
                    return Err(blowup(sys, &format!("{who} ({copy} copy)"), s, &detail));
                }
            }
            if !okp || !okm {
                return Err(blowup(sys, &who, s - 1, "non-finite or |θ| > 1e6"));
            }
        }
        if save {
            record(ew, s / plan.save_every);
        }
        if s % CHECK_EVERY == 0 {
            crate::core::interrupt::check("impulse_response")?;
            if abort.load(Ordering::Relaxed) {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Start states for [`impulse_response`]: frames spaced at least `spacing` time units apart
/// within each member (frame indices 0, k, 2k, … with k = ceil(spacing / traj.dt), k ≥ 1),
/// taken round-robin across members (member 0 frame 0, member 1 frame 0, …, member 0 frame k,
/// …). Returns `[count, N, N]`; errors when fewer than `count` are available.
pub fn start_states(traj: &Trajectory, spacing: f64, count: usize) -> Result<Array3<f64>> {
    let sh = traj.data.shape();
    if sh.len() != 4 || sh[2] != sh[3] || sh[0] == 0 || sh[1] == 0 {
        return Err(Error::shape(format!(
            "start_states needs a grid trajectory [members, frames, N, N], got {sh:?}"
        )));
    }
    if !(spacing.is_finite() && spacing >= 0.0) {
        return Err(Error::invalid(format!(
            "spacing = {spacing} must be finite and ≥ 0 (time units); pass e.g. 100"
        )));
    }
    if count == 0 {
        return Err(Error::invalid(
            "count = 0: ask for at least one start state",
        ));
    }
    let (m, t, n) = (sh[0], sh[1], sh[2]);
    let stride = ((spacing / traj.dt - 1e-9).ceil() as usize).max(1);
    let per_member = (t - 1) / stride + 1;
    let available = m * per_member;
    if available < count {
        return Err(Error::invalid(format!(
            "only {available} start states are available ({m} members × {per_member} frames \
             spaced ≥ {spacing} time units, i.e. every {stride} frames of {}), but {count} were \
             asked for; lower count or spacing, or simulate more members or a longer duration",
            traj.dt
        )));
    }
    let data = traj
        .data
        .view()
        .into_dimensionality::<ndarray::Ix4>()
        .map_err(|e| Error::shape(e.to_string()))?;
    crate::budget::check(
        "start_states",
        "the start states",
        &[("states", count), ("", n), ("", n)],
        8,
        "ask for fewer start states",
    )?;
    let mut out = Array3::<f64>::zeros((count, n, n));
    for (i, mut o) in out.outer_iter_mut().enumerate() {
        o.assign(&data.slice(s![i % m, (i / m) * stride, .., ..]));
    }
    Ok(out)
}

#[cfg(test)]
#[path = "impulse_tests.rs"]
mod tests;
