//! Translation-invariant space–time correlation on periodic N×N grids.
//!
//! For fields a, b of shape `[M, T, N, N]`,
//! `C(r, τ) = (1/N²) Σ_x ⟨a(x + r, t + τ) b(x, t)⟩`, averaged over all `T − τ` time pairs of
//! every run (member or time segment). In Fourier space (unnormalised `â(k) = Σ_x a(x) e^{−ik·x}`,
//! [`Spectral2d`] layout `spec[ky·n + kx]`) this is, per mode,
//! `Ĉ(k, τ) = ⟨â(k, t+τ) conj(b̂(k, t))⟩ / N²`, and `C(r, τ)` is the inverse 2-D FFT of `Ĉ`
//! (so `Ĉ` is exactly the forward FFT of `C`, the eigenvalues of the circulant matrix
//! `C_{xy}(τ) = C(x − y, τ)`).
//!
//! Per member: rfft2 of every frame, then per mode a zero-padded temporal FFT correlation
//! (length `fast_len(T_run + L − 1)`, no wrap-around). Members run in parallel, each with its
//! own workspace (memory ∝ one member, never the whole ensemble); b may be produced per member
//! by a closure, so e.g. a score trajectory never exists in full. Sums are kept per batch
//! (see [`Batching`]) for jackknife error bars.
use super::batching::Batching;
use super::xcorr::{fast_len, fft_err};
use crate::core::checks::grid_dims;
use crate::core::spectral::{Spectral2d, SpectralWorkspace};
use crate::{Error, Result};
use ndarray::{Array2, Array3, ArrayView2, ArrayView3, ArrayView4, ArrayViewMut3, Axis};
use num_complex::Complex64;
use rayon::prelude::*;
use rustfft::{Fft, FftPlanner};
use std::sync::{Arc, Mutex};

/// Modes per temporal-FFT batch (one cache line of spectra per frame and block).
const MODE_BLOCK: usize = 8;

/// A closure producing the b-field of member `m` from that member's a-frames
/// (`[T, N, N]` in, `[T, N, N]` out).
pub type FieldMap<'f> =
    dyn Fn(usize, ArrayView3<f64>, ArrayViewMut3<f64>) -> Result<()> + Sync + 'f;

/// Where the second field b comes from.
pub enum Second<'a> {
    /// b = a (autocorrelation; one temporal FFT per mode saved). The shift applies to both.
    Same,
    /// A stored field of the same shape as a.
    Field(ArrayView4<'a, f64>),
    /// b computed per member from a (e.g. the score of each frame).
    Map(&'a FieldMap<'a>),
}

/// Per-batch space–time cross-spectra.
#[derive(Clone)]
pub struct PeriodicCorr {
    /// Grid size N.
    pub n: usize,
    /// `Σ â(k, t+τ) conj(b̂(k, t)) / N²` over the pairs of each batch: `[B, L, K]`,
    /// K = `n (n/2 + 1)` in [`Spectral2d`] layout.
    pub sums: Array3<Complex64>,
    /// Pairs per batch and lag: `[B, L]`.
    pub counts: Array2<f64>,
    /// The split that produced the batches.
    pub batching: Batching,
    spectral: Spectral2d,
}

impl PeriodicCorr {
    /// Number of batches B.
    pub fn batches(&self) -> usize {
        self.sums.shape()[0]
    }
    /// Number of lags L.
    pub fn lags(&self) -> usize {
        self.sums.shape()[1]
    }
    /// The grid's FFT plans and wavenumber tables.
    pub fn spectral(&self) -> &Spectral2d {
        &self.spectral
    }
    /// Pooled `Ĉ(k, τ)` `[L, K]` over all batches, or all but `leave_out`.
    pub fn spectrum(&self, leave_out: Option<usize>) -> Array2<Complex64> {
        let (b, l, k) = self.sums.dim();
        let mut s = Array2::<Complex64>::zeros((l, k));
        let mut n = vec![0.0; l];
        for bi in 0..b {
            if Some(bi) == leave_out {
                continue;
            }
            s += &self.sums.index_axis(Axis(0), bi);
            for (c, v) in n.iter_mut().zip(self.counts.row(bi)) {
                *c += v;
            }
        }
        for (mut row, c) in s.outer_iter_mut().zip(n) {
            row.mapv_inplace(|v| v / c.max(1.0));
        }
        s
    }
    /// Real-space field `[L, N, N]` (indexed `[τ, dx, dy]`) of a spectrum `[L, K]`.
    pub fn to_real(&self, spec: ArrayView2<Complex64>) -> Array3<f64> {
        spectrum_to_real(&self.spectral, spec)
    }
    /// Pooled `C(r, τ)` `[L, N, N]`.
    pub fn correlation(&self) -> Array3<f64> {
        self.to_real(self.spectrum(None).view())
    }
}

