//! All-pairs time cross-correlation of vector data, `C_ij(τ) = ⟨a_i(t+τ) b_j(t)⟩`.
//!
//! Method (SPEC §2 "Estimating correlations"): FFT cross-correlation with zero padding, exact
//! (no wrap-around for the lags returned), divided by the number of pairs `M (T − τ)`.
//! To keep memory and FFT lengths independent of T, each run (member or time segment) is cut
//! into pieces (overlap-save): piece p covers b-frames `[s, s + Lb)` and a-frames
//! `[s, s + nfft)` (both cut at the end of the run, zero-padded to `nfft`), with
//! `nfft = fast_len(max(4L, 64))` (or `fast_len(T + L − 1)` if smaller) and `Lb = nfft − L + 1`.
//! For τ < L the circular correlation of a piece is exactly `Σ_{t ∈ piece} a(t+τ) b(t)`, so
//! summing pieces gives every pair once. Then:
//! 1. each channel of each piece is real-FFT'd (parallel over pieces × blocks of 8 channels);
//! 2. the cross-spectrum summed over pieces, `S_ij(f) = Σ_p A_pi(f) conj(B_pj(f))`, is one
//!    real GEMM per frequency, `Xᵀ Z = [Re S | Im S]` with `X = [Re A; Im A]` (2P×Da) and
//!    `Z = [Re B, −Im B; Im B, Re B]` (2P×2Db), accumulated over groups of [`GROUP`] pieces,
//!    parallel over frequencies;
//! 3. one inverse real FFT of length nfft per channel pair gives the lag sums.
//!
//! Cost ≈ `(1 + L/Lb)` × the single-FFT flops, buffers of `GROUP·(Da+Db)·nfft` and
//! `Da·Db·nfft` numbers reused throughout (no per-call memory proportional to T). The pair
//! spectra are processed in blocks of a-channels of at most [`PAIR_SPECTRA_BUDGET`] bytes.
use super::batching::Batching;
use crate::core::checks::check_finite3;
use crate::{Error, Result};
use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array2, Array3, Array4, ArrayView2, ArrayView3, ArrayViewMut2, Axis};
use num_complex::Complex64;
use rayon::prelude::*;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use std::ops::Range;
use std::sync::Arc;

/// Bytes of channel-pair spectra held at once; bigger problems are done in blocks of a-channels.
pub const PAIR_SPECTRA_BUDGET: usize = 256 << 20;
/// Pieces whose spectra are held at once (the GEMM inner dimension is twice this).
pub const GROUP: usize = 32;
/// Frequencies per parallel task of the cross-spectrum GEMM phase.
const FREQ_CHUNK: usize = 8;
/// Channels per forward-FFT task (each frame row is read once for this many channels); also
/// the innermost dimension of the piece-spectra layout.
const CB: usize = 8;
/// Smallest piece FFT length.
const MIN_NFFT: usize = 64;

/// Smallest even `m ≥ n` whose only prime factors are 2, 3 and 5 (fast real FFT lengths).
pub fn fast_len(n: usize) -> usize {
    let mut m = n.max(2);
    loop {
        let mut r = m;
        for p in [2, 3, 5] {
            while r.is_multiple_of(p) {
                r /= p;
            }
        }
        if r == 1 && m.is_multiple_of(2) {
            return m;
        }
        m += 1;
    }
}

pub(crate) fn fft_err(e: impl std::fmt::Display) -> Error {
    Error::invalid(format!("internal FFT error (please report): {e}"))
}

/// FFT sizes and plans for runs of `run_len` frames and `lags` lags.
struct Plan {
    nfft: usize,
    nf: usize,
    /// b-frames per piece.
    lb: usize,
    r2c: Arc<dyn RealToComplex<f64>>,
    c2r: Arc<dyn ComplexToReal<f64>>,
}

