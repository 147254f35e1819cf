//! Perturbation ensembles on an [`Sde`] — the ground truth of SPEC 2.
//!
//! Every experiment starts from one stationary state `x₀` (a row of `starts`, e.g. from
//! [`starts_from_trajectory`]) and integrates two copies with the *same* noise (common random
//! numbers), then records the central difference `(A(x⁺(t)) − A(x⁻(t))) / (2ε)` for every
//! observable at the stored lags (the ±ε pair removes the O(ε) bias of a one-sided difference):
//!
//! - **impulse** ([`impulse_ensemble`]): `x^± (0) = x₀ ± ε u(x₀)`, unperturbed drift. Estimates
//!   the impulse response `R_A(t)`; at t = 0 it is `∇A·u(x₀)` exactly.
//! - **step** ([`step_ensemble`]): `x^±(0) = x₀`, drift `F ± ε u(x)` from t = 0 on. Estimates
//!   the step response `∫₀ᵗ R_A(τ) dτ`; zero at t = 0.
//!
//! The result is a [`Response`] with `values` and `stderr` of shape `[L, n_obs]` (column k is
//! observable k), the mean and its standard error (sample standard deviation / √E, E − 1 in the
//! denominator) over the E experiments. Experiment e draws its noise from
//! `stream_rng(seed, e)` and the reduction runs in experiment order, so the result is
//! bit-identical for any thread count; experiments run in parallel when the system,
//! perturbation and observables are all `parallel_safe`. When `starts` repeats a state (fewer
//! distinct states G than experiments), the experiments from one state are not independent:
//! the standard error is then computed between the G states
//! ([`crate::stats::BetweenGroups`]) and a warning says so.
use crate::core::progress::Progress;
use crate::core::response::Response;
use crate::core::rng::stream_rng;
use crate::core::trajectory::Trajectory;
use crate::systems::observable::{check_all, Observable};
use crate::systems::perturbation::Perturbation;
use crate::systems::sde::stepper::{Stepper, Work};
use crate::systems::sde::{fmt_state, in_context, Method, Sde};
use crate::{Error, Result};
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::Deserialize;

/// Options of the perturbation ensembles. `window` is physical time; lags are
/// `dt · save_every` apart and there are `floor(window / (dt · save_every)) + 1` of them.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnsembleOpts {
    /// Perturbation amplitude ε (central difference ±ε). Default 0.01.
    pub eps: f64,
    /// Integrator step. Default 0.01.
    pub dt: f64,
    /// Integrator steps between recorded lags. Default 10.
    pub save_every: usize,
    /// Time span of the response. Default 10.
    pub window: f64,
    /// Seed; experiment e uses `stream_rng(seed, e)`. Default 0.
    pub seed: u64,
    /// `"em"` (default) or `"heun"`.
    pub method: Method,
}

