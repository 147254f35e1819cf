//! Gaussian FDT and GFDT on periodic N×N grids, using translation invariance: every source
//! pixel is averaged (`R(x − x', t)`), and the matrices `C(t)`, `S(t)` are circulant, so
//! `C(t) C(0)⁻¹` is the Fourier multiplier `Ĉ(k, t) / Ĉ(k, 0)` (see [`super::periodic`]).
//!
//! Responses are `[L, N, N]` indexed `[lag, dx, dy]`: the response at offset (dx, dy) mod N
//! from the perturbed pixel. Standard errors: delete-one jackknife over the batches of
//! [`Batching::auto`] (groups of members when M ≥ 8, else time segments of each member; lags
//! must then be ≤ 1/10 of a segment). The mean μ is estimated once from all data (not
//! re-estimated per jackknife replicate; its effect is O(1/(M T N²))).
use super::batching::{jackknife, Batching};
use super::periodic::{periodic_xcorr, spectrum_to_real, PeriodicCorr, Second};
use crate::core::checks::{check_finite_grid, grid_dims, is_above};
use crate::core::response::Response;
use crate::core::trajectory::Trajectory;
use crate::score::Score;
use crate::{Error, Result};
use ndarray::{Array2, ArrayD, ArrayView3, ArrayView4, ArrayViewMut3, Ix4};
use num_complex::Complex64;

/// Relative size (against the largest mode) at or below which `|Ĉ(k, 0)|` (or `|Ŝ(k, 0)|`)
/// counts as zero: the mode is unresolved and gets response 0 (see [`resolved_modes`]). Mode
/// variances of real data span a few decades; rounding residue of filtered modes is ~1e-30.
pub const MODE_RTOL: f64 = 1e-12;
/// Frames per `Score::eval_batch` call.
const SCORE_BATCH: usize = 256;

/// Checks `1 ≤ lags < frames`.
pub fn check_lags(frames: usize, lags: usize) -> Result<()> {
    if lags == 0 || lags >= frames {
        return Err(Error::invalid(format!(
            "lags = {lags} must be between 1 and frames − 1 = {} (the trajectory has {frames} frames); \
             use fewer lags or a longer run",
            frames.saturating_sub(1)
        )));
    }
    Ok(())
}

/// The trajectory as a `[M, T, N, N]` view, checked (shape, square, NaN, lags).
fn grid_view<'a>(
    traj: &'a Trajectory,
    lags: usize,
    who: &str,
) -> Result<(ArrayView4<'a, f64>, usize)> {
    let a = traj.data.view().into_dimensionality::<Ix4>().map_err(|_| {
        Error::shape(format!(
            "{who} needs a grid trajectory [members, frames, N, N] here, got shape {:?}",
            traj.data.shape()
        ))
    })?;
    let (_, t, n) = grid_dims(&a)?;
    check_lags(t, lags)?;
    check_finite_grid(&a)?;
    if !is_above(traj.dt, 0.0) {
        return Err(Error::invalid(format!(
            "trajectory dt = {} must be positive",
            traj.dt
        )));
    }
    Ok((a, n))
}

/// The modes a normalised estimator divides by: `|den(k)| > MODE_RTOL · max_k |den(k)|` for
/// the lag-0 spectrum `den` of all the data (`Ĉ(k, 0)` or `Ŝ(k, 0)`). The others are
/// *unresolved*: the field has no variance there (e.g. the modes removed by the 2/3-rule
/// dealiasing of Navier–Stokes, whose periodograms are rounding noise, ~1e-33 of the largest),
/// so `C(0)` is singular and the estimators use its pseudo-inverse: the response is 0 on
/// unresolved modes. That is what the dynamics does too: a model whose state never has a
/// component in a mode cannot respond in it (the Navier–Stokes simulator projects every
/// perturbation onto its resolved modes, so its perturbation ensemble is `R(t) P` with `P` the
/// projection, exactly what the pseudo-inverse gives). Errors if no mode is resolved.
fn resolved_modes(corr: &PeriodicCorr, what: &str) -> Result<Vec<bool>> {
    let spec = corr.spectrum(None);
    let den = spec.row(0);
    let max = den.iter().map(|v| v.norm()).fold(0.0, f64::max);
    if !is_above(max, 0.0) || !max.is_finite() {
        return Err(Error::invalid(format!(
            "{what}(k, 0) is zero (or not finite) for every mode: the data are constant \
             after removing the mean; nothing to correlate"
        )));
    }
    Ok(den
        .iter()
        .map(|v| is_above(v.norm(), MODE_RTOL * max))
        .collect())
}

