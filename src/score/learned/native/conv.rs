//! Hand-written forward and backward pass of the periodic conv net (same parameters and maths
//! as `net/conv.rs`). Each circular convolution is an im2col with wrap-around indexing followed
//! by one gemm per sample; samples are processed in a fixed number of chunks in parallel, and
//! weight gradients are summed chunk by chunk in a fixed order, so results do not depend on
//! the number of threads.
use super::kernels::{col_sums, gemm_strided, matmul, shift_silu, taps_axpy, taps_dot, Mat};
use crate::score::learned::net::layers::{freqs, N_FREQ};
use crate::score::learned::net::NetConfig;
use rayon::prelude::*;

/// Upper bound on the number of sample chunks (and per-chunk workspaces).
const MAX_CHUNKS: usize = 16;

/// Per-chunk scratch: im2col matrix, its gradient (backward only), a padded plane, partial
/// weight and bias gradients.
#[derive(Default)]
struct ChunkWs {
    cols: Vec<f32>,
    dcols: Vec<f32>,
    ext: Vec<f32>,
    gw: Vec<f32>,
    gb: Vec<f32>,
}

/// Periodic conv net engine with its workspace.
pub(crate) struct ConvNative {
    n: usize,
    /// Kernel size of each layer.
    ks: Vec<usize>,
    /// Largest kernel size (workspace sizing).
    kmax: usize,
    /// Kernel size of the linear input→output convolution (0 = none; its weight and bias are
    /// the last two parameters).
    skip: usize,
    /// Pointwise polynomial coefficients on the linear path (powers 2..; the last parameter).
    n_poly: usize,
    layers: usize,
    emb: usize,
    cin: Vec<usize>,
    cout: Vec<usize>,
    rows: usize,
    /// `h[l]`: input of layer l, `[B, cin[l], N²]`.
    h: Vec<Vec<f32>>,
    /// Pre-activations and sigmoids of the hidden layers, `[B, cout[l], N²]`.
    z: Vec<Vec<f32>>,
    s: Vec<Vec<f32>>,
    f: Vec<f32>,
    feat: Vec<f32>,
    ze: Vec<f32>,
    se: Vec<f32>,
    e: Vec<f32>,
    shift: Vec<Vec<f32>>,
    gz: Vec<f32>,
    gh: Vec<f32>,
    gshift: Vec<f32>,
    ge: Vec<f32>,
    chunks: Vec<ChunkWs>,
}

/// Indices of layer l's parameters: (conv weight, conv bias, Some((emb weight, emb bias))).
fn idx(l: usize, layers: usize) -> (usize, usize, Option<(usize, usize)>) {
    let b = 2 + 4 * l;
    (b, b + 1, (l + 1 < layers).then_some((b + 2, b + 3)))
}

/// Circular im2col: `cols[(ci k + dx) k + dy, x N + y] = h[ci, x+dx−p, y+dy−p]` (mod N).
fn im2col(h: &[f32], cin: usize, n: usize, k: usize, cols: &mut [f32]) {
    let (p, nn) = (k / 2, n * n);
    for ci in 0..cin {
        for dx in 0..k {
            for dy in 0..k {
                let r = (ci * k + dx) * k + dy;
                let shift = (dy + n - p) % n;
                for x in 0..n {
                    let sx = (x + dx + n - p) % n;
                    let src = &h[ci * nn + sx * n..ci * nn + sx * n + n];
                    let dst = &mut cols[r * nn + x * n..r * nn + x * n + n];
                    dst[..n - shift].copy_from_slice(&src[shift..]);
                    dst[n - shift..].copy_from_slice(&src[..shift]);
                }
            }
        }
    }
}

/// Adjoint of [`im2col`]: accumulates `dcols` into `dh` (which the caller zeroes).
fn col2im(dcols: &[f32], cin: usize, n: usize, k: usize, dh: &mut [f32]) {
    let (p, nn) = (k / 2, n * n);
    for ci in 0..cin {
        for dx in 0..k {
            for dy in 0..k {
                let r = (ci * k + dx) * k + dy;
                let shift = (dy + n - p) % n;
                for x in 0..n {
                    let sx = (x + dx + n - p) % n;
                    let src = &dcols[r * nn + x * n..r * nn + x * n + n];
                    let dst = &mut dh[ci * nn + sx * n..ci * nn + sx * n + n];
                    for (a, b) in dst[shift..].iter_mut().zip(&src[..n - shift]) {
                        *a += b;
                    }
                    for (a, b) in dst[..shift].iter_mut().zip(&src[n - shift..]) {
                        *a += b;
                    }
                }
            }
        }
    }
}