/// Inverse 2-D FFT of every lag of a spectrum `[L, K]` into `[L, N, N]`.
pub fn spectrum_to_real(sp: &Spectral2d, spec: ArrayView2<Complex64>) -> Array3<f64> {
    let n = sp.n();
    let mut out = Array3::<f64>::zeros((spec.nrows(), n, n));
    out.outer_iter_mut()
        .into_par_iter()
        .zip(spec.outer_iter())
        .for_each_init(
            || {
                (
                    sp.workspace(),
                    vec![Complex64::new(0.0, 0.0); sp.spec_len()],
                )
            },
            |(ws, buf), (mut o, s)| {
                buf.iter_mut().zip(s.iter()).for_each(|(d, v)| *d = *v);
                let o = o.as_slice_mut().expect("fresh standard-layout array");
                sp.inverse(buf, o, ws);
            },
        );
    out
}

/// Temporal FFT plans for runs of one length.
struct TimePlan {
    nfft: usize,
    fwd: Arc<dyn Fft<f64>>,
    inv: Arc<dyn Fft<f64>>,
}

/// Per-thread buffers for one member.
struct MemberWs {
    sw: SpectralWorkspace,
    frame: Vec<f64>,
    fa: Vec<Complex64>,
    fb: Vec<Complex64>,
    bfield: Array3<f64>,
    ua: Vec<Complex64>,
    ub: Vec<Complex64>,
    scratch: Vec<Complex64>,
    acc: Array2<Complex64>,
}

