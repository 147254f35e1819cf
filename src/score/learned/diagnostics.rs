//! Diagnostics of a learned score: samples drawn with it (to compare marginals and spectra
//! with the data) and the radial power spectrum of periodic fields.
use super::data::fill_normal;
use super::LearnedScore;
use crate::core::progress::Progress;
use crate::core::rng::stream_rng;
use crate::{Error, Result};
use ndarray::{ArrayD, ArrayView3, IxDyn};
use num_complex::Complex;
use serde::{Deserialize, Serialize};

/// Options of [`sample`].
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields, default)]
pub struct SampleOpts {
    /// Number of samples to draw.
    pub samples: usize,
    /// Noise levels from σ_max down to σ_min (geometric); one predictor step each.
    pub steps: usize,
    /// Langevin corrector steps per noise level.
    pub corrector: usize,
    /// Signal-to-noise ratio of the corrector (Song et al. 2021 use 0.16 for VE).
    pub snr: f64,
    /// Seed of the initial noise and every Gaussian draw.
    pub seed: u64,
    /// Apply the final Tweedie denoising step `y + σ_min² s(y, σ_min)`.
    pub denoise: bool,
    /// Start the reverse SDE at this noise level (standardised units) instead of σ_max, from
    /// `N(0, 1 + σ_start²)` (the standardised data have unit variance). For a model trained
    /// with `sigma_power` > 1, which is accurate at small σ but saw few large noise levels.
    pub sigma_start: Option<f64>,
}

impl Default for SampleOpts {
    fn default() -> Self {
        SampleOpts {
            samples: 1000,
            steps: 500,
            corrector: 1,
            snr: 0.16,
            seed: 0,
            denoise: true,
            sigma_start: None,
        }
    }
}

/// Draws samples from the density the score was learned from with the predictor–corrector
/// reverse-SDE sampler for the variance-exploding SDE (Song et al. 2021, Alg. 2 + 4), in the
/// model's standardised units: start from `N(0, σ_max²)`; for each noise level σ_i (geometric
/// from σ_max to σ_min) a reverse-diffusion predictor
/// `y ← y + (σ_i² − σ_{i+1}²) s(y, σ_i) + √(σ_i² − σ_{i+1}²) z` and `corrector` Langevin
/// steps `y ← y + ε s(y, σ_{i+1}) + √(2ε) z` with `ε = 2 (snr ‖z‖ / ‖s‖)²` (norms averaged
/// over the samples).
///
/// Returns `[samples, ...state]` in physical units. Seeded: the same seed gives the same
/// samples. Checks Ctrl-C at every noise level.
pub fn sample(score: &LearnedScore, opts: &SampleOpts) -> Result<ArrayD<f64>> {
    if opts.samples == 0 || opts.steps < 2 {
        return Err(Error::invalid(format!(
            "sampling needs samples ≥ 1 and steps ≥ 2, got samples = {}, steps = {}",
            opts.samples, opts.steps
        )));
    }
    if !(opts.snr.is_finite() && opts.snr > 0.0) {
        return Err(Error::invalid(format!(
            "snr = {} must be positive",
            opts.snr
        )));
    }
    let d = crate::score::Score::dim(score);
    let (smin, smax_trained) = score.sigma_range_std();
    // Start level and the standard deviation of the initial draw: N(0, σ_max²) at σ_max, or
    // N(0, 1 + σ²) (unit-variance data plus noise) below it.
    let (smax, init) = match opts.sigma_start {
        None => (smax_trained, smax_trained),
        Some(s) if s.is_finite() && s > smin && s <= smax_trained => (s, (1.0 + s * s).sqrt()),
        Some(s) => {
            return Err(Error::invalid(format!(
                "sigma_start = {s} must lie in (σ_min, σ_max] = ({smin}, {smax_trained}] \
                 (standardised units); leave it unset to start at σ_max"
            )))
        }
    };
    let n = opts.samples;
    // The sampler's state, its noise and the score (f32 each), and the result (f64).
    crate::budget::Request::new("sample_score")
        .buffer(
            "the sampler state",
            &[("", 3), ("samples", n), ("values", d)],
            4,
        )
        .buffer("the samples", &[("samples", n), ("values", d)], 8)
        .fix("use fewer samples")
        .check()?;
    let sig = |i: usize| smax * (smin / smax).powf(i as f64 / (opts.steps - 1) as f64);
    let mut rng = stream_rng(opts.seed, 0);
    let mut y = vec![0f32; n * d];
    fill_normal(&mut rng, &mut y);
    y.iter_mut().for_each(|v| *v *= init as f32);
    let mut z = vec![0f32; n * d];
    let bar = Progress::new(
        opts.steps as u64,
        "sampling with the learned score",
        "levels",
    );
    for i in 0..opts.steps - 1 {
        crate::core::interrupt::check("sampling with the learned score")?;
        let (s0, s1) = (sig(i), sig(i + 1));
        // Predictor: reverse diffusion from σ_i to σ_{i+1}.
        let g = score.eval_std(&y, s0)?;
        let dv = s0 * s0 - s1 * s1;
        fill_normal(&mut rng, &mut z);
        let (a, b) = (dv as f32, dv.sqrt() as f32);
        for ((yv, gv), zv) in y.iter_mut().zip(&g).zip(&z) {
            *yv += a * gv + b * zv;
        }
        // Corrector: Langevin at σ_{i+1}.
        for _ in 0..opts.corrector {
            let g = score.eval_std(&y, s1)?;
            fill_normal(&mut rng, &mut z);
            // Step size from the batch-mean norms (as in Song et al.'s code): per-sample
            // norms are unstable in low dimension, where ‖z‖ / ‖s‖ can be huge for a sample
            // sitting at a mode.
            let norm = |v: &[f32]| {
                v.chunks(d)
                    .map(|r| r.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt())
                    .sum::<f64>()
                    / n as f64
            };
            let (gn, zn) = (norm(&g), norm(&z));
            let eps = 2.0 * (opts.snr * zn / gn.max(1e-30)).powi(2);
            let (a, b) = (eps as f32, (2.0 * eps).sqrt() as f32);
            for ((yv, gv), zv) in y.iter_mut().zip(&g).zip(&z) {
                *yv += a * gv + b * zv;
            }
        }
        bar.inc(1);
    }
    if opts.denoise {
        let g = score.eval_std(&y, smin)?;
        let a = (smin * smin) as f32;
        y.iter_mut().zip(&g).for_each(|(yv, gv)| *yv += a * gv);
    }
    bar.finish();
    if let Some(p) = y.iter().position(|v| !v.is_finite()) {
        return Err(Error::BlowUp(format!(
            "sampling produced {} in sample {}; the learned score is unstable far from the data",
            y[p],
            p / d
        )));
    }
    let mut shape = vec![n];
    shape.extend_from_slice(score.state_shape());
    let (m, sc) = (score.mean(), score.scale());
    let v: Vec<f64> = y.iter().map(|&v| v as f64 * sc + m).collect();
    ArrayD::from_shape_vec(IxDyn(&shape), v).map_err(|e| Error::shape(e.to_string()))
}