/// Circularly padded copy of one N×N plane: `ext[i, j] = src[i − p, j − p]` (mod N),
/// `ext` is `(N+2p)²`.
fn pad_plane(src: &[f32], n: usize, p: usize, ext: &mut [f32]) {
    let m = n + 2 * p;
    for i in 0..m {
        let s = &src[((i + n - p % n) % n) * n..][..n];
        let e = &mut ext[i * m..(i + 1) * m];
        for (j, v) in e.iter_mut().enumerate() {
            *v = s[(j + n - p % n) % n];
        }
    }
}

/// Direct circular convolution to one output channel (the last layer):
/// `out[x, y] += Σ_{ci,dx,dy} w[ci, dx, dy] h_ci[x+dx−p, y+dy−p]`, over padded planes that stay
/// in L1 (no im2col matrix). `ext` is scratch of `(N+2p)²`.
fn conv_to_one(
    out: &mut [f32],
    h: &[f32],
    w: &[f32],
    cin: usize,
    n: usize,
    k: usize,
    ext: &mut [f32],
) {
    let (p, nn, kk) = (k / 2, n * n, k * k);
    for ci in 0..cin {
        pad_plane(&h[ci * nn..(ci + 1) * nn], n, p, ext);
        taps_axpy(out, ext, &w[ci * kk..(ci + 1) * kk], n, k, false);
    }
}

/// Backward of [`conv_to_one`]: `gw[ci, dx, dy] += Σ gz[x, y] h_ci[x+dx−p, y+dy−p]` and, with
/// `dh`, `dh_ci[q] = Σ_{dx,dy} w[ci, dx, dy] gz[q − (dx−p, dy−p)]`.
#[allow(clippy::too_many_arguments)]
fn conv_to_one_backward(
    gz: &[f32],
    h: &[f32],
    w: &[f32],
    gw: &mut [f32],
    dh: Option<&mut [f32]>,
    cin: usize,
    n: usize,
    k: usize,
    ext: &mut [f32],
) {
    let (p, nn, kk) = (k / 2, n * n, k * k);
    for ci in 0..cin {
        pad_plane(&h[ci * nn..(ci + 1) * nn], n, p, ext);
        taps_dot(gz, ext, &mut gw[ci * kk..(ci + 1) * kk], n, k);
    }
    if let Some(dh) = dh {
        dh.iter_mut().for_each(|v| *v = 0.0);
        pad_plane(gz, n, p, ext);
        for ci in 0..cin {
            taps_axpy(
                &mut dh[ci * nn..(ci + 1) * nn],
                ext,
                &w[ci * kk..(ci + 1) * kk],
                n,
                k,
                true,
            );
        }
    }
}

/// Fixed partition of `rows` samples into at most [`MAX_CHUNKS`] contiguous chunks.
fn chunk_rows(rows: usize) -> usize {
    rows.div_ceil(MAX_CHUNKS).max(1)
}

impl ConvNative {
    pub fn new(cfg: &NetConfig) -> Self {
        let (c, layers) = (cfg.channels, cfg.layers);
        let cin = (0..layers).map(|l| if l == 0 { 1 } else { c }).collect();
        let cout = (0..layers)
            .map(|l| if l + 1 == layers { 1 } else { c })
            .collect();
        ConvNative {
            n: cfg.state_shape[0],
            ks: (0..layers).map(|l| cfg.kernel_of(l)).collect(),
            kmax: (0..layers)
                .map(|l| cfg.kernel_of(l))
                .chain([cfg.skip])
                .max()
                .unwrap_or(1),
            skip: cfg.skip,
            n_poly: cfg.n_poly(),
            layers,
            emb: cfg.emb,
            cin,
            cout,
            rows: 0,
            h: vec![vec![]; layers],
            z: vec![vec![]; layers],
            s: vec![vec![]; layers],
            f: vec![],
            feat: vec![],
            ze: vec![],
            se: vec![],
            e: vec![],
            shift: vec![vec![]; layers],
            gz: vec![],
            gh: vec![],
            gshift: vec![],
            ge: vec![],
            chunks: (0..MAX_CHUNKS).map(|_| ChunkWs::default()).collect(),
        }
    }