impl Plan {
    fn new(run_len: usize, lags: usize) -> Plan {
        let whole = fast_len(run_len + lags - 1);
        let nfft = whole.min(fast_len((4 * lags).max(MIN_NFFT)));
        let mut p = RealFftPlanner::<f64>::new();
        Plan {
            nfft,
            nf: nfft / 2 + 1,
            lb: nfft - lags + 1,
            r2c: p.plan_fft_forward(nfft),
            c2r: p.plan_fft_inverse(nfft),
        }
    }
}

/// One piece: run index and first frame.
#[derive(Clone, Copy)]
struct Piece {
    run: usize,
    start: usize,
}

/// Spectra of the frames `[start, start + take)` (cut at the run's end, zero-padded) of every
/// channel of `pieces`, into `out` with layout `[piece][channel block][nf][CB]`.
fn piece_spectra(
    runs: &[ArrayView2<f64>],
    pieces: &[Piece],
    take: usize,
    plan: &Plan,
    out: &mut [Complex64],
) -> Result<()> {
    let (t, d) = runs[0].dim();
    let (nf, nfft) = (plan.nf, plan.nfft);
    let ncb = d.div_ceil(CB);
    out[..pieces.len() * ncb * nf * CB]
        .par_chunks_mut(nf * CB)
        .enumerate()
        .try_for_each_init(
            || {
                (
                    vec![0.0; CB * nfft],
                    vec![Complex64::new(0.0, 0.0); nf],
                    vec![Complex64::new(0.0, 0.0); plan.r2c.get_scratch_len()],
                )
            },
            |(buf, spec, scratch), (idx, o)| -> Result<()> {
                let (pc, c0) = (pieces[idx / ncb], (idx % ncb) * CB);
                let cb = CB.min(d - c0);
                let end = (pc.start + take).min(t);
                let len = end - pc.start;
                match runs[pc.run].as_slice() {
                    // Fast path: a standard-layout run, rows of d values.
                    Some(data) => {
                        for tt in 0..len {
                            let row = &data[(pc.start + tt) * d + c0..][..cb];
                            for (q, v) in row.iter().enumerate() {
                                buf[q * nfft + tt] = *v;
                            }
                        }
                    }
                    None => {
                        let rows = runs[pc.run].slice(s![pc.start..end, c0..c0 + cb]);
                        for (tt, row) in rows.outer_iter().enumerate() {
                            for (q, v) in row.iter().enumerate() {
                                buf[q * nfft + tt] = *v;
                            }
                        }
                    }
                }
                for q in 0..cb {
                    let b = &mut buf[q * nfft..(q + 1) * nfft];
                    b[len..].fill(0.0);
                    plan.r2c
                        .process_with_scratch(b, spec, scratch)
                        .map_err(fft_err)?;
                    for (f, v) in spec.iter().enumerate() {
                        o[f * CB + q] = *v;
                    }
                }
                Ok(())
            },
        )
}

/// Sizes shared by the phases of [`corr_sums_grouped`].
#[derive(Clone, Copy)]
struct Dims {
    /// Pieces in the current group.
    k: usize,
    i0: usize,
    bi: usize,
    da: usize,
    db: usize,
    nf: usize,
}

