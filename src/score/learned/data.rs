//! Training data: finiteness check, standardisation, train/validation split, σ_max, and the
//! seeded random draws (permutations, noise levels, Gaussian noise).
use super::net::NetConfig;
use super::opts::{Split, TrainOpts};
use crate::core::rng::Rng;
use crate::{Error, Result};
use ndarray::ArrayViewD;
use rand::{Rng as _, RngExt};
use rand_distr::StandardNormal;
use rayon::prelude::*;

/// Standardised data in f32, split into training and validation rows of length `d`.
pub(crate) struct Prepared {
    pub d: usize,
    pub train: Vec<f32>,
    pub val: Vec<f32>,
}

impl Prepared {
    pub fn n_train(&self) -> usize {
        self.train.len() / self.d
    }
    pub fn n_val(&self) -> usize {
        self.val.len() / self.d
    }
}

/// Errors naming the first non-finite value.
pub(crate) fn check_finite(data: &ArrayViewD<f64>) -> Result<()> {
    let d: usize = data.shape()[1..].iter().product();
    if let Some(pos) = data.iter().position(|v| !v.is_finite()) {
        let v = data.iter().nth(pos).copied().unwrap_or(f64::NAN);
        return Err(Error::invalid(format!(
            "training data sample {} (component {}) is {v}; remove non-finite samples \
             (a blown-up simulation?) before training",
            pos / d.max(1),
            pos % d.max(1)
        )));
    }
    Ok(())
}

/// Indices of the training and validation samples.
pub(crate) fn split(s: usize, opts: &TrainOpts) -> Result<(Vec<usize>, Vec<usize>)> {
    let n_val = if opts.val_frac > 0.0 {
        ((opts.val_frac * s as f64).round() as usize).max(1)
    } else {
        0
    };
    if s < n_val + 2 {
        return Err(Error::invalid(format!(
            "{s} samples are too few to train on with val_frac = {}; pass at least {} samples",
            opts.val_frac,
            n_val + 2
        )));
    }
    let mut idx: Vec<usize> = (0..s).collect();
    if opts.split == Split::Shuffle {
        shuffle(&mut idx, &mut crate::core::rng::stream_rng(opts.seed, 1));
    }
    let val = idx.split_off(s - n_val);
    Ok((idx, val))
}

/// Fisher–Yates shuffle with a version-stable bounded draw.
pub(crate) fn shuffle(v: &mut [usize], rng: &mut Rng) {
    for i in (1..v.len()).rev() {
        let j = ((rng.next_u64() as u128 * (i as u128 + 1)) >> 64) as usize;
        v.swap(i, j);
    }
}

/// Scalar mean and standard deviation of the given rows (all components pooled).
pub(crate) fn mean_scale(data: &ArrayViewD<f64>, rows: &[usize]) -> Result<(f64, f64)> {
    let flat = data
        .to_shape((data.shape()[0], data.len() / data.shape()[0].max(1)))
        .map_err(|e| Error::shape(format!("training data: {e}")))?;
    let (mut s1, mut n) = (0.0, 0usize);
    for &r in rows {
        s1 += flat.row(r).sum();
        n += flat.ncols();
    }
    let mean = s1 / n as f64;
    let mut s2 = 0.0;
    for &r in rows {
        s2 += flat
            .row(r)
            .iter()
            .map(|v| (v - mean) * (v - mean))
            .sum::<f64>();
    }
    let scale = (s2 / n as f64).sqrt();
    if !(scale > 0.0 && scale.is_finite()) {
        return Err(Error::invalid(format!(
            "the training data have standard deviation {scale}; all samples are identical — \
             pass data from a stochastic run"
        )));
    }
    Ok((mean, scale))
}

/// Standardises the chosen rows into f32.
pub(crate) fn standardise(
    data: &ArrayViewD<f64>,
    rows: &[usize],
    mean: f64,
    scale: f64,
) -> Vec<f32> {
    let d = data.len() / data.shape()[0].max(1);
    let flat = data
        .to_shape((data.shape()[0], d))
        .expect("reshape of a checked array");
    let mut out = Vec::with_capacity(rows.len() * d);
    for &r in rows {
        out.extend(flat.row(r).iter().map(|v| ((v - mean) / scale) as f32));
    }
    out
}

/// Largest pairwise Euclidean distance among (an evenly strided subset of at most `max_pts`)
/// rows of `x` (row length `d`).
pub(crate) fn max_pairwise(x: &[f32], d: usize, max_pts: usize) -> f64 {
    let n = x.len() / d;
    let stride = n.div_ceil(max_pts).max(1);
    let pts: Vec<&[f32]> = (0..n)
        .step_by(stride)
        .map(|i| &x[i * d..(i + 1) * d])
        .collect();
    pts.par_iter()
        .enumerate()
        .map(|(i, a)| {
            pts[i + 1..]
                .iter()
                .map(|b| {
                    a.iter()
                        .zip(b.iter())
                        .map(|(u, v)| ((u - v) as f64).powi(2))
                        .sum::<f64>()
                })
                .fold(0.0f64, f64::max)
        })
        .reduce(|| 0.0, f64::max)
        .sqrt()
}

