//! Gaussian FDT and GFDT for vector trajectories `[M, T, D]` (any state shape is flattened
//! to D). Responses are `[L, D, D]`: `R_ij(t)` = response of x_i to a kick of x_j.
//!
//! Standard errors: delete-one jackknife over the batches of [`Batching::auto`] (groups of
//! members when M ≥ 8, else time segments of each member with lags ≤ 1/10 of a segment).
//! The mean μ is estimated once from all data and not re-estimated per replicate.
use super::batching::{jackknife, Batching};
use super::xcorr::{xcorr_batched, BatchedCorr};
use crate::core::checks::check_finite3;
use crate::core::checks::is_above;
use crate::core::linalg::{inverse, spd_inverse};
use crate::core::response::Response;
use crate::core::trajectory::Trajectory;
use crate::score::Score;
use crate::{Error, Result};
use ndarray::{Array1, Array3, ArrayD, Axis};
use rayon::prelude::*;

/// Frames per `Score::eval_batch` call.
const SCORE_BATCH: usize = 1024;

/// The trajectory as an owned `[M, T, D]` array, checked (NaN, lags, dt).
fn vec_data(traj: &Trajectory, lags: usize, who: &str) -> Result<Array3<f64>> {
    if traj.data.ndim() < 3 {
        return Err(Error::shape(format!(
            "{who} needs a trajectory [members, frames, ...state], got shape {:?}",
            traj.data.shape()
        )));
    }
    let (m, t, d) = (traj.members(), traj.frames(), traj.state_dim());
    if m == 0 || t == 0 || d == 0 {
        return Err(Error::invalid(format!(
            "{who}: the trajectory {:?} is empty; it needs ≥ 1 member, ≥ 2 frames and ≥ 1 \
             value per state",
            traj.data.shape()
        )));
    }
    super::fdt_periodic::check_lags(t, lags)?;
    crate::budget::check(
        who,
        "the centred copy of the trajectory",
        &[("members", m), ("frames", t), ("values", d)],
        8,
        "use a shorter trajectory",
    )?;
    if !is_above(traj.dt, 0.0) {
        return Err(Error::invalid(format!(
            "trajectory dt = {} must be positive",
            traj.dt
        )));
    }
    let x = traj
        .data
        .to_shape((m, t, d))
        .map_err(|e| Error::shape(format!("trajectory data: {e}")))?
        .into_owned();
    check_finite3(&x.view(), "trajectory")?;
    Ok(x)
}

/// Per-component mean over members and frames.
fn component_mean(x: &Array3<f64>) -> Array1<f64> {
    let (m, t, d) = x.dim();
    x.to_shape((m * t, d))
        .expect("owned standard layout")
        .mean_axis(Axis(0))
        .expect("non-empty")
}

/// The score of every frame: `[M, T, D]`, evaluated per member in batches of frames.
/// Errors on a dimension mismatch or a non-finite score value (naming member and frame).
pub fn score_trajectory(x: &Array3<f64>, score: &dyn Score) -> Result<Array3<f64>> {
    let (m, t, d) = x.dim();
    if score.dim() != d {
        return Err(Error::shape(format!(
            "score '{}' has dimension {} but the state has {d} components; use a score for this system",
            score.name(),
            score.dim()
        )));
    }
    crate::budget::check(
        "gfdt",
        "the score of every frame",
        &[("members", m), ("frames", t), ("values", d)],
        8,
        "use a shorter trajectory",
    )?;
    let mut s = Array3::<f64>::zeros((m, t, d));
    s.outer_iter_mut()
        .into_par_iter()
        .zip(x.outer_iter())
        .enumerate()
        .try_for_each(|(mi, (mut sm, xm))| -> Result<()> {
            crate::core::interrupt::check("score evaluation")?;
            for f0 in (0..t).step_by(SCORE_BATCH) {
                let f1 = (f0 + SCORE_BATCH).min(t);
                score.eval_batch(
                    xm.slice(ndarray::s![f0..f1, ..]),
                    sm.slice_mut(ndarray::s![f0..f1, ..]),
                )?;
            }
            if let Some(((tt, c), v)) = sm.indexed_iter().find(|(_, v)| !v.is_finite()) {
                return Err(Error::BlowUp(format!(
                    "score '{}' returned {v} at member {mi}, frame {tt}, component {c}",
                    score.name()
                )));
            }
            Ok(())
        })?;
    Ok(s)
}

