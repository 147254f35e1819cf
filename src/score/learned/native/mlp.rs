//! Hand-written forward and backward pass of the MLP (same parameters and maths as
//! `net/mlp.rs`): gemm for the products, fused bias + SiLU, activations kept in a reusable
//! workspace.
use super::kernels::{add_bias, bias_silu, col_sums, matmul, silu_backward};
use crate::score::learned::net::NetConfig;
use rayon::prelude::*;

/// Rows per parallel element-wise task.
const ROWS: usize = 64;

/// MLP engine with its activation workspace (grown on demand, then reused).
pub(crate) struct MlpNative {
    d: usize,
    hidden: usize,
    layers: usize,
    rows: usize,
    x0: Vec<f32>,
    z: Vec<Vec<f32>>,
    s: Vec<Vec<f32>>,
    h: Vec<Vec<f32>>,
    f: Vec<f32>,
    gh: Vec<f32>,
    gz: Vec<f32>,
}

impl MlpNative {
    pub fn new(cfg: &NetConfig) -> Self {
        MlpNative {
            d: cfg.dim(),
            hidden: cfg.hidden,
            layers: cfg.layers,
            rows: 0,
            x0: vec![],
            z: vec![vec![]; cfg.layers],
            s: vec![vec![]; cfg.layers],
            h: vec![vec![]; cfg.layers],
            f: vec![],
            gh: vec![],
            gz: vec![],
        }
    }

    fn reserve(&mut self, rows: usize) {
        if self.rows == rows {
            return;
        }
        self.rows = rows;
        let hs = rows * self.hidden;
        self.x0.resize(rows * (self.d + 1), 0.0);
        for l in 0..self.layers {
            self.z[l].resize(hs, 0.0);
            self.s[l].resize(hs, 0.0);
            self.h[l].resize(hs, 0.0);
        }
        self.f.resize(rows * self.d, 0.0);
        self.gh.resize(hs.max(rows * self.d), 0.0);
        self.gz.resize(hs, 0.0);
    }

    /// Forward pass; returns F (`[rows, D]`). Keeps the activations for [`Self::backward`].
    pub fn forward(&mut self, w: &[Vec<f32>], x_in: &[f32], c_noise: &[f32]) -> &[f32] {
        let (d, hd) = (self.d, self.hidden);
        let rows = c_noise.len();
        self.reserve(rows);
        for (r, xr) in self.x0.chunks_exact_mut(d + 1).enumerate() {
            xr[..d].copy_from_slice(&x_in[r * d..(r + 1) * d]);
            xr[d] = c_noise[r];
        }
        let mut fan_in = d + 1;
        for l in 0..self.layers {
            let (wl, bl) = (&w[2 * l], &w[2 * l + 1]);
            let input: &[f32] = if l == 0 { &self.x0 } else { &self.h[l - 1] };
            matmul(
                &mut self.z[l],
                input,
                wl,
                rows,
                hd,
                fan_in,
                false,
                true,
                false,
                true,
            );
            let n = hd * ROWS;
            self.z[l]
                .par_chunks_mut(n)
                .zip(self.s[l].par_chunks_mut(n))
                .zip(self.h[l].par_chunks_mut(n))
                .for_each(|((z, s), h)| bias_silu(z, s, h, bl));
            fan_in = hd;
        }
        let (wo, bo) = (&w[2 * self.layers], &w[2 * self.layers + 1]);
        let last: &[f32] = if self.layers == 0 {
            &self.x0
        } else {
            &self.h[self.layers - 1]
        };
        matmul(
            &mut self.f,
            last,
            wo,
            rows,
            d,
            fan_in,
            false,
            true,
            false,
            true,
        );
        add_bias(&mut self.f, bo);
        &self.f
    }

    /// Backward pass from `d_f = ∂loss/∂F` (`[rows, D]`) after [`Self::forward`] on the same
    /// weights; writes every parameter gradient into `g` (same layout as the weights).
    pub fn backward(&mut self, w: &[Vec<f32>], d_f: &[f32], g: &mut [Vec<f32>]) {
        let (d, hd, rows, nl) = (self.d, self.hidden, self.rows, self.layers);
        let fan_in = |l: usize| if l == 0 { d + 1 } else { hd };
        // Output layer.
        let last: &[f32] = if nl == 0 { &self.x0 } else { &self.h[nl - 1] };
        let fi = fan_in(nl);
        matmul(
            &mut g[2 * nl],
            d_f,
            last,
            d,
            fi,
            rows,
            true,
            false,
            false,
            true,
        );
        g[2 * nl + 1].iter_mut().for_each(|v| *v = 0.0);
        col_sums(&mut g[2 * nl + 1], d_f);
        if nl == 0 {
            return;
        }
        matmul(
            &mut self.gh,
            d_f,
            &w[2 * nl],
            rows,
            hd,
            d,
            false,
            false,
            false,
            true,
        );
        for l in (0..nl).rev() {
            let gz = &mut self.gz[..rows * hd];
            gz.copy_from_slice(&self.gh[..rows * hd]);
            let n = hd * ROWS;
            gz.par_chunks_mut(n)
                .zip(self.z[l].par_chunks(n))
                .zip(self.s[l].par_chunks(n))
                .for_each(|((g, z), s)| silu_backward(g, z, s));
            let input: &[f32] = if l == 0 { &self.x0 } else { &self.h[l - 1] };
            let gz = &self.gz[..rows * hd];
            matmul(
                &mut g[2 * l],
                gz,
                input,
                hd,
                fan_in(l),
                rows,
                true,
                false,
                false,
                true,
            );
            g[2 * l + 1].iter_mut().for_each(|v| *v = 0.0);
            col_sums(&mut g[2 * l + 1], gz);
            if l > 0 {
                matmul(
                    &mut self.gh,
                    gz,
                    &w[2 * l],
                    rows,
                    hd,
                    hd,
                    false,
                    false,
                    false,
                    true,
                );
            }
        }
    }
}