/// Adds the cross-spectra of one group of pieces to `s` (`[nf, bi, 2Db]`, `[Re | Im]`).
fn accumulate_group(
    s: &mut ndarray::ArrayViewMut3<f64>,
    spa: &[Complex64],
    spb: &[Complex64],
    d: Dims,
) {
    let (k, bi, db, nf) = (d.k, d.bi, d.db, d.nf);
    let (ncba, ncbb) = (d.da.div_ceil(CB), db.div_ceil(CB));
    let (xsz, zsz) = (2 * k * bi, 2 * k * 2 * db);
    s.axis_chunks_iter_mut(Axis(0), FREQ_CHUNK)
        .into_par_iter()
        .enumerate()
        .for_each_init(
            || (vec![0.0; FREQ_CHUNK * xsz], vec![0.0; FREQ_CHUNK * zsz]),
            |(xs, zs), (ci, mut sc)| {
                let (f0, fc) = (ci * FREQ_CHUNK, sc.len_of(Axis(0)));
                // Gather: for each piece and block of CB channels, the fc frequencies of the
                // chunk are fc·CB contiguous values (the spectra layout is [piece][block][f][CB]).
                for q in 0..k {
                    // a-channels i0..i0+bi; i0 is a multiple of CB (last block maybe partial).
                    for i in (0..bi).step_by(CB) {
                        let c = d.i0 + i;
                        let w = CB.min(bi - i);
                        let base = ((q * ncba + c / CB) * nf + f0) * CB;
                        let src = &spa[base..base + fc * CB];
                        for (fl, blk) in src.chunks_exact(CB).enumerate() {
                            let x = &mut xs[fl * xsz..(fl + 1) * xsz];
                            let (xr, xi) = x.split_at_mut((k + q) * bi);
                            for (l, v) in blk[..w].iter().enumerate() {
                                xr[q * bi + i + l] = v.re;
                                xi[i + l] = v.im;
                            }
                        }
                    }
                    let (r0, r1) = (q * 2 * db, (k + q) * 2 * db);
                    for j in (0..db).step_by(CB) {
                        let w = CB.min(db - j);
                        let base = ((q * ncbb + j / CB) * nf + f0) * CB;
                        let src = &spb[base..base + fc * CB];
                        for (fl, blk) in src.chunks_exact(CB).enumerate() {
                            let z = &mut zs[fl * zsz..(fl + 1) * zsz];
                            for (l, v) in blk[..w].iter().enumerate() {
                                z[r0 + j + l] = v.re;
                                z[r0 + db + j + l] = -v.im;
                                z[r1 + j + l] = v.im;
                                z[r1 + db + j + l] = v.re;
                            }
                        }
                    }
                }
                for fl in 0..fc {
                    let x = ArrayView2::from_shape((2 * k, bi), &xs[fl * xsz..(fl + 1) * xsz])
                        .expect("sized above");
                    let z = ArrayView2::from_shape((2 * k, 2 * db), &zs[fl * zsz..(fl + 1) * zsz])
                        .expect("sized above");
                    general_mat_mul(1.0, &x.t(), &z, 1.0, &mut sc.index_axis_mut(Axis(0), fl));
                }
            },
        );
}

/// Inverse FFTs of the accumulated pair spectra `s` (`[nf, bi, 2Db]`) into the lag sums of
/// a-channels `i0..i0+bi`: `out` is `[L, Da, Db]`.
fn pair_lags(
    s: &ndarray::ArrayView3<f64>,
    plan: &Plan,
    i0: usize,
    out: &mut ndarray::ArrayViewMut3<f64>,
) -> Result<()> {
    let (nf, bi, db2) = s.dim();
    let db = db2 / 2;
    let (nfft, lags) = (plan.nfft, out.shape()[0]);
    let scale = 1.0 / nfft as f64;
    let sl = s
        .as_slice()
        .ok_or_else(|| fft_err("pair spectra not contiguous"))?;
    out.slice_mut(s![.., i0..i0 + bi, ..])
        .axis_iter_mut(Axis(1))
        .into_par_iter()
        .enumerate()
        .try_for_each_init(
            || {
                (
                    vec![Complex64::new(0.0, 0.0); db * nf],
                    vec![0.0; nfft],
                    vec![Complex64::new(0.0, 0.0); plan.c2r.get_scratch_len()],
                )
            },
            |(rows, buf, scratch), (i, mut oi): (usize, ArrayViewMut2<f64>)| -> Result<()> {
                // One contiguous row [Re S_i· | Im S_i·] per frequency → db series.
                for f in 0..nf {
                    let sf = &sl[(f * bi + i) * 2 * db..][..2 * db];
                    for j in 0..db {
                        rows[j * nf + f] = Complex64::new(sf[j], sf[db + j]);
                    }
                }
                for (j, row) in rows.chunks_exact_mut(nf).enumerate() {
                    // DC and Nyquist (nfft is even) of a real signal's spectrum are real.
                    row[0].im = 0.0;
                    row[nf - 1].im = 0.0;
                    plan.c2r
                        .process_with_scratch(row, buf, scratch)
                        .map_err(fft_err)?;
                    for tau in 0..lags {
                        oi[[tau, j]] = buf[tau] * scale;
                    }
                }
                Ok(())
            },
        )
}

