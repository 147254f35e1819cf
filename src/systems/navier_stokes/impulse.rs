//! The perturbation (impulse-response) ensemble of the Navier–Stokes system: the reference
//! every GFDT estimate is scored against (SPEC §2, "Ground truth").
//!
//! **One experiment.** From a stationary state `x₀ = (ζ, φ)` two copies start at
//! `ζ ± ε p` with the *same* phases and are driven by the *same* phase increments (common
//! random numbers; the forcing spectra of each step are computed once and used by both). The
//! sample at lag `ℓ` (time `ℓ · dt · save_every`) is the central difference
//! `Δ(x, ℓ) = (ζ⁺ − ζ⁻)/(2ε)`, which removes the O(ε) bias. `p` is
//! - `pixel`: a unit vorticity impulse at `pixel`; the sample is stored by offset,
//!   `R[ℓ, dx, dy] = Δ(pixel + (dx, dy), ℓ)`;
//! - `random_signs`: iid random signs `σ_x = ±1` at all pixels (fresh per experiment); the
//!   sample is `R[ℓ, r] = (1/N²) Σ_x Δ(x + r, ℓ) σ_x` (via FFT). Its mean is the same response
//!   (translation invariance, `E[σ_x σ_y] = δ_xy`) with a different variance.
//!
//! With 2/3 dealiasing `p` is projected onto the resolved modes (the model's state space; see
//! [`super::system`]), so at lag 0 the pixel response is the projection kernel (441/1024 at the
//! pixel for n = 32), not a unit spike.
//!
//! **Start states and chains.** `starts` are independent stationary states with their phases
//! (e.g. the final states of [`super::ensemble::simulate_ns_with_states`]). With
//! `C = min(starts.len(), experiments)` chains, experiment `e` runs on chain `c = e mod C`
//! (from `starts[c]`); a chain carries an unperturbed control forward from its
//! start, and its `w`-th experiment starts from the control at `w · window · save_every` steps
//! (consecutive experiments of a chain are a window apart, so they are independent only when
//! the window is longer than the decorrelation time; with `experiments ≤ starts.len()` every
//! experiment has its own start and no control is integrated). Chain `c` draws its phase
//! increments (and random signs) from `stream_rng(seed, IMPULSE_STREAMS + c)`: a separate
//! range of streams, so reusing the seed of the run that made the start states does not replay
//! that run's noise.
//!
//! **Statistics.** Per lag and offset: the mean over all experiments and its standard error
//! *between chains* (chains are independent; experiments within a chain need not be — for
//! Navier–Stokes the |k| = 1 flow decorrelates over ~50 time units, far longer than a window):
//! with chain means `m_c` over `n_c` experiments, `w_c = n_c/E` and `C` chains,
//! `se² = C/(C−1) · Σ_c w_c² (m_c − m)²`. With one experiment per chain this is the usual
//! `sd/√E`; with a single chain it is not available (`stderr = None`). Chain means use Welford's
//! running mean, the chains are combined in chain order with shifted sums
//! ([`crate::stats::BetweenGroups`]); chains run in parallel in chunks and nothing per
//! experiment is kept, so results are bit-identical for any number of threads and memory is
//! O(chunk · window · N²). With fewer than [`crate::stats::MIN_BATCHES`] chains behind more
//! experiments a warning says that the error bar rests on few chains.
use super::ensemble::{Member, NsState, POLL_EVERY};
use super::system::{NsSystem, NsWorkspace, BLOWUP_RMS};
use crate::core::progress::Progress;
use crate::core::response::Response;
use crate::core::rng::stream_rng;
use crate::stats::{BetweenGroups, GroupMean};
use crate::{Error, Result};
use ndarray::Array3;
use num_complex::Complex64 as C64;
use rand::RngExt;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// First RNG stream index of the impulse chains (members of a run use streams 0, 1, …).
pub const IMPULSE_STREAMS: u64 = 1 << 40;