/// Space–time cross-spectra of a `[M, T, N, N]` and b (see [`Second`]) for lags `0..lags`,
/// kept per batch of `batching`. `a_shift` is subtracted from a before correlating (only the
/// k = 0 mode changes; with [`Second::Same`] from b too), typically the mean of a.
pub fn periodic_xcorr(
    a: ArrayView4<f64>,
    b: Second,
    lags: usize,
    a_shift: f64,
    batching: &Batching,
) -> Result<PeriodicCorr> {
    let (m, t, n) = grid_dims(&a)?;
    if let Second::Field(bf) = &b {
        if bf.dim() != a.dim() {
            return Err(Error::shape(format!(
                "periodic correlation: a is {:?} but b is {:?}; they must match",
                a.shape(),
                bf.shape()
            )));
        }
    }
    if lags == 0 {
        return Err(Error::invalid("lags must be at least 1"));
    }
    batching.validate(m, t, lags)?;
    let sp = Spectral2d::new(n)?;
    let k = sp.spec_len();
    let run = batching.run_len(t);
    let nfft = fast_len(run + lags - 1);
    let mut planner = FftPlanner::<f64>::new();
    let tp = TimePlan {
        nfft,
        fwd: planner.plan_fft_forward(nfft),
        inv: planner.plan_fft_inverse(nfft),
    };
    let nb = batching.batches(m);
    let same = matches!(b, Second::Same);
    // Per thread (one member at a time): the frame spectra of a (and b), the mapped field,
    // the mode blocks, the lag accumulator and a spectral workspace.
    let threads = rayon::current_num_threads().min(m).max(1);
    let spectra = if same { 1 } else { 2 };
    let field = if matches!(b, Second::Map(_)) {
        n * n
    } else {
        0
    };
    let per_thread = sp.workspace_bytes()
        + 8 * n * n
        + 16 * spectra * (t * k + MODE_BLOCK * nfft)
        + 8 * t * field
        + 16 * (scratch_len_of(&tp) + lags * k);
    crate::budget::Request::new("space–time correlation")
        .buffer(
            "the batch sums",
            &[("batches", nb), ("lags", lags), ("modes", k)],
            16,
        )
        .buffer(
            "the per-thread buffers",
            &[("threads", threads)],
            per_thread,
        )
        .fix("use fewer lags, or a trajectory with fewer frames per member")
        .check()?;
    let sums = Mutex::new(Array3::<Complex64>::zeros((nb, lags, k)));
    let mut counts = Array2::<f64>::zeros((nb, lags));
    for mi in 0..m {
        for (r, bi) in batching.runs_of(mi, t) {
            for (tau, c) in counts.row_mut(bi).iter_mut().enumerate() {
                *c += (r.len() - tau) as f64;
            }
        }
    }
    let shift = a_shift * (n * n) as f64;
    let progress =
        crate::core::progress::Progress::new(m as u64, "space–time correlation", "members");
    let scratch_len = scratch_len_of(&tp);
    let min_len = (m / (4 * rayon::current_num_threads())).max(1);
    (0..m)
        .into_par_iter()
        .with_min_len(min_len)
        .try_for_each_init(
            || MemberWs {
                sw: sp.workspace(),
                frame: vec![0.0; n * n],
                fa: vec![Complex64::new(0.0, 0.0); t * k],
                fb: if same {
                    Vec::new()
                } else {
                    vec![Complex64::new(0.0, 0.0); t * k]
                },
                bfield: match b {
                    Second::Map(_) => Array3::zeros((t, n, n)),
                    _ => Array3::zeros((0, n, n)),
                },
                ua: vec![Complex64::new(0.0, 0.0); MODE_BLOCK * nfft],
                ub: if same {
                    Vec::new()
                } else {
                    vec![Complex64::new(0.0, 0.0); MODE_BLOCK * nfft]
                },
                scratch: vec![Complex64::new(0.0, 0.0); scratch_len],
                acc: Array2::zeros((lags, k)),
            },
            |ws, mi| -> Result<()> {
                crate::core::interrupt::check("space–time correlation")?;
                let am = a.index_axis(Axis(0), mi);
                frame_spectra(&sp, am, &mut ws.fa, &mut ws.frame, &mut ws.sw);
                for tt in 0..t {
                    ws.fa[tt * k].re -= shift;
                }
                match &b {
                    Second::Same => {}
                    Second::Field(bf) => {
                        let bm = bf.index_axis(Axis(0), mi);
                        frame_spectra(&sp, bm, &mut ws.fb, &mut ws.frame, &mut ws.sw);
                    }
                    Second::Map(f) => {
                        f(mi, am, ws.bfield.view_mut())?;
                        if let Some(((tt, x, y), v)) =
                            ws.bfield.indexed_iter().find(|(_, v)| !v.is_finite())
                        {
                            return Err(Error::BlowUp(format!(
                                "the second field (e.g. the score) is {v} at member {mi}, frame {tt}, pixel ({x}, {y})"
                            )));
                        }
                        frame_spectra(&sp, ws.bfield.view(), &mut ws.fb, &mut ws.frame, &mut ws.sw);
                    }
                }
                for (r, bi) in batching.runs_of(mi, t) {
                    run_correlation(ws, &tp, k, r.start, r.len(), same, (n * n) as f64)?;
                    let mut s = sums.lock().map_err(|_| fft_err("poisoned lock"))?;
                    let mut sb = s.index_axis_mut(Axis(0), bi);
                    sb += &ws.acc;
                }
                progress.inc(1);
                Ok(())
            },
        )?;
    progress.finish();
    let sums = sums.into_inner().map_err(|_| fft_err("poisoned lock"))?;
    Ok(PeriodicCorr {
        n,
        sums,
        counts,
        batching: batching.clone(),
        spectral: sp,
    })
}