/// Noise levels σ = σ_min (σ_max/σ_min)^t with t ~ U(1e-5, 1).
pub(crate) fn draw_sigma(rng: &mut Rng, sigma_min: f64, sigma_max: f64, power: f64) -> f64 {
    let u: f64 = rng.random::<f64>();
    let t = 1e-5 + (1.0 - 1e-5) * if power == 1.0 { u } else { u.powf(power) };
    sigma_min * (sigma_max / sigma_min).powf(t)
}

/// Fills `z` with standard normals.
pub(crate) fn fill_normal(rng: &mut Rng, z: &mut [f32]) {
    for v in z {
        *v = rng.sample::<f64, _>(StandardNormal) as f32;
    }
}

/// Preconditioning of the network input: standardised noisy data have variance ≈ 1 + σ².
pub(crate) fn c_in(sigma: f64) -> f64 {
    1.0 / (1.0 + sigma * sigma).sqrt()
}

/// Noise-level input of the network.
pub(crate) fn c_noise(sigma: f64) -> f64 {
    sigma.ln() / 4.0
}

/// One denoising minibatch in host memory: network inputs and targets.
#[derive(Default)]
pub(crate) struct Batch {
    /// `c_in(σ_b) (y_b + σ_b z_b)`, `[R, D]` (R = B, or 2B with antithetic pairs).
    pub x_in: Vec<f32>,
    /// `ln σ_b / 4`, `[R]`.
    pub c_noise: Vec<f32>,
    /// The loss target `t_b` (the noise `z_b`, rescaled for balanced weighting), `[R, D]`.
    pub z: Vec<f32>,
    /// Loss factor `a_b`, `[R]`: the loss is `Σ_b ‖a_b F_b + t_b‖²` with `t_b` stored in `z`:
    /// `(a, t) = (σ c_out, z)` for σ² weighting, `(1, z / (σ c_out))` for balanced weighting.
    pub k: Vec<f32>,
}

/// Band limit of the DSM noise on N×N grids (`TrainOpts::noise_kmax`): the noise is projected
/// onto the Fourier modes `|kx|, |ky| ≤ kmax` (2-D FFT, f64), the support of band-limited data
/// such as 2/3-dealiased Navier–Stokes fields.
pub(crate) struct BandLimit {
    sp: crate::core::spectral::Spectral2d,
    keep: Vec<bool>,
}

impl BandLimit {
    /// The projector for `n`×`n` grids keeping `|kx|, |ky| ≤ kmax`.
    pub fn new(n: usize, kmax: usize) -> Result<Self> {
        let sp = crate::core::spectral::Spectral2d::new(n)?;
        let k = kmax as f64;
        let keep = (0..sp.spec_len())
            .map(|i| sp.kx()[i].abs() <= k && sp.ky()[i].abs() <= k)
            .collect();
        Ok(BandLimit { sp, keep })
    }

    /// Buffers for [`BandLimit::project`], allocated once per batch rather than per row.
    pub fn scratch(&self) -> BandScratch {
        BandScratch {
            ws: self.sp.workspace(),
            f: vec![0.0; self.sp.n() * self.sp.n()],
            spec: vec![num_complex::Complex64::new(0.0, 0.0); self.sp.spec_len()],
        }
    }

    /// Projects one field (`n*n` values, row-major) onto the kept modes, in place.
    pub fn project(&self, z: &mut [f32], sc: &mut BandScratch) {
        let BandScratch { ws, f, spec } = sc;
        f.iter_mut().zip(z.iter()).for_each(|(d, &v)| *d = v as f64);
        self.sp.forward(f, spec, ws);
        for (c, &k) in spec.iter_mut().zip(&self.keep) {
            if !k {
                *c = num_complex::Complex64::new(0.0, 0.0);
            }
        }
        self.sp.inverse(spec, f, ws);
        z.iter_mut().zip(f.iter()).for_each(|(d, v)| *d = *v as f32);
    }
}

/// Work buffers of [`BandLimit::project`] (FFT workspace, the field in f64, its spectrum).
pub(crate) struct BandScratch {
    ws: crate::core::spectral::SpectralWorkspace,
    f: Vec<f64>,
    spec: Vec<num_complex::Complex64>,
}