    fn reserve(&mut self, rows: usize) {
        if self.rows == rows {
            return;
        }
        self.rows = rows;
        let nn = self.n * self.n;
        let cmax = self
            .cin
            .iter()
            .chain(&self.cout)
            .copied()
            .max()
            .unwrap_or(1);
        for l in 0..self.layers {
            self.h[l].resize(rows * self.cin[l] * nn, 0.0);
            if l + 1 < self.layers {
                self.z[l].resize(rows * self.cout[l] * nn, 0.0);
                self.s[l].resize(rows * self.cout[l] * nn, 0.0);
                self.shift[l].resize(rows * self.cout[l], 0.0);
            }
        }
        self.f.resize(rows * nn, 0.0);
        self.feat.resize(rows * (2 * N_FREQ + 1), 0.0);
        for v in [&mut self.ze, &mut self.se, &mut self.e] {
            v.resize(rows * self.emb, 0.0);
        }
        let (kk, m) = (self.kmax * self.kmax, self.n + self.kmax - 1);
        let used = rows.div_ceil(chunk_rows(rows));
        for ch in &mut self.chunks[..used] {
            ch.cols.resize(cmax * kk * nn, 0.0);
            ch.ext.resize(m * m, 0.0);
            ch.gw.resize(cmax * cmax * kk, 0.0);
            ch.gb.resize(cmax, 0.0);
        }
    }

    /// Sizes the buffers only the backward pass needs.
    fn reserve_backward(&mut self) {
        let (rows, nn, kk) = (self.rows, self.n * self.n, self.kmax * self.kmax);
        let cmax = self
            .cin
            .iter()
            .chain(&self.cout)
            .copied()
            .max()
            .unwrap_or(1);
        let grow = |v: &mut Vec<f32>, len: usize| {
            if v.len() < len {
                v.resize(len, 0.0);
            }
        };
        grow(&mut self.gz, rows * cmax * nn);
        grow(&mut self.gh, rows * cmax * nn);
        grow(&mut self.gshift, rows * cmax);
        grow(&mut self.ge, rows * self.emb);
        let used = rows.div_ceil(chunk_rows(rows));
        for ch in &mut self.chunks[..used] {
            grow(&mut ch.dcols, cmax * kk * nn);
        }
    }

    /// Forward pass; returns F (`[rows, N²]`), keeping activations for [`Self::backward`].
    pub fn forward(&mut self, w: &[Vec<f32>], x_in: &[f32], c_noise: &[f32]) -> &[f32] {
        let rows = c_noise.len();
        self.reserve(rows);
        let (n, e_w) = (self.n, self.emb);
        let nn = n * n;
        // Noise embedding e = SiLU(W [c, sin(f c), cos(f c)] + b) and per-layer shifts.
        let fr = freqs();
        let nf = 2 * N_FREQ + 1;
        for (r, fr_row) in self.feat.chunks_exact_mut(nf).enumerate() {
            let c = c_noise[r];
            fr_row[0] = c;
            for (i, &f) in fr.iter().enumerate() {
                fr_row[1 + i] = (c * f).sin();
                fr_row[1 + N_FREQ + i] = (c * f).cos();
            }
        }
        matmul(
            &mut self.ze,
            &self.feat,
            &w[0],
            rows,
            e_w,
            nf,
            false,
            true,
            false,
            false,
        );
        super::kernels::bias_silu(&mut self.ze, &mut self.se, &mut self.e, &w[1]);
        for l in 0..self.layers - 1 {
            let (_, _, Some((we, be))) = idx(l, self.layers) else {
                unreachable!()
            };
            let co = self.cout[l];
            matmul(
                &mut self.shift[l],
                &self.e,
                &w[we],
                rows,
                co,
                e_w,
                false,
                true,
                false,
                false,
            );
            super::kernels::add_bias(&mut self.shift[l], &w[be]);
        }
        self.h[0][..rows * nn].copy_from_slice(&x_in[..rows * nn]);
        let cr = chunk_rows(rows);
        for l in 0..self.layers {
            let (wi, bi, _) = idx(l, self.layers);
            let (ci, co, k) = (self.cin[l], self.cout[l], self.ks[l]);
            let (wl, bl) = (&w[wi], &w[bi]);
            let last = l + 1 == self.layers;
            let (hin, hout) = self.h.split_at_mut(l + 1);
            let x0 = &hin[0];
            let hin = &hin[l];
            let shift = &self.shift[l];
            let chunks = &mut self.chunks;
            if last {
                let f = &mut self.f;
                let ks = self.skip;
                let np = self.n_poly;
                let nw = w.len() - usize::from(np > 0);
                f.par_chunks_mut(cr * nn)
                    .zip(chunks.par_iter_mut())
                    .enumerate()
                    .for_each(|(c, (fc, ws))| {
                        for (j, fb) in fc.chunks_exact_mut(nn).enumerate() {
                            let b = c * cr + j;
                            fb.iter_mut().for_each(|v| *v = bl[0]);
                            let hb = &hin[b * ci * nn..(b + 1) * ci * nn];
                            conv_to_one(fb, hb, wl, ci, n, k, &mut ws.ext);
                            if ks > 0 {
                                let (wsk, bsk) = (&w[nw - 2], w[nw - 1][0]);
                                fb.iter_mut().for_each(|v| *v += bsk);
                                let xb = &x0[b * nn..(b + 1) * nn];
                                conv_to_one(fb, xb, wsk, 1, n, ks, &mut ws.ext);
                                if np > 0 {
                                    let a = &w[nw];
                                    for (o, &xv) in fb.iter_mut().zip(xb) {
                                        let (mut xp, mut acc) = (xv, 0.0f32);
                                        for &ap in a {
                                            xp *= xv;
                                            acc += ap * xp;
                                        }
                                        *o += acc;
                                    }
                                }
                            }
                        }
                    });
            } else {
                let (z, s, h) = (&mut self.z[l], &mut self.s[l], &mut hout[0]);
                let sz = cr * co * nn;
                z.par_chunks_mut(sz)
                    .zip(s.par_chunks_mut(sz))
                    .zip(h.par_chunks_mut(sz))
                    .zip(chunks.par_iter_mut())
                    .enumerate()
                    .for_each(|(c, (((zc, sc), hc), ws))| {
                        let per = co * nn;
                        for (j, ((zb, sb), hb)) in zc
                            .chunks_exact_mut(per)
                            .zip(sc.chunks_exact_mut(per))
                            .zip(hc.chunks_exact_mut(per))
                            .enumerate()
                        {
                            let b = c * cr + j;
                            let hb_in = &hin[b * ci * nn..(b + 1) * ci * nn];
                            let cols: &[f32] = if k == 1 {
                                hb_in
                            } else {
                                let cols = &mut ws.cols[..ci * k * k * nn];
                                im2col(hb_in, ci, n, k, cols);
                                cols
                            };
                            matmul(zb, wl, cols, co, nn, ci * k * k, false, false, false, false);
                            for o in 0..co {
                                let r = o * nn..(o + 1) * nn;
                                let bias = bl[o] + shift[b * co + o];
                                shift_silu(
                                    &mut zb[r.clone()],
                                    &mut sb[r.clone()],
                                    &mut hb[r],
                                    bias,
                                );
                            }
                        }
                    });
            }
        }
        &self.f[..rows * nn]
    }