/// Unnormalised sums `Σ_{runs in group} Σ_t a_i(t+τ) b_j(t)`, τ < lags, for each group of
/// runs: `[G, L, Da, Db]`. All runs have the same length. `b = None` means b = a. At most
/// `budget` bytes of pair spectra are held at once (blocks of a-channels).
fn corr_sums_grouped(
    a: &[ArrayView2<f64>],
    b: Option<&[ArrayView2<f64>]>,
    lags: usize,
    groups: &[Range<usize>],
    budget: usize,
) -> Result<Array4<f64>> {
    let (t, da) = a[0].dim();
    let db = b.map_or(da, |b| b[0].ncols());
    let plan = Plan::new(t, lags);
    let (nf, lb) = (plan.nf, plan.lb);
    // a-channel block: a multiple of CB (the GEMM gather reads whole CB-blocks) unless all.
    let block = (budget / (nf * 2 * db * 8)).clamp(1, da);
    let block = if block >= da {
        da
    } else {
        (block / CB * CB).max(CB).min(da)
    };
    check_memory(groups.len(), lags, da, db, block, &plan)?;
    let mut out = Array4::<f64>::zeros((groups.len(), lags, da, db));
    // Pair spectra of one a-block, reused for every block and group.
    let mut sbuf = vec![0.0; nf * block * 2 * db];
    let mut spa = vec![Complex64::new(0.0, 0.0); GROUP * da.div_ceil(CB) * CB * nf];
    let mut spb = match b {
        Some(_) => vec![Complex64::new(0.0, 0.0); GROUP * db.div_ceil(CB) * CB * nf],
        None => Vec::new(),
    };
    for (g, runs) in groups.iter().enumerate() {
        let pieces: Vec<Piece> = runs
            .clone()
            .flat_map(|run| (0..t).step_by(lb).map(move |start| Piece { run, start }))
            .collect();
        let mut og = out.index_axis_mut(Axis(0), g);
        for i0 in (0..da).step_by(block) {
            let bi = block.min(da - i0);
            let used = &mut sbuf[..nf * bi * 2 * db];
            used.fill(0.0);
            let mut sblock =
                ndarray::ArrayViewMut3::from_shape((nf, bi, 2 * db), used).map_err(fft_err)?;
            for grp in pieces.chunks(GROUP) {
                crate::core::interrupt::check("cross-correlation")?;
                piece_spectra(a, grp, plan.nfft, &plan, &mut spa)?;
                let spb_ref: &[Complex64] = match b {
                    Some(b) => {
                        piece_spectra(b, grp, lb, &plan, &mut spb)?;
                        &spb
                    }
                    None => {
                        // b = a: with one piece per run (t ≤ Lb) the b-piece is the a-piece;
                        // otherwise b-pieces are the first Lb frames of the a-pieces.
                        if t > lb {
                            if spb.is_empty() {
                                spb = vec![Complex64::new(0.0, 0.0); spa.len()];
                            }
                            piece_spectra(a, grp, lb, &plan, &mut spb)?;
                            &spb
                        } else {
                            &spa
                        }
                    }
                };
                let dims = Dims {
                    k: grp.len(),
                    i0,
                    bi,
                    da,
                    db,
                    nf,
                };
                accumulate_group(&mut sblock, &spa, spb_ref, dims);
            }
            pair_lags(&sblock.view(), &plan, i0, &mut og)?;
        }
    }
    Ok(out)
}