/// Radial power spectrum of periodic fields `[S, N, N]`: `E(k)` for integer shells
/// `k = round(|(kx, ky)|)`, k = 0..=N/2, averaged over the fields, with
/// `E(k) = Σ_{shell k} |θ̂(kx, ky)|² / N⁴` (θ̂ the unnormalised DFT), so that summing over all
/// shells (including the corners beyond N/2, which are dropped here) gives the mean of θ² per
/// pixel.
pub fn radial_spectrum(fields: ArrayView3<f64>) -> Result<Vec<f64>> {
    let (s, n, n2) = fields.dim();
    if n != n2 || n == 0 || s == 0 {
        return Err(Error::shape(format!(
            "radial_spectrum needs fields [S, N, N] with S, N ≥ 1, got {:?}",
            fields.dim()
        )));
    }
    let fft = rustfft::FftPlanner::<f64>::new().plan_fft_forward(n);
    let kmax = n / 2;
    let mut e = vec![0.0; kmax + 1];
    let mut buf = vec![Complex::new(0.0, 0.0); n * n];
    let mut col = vec![Complex::new(0.0, 0.0); n];
    let wave = |i: usize| {
        if i <= n / 2 {
            i as f64
        } else {
            i as f64 - n as f64
        }
    };
    for f in fields.outer_iter() {
        for (b, v) in buf.iter_mut().zip(f.iter()) {
            *b = Complex::new(*v, 0.0);
        }
        for row in buf.chunks_mut(n) {
            fft.process(row);
        }
        for j in 0..n {
            for i in 0..n {
                col[i] = buf[i * n + j];
            }
            fft.process(&mut col);
            for i in 0..n {
                buf[i * n + j] = col[i];
            }
        }
        for i in 0..n {
            for j in 0..n {
                let k = (wave(i).powi(2) + wave(j).powi(2)).sqrt().round() as usize;
                if k <= kmax {
                    e[k] += buf[i * n + j].norm_sqr();
                }
            }
        }
    }
    let norm = (s as f64) * (n as f64).powi(4);
    Ok(e.into_iter().map(|v| v / norm).collect())
}