/// `m(τ) · m(0)⁻¹` for every lag of `[L, D, D]`.
fn right_divide(c: &Array3<f64>, inv0: &ndarray::Array2<f64>) -> ArrayD<f64> {
    let mut r = Array3::<f64>::zeros(c.raw_dim());
    for (mut rl, cl) in r.outer_iter_mut().zip(c.outer_iter()) {
        rl.assign(&cl.dot(inv0));
    }
    r.into_dyn()
}

fn replicate(leave: Option<usize>) -> String {
    match leave {
        Some(b) => format!(" (jackknife replicate without batch {b})"),
        None => String::new(),
    }
}

/// Gaussian FDT for vector data: `R(t) = C(t) C(0)⁻¹` with
/// `C(t) = ⟨(x(t) − μ)(x(0) − μ)ᵀ⟩`. Name "Gaussian FDT", normalised. Errors if C(0) is
/// singular (naming the component).
pub fn gaussian_fdt_vec(traj: &Trajectory, lags: usize) -> Result<Response> {
    let mut x = vec_data(traj, lags, "gaussian_fdt")?;
    let mu = component_mean(&x);
    x -= &mu;
    let (m, t, _) = x.dim();
    let batching = Batching::auto(m, t, lags)?;
    batching.warn_if_few("gaussian_fdt", m, t, lags);
    let bc = xcorr_batched(x.view(), x.view(), lags, &batching)?;
    let (values, se) = jackknife(bc.batches(), |leave| {
        let c = bc.estimate(leave);
        let c0 = c.index_axis(Axis(0), 0);
        let c0 = (&c0 + &c0.t()) * 0.5;
        let inv = spd_inverse(c0.view(), &format!("C(0){}", replicate(leave)))?;
        Ok(right_divide(&c, &inv))
    })?;
    Ok(Response {
        name: "Gaussian FDT".into(),
        dt: traj.dt,
        values,
        stderr: Some(se),
        normalized: true,
    })
}

/// Per-batch sums of `(x(t+τ) − μ) s(x(t))ᵀ` for [`gfdt_vec`].
pub fn score_xcorr_vec(traj: &Trajectory, score: &dyn Score, lags: usize) -> Result<BatchedCorr> {
    let mut x = vec_data(traj, lags, "gfdt")?;
    let s = score_trajectory(&x, score)?;
    let mu = component_mean(&x);
    x -= &mu;
    let (m, t, _) = x.dim();
    let batching = Batching::auto(m, t, lags)?;
    batching.warn_if_few("gfdt", m, t, lags);
    xcorr_batched(x.view(), s.view(), lags, &batching)
}

/// GFDT for vector data: raw `R(t) = S(t) = −⟨x(t) s(x(0))ᵀ⟩` (name "GFDT (<score>)"), or
/// normalised `S(t) S(0)⁻¹` (name "GFDT (<score>, normalised)"). x has its mean removed
/// (E s = 0, so this only lowers the variance). Values `[L, D, D]`.
pub fn gfdt_vec(
    traj: &Trajectory,
    score: &dyn Score,
    lags: usize,
    normalized: bool,
) -> Result<Response> {
    let bc = score_xcorr_vec(traj, score, lags)?;
    let (values, se) = jackknife(bc.batches(), |leave| {
        let s = -bc.estimate(leave);
        if normalized {
            let inv = inverse(
                s.index_axis(Axis(0), 0),
                &format!("S(0) = −⟨x sᵀ⟩{}", replicate(leave)),
            )?;
            Ok(right_divide(&s, &inv))
        } else {
            Ok(s.into_dyn())
        }
    })?;
    Ok(Response::gfdt(
        &score.name(),
        traj.dt,
        values,
        se,
        normalized,
    ))
}