/// rfft2 of every frame of `[T, N, N]` into `out` (`[T][K]`).
fn scratch_len_of(tp: &TimePlan) -> usize {
    tp.fwd
        .get_inplace_scratch_len()
        .max(tp.inv.get_inplace_scratch_len())
}

fn frame_spectra(
    sp: &Spectral2d,
    frames: ArrayView3<f64>,
    out: &mut [Complex64],
    buf: &mut [f64],
    ws: &mut SpectralWorkspace,
) {
    let k = sp.spec_len();
    for (fr, o) in frames.outer_iter().zip(out.chunks_mut(k)) {
        match fr.as_slice() {
            Some(s) => sp.forward(s, o, ws),
            None => {
                buf.iter_mut().zip(fr.iter()).for_each(|(d, v)| *d = *v);
                sp.forward(buf, o, ws);
            }
        }
    }
}

/// Per-mode temporal correlation of frames `start..start+len` of the member spectra in `ws`
/// into `ws.acc` (`[L, K]`, sums over the run's pairs, divided by `n2` = N²).
fn run_correlation(
    ws: &mut MemberWs,
    tp: &TimePlan,
    k: usize,
    start: usize,
    len: usize,
    same: bool,
    n2: f64,
) -> Result<()> {
    let nfft = tp.nfft;
    let lags = ws.acc.nrows();
    let scale = 1.0 / (nfft as f64 * n2);
    let zero = Complex64::new(0.0, 0.0);
    for k0 in (0..k).step_by(MODE_BLOCK) {
        let kb = MODE_BLOCK.min(k - k0);
        let gather = |src: &[Complex64], dst: &mut [Complex64]| {
            for q in 0..kb {
                dst[q * nfft + len..(q + 1) * nfft].fill(zero);
            }
            for tt in 0..len {
                let row = &src[(start + tt) * k + k0..][..kb];
                for (q, v) in row.iter().enumerate() {
                    dst[q * nfft + tt] = *v;
                }
            }
        };
        gather(&ws.fa, &mut ws.ua);
        let ua = &mut ws.ua[..kb * nfft];
        tp.fwd.process_with_scratch(ua, &mut ws.scratch);
        if same {
            ua.iter_mut()
                .for_each(|v| *v = Complex64::new(v.norm_sqr(), 0.0));
        } else {
            gather(&ws.fb, &mut ws.ub);
            let ub = &mut ws.ub[..kb * nfft];
            tp.fwd.process_with_scratch(ub, &mut ws.scratch);
            ua.iter_mut()
                .zip(ub.iter())
                .for_each(|(x, y)| *x *= y.conj());
        }
        tp.inv.process_with_scratch(ua, &mut ws.scratch);
        for tau in 0..lags {
            for q in 0..kb {
                ws.acc[[tau, k0 + q]] = ua[q * nfft + tau] * scale;
            }
        }
    }
    Ok(())
}