/// How the state is perturbed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImpulseMode {
    /// A unit impulse at one pixel.
    Pixel,
    /// Random signs at every pixel, correlated back with the signs.
    RandomSigns,
}

/// Options of the impulse ensemble (script map: `#{eps: 0.015625, window: 512, ...}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NsImpulseOpts {
    /// Impulse size ε (vorticity units); the paper: 1/64.
    pub eps: f64,
    /// Number of lags L (lag 0 included).
    pub window: usize,
    /// Integrator steps per lag (lag spacing `dt · save_every`).
    pub save_every: usize,
    /// Number of experiments.
    pub experiments: usize,
    /// `"pixel"` or `"random_signs"`.
    pub mode: ImpulseMode,
    /// Seed; chain `c` uses `stream_rng(seed, IMPULSE_STREAMS + c)`.
    pub seed: u64,
    /// The perturbed pixel `[ix, iy]` (pixel mode; ignored for random signs).
    pub pixel: [usize; 2],
}

impl Default for NsImpulseOpts {
    fn default() -> Self {
        NsImpulseOpts {
            eps: 1.0 / 64.0,
            window: 512,
            save_every: 1,
            experiments: 128,
            mode: ImpulseMode::Pixel,
            seed: 0,
            pixel: [0, 0],
        }
    }
}

fn check(sys: &NsSystem, starts: &[NsState], o: &NsImpulseOpts) -> Result<()> {
    if starts.is_empty() {
        return Err(Error::invalid(
            "no start states; pass a stationary trajectory made by \
             navier_stokes(..).simulate(..) (it carries its members' final states)",
        ));
    }
    if !(o.eps.is_finite() && o.eps > 0.0) {
        return Err(Error::invalid(format!(
            "eps = {} must be positive and finite; pass e.g. eps: 0.015625 (1/64)",
            o.eps
        )));
    }
    if o.window == 0 || o.save_every == 0 || o.experiments == 0 {
        return Err(Error::invalid(format!(
            "window = {}, save_every = {}, experiments = {} must all be ≥ 1",
            o.window, o.save_every, o.experiments
        )));
    }
    let n = sys.n();
    if o.pixel[0] >= n || o.pixel[1] >= n {
        return Err(Error::invalid(format!(
            "pixel = [{}, {}] is outside the {n}×{n} grid; pass indices in 0..{n}",
            o.pixel[0], o.pixel[1]
        )));
    }
    // The total's four running sums and the standard error, one running mean per chain in
    // flight, and each such chain's buffers (a member with workspace, two copies and a
    // control spectrum, a difference spectrum and the sign field).
    let in_flight = chunk_len().min(starts.len().min(o.experiments));
    let per_chain = sys.member_bytes() + 4 * 16 * sys.spectral().spec_len() + 16 * n * n;
    crate::budget::Request::new("ns_impulse_response")
        .buffer(
            "the accumulators",
            &[("", 5 + in_flight), ("lags", o.window), ("", n), ("", n)],
            8,
        )
        .buffer("the chain buffers", &[("chains", in_flight)], per_chain)
        .fix("use a shorter window (fewer lags) or a larger save_every")
        .check()?;
    Ok(())
}

/// Chains run at once (their accumulators are merged in chain order after each chunk).
fn chunk_len() -> usize {
    (2 * rayon::current_num_threads()).max(1)
}

/// Scratch of one chain.
struct ChainWork {
    ws: NsWorkspace,
    plus: Vec<C64>,
    minus: Vec<C64>,
    pert: Vec<C64>,
    diff: Vec<C64>,
    field: Vec<f64>,
}

