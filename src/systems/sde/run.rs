//! Ensemble integration of an [`Sde`] into a [`Trajectory`] `[M, T, D]`.
use super::stepper::{Scheme, Stepper, Work};
use super::{in_context, Sde};
use crate::core::progress::Progress;
use crate::core::rng::stream_rng;
use crate::core::trajectory::Trajectory;
use crate::{Error, Result};
use ndarray::{Array2, Array3, ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;
use serde::Deserialize;

/// Integrator choice (see [`super::stepper`] for the formulas).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Euler–Maruyama: strong order ½ (1 for additive noise), weak order 1.
    #[default]
    Em,
    /// Stochastic Heun (trapezoidal drift, noise at the start of the step — Itô-consistent).
    /// Strong order 1 for additive noise; for state-dependent noise it stays an Itô scheme.
    Heun,
}

impl Method {
    pub(crate) fn scheme(self) -> Scheme {
        match self {
            Method::Em => Scheme::Em,
            Method::Heun => Scheme::Heun,
        }
    }
}

/// Initial states of the members (before spin-up).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum SdeInit {
    /// `"zeros"`: every member starts at the origin.
    Name(String),
    /// The same start for every member (length D).
    Point(Vec<f64>),
    /// One start per member (`members` rows of length D).
    Members(Vec<Vec<f64>>),
}

impl Default for SdeInit {
    fn default() -> Self {
        SdeInit::Name("zeros".into())
    }
}

/// Options of [`Sde::simulate`]. Times are physical; `save_every` is in integrator steps, so
/// stored frames are `dt · save_every` apart. Frame 0 is the state after `spinup`; the run
/// stores `floor(duration / (dt · save_every)) + 1` frames.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SdeRunOpts {
    /// Ensemble members M (independent noise streams). Default 1.
    pub members: usize,
    /// Integrator step. Default 0.01.
    pub dt: f64,
    /// Time integrated and discarded before frame 0. Default 0.
    pub spinup: f64,
    /// Time covered by the stored frames. Default 100.
    pub duration: f64,
    /// Integrator steps between stored frames. Default 10.
    pub save_every: usize,
    /// Seed; member m uses `stream_rng(seed, m)`. Default 0.
    pub seed: u64,
    /// `"em"` (default) or `"heun"`.
    pub method: Method,
    /// `"zeros"` (default), one start `[x1, …]`, or one per member `[[…], …]`.
    pub init: SdeInit,
}

impl Default for SdeRunOpts {
    fn default() -> Self {
        SdeRunOpts {
            members: 1,
            dt: 0.01,
            spinup: 0.0,
            duration: 100.0,
            save_every: 10,
            seed: 0,
            method: Method::Em,
            init: SdeInit::default(),
        }
    }
}

/// Validated step counts of a run.
pub(crate) struct Plan {
    pub spin_steps: usize,
    pub frames: usize,
}

/// Validates `dt`, `save_every` and a window, returning the integer plan.
pub(crate) fn plan(
    what: &str,
    dt: f64,
    spinup: f64,
    duration: f64,
    save_every: usize,
) -> Result<Plan> {
    if !(dt > 0.0 && dt.is_finite()) {
        return Err(Error::invalid(format!(
            "{what}: dt = {dt} must be positive and finite; pass e.g. dt: 0.01"
        )));
    }
    if !(spinup >= 0.0 && spinup.is_finite()) {
        return Err(Error::invalid(format!(
            "{what}: spinup = {spinup} must be ≥ 0 (a time); pass e.g. spinup: 100.0"
        )));
    }
    if save_every == 0 {
        return Err(Error::invalid(format!(
            "{what}: save_every = 0; pass the number of steps between frames (≥ 1)"
        )));
    }
    let frame_dt = dt * save_every as f64;
    if !(duration.is_finite() && duration >= frame_dt * (1.0 - 1e-9)) {
        return Err(Error::invalid(format!(
            "{what}: duration/window = {duration} is shorter than one frame interval \
             dt · save_every = {frame_dt}; pass a longer duration or a smaller save_every"
        )));
    }
    let n = (duration / frame_dt + 1e-9).floor();
    if n > 1e12 {
        return Err(Error::invalid(format!(
            "{what}: {n} frames requested; increase save_every or shorten the duration"
        )));
    }
    Ok(Plan {
        spin_steps: (spinup / dt).round() as usize,
        frames: n as usize + 1,
    })
}

impl Sde {
    /// Integrates `opts.members` members from `opts.init` (see [`SdeRunOpts`]).
    pub fn simulate(&self, opts: &SdeRunOpts) -> Result<Trajectory> {
        let starts = self.resolve_init(opts)?;
        self.simulate_from(starts.view(), opts)
    }