/// Direct O(M·T·L·N⁴) evaluation of `C(r, τ)` `[L, N, N]` for tests (no shift, member
/// batching implied: all pairs of every member).
#[cfg(test)]
pub(crate) fn periodic_direct(a: ArrayView4<f64>, b: ArrayView4<f64>, lags: usize) -> Array3<f64> {
    let (m, t, n, _) = a.dim();
    let mut c = Array3::<f64>::zeros((lags, n, n));
    for tau in 0..lags {
        for dx in 0..n {
            for dy in 0..n {
                let mut s = 0.0;
                for mi in 0..m {
                    for tt in 0..t - tau {
                        for x in 0..n {
                            for y in 0..n {
                                s += a[[mi, tt + tau, (x + dx) % n, (y + dy) % n]]
                                    * b[[mi, tt, x, y]];
                            }
                        }
                    }
                }
                c[[tau, dx, dy]] = s / ((m * (t - tau)) as f64 * (n * n) as f64);
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{s, Array4};
    use rand::RngExt;
    use rand_distr::StandardNormal;

    fn rand4(m: usize, t: usize, n: usize, seed: u64) -> Array4<f64> {
        let mut rng = crate::core::rng::stream_rng(seed, 0);
        Array4::from_shape_fn((m, t, n, n), |_| rng.sample(StandardNormal))
    }

    fn max_diff(x: &Array3<f64>, y: &Array3<f64>) -> f64 {
        x.iter()
            .zip(y)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    }

    #[test]
    fn matches_direct_sum() {
        crate::core::progress::set_quiet(true);
        let (m, t, n, lags) = (8, 50, 4, 10);
        let a = rand4(m, t, n, 1);
        let b = rand4(m, t, n, 2) + &a * 0.5;
        let batching = Batching::auto(m, t, lags).unwrap();
        let c = periodic_xcorr(a.view(), Second::Field(b.view()), lags, 0.0, &batching).unwrap();
        let direct = periodic_direct(a.view(), b.view(), lags);
        // Sums of ~M·T·N² O(1) terms: rounding ≪ 1e-12.
        assert!(max_diff(&c.correlation(), &direct) < 1e-12);
        // Autocorrelation with a shift equals the direct sum on shifted data.
        let shifted = &a - 0.3;
        let c2 = periodic_xcorr(a.view(), Second::Same, lags, 0.3, &batching).unwrap();
        let d2 = periodic_direct(shifted.view(), shifted.view(), lags);
        assert!(max_diff(&c2.correlation(), &d2) < 1e-12);
        // A map closure (b = 2a + 1 per member) gives the same as the stored field.
        let map = |_m: usize, x: ArrayView3<f64>, mut out: ArrayViewMut3<f64>| -> Result<()> {
            out.assign(&(&x * 2.0 + 1.0));
            Ok(())
        };
        let bm = &a * 2.0 + 1.0;
        let c3 = periodic_xcorr(a.view(), Second::Map(&map), lags, 0.0, &batching).unwrap();
        let d3 = periodic_direct(a.view(), bm.view(), lags);
        assert!(max_diff(&c3.correlation(), &d3) < 1e-12);
    }

    #[test]
    fn segments_and_leave_out() {
        crate::core::progress::set_quiet(true);
        let (m, t, n, lags) = (2, 60, 6, 3);
        let a = rand4(m, t, n, 3);
        let batching = Batching::auto(m, t, lags).unwrap();
        assert!(matches!(
            batching,
            Batching::Segments {
                segments: 2,
                seg_len: 30
            }
        ));
        let c = periodic_xcorr(a.view(), Second::Same, lags, 0.0, &batching).unwrap();
        assert_eq!(c.batches(), 4);
        // Leaving out batch 0 (member 0, frames 0..30) = the other three segments pooled.
        let lo = c.to_real(c.spectrum(Some(0)).view());
        let mut num = Array3::<f64>::zeros((lags, n, n));
        for (mi, r) in [(0, 30..60), (1, 0..30), (1, 30..60)] {
            let piece = a.slice(s![mi..mi + 1, r, .., ..]);
            num += &(periodic_direct(piece, piece, lags) * 1.0);
        }
        num /= 3.0; // equal pair counts per segment
        assert!(max_diff(&lo, &num) < 1e-12);
    }

    #[test]
    fn errors() {
        let a = rand4(2, 10, 4, 1);
        let b = rand4(2, 11, 4, 1);
        let bt = Batching::member_groups(2, 2);
        assert!(periodic_xcorr(a.view(), Second::Field(b.view()), 3, 0.0, &bt).is_err());
        assert!(periodic_xcorr(a.view(), Second::Same, 0, 0.0, &bt).is_err());
        assert!(periodic_xcorr(a.view(), Second::Same, 11, 0.0, &bt).is_err());
        let odd = rand4(2, 10, 5, 1);
        assert!(periodic_xcorr(odd.view(), Second::Same, 3, 0.0, &bt).is_err());
        let bad = |_m: usize, _x: ArrayView3<f64>, mut out: ArrayViewMut3<f64>| -> Result<()> {
            out.fill(0.0);
            out[[4, 1, 2]] = f64::NAN;
            Ok(())
        };
        crate::core::progress::set_quiet(true);
        let e = periodic_xcorr(a.view(), Second::Map(&bad), 3, 0.0, &bt)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("frame 4"), "{e}");
    }
}