/// Checks the memory of [`corr_sums_grouped`] against the budget: the lag sums
/// `[G, L, Da, Db]`, the pair spectra of one a-block, the piece spectra of a group (a and b),
/// and per thread the GEMM gather buffers and the inverse-FFT rows.
fn check_memory(
    groups: usize,
    lags: usize,
    da: usize,
    db: usize,
    block: usize,
    plan: &Plan,
) -> Result<()> {
    let (nf, nfft) = (plan.nf, plan.nfft);
    let threads = rayon::current_num_threads();
    let per_thread = 8 * FREQ_CHUNK * 2 * GROUP * (block + 2 * db) + 16 * db * nf + 8 * CB * nfft;
    crate::budget::Request::new("correlation")
        .buffer(
            "the lag sums",
            &[("batches", groups), ("lags", lags), ("", da), ("", db)],
            8,
        )
        .buffer(
            "the spectra",
            &[
                ("frequencies", nf),
                ("", 2 * block * db + 2 * GROUP * (da + db + 2 * CB)),
            ],
            8,
        )
        .buffer(
            "the per-thread buffers",
            &[("threads", threads)],
            per_thread,
        )
        .fix("use fewer lags or fewer state components")
        .check()?;
    Ok(())
}

/// Checks shapes and lags of an (a, b) pair; returns (M, T, Da, Db).
fn check_pair(
    a: &ArrayView3<f64>,
    b: &ArrayView3<f64>,
    lags: usize,
) -> Result<(usize, usize, usize, usize)> {
    let (m, t, da) = a.dim();
    let (mb, tb, db) = b.dim();
    if m != mb || t != tb {
        return Err(Error::shape(format!(
            "xcorr: a is [members={m}, frames={t}, {da}] but b is [members={mb}, frames={tb}, {db}]; \
             both need the same members and frames"
        )));
    }
    if m == 0 || t == 0 || da == 0 || db == 0 {
        return Err(Error::shape(format!(
            "xcorr: empty input a [{m}, {t}, {da}], b [{mb}, {tb}, {db}]"
        )));
    }
    if lags == 0 || lags > t {
        return Err(Error::invalid(format!(
            "xcorr: lags = {lags} must be between 1 and the number of frames T = {t}"
        )));
    }
    check_finite3(a, "a")?;
    check_finite3(b, "b")?;
    Ok((m, t, da, db))
}

fn same_data(a: &ArrayView3<f64>, b: &ArrayView3<f64>) -> bool {
    a.as_ptr() == b.as_ptr() && a.shape() == b.shape() && a.strides() == b.strides()
}

/// `C_ij(τ) = ⟨a_i(t+τ) b_j(t)⟩` for τ = 0..lags−1, averaged over all `M (T − τ)` pairs of
/// every member: a `[M, T, Da]`, b `[M, T, Db]` → `[L, Da, Db]`. Passing the same view twice
/// computes the autocorrelation with half the forward FFTs. No mean is subtracted.
pub fn xcorr(a: ArrayView3<f64>, b: ArrayView3<f64>, lags: usize) -> Result<Array3<f64>> {
    let (m, t, _, _) = check_pair(&a, &b, lags)?;
    let ra: Vec<ArrayView2<f64>> = a.outer_iter().collect();
    let rb: Vec<ArrayView2<f64>> = b.outer_iter().collect();
    let bopt = if same_data(&a, &b) {
        None
    } else {
        Some(&rb[..])
    };
    #[allow(clippy::single_range_in_vec_init)]
    let all = vec![0..m];
    let sums = corr_sums_grouped(&ra, bopt, lags, &all, PAIR_SPECTRA_BUDGET)?;
    let mut c = sums.index_axis_move(Axis(0), 0);
    for (tau, mut ct) in c.outer_iter_mut().enumerate() {
        ct /= (m * (t - tau)) as f64;
    }
    Ok(c)
}