/// Runs chain `c` (its experiments `c, c + C, c + 2C, …` below `E`) into a fresh accumulator.
fn run_chain(
    sys: &NsSystem,
    start: &NsState,
    c: usize,
    count: usize,
    o: &NsImpulseOpts,
    progress: &Progress,
) -> Result<GroupMean> {
    let n = sys.n();
    let nn = n * n;
    let mut w = ChainWork {
        ws: sys.workspace(),
        plus: sys.zero_spec(),
        minus: sys.zero_spec(),
        pert: sys.zero_spec(),
        diff: sys.zero_spec(),
        field: vec![0.0; nn],
    };
    let mut rng = stream_rng(o.seed, IMPULSE_STREAMS + c as u64);
    let mut ctl = Member::from_state(sys, start, &mut w.ws)?;
    let mut acc = GroupMean {
        count: 0,
        mean: vec![0.0; o.window * nn],
    };
    let mut signs = vec![0.0; nn];
    let mut since_poll = 0u64;
    let inv2e = 1.0 / (2.0 * o.eps);
    for win in 0..count {
        let exp_id = || format!("impulse experiment (chain {c}, window {win})");
        // The control is only needed to start a later window of this chain.
        let step_ctl = win + 1 < count;
        // The perturbation p·ε, projected onto the resolved modes.
        match o.mode {
            ImpulseMode::Pixel => {
                w.field.iter_mut().for_each(|v| *v = 0.0);
                w.field[o.pixel[0] * n + o.pixel[1]] = o.eps;
            }
            ImpulseMode::RandomSigns => {
                for (s, f) in signs.iter_mut().zip(w.field.iter_mut()) {
                    *s = if rng.random::<bool>() { 1.0 } else { -1.0 };
                    *f = o.eps * *s;
                }
            }
        }
        sys.to_spec(&w.field, &mut w.pert, &mut w.ws);
        for ((p, m), (z, d)) in w
            .plus
            .iter_mut()
            .zip(w.minus.iter_mut())
            .zip(ctl.z.iter().zip(&w.pert))
        {
            *p = z + d;
            *m = z - d;
        }
        // σ̂/N² for the random-sign correlation (reuses `pert`: σ̂ = pert/ε; the projection
        // does not matter because Δ̂ vanishes outside the resolved modes).
        let corr_scale = 1.0 / (o.eps * nn as f64);
        let count_new = (win + 1) as f64;
        for lag in 0..o.window {
            if lag > 0 {
                for _ in 0..o.save_every {
                    let (f0, fh, f1) = ctl.path.advance(sys.forcing(), &mut rng, sys.dt());
                    let r1 = sys.rk4(&mut w.plus, f0, fh, f1, &mut w.ws);
                    let r2 = sys.rk4(&mut w.minus, f0, fh, f1, &mut w.ws);
                    if step_ctl {
                        sys.rk4(&mut ctl.z, f0, fh, f1, &mut w.ws);
                    }
                    ctl.step += 1;
                    ctl.t += sys.dt();
                    for (r, which) in [(r1, "+ε copy"), (r2, "−ε copy")] {
                        if !(r.is_finite() && r <= BLOWUP_RMS) {
                            return Err(sys.blowup(
                                &format!("{} {which}", exp_id()),
                                ctl.step,
                                ctl.t,
                                r,
                            ));
                        }
                    }
                    since_poll += 1;
                    if since_poll >= POLL_EVERY {
                        since_poll = 0;
                        crate::core::interrupt::check("the Navier–Stokes impulse ensemble")?;
                    }
                }
            }
            for ((d, p), m) in w.diff.iter_mut().zip(&w.plus).zip(&w.minus) {
                *d = (p - m) * inv2e;
            }
            if o.mode == ImpulseMode::RandomSigns {
                for (d, s) in w.diff.iter_mut().zip(&w.pert) {
                    *d *= s.conj() * corr_scale;
                }
            }
            sys.to_field(&w.diff, &mut w.field, &mut w.ws);
            let base = lag * nn;
            let mean = &mut acc.mean[base..base + nn];
            let (px, py) = match o.mode {
                ImpulseMode::Pixel => (o.pixel[0], o.pixel[1]),
                ImpulseMode::RandomSigns => (0, 0),
            };
            for dx in 0..n {
                let row = ((px + dx) % n) * n;
                for dy in 0..n {
                    let x = w.field[row + (py + dy) % n];
                    let k = dx * n + dy;
                    mean[k] += (x - mean[k]) / count_new;
                }
            }
            progress.inc(1);
        }
        acc.count = win + 1;
        // The control finishes the window so that the next experiment starts a full window
        // (window · save_every steps) later.
        if step_ctl {
            for _ in 0..o.save_every {
                let (f0, fh, f1) = ctl.path.advance(sys.forcing(), &mut rng, sys.dt());
                let r = sys.rk4(&mut ctl.z, f0, fh, f1, &mut w.ws);
                ctl.step += 1;
                ctl.t += sys.dt();
                if !(r.is_finite() && r <= BLOWUP_RMS) {
                    return Err(sys.blowup(
                        &format!("impulse control (chain {c})"),
                        ctl.step,
                        ctl.t,
                        r,
                    ));
                }
            }
        }
    }
    Ok(acc)
}

