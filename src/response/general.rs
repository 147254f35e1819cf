//! The GFDT for a general perturbation `u(x)` and observables `A(x)` on vector trajectories
//! (SPEC 2):
//!
//! ```text
//! R_A(t) = −⟨ A(x(t)) B(x(0)) ⟩,   B(x) = ∇·u(x) + u(x)·s(x)
//! ```
//!
//! for any [`Score`] `s`, [`Perturbation`] `u` and [`Observable`]s. Per member the series
//! `a_k(t) = A_k(x(t))` and `b(t) = B(x(t))` are formed, then the lagged sums
//! `Σ_t a_k(t+τ) b(t)` come from one zero-padded FFT per series (no wrap-around) and are divided
//! by the number of pairs at lag τ.
//!
//! **Centring** (default on): the estimate is the lagged *covariance*
//! `−(⟨a(t+τ) b(t)⟩ − ⟨a⟩⟨b⟩)` with the means over the same pairs. Under the stationary law
//! `⟨B⟩ = ∫ ∇·(ρ u) = 0`, so both forms have the same expectation; the centred one removes the
//! sampling noise of `⟨a⟩⟨b⟩` and the bias of an imperfect score whose `⟨B⟩ ≠ 0`.
//!
//! **Error bars**: delete-one jackknife over members (M ≥ 8), otherwise over
//! `ceil(blocks / M)` contiguous time segments per member (each pair `(t, t+τ)` belongs to the
//! segment holding t, so segments partition the pairs exactly; the error bar assumes segments
//! much longer than the decorrelation time). With `step: true` every jackknife replicate is
//! integrated (trapezoid) before the variance is formed, so the step response's error bar
//! accounts for the correlation between lags.
//!
//! Result: a [`Response`] with `values`/`stderr` of shape `[L, n_obs]` (column k = observable
//! k), lags `traj.dt` apart, `normalized = false`.
//! [`gfdt_general_gaussian`] is the same with the Gaussian score fitted to the data
//! (`s(x) = −C⁻¹(x − μ)`): the "quasi-Gaussian" baseline, which for `u = e_j`, `A = x_i` gives
//! the usual `C(t) C(0)⁻¹` column.
use super::lagged_sums::{pair_count, plain_sums, LaggedFft};
use crate::core::response::Response;
use crate::core::trajectory::Trajectory;
use crate::score::gaussian::GaussianScore;
use crate::score::Score;
use crate::systems::observable::{check_all, Observable};
use crate::systems::perturbation::Perturbation;
use crate::systems::sde::fmt_state;
use crate::{Error, Result};
use ndarray::{s, Array2, ArrayView2, Axis};
use rayon::prelude::*;
use serde::Deserialize;

/// Options of [`gfdt_general`].
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GfdtOpts {
    /// Time span of the response: lags `0..=floor(window / traj.dt)`. Default 10.
    pub window: f64,
    /// Return the step response `∫₀ᵗ R(τ) dτ` (trapezoid) instead of `R`. Default false.
    pub step: bool,
    /// Subtract the means (covariance form, see the module doc). Default true.
    pub center: bool,
    /// Jackknife blocks when there are fewer than 8 members. Default 16.
    pub blocks: usize,
}

impl Default for GfdtOpts {
    fn default() -> Self {
        GfdtOpts {
            window: 10.0,
            step: false,
            center: true,
            blocks: 16,
        }
    }
}

/// Frames per score evaluation batch (bounds the per-thread buffers).
const CHUNK: usize = 4096;

/// Raw lagged sums of one jackknife unit.
#[derive(Clone)]
struct Sums {
    sab: Array2<f64>, // [n_obs, L]
    sa: Array2<f64>,  // [n_obs, L]
    sb: Vec<f64>,
    n: Vec<f64>,
}

impl Sums {
    fn zeros(n_obs: usize, lags: usize) -> Self {
        Sums {
            sab: Array2::zeros((n_obs, lags)),
            sa: Array2::zeros((n_obs, lags)),
            sb: vec![0.0; lags],
            n: vec![0.0; lags],
        }
    }
    fn add(&mut self, o: &Sums, sign: f64) {
        self.sab.scaled_add(sign, &o.sab);
        self.sa.scaled_add(sign, &o.sa);
        for (x, y) in self.sb.iter_mut().zip(&o.sb) {
            *x += sign * y;
        }
        for (x, y) in self.n.iter_mut().zip(&o.n) {
            *x += sign * y;
        }
    }
    /// `[L, n_obs]` response (or step response) from these sums.
    fn estimate(&self, center: bool, step: bool, dt: f64) -> Array2<f64> {
        let (n_obs, lags) = self.sab.dim();
        let mut r = Array2::from_shape_fn((lags, n_obs), |(l, k)| {
            let n = self.n[l];
            if n <= 0.0 {
                return f64::NAN;
            }
            let mut c = self.sab[[k, l]] / n;
            if center {
                c -= (self.sa[[k, l]] / n) * (self.sb[l] / n);
            }
            -c
        });
        if step {
            integrate_trapezoid(&mut r, dt);
        }
        r
    }
}