/// Per-batch correlation sums, from which any pooled or leave-one-out estimate follows.
#[derive(Clone, Debug)]
pub struct BatchedCorr {
    /// `Σ a_i(t+τ) b_j(t)` over the pairs of each batch: `[B, L, Da, Db]`.
    pub sums: Array4<f64>,
    /// Number of pairs per batch and lag: `[B, L]`.
    pub counts: Array2<f64>,
    /// The split that produced the batches.
    pub batching: Batching,
}

impl BatchedCorr {
    /// Number of batches B.
    pub fn batches(&self) -> usize {
        self.sums.shape()[0]
    }
    /// Pooled `⟨a_i(t+τ) b_j(t)⟩` `[L, Da, Db]` over all batches, or all but `leave_out`.
    pub fn estimate(&self, leave_out: Option<usize>) -> Array3<f64> {
        let sh = self.sums.shape();
        let mut s = Array3::<f64>::zeros((sh[1], sh[2], sh[3]));
        let mut n = vec![0.0; sh[1]];
        for b in 0..sh[0] {
            if Some(b) == leave_out {
                continue;
            }
            s += &self.sums.index_axis(Axis(0), b);
            for (k, c) in n.iter_mut().zip(self.counts.row(b)) {
                *k += c;
            }
        }
        for (mut st, k) in s.outer_iter_mut().zip(n) {
            st /= k.max(1.0);
        }
        s
    }
    /// Each batch's own estimate: `[B, L, Da, Db]`.
    pub fn per_batch(&self) -> Array4<f64> {
        let mut out = self.sums.clone();
        for (mut ob, cb) in out.outer_iter_mut().zip(self.counts.outer_iter()) {
            for (mut ot, c) in ob.outer_iter_mut().zip(cb) {
                ot /= c.max(1.0);
            }
        }
        out
    }
}

/// Like [`xcorr`], but keeps the sums of every batch of `batching` (see
/// [`Batching`]: groups of members, or time segments of each member) for error bars.
/// With member batches the pooled estimate equals [`xcorr`]; with segments, pairs that
/// straddle a segment boundary are not counted.
pub fn xcorr_batched(
    a: ArrayView3<f64>,
    b: ArrayView3<f64>,
    lags: usize,
    batching: &Batching,
) -> Result<BatchedCorr> {
    let (m, t, _, _) = check_pair(&a, &b, lags)?;
    batching.validate(m, t, lags)?;
    let same = same_data(&a, &b);
    let mut ra: Vec<ArrayView2<f64>> = Vec::new();
    let mut rb: Vec<ArrayView2<f64>> = Vec::new();
    let groups: Vec<Range<usize>> = match batching {
        Batching::Members(g) => {
            ra.extend(a.outer_iter());
            rb.extend(b.outer_iter());
            g.clone()
        }
        Batching::Segments { segments, seg_len } => {
            for mi in 0..m {
                for s in 0..*segments {
                    let r = s * seg_len..(s + 1) * seg_len;
                    ra.push(a.slice(s![mi, r.clone(), ..]));
                    rb.push(b.slice(s![mi, r, ..]));
                }
            }
            (0..ra.len()).map(|i| i..i + 1).collect()
        }
    };
    let run = batching.run_len(t);
    let bopt = if same { None } else { Some(&rb[..]) };
    let sums = corr_sums_grouped(&ra, bopt, lags, &groups, PAIR_SPECTRA_BUDGET)?;
    let mut counts = Array2::<f64>::zeros((groups.len(), lags));
    for (mut c, g) in counts.outer_iter_mut().zip(&groups) {
        for (tau, v) in c.iter_mut().enumerate() {
            *v = (g.len() * (run - tau)) as f64;
        }
    }
    Ok(BatchedCorr {
        sums,
        counts,
        batching: batching.clone(),
    })
}