    /// Backward pass from `d_f` (`[rows, N²]`) after [`Self::forward`] with the same weights;
    /// writes every parameter gradient into `g`.
    pub fn backward(&mut self, w: &[Vec<f32>], d_f: &[f32], g: &mut [Vec<f32>]) {
        self.reserve_backward();
        let (n, rows, e_w) = (self.n, self.rows, self.emb);
        let nn = n * n;
        let cr = chunk_rows(rows);
        let n_chunks = rows.div_ceil(cr);
        self.ge[..rows * e_w].iter_mut().for_each(|v| *v = 0.0);
        self.gz[..rows * nn].copy_from_slice(&d_f[..rows * nn]);
        if self.skip > 0 {
            // Linear input→output path: gW = Σ_b d_f ⋆ x_b, gb = Σ d_f.
            let np = self.n_poly;
            let (ks, nw) = (self.skip, g.len() - usize::from(np > 0));
            if np > 0 {
                let mut acc = vec![0f64; np];
                for (&gv, &xv) in d_f[..rows * nn].iter().zip(&self.h[0][..rows * nn]) {
                    let mut xp = xv as f64;
                    for a in acc.iter_mut() {
                        xp *= xv as f64;
                        *a += gv as f64 * xp;
                    }
                }
                for (o, a) in g[nw].iter_mut().zip(&acc) {
                    *o = *a as f32;
                }
            }
            g[nw - 2].iter_mut().for_each(|v| *v = 0.0);
            let ext = &mut self.chunks[0].ext;
            for b in 0..rows {
                pad_plane(&self.h[0][b * nn..(b + 1) * nn], n, ks / 2, ext);
                taps_dot(&d_f[b * nn..(b + 1) * nn], ext, &mut g[nw - 2], n, ks);
            }
            g[nw - 1][0] = d_f[..rows * nn].iter().sum();
        }
        for l in (0..self.layers).rev() {
            let (wi, bi, embi) = idx(l, self.layers);
            let (ci, co, k) = (self.cin[l], self.cout[l], self.ks[l]);
            let ckk = ci * k * k;
            if embi.is_some() {
                // gz ← gh ⊙ SiLU'(z) for the hidden layers.
                let (gz, gh) = (&mut self.gz[..rows * co * nn], &self.gh[..rows * co * nn]);
                gz.copy_from_slice(gh);
                super::kernels::silu_backward(gz, &self.z[l], &self.s[l]);
            }
            let wl = &w[wi];
            let hin = &self.h[l];
            let gz = &self.gz[..rows * co * nn];
            let want_dh = l > 0;
            let gshift = &mut self.gshift[..rows * co];
            let gh = &mut self.gh[..rows * ci * nn];
            gh.par_chunks_mut(cr * ci * nn)
                .zip(gshift.par_chunks_mut(cr * co))
                .zip(self.chunks.par_iter_mut())
                .enumerate()
                .for_each(|(c, ((ghc, gsc), ws))| {
                    let gw = &mut ws.gw[..co * ckk];
                    gw.iter_mut().for_each(|v| *v = 0.0);
                    ws.gb[..co].iter_mut().for_each(|v| *v = 0.0);
                    for (j, ghb) in ghc.chunks_exact_mut(ci * nn).enumerate() {
                        let b = c * cr + j;
                        let gzb = &gz[b * co * nn..(b + 1) * co * nn];
                        let hb = &hin[b * ci * nn..(b + 1) * ci * nn];
                        if co == 1 {
                            ws.gb[0] += gzb.iter().sum::<f32>();
                            let dh = if want_dh { Some(&mut *ghb) } else { None };
                            conv_to_one_backward(gzb, hb, wl, gw, dh, ci, n, k, &mut ws.ext);
                            continue;
                        }
                        let cols: &[f32] = if k == 1 {
                            hb
                        } else {
                            let cols = &mut ws.cols[..ckk * nn];
                            im2col(hb, ci, n, k, cols);
                            cols
                        };

                        // gWᵀ [ckk × co] += cols · gZ_bᵀ, stored so that gemm reads both
                        // operands without repacking the large im2col matrix.
                        let a = Mat::rm(gzb, nn, false);
                        let bm = Mat::rm(cols, nn, true);
                        gemm_strided(gw, 1, co, a, bm, co, ckk, nn, true, false);
                        for o in 0..co {
                            let sum: f32 = gzb[o * nn..(o + 1) * nn].iter().sum();
                            ws.gb[o] += sum;
                            gsc[j * co + o] = sum;
                        }
                        if want_dh && k == 1 {
                            matmul(ghb, wl, gzb, ckk, nn, co, true, false, false, false);
                        } else if want_dh {
                            let dcols = &mut ws.dcols[..ckk * nn];
                            matmul(dcols, wl, gzb, ckk, nn, co, true, false, false, false);

                            ghb.iter_mut().for_each(|v| *v = 0.0);
                            col2im(dcols, ci, n, k, ghb);
                        }
                    }
                });
            // Reduce the chunk partials in a fixed order.
            g[wi].iter_mut().for_each(|v| *v = 0.0);
            g[bi].iter_mut().for_each(|v| *v = 0.0);
            for ws in &self.chunks[..n_chunks] {
                // ws.gw holds gWᵀ ([ckk × co]); g[wi] is [co × ckk].
                for o in 0..co {
                    let gr = &mut g[wi][o * ckk..(o + 1) * ckk];
                    for (r, v) in gr.iter_mut().enumerate() {
                        *v += ws.gw[r * co + o];
                    }
                }
                g[bi]
                    .iter_mut()
                    .zip(&ws.gb[..co])
                    .for_each(|(a, b)| *a += b);
            }
            if let Some((we, be)) = embi {
                let gs = &self.gshift[..rows * co];
                matmul(
                    &mut g[we], gs, &self.e, co, e_w, rows, true, false, false, false,
                );
                g[be].iter_mut().for_each(|v| *v = 0.0);
                col_sums(&mut g[be], gs);
                matmul(
                    &mut self.ge,
                    gs,
                    &w[we],
                    rows,
                    e_w,
                    co,
                    false,
                    false,
                    true,
                    false,
                );
            }
            // gh now holds ∂loss/∂h[l]; the next iteration turns it into its gz.
        }
        // Embedding: gze = ge ⊙ SiLU'(ze).
        let nf = 2 * N_FREQ + 1;
        super::kernels::silu_backward(&mut self.ge, &self.ze, &self.se);
        matmul(
            &mut g[0], &self.ge, &self.feat, e_w, nf, rows, true, false, false, false,
        );
        g[1].iter_mut().for_each(|v| *v = 0.0);
        col_sums(&mut g[1], &self.ge);
    }
}