/// In place: row l becomes `Σ_{m<l} dt (r_m + r_{m+1}) / 2` (row 0 becomes 0).
pub(crate) fn integrate_trapezoid(r: &mut Array2<f64>, dt: f64) {
    let (lags, n_obs) = r.dim();
    let mut acc = vec![0.0; n_obs];
    let mut prev: Vec<f64> = r.row(0).to_vec();
    for l in 0..lags {
        if l > 0 {
            for k in 0..n_obs {
                let cur = r[[l, k]];
                acc[k] += 0.5 * dt * (prev[k] + cur);
                prev[k] = cur;
            }
        }
        for k in 0..n_obs {
            r[[l, k]] = acc[k];
        }
    }
}

/// GFDT estimate of the response of each observable to the perturbation `u` (module doc).
pub fn gfdt_general(
    traj: &Trajectory,
    score: &dyn Score,
    u: &dyn Perturbation,
    obs: &[&dyn Observable],
    opts: &GfdtOpts,
) -> Result<Response> {
    let (m, t, d) = (traj.members(), traj.frames(), traj.state_dim());
    let what = format!("GFDT ({}, {})", score.name(), u.name());
    if score.dim() != d || u.dim() != d {
        return Err(Error::shape(format!(
            "{what}: the trajectory has D = {d} but the score has {} and the perturbation {}; \
             they must agree",
            score.dim(),
            u.dim()
        )));
    }
    check_all(obs, d)?;
    if traj.dt.is_nan() || traj.dt <= 0.0 || !opts.window.is_finite() || opts.window < 0.0 {
        return Err(Error::invalid(format!(
            "{what}: window = {} (trajectory dt = {}); pass a window ≥ 0 in time units",
            opts.window, traj.dt
        )));
    }
    let lags = (opts.window / traj.dt + 1e-9).floor() as usize + 1;
    if lags > t {
        return Err(Error::invalid(format!(
            "{what}: window {} needs {lags} lags but the trajectory has only {t} frames; \
             shorten the window or simulate longer",
            opts.window
        )));
    }
    let segs = if m >= 8 {
        1
    } else {
        opts.blocks.max(2).div_ceil(m)
    };
    if t / segs < lags.max(2) {
        return Err(Error::invalid(format!(
            "{what}: {m} member(s) of {t} frames cut into {segs} jackknife segments each are \
             shorter than the {lags} lags; simulate longer or with ≥ 8 members, or lower `blocks`"
        )));
    }
    if m * segs < crate::stats::MIN_BATCHES {
        crate::warn::warn(super::batching::few_batches_message(
            &what,
            m * segs,
            &format!("{m} member(s) × {segs} time segments"),
            &format!(
                "pass blocks ≥ {} (now {}) or simulate ≥ {} members",
                crate::stats::MIN_BATCHES,
                opts.blocks,
                crate::stats::MIN_BATCHES
            ),
        ));
    }
    let flat = traj
        .data
        .view()
        .into_shape_with_order((m, t, d))
        .map_err(|e| Error::shape(format!("{what}: trajectory is not contiguous: {e}")))?;
    let n_obs = obs.len();
    // Kept until the jackknife: the lagged sums of every (member, segment) unit and its
    // leave-one-out estimate. Per thread: one member's observable and B series and the FFT
    // copies of them, and a score chunk.
    let units = m.saturating_mul(segs);
    let threads = rayon::current_num_threads().min(m).max(1);
    crate::budget::Request::new(&what)
        .buffer(
            "the jackknife sums",
            &[("units", units), ("", 3 * n_obs + 2), ("lags", lags)],
            8,
        )
        .buffer(
            "the per-thread series",
            &[("threads", threads), ("", 3 * (n_obs + 1)), ("frames", t)],
            8,
        )
        .buffer(
            "the score chunks",
            &[("threads", threads), ("", CHUNK.min(t)), ("values", d)],
            8,
        )
        .fix("use a shorter window or fewer observables")
        .check()?;
    let per_member = |fft: &mut LaggedFft, mi: usize| -> Result<Vec<Sums>> {
        let x = flat.index_axis(Axis(0), mi);
        let (a, b) = series(x, score, u, obs)
            .map_err(|e| crate::systems::sde::in_context(e, &format!("{what}, member {mi}")))?;
        crate::core::interrupt::check(&what)?;
        let mut out = Vec::with_capacity(segs);
        for sgi in 0..segs {
            let (s0, s1) = (t * sgi / segs, t * (sgi + 1) / segs);
            let a_end = (s1 + lags - 1).min(t);
            let bseg = &b[s0..s1];
            let aseg: Vec<&[f64]> = a.iter().map(|ak| &ak[s0..a_end]).collect();
            let cs = fft.cross_sums(&aseg, bseg, lags)?;
            let mut su = Sums::zeros(n_obs, lags);
            for k in 0..n_obs {
                let (sa, sb) = plain_sums(aseg[k], bseg, lags);
                for l in 0..lags {
                    su.sab[[k, l]] = cs[k][l];
                    su.sa[[k, l]] = sa[l];
                    if k == 0 {
                        su.sb[l] = sb[l];
                        su.n[l] = pair_count(a_end - s0, s1 - s0, l) as f64;
                    }
                }
            }
            out.push(su);
        }
        Ok(out)
    };
    let parallel = u.parallel_safe() && obs.iter().all(|o| o.parallel_safe());
    let results: Vec<Result<Vec<Sums>>> = if parallel {
        (0..m)
            .into_par_iter()
            .map_init(LaggedFft::new, per_member)
            .collect()
    } else {
        let mut fft = LaggedFft::new();
        (0..m).map(|mi| per_member(&mut fft, mi)).collect()
    };
    let units: Vec<Sums> = results
        .into_iter()
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect();
    let mut total = Sums::zeros(n_obs, lags);
    for su in &units {
        total.add(su, 1.0);
    }
    let values = total.estimate(opts.center, opts.step, traj.dt);
    // Delete-one jackknife.
    let nu = units.len() as f64;
    let reps: Vec<Array2<f64>> = units
        .iter()
        .map(|su| {
            let mut loo = total.clone();
            loo.add(su, -1.0);
            loo.estimate(opts.center, opts.step, traj.dt)
        })
        .collect();
    let mut mean = Array2::<f64>::zeros((lags, n_obs));
    for r in &reps {
        mean += r;
    }
    mean /= nu;
    let mut var = Array2::<f64>::zeros((lags, n_obs));
    for r in &reps {
        let dl = r - &mean;
        var += &(&dl * &dl);
    }
    let stderr = (var * ((nu - 1.0) / nu)).mapv(f64::sqrt);
    Ok(Response {
        name: format!("GFDT ({})", score.name()),
        dt: traj.dt,
        values: values.into_dyn(),
        stderr: Some(stderr.into_dyn()),
        normalized: false,
    })
}