/// `sign · num(k, τ) / (sign · den(k))` on the `resolved` modes, 0 on the others (the
/// pseudo-inverse, see [`resolved_modes`]); errors if a resolved mode's denominator vanishes
/// in a jackknife replicate.
fn divide_by_lag0(
    corr: &PeriodicCorr,
    spec: &Array2<Complex64>,
    sign: f64,
    what: &str,
    leave: Option<usize>,
    resolved: &[bool],
) -> Result<Array2<Complex64>> {
    let den = spec.row(0).to_owned();
    let max = den.iter().map(|v| v.norm()).fold(0.0, f64::max);
    if let Some((i, v)) = den
        .iter()
        .zip(resolved)
        .enumerate()
        .find(|(_, (v, r))| **r && !(is_above(v.norm(), 0.0) && v.norm().is_finite()))
        .map(|(i, (v, _))| (i, v))
    {
        let sp = corr.spectral();
        let which = match leave {
            Some(b) => format!(" in the jackknife replicate without batch {b}"),
            None => String::new(),
        };
        return Err(Error::invalid(format!(
            "{what}(k, 0) = {:.3e} for mode (kx, ky) = ({}, {}){which} (largest {max:.3e}), \
             though the mode has variance in the full data: too few batches to divide by it; \
             use more members or longer runs, or the raw (unnormalised) GFDT",
            v.norm(),
            sp.kx()[i],
            sp.ky()[i],
        )));
    }
    let zero = Complex64::new(0.0, 0.0);
    let mut r = spec * sign;
    let den = &den * sign;
    for mut row in r.outer_iter_mut() {
        row.iter_mut()
            .zip(den.iter().zip(resolved))
            .for_each(|(x, (d, &keep))| *x = if keep { *x / *d } else { zero });
    }
    Ok(r)
}

/// Gaussian FDT on a periodic grid: `R(t) = C(t) C(0)⁻¹` with the circulant space–time
/// covariance of the mean-removed field (scalar mean μ), i.e. `R̂(k, t) = Ĉ(k, t) / Ĉ(k, 0)`.
/// Name "Gaussian FDT", normalised (`R(0) = I` on the resolved modes). Modes with
/// `Ĉ(k, 0) ≈ 0` (relative [`MODE_RTOL`]) get `R̂ = 0`: `C(0)⁻¹` is the pseudo-inverse, so on
/// 2/3-dealiased Navier–Stokes data `R(0)` is the projection onto the resolved modes.
pub fn gaussian_fdt_periodic(traj: &Trajectory, lags: usize) -> Result<Response> {
    let (a, _) = grid_view(traj, lags, "gaussian_fdt")?;
    let (m, t) = (a.shape()[0], a.shape()[1]);
    let mu = a.mean().unwrap_or(0.0);
    let batching = Batching::auto(m, t, lags)?;
    batching.warn_if_few("gaussian_fdt", m, t, lags);
    let corr = periodic_xcorr(a, Second::Same, lags, mu, &batching)?;
    let resolved = resolved_modes(&corr, "C")?;
    let (values, se) = jackknife(corr.batches(), |leave| {
        let spec = corr.spectrum(leave);
        let r = divide_by_lag0(&corr, &spec, 1.0, "C", leave, &resolved)?;
        Ok(spectrum_to_real(corr.spectral(), r.view()).into_dyn())
    })?;
    Ok(Response {
        name: "Gaussian FDT".into(),
        dt: traj.dt,
        values,
        stderr: Some(se),
        normalized: true,
    })
}