/// Impulse-response ensemble from the stationary `starts` (see the module docs). Returns the
/// mean response per unit impulse, `values [window, N, N]` indexed by lag and offset
/// `(dx, dy)` from the perturbed pixel, its between-chain standard error (None for a single
/// chain, i.e. one start state or one experiment), lag
/// spacing `dt · save_every`, name `"ensemble"`.
pub fn impulse_ns(sys: &NsSystem, starts: &[NsState], opts: &NsImpulseOpts) -> Result<Response> {
    check(sys, starts, opts)?;
    let n = sys.n();
    let e = opts.experiments;
    let chains = starts.len().min(e);
    if chains < e && chains < crate::stats::MIN_BATCHES {
        crate::warn::warn(chained_warning(e, chains));
    }
    let per_chain = |c: usize| (e - c).div_ceil(chains);
    let progress = Progress::new(
        (e as u64).saturating_mul(opts.window as u64),
        "impulse ensemble",
        "lags",
    );
    let chunk = chunk_len();
    let mut total = BetweenGroups::new(opts.window * n * n, e);
    for lo in (0..chains).step_by(chunk) {
        let hi = (lo + chunk).min(chains);
        let means: Vec<Result<GroupMean>> = (lo..hi)
            .into_par_iter()
            .map(|c| run_chain(sys, &starts[c], c, per_chain(c), opts, &progress))
            .collect();
        for m in means {
            total.add(&m?);
        }
    }
    progress.finish();
    let shape = (opts.window, n, n);
    let stderr = total.stderr().map(|se| {
        Array3::from_shape_vec(shape, se)
            .expect("accumulator length is window·n²")
            .into_dyn()
    });
    let values = Array3::from_shape_vec(shape, total.mean)
        .expect("accumulator length is window·n²")
        .into_dyn();
    Ok(Response {
        name: "ensemble".to_string(),
        dt: sys.dt() * opts.save_every as f64,
        values,
        stderr,
        normalized: false,
    })
}

/// The warning for `e` experiments on only `chains` chains (see the module docs).
fn chained_warning(e: usize, chains: usize) -> String {
    let se = if chains < 2 {
        "no standard error can be formed from a single chain".to_string()
    } else {
        format!(
            "the standard error is computed between the {chains} chains and is itself uncertain \
             by about ±{:.0} %",
            100.0 * crate::stats::se_uncertainty(chains)
        )
    };
    format!(
        "ns_impulse_response: {e} experiments run on only {chains} chain(s), one per start state \
         (member of the trajectory): experiments on a chain are a window apart and not \
         independent, so {se}; for reliable error bars start from ≥ {} states (simulate more \
         members)",
        crate::stats::MIN_BATCHES
    )
}