/// Seconds for `xcorr` of two random `[members, t, d]` arrays with `lags` lags on a local
/// pool of `threads` threads (input generation not timed) — the NumPy comparison of
/// `bench/xcorr_numpy.py`.
pub fn bench_xcorr(members: usize, t: usize, d: usize, lags: usize, threads: usize) -> Result<f64> {
    use rand::RngExt;
    use rand_distr::StandardNormal;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| Error::invalid(format!("cannot build a {threads}-thread pool: {e}")))?;
    pool.install(|| {
        let gen = |seed: u64| {
            let mut x = Array3::<f64>::zeros((members, t, d));
            x.outer_iter_mut()
                .into_par_iter()
                .enumerate()
                .for_each(|(m, mut xm)| {
                    let mut rng = crate::core::rng::stream_rng(seed, m as u64);
                    xm.iter_mut().for_each(|v| *v = rng.sample(StandardNormal));
                });
            x
        };
        let (x, y) = (gen(1), gen(2));
        let t0 = std::time::Instant::now();
        let c = xcorr(x.view(), y.view(), lags)?;
        let el = t0.elapsed().as_secs_f64();
        std::hint::black_box(c);
        Ok(el)
    })
}

/// Direct O(M·T·L·Da·Db) correlation, for tests.
#[cfg(test)]
pub(crate) fn xcorr_direct(a: ArrayView3<f64>, b: ArrayView3<f64>, lags: usize) -> Array3<f64> {
    let (m, t, da) = a.dim();
    let db = b.dim().2;
    let mut c = Array3::<f64>::zeros((lags, da, db));
    for tau in 0..lags {
        for i in 0..da {
            for j in 0..db {
                let mut s = 0.0;
                for mi in 0..m {
                    for tt in 0..t - tau {
                        s += a[[mi, tt + tau, i]] * b[[mi, tt, j]];
                    }
                }
                c[[tau, i, j]] = s / (m * (t - tau)) as f64;
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;
    use rand_distr::StandardNormal;

    fn rand3(m: usize, t: usize, d: usize, seed: u64) -> Array3<f64> {
        let mut rng = crate::core::rng::stream_rng(seed, 0);
        Array3::from_shape_fn((m, t, d), |_| rng.sample(StandardNormal))
    }

    fn max_abs_diff(x: &Array3<f64>, y: &Array3<f64>) -> f64 {
        assert_eq!(x.shape(), y.shape());
        x.iter()
            .zip(y)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    }

    #[test]
    fn fast_lengths() {
        assert_eq!(fast_len(1), 2);
        assert_eq!(fast_len(7), 8);
        assert_eq!(fast_len(8447), 8640);
        assert_eq!(fast_len(2050), 2160);
    }

    #[test]
    fn matches_direct_sum() {
        // Random data: entries O(1), sums of ≤ T·M terms → rounding ~1e-15·√(TM); 1e-12 is tight.
        for &(m, t, da, db, lags) in &[
            (3, 37, 2, 3, 10),
            (1, 20, 3, 1, 20), // lags = T (max lag T − 1), M = 1
            (2, 16, 1, 1, 1),
            (4, 50, 3, 3, 49),
            (2, 300, 3, 2, 10), // several pieces per run (nfft 64, Lb 55)
            (1, 500, 2, 9, 40), // pieces and a partial channel block
        ] {
            let a = rand3(m, t, da, 1);
            let b = rand3(m, t, db, 2);
            let fast = xcorr(a.view(), b.view(), lags).unwrap();
            let slow = xcorr_direct(a.view(), b.view(), lags);
            assert!(
                max_abs_diff(&fast, &slow) < 1e-12,
                "m={m} t={t} lags={lags}"
            );
            // Autocorrelation path (b is the same view).
            let fa = xcorr(a.view(), a.view(), lags).unwrap();
            let sa = xcorr_direct(a.view(), a.view(), lags);
            assert!(max_abs_diff(&fa, &sa) < 1e-12);
        }
    }

    #[test]
    fn blocked_pairs_match() {
        // Force several a-channel blocks with a small budget: check block assembly on a direct
        // sum (several pieces per run too: nfft 64, Lb 58).
        let (m, t, da, db, lags) = (2, 130, 20, 4, 7);
        let a = rand3(m, t, da, 3);
        let b = rand3(m, t, db, 4);
        let ra: Vec<_> = a.outer_iter().collect();
        let rb: Vec<_> = b.outer_iter().collect();
        // Budget for 9 a-channels' pair spectra → blocks of 8, 8, 4 channels.
        let nf = Plan::new(t, lags).nf;
        let budget = 9 * nf * 2 * db * 8;
        let sums = corr_sums_grouped(&ra, Some(&rb), lags, &[0..1, 1..2], budget).unwrap();
        for g in 0..2 {
            let one = xcorr_direct(
                a.slice(s![g..g + 1, .., ..]),
                b.slice(s![g..g + 1, .., ..]),
                lags,
            );
            for tau in 0..lags {
                for i in 0..da {
                    for j in 0..db {
                        let v = sums[[g, tau, i, j]] / (t - tau) as f64;
                        assert!((v - one[[tau, i, j]]).abs() < 1e-12);
                    }
                }
            }
        }
    }

    #[test]
    fn batched_pools_to_the_same_answer() {
        let (m, t, d, lags) = (10, 40, 2, 5);
        let a = rand3(m, t, d, 5);
        let full = xcorr(a.view(), a.view(), lags).unwrap();
        let bc = xcorr_batched(a.view(), a.view(), lags, &Batching::member_groups(m, 4)).unwrap();
        assert!(max_abs_diff(&bc.estimate(None), &full) < 1e-12);
        // Leave-one-out equals xcorr on the other members.
        let rest = a.slice(s![3.., .., ..]).to_owned();
        let lo = xcorr(rest.view(), rest.view(), lags).unwrap();
        let b0 = Batching::member_groups(m, 4);
        assert_eq!(b0, Batching::Members(vec![0..2, 2..5, 5..7, 7..10]));
        let bc2 = xcorr_batched(
            a.view(),
            a.view(),
            lags,
            &Batching::Members(vec![0..3, 3..10]),
        )
        .unwrap();
        assert!(max_abs_diff(&bc2.estimate(Some(0)), &lo) < 1e-12);
        // Segments: per-batch estimate of segment s of member 0 equals a direct sum on it.
        let seg = Batching::Segments {
            segments: 3,
            seg_len: 13,
        };
        let bs = xcorr_batched(a.view(), a.view(), lags, &seg).unwrap();
        assert_eq!(bs.batches(), 30);
        let piece = a.slice(s![0..1, 13..26, ..]);
        let direct = xcorr_direct(piece, piece, lags);
        let pb = bs.per_batch();
        assert!(max_abs_diff(&pb.index_axis(Axis(0), 1).to_owned(), &direct) < 1e-12);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let a = rand3(2, 10, 2, 1);
        let b = rand3(2, 11, 2, 1);
        let c = rand3(3, 10, 2, 1);
        assert!(xcorr(a.view(), b.view(), 3).is_err());
        assert!(xcorr(a.view(), c.view(), 3).is_err());
        assert!(xcorr(a.view(), a.view(), 11).is_err());
        assert!(xcorr(a.view(), a.view(), 0).is_err());
        let mut n = a.clone();
        n[[1, 7, 0]] = f64::NAN;
        let e = xcorr(n.view(), a.view(), 3).unwrap_err().to_string();
        assert!(e.contains("member 1") && e.contains("frame 7"), "{e}");
    }
}