    /// Integrates one member per row of `starts` (`[M, D]`); `opts.members` and `opts.init` are
    /// ignored. Returns `data` `[M, T, D]`, frames `dt · save_every` apart, `t0 = spinup`.
    pub fn simulate_from(&self, starts: ArrayView2<f64>, opts: &SdeRunOpts) -> Result<Trajectory> {
        let name = &self.name;
        let d = self.dim();
        if starts.ncols() != d || starts.nrows() == 0 {
            return Err(Error::shape(format!(
                "system '{name}': {} start states of length {} given; pass at least one of length D = {d}",
                starts.nrows(),
                starts.ncols()
            )));
        }
        if let Some(v) = starts.iter().find(|v| !v.is_finite()) {
            return Err(Error::invalid(format!(
                "system '{name}': a start state contains {v}; pass finite starts"
            )));
        }
        let what = format!("simulate '{name}'");
        let p = plan(&what, opts.dt, opts.spinup, opts.duration, opts.save_every)?;
        let m = starts.nrows();
        check_trajectory(&what, m, p.frames, d)?;
        let stepper = Stepper::new(self, opts.method.scheme(), opts.dt);
        let total =
            (m as u64)
                .saturating_mul((p.spin_steps as u64).saturating_add(
                    ((p.frames - 1) as u64).saturating_mul(opts.save_every as u64),
                ));
        let progress = Progress::new(total, &what, "member-steps");
        let mut data = Array3::<f64>::zeros((m, p.frames, d));
        let run = |(mi, out): (usize, ArrayViewMut2<f64>)| -> Result<()> {
            run_member(
                &stepper,
                mi,
                starts.row(mi).to_vec(),
                out,
                opts,
                &p,
                &progress,
            )
        };
        let results: Vec<Result<()>> = if self.parallel_safe() {
            data.axis_iter_mut(Axis(0))
                .into_par_iter()
                .enumerate()
                .map(run)
                .collect()
        } else {
            data.axis_iter_mut(Axis(0)).enumerate().map(run).collect()
        };
        progress.finish();
        // Report the failure of the lowest member index, so the message does not depend on
        // thread scheduling.
        results.into_iter().collect::<Result<Vec<()>>>()?;
        Ok(Trajectory {
            data: data.into_dyn(),
            dt: opts.dt * opts.save_every as f64,
            t0: p.spin_steps as f64 * opts.dt,
            system: name.clone(),
        })
    }

    fn resolve_init(&self, opts: &SdeRunOpts) -> Result<Array2<f64>> {
        let (name, d, m) = (&self.name, self.dim(), opts.members);
        if m == 0 {
            return Err(Error::invalid(format!(
                "simulate '{name}': members = 0; pass members ≥ 1"
            )));
        }
        // Check the whole run before the start states are made: both scale with members.
        let what = format!("simulate '{name}'");
        let p = plan(&what, opts.dt, opts.spinup, opts.duration, opts.save_every)?;
        check_trajectory(&what, m, p.frames, d)?;
        let bad_len = |len: usize| {
            Error::shape(format!(
                "simulate '{name}': init has length {len} but D = {d}; pass {d} values"
            ))
        };
        match &opts.init {
            SdeInit::Name(s) if s == "zeros" => Ok(Array2::zeros((m, d))),
            SdeInit::Name(s) => Err(Error::invalid(format!(
                "simulate '{name}': init = \"{s}\" is unknown; pass \"zeros\", one state [..] \
                 or one state per member [[..], ..]"
            ))),
            SdeInit::Point(x) => {
                if x.len() != d {
                    return Err(bad_len(x.len()));
                }
                Ok(Array2::from_shape_fn((m, d), |(_, j)| x[j]))
            }
            SdeInit::Members(rows) => {
                if rows.len() != m {
                    return Err(Error::shape(format!(
                        "simulate '{name}': init has {} states for members = {m}; pass one per member",
                        rows.len()
                    )));
                }
                if let Some(r) = rows.iter().find(|r| r.len() != d) {
                    return Err(bad_len(r.len()));
                }
                Ok(Array2::from_shape_fn((m, d), |(i, j)| rows[i][j]))
            }
        }
    }
}

/// Checks a run of `m` members × `frames` frames of dimension `d` against the memory budget:
/// the trajectory plus the start states (`[M, D]`).
fn check_trajectory(what: &str, m: usize, frames: usize, d: usize) -> Result<()> {
    crate::budget::Request::new(what)
        .buffer(
            "the trajectory",
            &[("members", m), ("frames", frames), ("values", d)],
            8,
        )
        .buffer("the start states", &[("members", m), ("values", d)], 8)
        .fix("use fewer members, a shorter duration or a larger save_every")
        .check()?;
    Ok(())
}

/// Steps between Ctrl-C polls and progress updates.
pub(crate) const POLL: usize = 1024;

fn run_member(
    st: &Stepper,
    mi: usize,
    start: Vec<f64>,
    mut out: ArrayViewMut2<f64>,
    opts: &SdeRunOpts,
    p: &Plan,
    progress: &Progress,
) -> Result<()> {
    let sde = st.sde;
    let mut x = start;
    let mut rng = stream_rng(opts.seed, mi as u64);
    let mut w = Work::new(sde);
    let mut dw = vec![0.0; sde.noise_dim()];
    let mut step_no = 0usize;
    let mut advance = |x: &mut Vec<f64>, n: usize| -> Result<()> {
        for _ in 0..n {
            st.draw(&mut rng, &mut dw);
            st.step(x, &dw, &mut w, None).map_err(|e| {
                in_context(
                    e,
                    &format!(
                        "system '{}', member {mi}, step {step_no} (t = {})",
                        sde.name,
                        step_no as f64 * st.dt
                    ),
                )
            })?;
            step_no += 1;
            if step_no.is_multiple_of(POLL) {
                crate::core::interrupt::check(&format!("simulate '{}'", sde.name))?;
                progress.inc(POLL as u64);
            }
        }
        Ok(())
    };
    advance(&mut x, p.spin_steps)?;
    for (f, mut row) in out.axis_iter_mut(Axis(0)).enumerate() {
        if f > 0 {
            advance(&mut x, opts.save_every)?;
        }
        for (o, v) in row.iter_mut().zip(&x) {
            *o = *v;
        }
    }
    Ok(())
}