/// Space–time cross-spectra of θ − μ with the score `s(θ)` evaluated per member (in batches
/// of frames through `Score::eval_batch` on `[frames, N²]`), for [`gfdt_periodic`].
pub fn score_xcorr_periodic(
    a: ArrayView4<f64>,
    score: &dyn Score,
    lags: usize,
    batching: &Batching,
) -> Result<PeriodicCorr> {
    let (_, _, n) = grid_dims(&a)?;
    if score.dim() != n * n {
        return Err(Error::shape(format!(
            "score '{}' has dimension {} but the grid state has N² = {} values; \
             use a score made for this {n}×{n} grid",
            score.name(),
            score.dim(),
            n * n
        )));
    }
    let mu = a.mean().unwrap_or(0.0);
    let map = |_m: usize, x: ArrayView3<f64>, mut out: ArrayViewMut3<f64>| -> Result<()> {
        let t = x.shape()[0];
        let x = x
            .to_shape((t, n * n))
            .map_err(|e| Error::shape(format!("frames: {e}")))?;
        let mut o = out
            .view_mut()
            .into_shape_with_order((t, n * n))
            .map_err(|e| Error::shape(format!("score buffer: {e}")))?;
        for f0 in (0..t).step_by(SCORE_BATCH) {
            let f1 = (f0 + SCORE_BATCH).min(t);
            score.eval_batch(
                x.slice(ndarray::s![f0..f1, ..]),
                o.slice_mut(ndarray::s![f0..f1, ..]),
            )?;
        }
        Ok(())
    };
    periodic_xcorr(a, Second::Map(&map), lags, mu, batching)
}

/// GFDT on a periodic grid with a score: raw `R(r, t) = −⟨θ(x + r, t) s(x, 0)⟩` averaged over
/// x (name "GFDT (<score name>)", `normalized = false`), or normalised
/// `R = S(t) S(0)⁻¹` with `S(t) = −⟨θ(t) s(0)ᵀ⟩`, done per Fourier mode because S is
/// circulant (name "GFDT (<score name>, normalised)"). θ has its scalar mean removed
/// (E s = 0, so this only lowers the variance).
///
/// Modes in which the field has no variance (2/3-dealiased Navier–Stokes): the raw estimate
/// is 0 there automatically (`θ̂(k, t) = 0`, whatever the score does in those modes, so a
/// learned score's output in the unresolved modes never matters), and the normalised one uses
/// the pseudo-inverse of `S(0)` like [`gaussian_fdt_periodic`] (relative [`MODE_RTOL`] on
/// `|Ŝ(k, 0)|`, which vanishes with `Ĉ(k, 0)` by Cauchy–Schwarz).
pub fn gfdt_periodic(
    traj: &Trajectory,
    score: &dyn Score,
    lags: usize,
    normalized: bool,
) -> Result<Response> {
    let (a, _) = grid_view(traj, lags, "gfdt")?;
    let (m, t) = (a.shape()[0], a.shape()[1]);
    let batching = Batching::auto(m, t, lags)?;
    batching.warn_if_few("gfdt", m, t, lags);
    let corr = score_xcorr_periodic(a, score, lags, &batching)?;
    let resolved = if normalized {
        resolved_modes(&corr, "S")?
    } else {
        Vec::new()
    };
    let resolved = &resolved;
    let (values, se) = jackknife(corr.batches(), |leave| -> Result<ArrayD<f64>> {
        let spec = corr.spectrum(leave);
        let r = if normalized {
            divide_by_lag0(&corr, &spec, -1.0, "S", leave, resolved)?
        } else {
            spec.mapv(|v| -v)
        };
        Ok(spectrum_to_real(corr.spectral(), r.view()).into_dyn())
    })?;
    Ok(Response::gfdt(
        &score.name(),
        traj.dt,
        values,
        se,
        normalized,
    ))
}

/// Seconds for [`gfdt_periodic`] (raw) on a synthetic stationary field `[members, frames, n, n]`
/// (per-mode AR(1), see [`super::synthetic::Ar1Field`]) with its exact Gaussian score, on a
/// local pool of `threads` threads. Data generation is not timed.
pub fn bench_gfdt_periodic(
    members: usize,
    frames: usize,
    n: usize,
    lags: usize,
    threads: usize,
) -> Result<f64> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| Error::invalid(format!("cannot build a {threads}-thread pool: {e}")))?;
    pool.install(|| {
        let field = super::synthetic::Ar1Field::default_for(n);
        let traj = field.simulate(members, frames, 7)?;
        let score = field.exact_score()?;
        let t0 = std::time::Instant::now();
        let r = gfdt_periodic(&traj, &score, lags, false)?;
        let el = t0.elapsed().as_secs_f64();
        std::hint::black_box(r);
        Ok(el)
    })
}