/// [`gfdt_general`] with the Gaussian score fitted to the trajectory (mean and covariance over
/// all members and frames). Named "Gaussian FDT".
pub fn gfdt_general_gaussian(
    traj: &Trajectory,
    u: &dyn Perturbation,
    obs: &[&dyn Observable],
    opts: &GfdtOpts,
) -> Result<Response> {
    let g = GaussianScore::fit_trajectory(traj)?;
    let mut r = gfdt_general(traj, &g, u, obs, opts)?;
    r.name = "Gaussian FDT".into();
    Ok(r)
}

/// `(a_k(t), b(t))` for one member `x` `[T, D]`.
fn series(
    x: ArrayView2<f64>,
    score: &dyn Score,
    u: &dyn Perturbation,
    obs: &[&dyn Observable],
) -> Result<(Vec<Vec<f64>>, Vec<f64>)> {
    let (t, d) = x.dim();
    let mut a = vec![vec![0.0; t]; obs.len()];
    let mut b = vec![0.0; t];
    let mut sbuf = Array2::<f64>::zeros((CHUNK.min(t), d));
    let mut uu = vec![0.0; d];
    let mut xi = vec![0.0; d];
    let mut c0 = 0;
    while c0 < t {
        let c1 = (c0 + CHUNK).min(t);
        let xs = x.slice(s![c0..c1, ..]);
        let mut sv = sbuf.slice_mut(s![..c1 - c0, ..]);
        sv.fill(f64::NAN);
        score.eval_batch(xs, sv.view_mut())?;
        for (r, fr) in (c0..c1).enumerate() {
            for (dst, src) in xi.iter_mut().zip(x.row(fr)) {
                *dst = *src;
            }
            uu.fill(f64::NAN);
            u.u(&xi, &mut uu)?;
            let div = u.div(&xi)?;
            let us: f64 = uu.iter().zip(sv.row(r)).map(|(p, q)| p * q).sum();
            let bv = div + us;
            if !bv.is_finite() {
                return Err(Error::BlowUp(format!(
                    "frame {fr}: B = ∇·u + u·s is {bv} at x = {} (score or perturbation not \
                     finite there; a score that left a component unwritten reads NaN)",
                    fmt_state(&xi)
                )));
            }
            b[fr] = bv;
            for (k, o) in obs.iter().enumerate() {
                let v = o.eval(&xi)?;
                if !v.is_finite() {
                    return Err(Error::BlowUp(format!(
                        "frame {fr}: observable {} is {v} at x = {}",
                        o.name(),
                        fmt_state(&xi)
                    )));
                }
                a[k][fr] = v;
            }
        }
        c0 = c1;
    }
    Ok((a, b))
}

#[cfg(test)]
mod tests;