impl Default for EnsembleOpts {
    fn default() -> Self {
        EnsembleOpts {
            eps: 0.01,
            dt: 0.01,
            save_every: 10,
            window: 10.0,
            seed: 0,
            method: Method::Em,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Impulse,
    Step,
}

/// Impulse-response ensemble (see the module doc); values `[L, n_obs]`.
pub fn impulse_ensemble(
    sde: &Sde,
    u: &dyn Perturbation,
    obs: &[&dyn Observable],
    starts: ArrayView2<f64>,
    opts: &EnsembleOpts,
) -> Result<Response> {
    run(sde, u, obs, starts, opts, Kind::Impulse)
}

/// Step-response ensemble (see the module doc); values `[L, n_obs]`.
pub fn step_ensemble(
    sde: &Sde,
    u: &dyn Perturbation,
    obs: &[&dyn Observable],
    starts: ArrayView2<f64>,
    opts: &EnsembleOpts,
) -> Result<Response> {
    run(sde, u, obs, starts, opts, Kind::Step)
}

/// Up to `n` start states `[n, D]` from a stationary trajectory, frames `spacing` time units
/// apart (rounded to whole frames, at least one), taken frame by frame across members
/// (frame 0 of every member, then frame `stride` of every member, …).
pub fn starts_from_trajectory(traj: &Trajectory, n: usize, spacing: f64) -> Result<Array2<f64>> {
    let (m, t, d) = (traj.members(), traj.frames(), traj.state_dim());
    if n == 0 || !(spacing >= 0.0 && spacing.is_finite()) {
        return Err(Error::invalid(format!(
            "start_states: count = {n}, spacing = {spacing}; pass count ≥ 1 and spacing ≥ 0"
        )));
    }
    let stride = ((spacing / traj.dt).round() as usize).max(1);
    let avail = t.div_ceil(stride) * m;
    if avail < n {
        return Err(Error::invalid(format!(
            "start_states: the trajectory ({m} members × {t} frames) gives only {avail} \
             starts {spacing} time units apart, {n} requested; simulate longer or more members, or \
             reduce the spacing"
        )));
    }
    let flat = traj
        .data
        .view()
        .into_shape_with_order((m, t, d))
        .map_err(|e| Error::shape(format!("start_states: {e}")))?;
    crate::budget::check(
        "start_states",
        "the start states",
        &[("states", n), ("values", d)],
        8,
        "ask for fewer start states",
    )?;
    let mut out = Array2::zeros((n, d));
    let mut k = 0;
    'outer: for f in (0..t).step_by(stride) {
        for mi in 0..m {
            if k == n {
                break 'outer;
            }
            out.row_mut(k).assign(&flat.slice(ndarray::s![mi, f, ..]));
            k += 1;
        }
    }
    Ok(out)
}

fn run(
    sde: &Sde,
    u: &dyn Perturbation,
    obs: &[&dyn Observable],
    starts: ArrayView2<f64>,
    opts: &EnsembleOpts,
    kind: Kind,
) -> Result<Response> {
    let name = sde.name();
    let label = match kind {
        Kind::Impulse => "impulse",
        Kind::Step => "step",
    };
    let what = format!("{label} ensemble on '{name}'");
    let d = sde.dim();
    if u.dim() != d {
        return Err(Error::shape(format!(
            "{what}: perturbation '{}' has dimension {} but the system has D = {d}",
            u.name(),
            u.dim()
        )));
    }
    check_all(obs, d)?;
    if starts.ncols() != d || starts.nrows() == 0 {
        return Err(Error::shape(format!(
            "{what}: starts is {}×{}; pass [E, {d}] stationary states (E ≥ 2 for error bars)",
            starts.nrows(),
            starts.ncols()
        )));
    }
    if !(opts.eps > 0.0 && opts.eps.is_finite()) {
        return Err(Error::invalid(format!(
            "{what}: eps = {} must be positive and finite (small: e.g. 0.01 of the state's scale)",
            opts.eps
        )));
    }
    let p = crate::systems::sde::run_plan(&what, opts.dt, 0.0, opts.window, opts.save_every)?;
    let lags = p.frames;
    let e_count = starts.nrows();
    // Every experiment's record is kept until the standard error is formed, plus the mean,
    // the variance and one difference.
    crate::budget::Request::new(&what)
        .buffer(
            "the experiment records",
            &[
                ("experiments", e_count),
                ("lags", lags),
                ("observables", obs.len()),
            ],
            8,
        )
        .buffer(
            "the statistics",
            &[("", 3), ("lags", lags), ("observables", obs.len())],
            8,
        )
        .fix("use a shorter window, a larger save_every or fewer start states")
        .check()?;
    let st = Stepper::new(sde, opts.method.scheme(), opts.dt);
    let progress = Progress::new(
        (e_count as u64)
            .saturating_mul((lags - 1) as u64)
            .saturating_mul(opts.save_every as u64),
        &what,
        "experiment-steps",
    );
    let one = |e: usize| -> Result<Array2<f64>> {
        let x0 = starts.row(e).to_vec();
        experiment(&st, kind, u, obs, &x0, e, lags, opts, &progress).map_err(|err| {
            in_context(
                err,
                &format!("{what}, experiment {e} (start {})", fmt_state(&x0)),
            )
        })
    };
    let parallel =
        sde.parallel_safe() && u.parallel_safe() && obs.iter().all(|o| o.parallel_safe());
    let results: Vec<Result<Array2<f64>>> = if parallel {
        (0..e_count).into_par_iter().map(one).collect()
    } else {
        (0..e_count).map(one).collect()
    };
    progress.finish();
    let per: Vec<Array2<f64>> = results.into_iter().collect::<Result<_>>()?;
    let n_obs = obs.len();
    let mut mean = Array2::<f64>::zeros((lags, n_obs));
    for r in &per {
        mean += r;
    }
    mean /= e_count as f64;
    let (ids, groups) = crate::stats::distinct_rows(
        starts
            .outer_iter()
            .map(|r| r.iter().copied().collect::<Vec<_>>()),
    );
    if groups < e_count {
        // Repeated start states: experiments from one state are not independent (module docs).
        crate::warn::warn(crate::stats::reuse_warning(
            &format!("{label}_ensemble"),
            e_count,
            e_count,
            groups,
        ));
        let mut total = crate::stats::BetweenGroups::new(lags * n_obs, e_count);
        for g in 0..groups {
            let members: Vec<&Array2<f64>> = per
                .iter()
                .zip(&ids)
                .filter(|(_, &i)| i == g)
                .map(|(r, _)| r)
                .collect();
            let mut gm = Array2::<f64>::zeros((lags, n_obs));
            for r in &members {
                gm += *r;
            }
            gm /= members.len() as f64;
            total.add(&crate::stats::GroupMean {
                count: members.len(),
                mean: gm.iter().copied().collect(),
            });
        }
        let stderr = total.stderr().map(|se| {
            Array2::from_shape_vec((lags, n_obs), se)
                .expect("length is lags·n_obs")
                .into_dyn()
        });
        return Ok(Response {
            name: format!("ensemble ({label})"),
            dt: opts.dt * opts.save_every as f64,
            values: mean.into_dyn(),
            stderr,
            normalized: false,
        });
    }
    let stderr = (e_count >= 2).then(|| {
        let mut var = Array2::<f64>::zeros((lags, n_obs));
        for r in &per {
            let dlt = r - &mean;
            var += &(&dlt * &dlt);
        }
        (var / ((e_count - 1) * e_count) as f64)
            .mapv(f64::sqrt)
            .into_dyn()
    });
    Ok(Response {
        name: format!("ensemble ({label})"),
        dt: opts.dt * opts.save_every as f64,
        values: mean.into_dyn(),
        stderr,
        normalized: false,
    })
}

#[allow(clippy::too_many_arguments)]
fn experiment(
    st: &Stepper,
    kind: Kind,
    u: &dyn Perturbation,
    obs: &[&dyn Observable],
    x0: &[f64],
    e: usize,
    lags: usize,
    opts: &EnsembleOpts,
    progress: &Progress,
) -> Result<Array2<f64>> {
    let eps = opts.eps;
    let mut xp = x0.to_vec();
    let mut xm = x0.to_vec();
    if kind == Kind::Impulse {
        let mut uu = vec![f64::NAN; x0.len()];
        u.u(x0, &mut uu)?;
        if let Some(i) = uu.iter().position(|v| !v.is_finite()) {
            return Err(Error::BlowUp(format!(
                "perturbation '{}' returned {} in component {i} at the start state",
                u.name(),
                uu[i]
            )));
        }
        for i in 0..x0.len() {
            xp[i] += eps * uu[i];
            xm[i] -= eps * uu[i];
        }
    }
    let (fp, fm) = match kind {
        Kind::Impulse => (None, None),
        Kind::Step => (Some((u, eps)), Some((u, -eps))),
    };
    let mut out = Array2::zeros((lags, obs.len()));
    let record = |l: usize, xp: &[f64], xm: &[f64], out: &mut Array2<f64>| -> Result<()> {
        for (k, o) in obs.iter().enumerate() {
            let v = (o.eval(xp)? - o.eval(xm)?) / (2.0 * eps);
            if !v.is_finite() {
                return Err(Error::BlowUp(format!(
                    "observable {} is not finite at lag {l} (x⁺ = {}, x⁻ = {})",
                    o.name(),
                    fmt_state(xp),
                    fmt_state(xm)
                )));
            }
            out[[l, k]] = v;
        }
        Ok(())
    };
    record(0, &xp, &xm, &mut out)?;
    let mut rng = stream_rng(opts.seed, e as u64);
    let (mut wp, mut wm) = (Work::new(st.sde), Work::new(st.sde));
    let mut dw = vec![0.0; st.sde.noise_dim()];
    let mut n = 0usize;
    for l in 1..lags {
        for _ in 0..opts.save_every {
            st.draw(&mut rng, &mut dw);
            let ctx = |err| in_context(err, &format!("step {n} (t = {})", n as f64 * st.dt));
            st.step(&mut xp, &dw, &mut wp, fp).map_err(ctx)?;
            st.step(&mut xm, &dw, &mut wm, fm).map_err(ctx)?;
            n += 1;
            if n.is_multiple_of(crate::systems::sde::POLL) {
                crate::core::interrupt::check("perturbation ensemble")?;
                progress.inc(crate::systems::sde::POLL as u64);
            }
        }
        record(l, &xp, &xm, &mut out)?;
    }
    Ok(out)
}