/// The noise schedule and output scaling a batch is drawn for.
pub(crate) struct NoiseDraw<'a> {
    pub sigma_min: f64,
    /// Exponent p of the noise-level draw (`TrainOpts::sigma_power`).
    pub sigma_power: f64,
    pub sigma_max: f64,
    pub cfg: &'a NetConfig,
    /// Pair every noise draw z with −z (same data row and σ).
    pub antithetic: bool,
    /// Balanced weighting (unit weight on F errors) instead of σ² weighting.
    pub unit_weight: bool,
    /// Project every noise draw onto these Fourier modes (band-limited grid data).
    pub band: Option<&'a BandLimit>,
}

impl Batch {
    /// Draws σ and z for the rows `rows` of `y` (row length `d`). With antithetic pairs every
    /// data row appears twice, with `+z` and `−z`.
    pub fn draw(y: &[f32], d: usize, rows: &[usize], rng: &mut Rng, nd: &NoiseDraw) -> Self {
        let mut b = Batch::default();
        b.redraw(y, d, rows, rng, nd);
        b
    }

    /// [`Batch::draw`] into this batch's buffers (no allocation once they are large enough).
    pub fn redraw(&mut self, y: &[f32], d: usize, rows: &[usize], rng: &mut Rng, nd: &NoiseDraw) {
        let rep = if nd.antithetic { 2 } else { 1 };
        let b = rows.len() * rep;
        self.x_in.resize(b * d, 0.0);
        self.z.resize(b * d, 0.0);
        self.c_noise.resize(b, 0.0);
        self.k.resize(b, 0.0);
        let (x_in, z, cn, kk) = (&mut self.x_in, &mut self.z, &mut self.c_noise, &mut self.k);
        let mut zr = vec![0f32; d]; // one row: negligible next to the batch
        let mut band = nd.band.map(|bl| (bl, bl.scratch()));
        for (j, &r) in rows.iter().enumerate() {
            let sigma = draw_sigma(rng, nd.sigma_min, nd.sigma_max, nd.sigma_power);
            fill_normal(rng, &mut zr);
            if let Some((bl, sc)) = band.as_mut() {
                bl.project(&mut zr, sc);
            }
            let (s, ci) = (sigma as f32, c_in(sigma) as f32);
            let sc = sigma * nd.cfg.c_out(sigma);
            let (ka, kt) = if nd.unit_weight {
                (1.0, (1.0 / sc) as f32)
            } else {
                (sc as f32, 1.0)
            };
            let yr = &y[r * d..(r + 1) * d];
            for a in 0..rep {
                let k = j * rep + a;
                cn[k] = c_noise(sigma) as f32;
                kk[k] = ka;
                let sign = if a == 0 { 1.0f32 } else { -1.0 };
                let (xk, zk) = (&mut x_in[k * d..(k + 1) * d], &mut z[k * d..(k + 1) * d]);
                for i in 0..d {
                    let zv = sign * zr[i];
                    xk[i] = ci * (yr[i] + s * zv);
                    zk[i] = zv * kt;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::BandLimit;

    #[test]
    fn sigma_power_concentrates_noise_levels_near_sigma_min() {
        // σ = σ_min r^t with t = u^p: the median t is 0.5^p. The sample median of n = 4001
        // uniforms has standard deviation 1/(2√n) ≈ 0.008, so |u_med − 0.5| < 0.03 (≈ 4 s.d.)
        // bounds t_med to [0.47^p, 0.53^p].
        let (smin, smax) = (0.01, 100.0);
        for p in [1.0f64, 8.0] {
            let mut rng = crate::core::rng::stream_rng(4, p as u64);
            let mut t: Vec<f64> = (0..4001)
                .map(|_| (super::draw_sigma(&mut rng, smin, smax, p) / smin).ln() / 1e4f64.ln())
                .collect();
            t.sort_by(f64::total_cmp);
            let med = t[2000];
            assert!(
                med > 0.47f64.powf(p) && med < 0.53f64.powf(p),
                "p = {p}: {med}"
            );
        }
    }

    #[test]
    fn band_limit_keeps_resolved_modes_and_removes_the_rest() {
        // n = 8, kmax = 2: cos(2x + y) is kept exactly, cos(3x) is removed.
        let n = 8;
        let h = std::f64::consts::TAU / n as f64;
        let field = |kx: f64, ky: f64| -> Vec<f32> {
            (0..n * n)
                .map(|i| (kx * (i / n) as f64 * h + ky * (i % n) as f64 * h).cos() as f32)
                .collect()
        };
        let b = BandLimit::new(n, 2).unwrap();
        let (mut a, want) = (field(2.0, 1.0), field(2.0, 1.0));
        let mut sc = b.scratch();
        b.project(&mut a, &mut sc);
        assert!(a.iter().zip(&want).all(|(x, y)| (x - y).abs() < 1e-6));
        let mut c = field(3.0, 0.0);
        b.project(&mut c, &mut sc);
        assert!(c.iter().all(|x| x.abs() < 1e-6));
    }
}
