//! The native CPU engine: hand-written forward and backward passes of the MLP and the periodic
//! conv net on host `f32` vectors (gemm for the products, fused and vectorised element-wise
//! loops, a reusable workspace). It computes exactly the function of the candle networks in
//! `net/` with the same parameter layout (cross-checked in the tests below) and is several
//! times faster on the CPU, where candle's per-op overhead and scalar element-wise maps
//! dominate small networks. The U-Net and GPU devices use candle.
mod conv;
pub(crate) mod kernels;
mod mlp;

use super::data::Batch;
use super::net::NetConfig;
use super::opts::Arch;

/// A network engine with its workspace.
pub(crate) enum NativeNet {
    Mlp(Box<mlp::MlpNative>),
    Conv(Box<conv::ConvNative>),
}

impl NativeNet {
    /// The native engine for `cfg`, or None where only candle implements the architecture.
    pub fn new(cfg: &NetConfig) -> Option<Self> {
        match cfg.arch {
            Arch::Mlp => Some(NativeNet::Mlp(Box::new(mlp::MlpNative::new(cfg)))),
            Arch::Conv => Some(NativeNet::Conv(Box::new(conv::ConvNative::new(cfg)))),
            Arch::Unet => None,
        }
    }

    /// Network output F (`[rows, D]`) for `x_in` (`[rows, D]`) and `c_noise` (`[rows]`).
    pub fn forward(&mut self, w: &[Vec<f32>], x_in: &[f32], c_noise: &[f32]) -> &[f32] {
        match self {
            NativeNet::Mlp(m) => m.forward(w, x_in, c_noise),
            NativeNet::Conv(c) => c.forward(w, x_in, c_noise),
        }
    }

    /// Parameter gradients of `Σ d_f · F` after [`Self::forward`].
    pub fn backward(&mut self, w: &[Vec<f32>], d_f: &[f32], g: &mut [Vec<f32>]) {
        match self {
            NativeNet::Mlp(m) => m.backward(w, d_f, g),
            NativeNet::Conv(c) => c.backward(w, d_f, g),
        }
    }

    /// Mean over the batch rows of the weighted DSM loss `Σ (aF)·(aF + 2t)` (see
    /// `train.rs`); with `grad = Some((g, buf))` also its parameter gradients into g, with
    /// `per_row` the loss of every row appended.
    pub fn loss(
        &mut self,
        w: &[Vec<f32>],
        b: &Batch,
        grad: Option<(&mut [Vec<f32>], &mut Vec<f32>)>,
        mut per_row: Option<&mut Vec<f64>>,
    ) -> f64 {
        let rows = b.c_noise.len();
        let d = b.x_in.len() / rows.max(1);
        let f = self.forward(w, &b.x_in, &b.c_noise);
        let mut loss = 0.0f64;
        for r in 0..rows {
            let a = b.k[r];
            let mut acc = 0.0f32;
            for (fv, tv) in f[r * d..(r + 1) * d].iter().zip(&b.z[r * d..(r + 1) * d]) {
                let u = a * fv;
                acc += u * (u + 2.0 * tv);
            }
            loss += acc as f64;
            if let Some(pr) = per_row.as_mut() {
                pr.push(acc as f64);
            }
        }
        if let Some((g, df)) = grad {
            df.resize(rows * d, 0.0);
            let inv = 2.0 / rows as f32;
            for r in 0..rows {
                let a = b.k[r];
                let rr = r * d..(r + 1) * d;
                for ((o, fv), tv) in df[rr.clone()].iter_mut().zip(&f[rr.clone()]).zip(&b.z[rr]) {
                    *o = inv * a * (a * fv + tv);
                }
            }
            self.backward(w, df, g);
        }
        loss / rows as f64
    }
}

#[cfg(test)]
mod tests {
    //! The native engine against candle's autograd on the same weights and inputs.
    use super::*;
    use crate::score::learned::opts::{Output, TrainOpts};
    use candle_core::{Device, Tensor, Var};
    use rand::RngExt;

    fn check(cfg: NetConfig, rows: usize) {
        let mut rng = crate::core::rng::stream_rng(7, 0);
        let specs = cfg.specs();
        let w: Vec<Vec<f32>> = specs
            .iter()
            .map(|s| {
                let n: usize = s.shape.iter().product();
                let crate::score::learned::net::Init::Uniform(b) = s.init;
                (0..n)
                    .map(|_| (b * (2.0 * rng.random::<f64>() - 1.0)) as f32)
                    .collect()
            })
            .collect();
        let d = cfg.dim();
        let x: Vec<f32> = (0..rows * d)
            .map(|_| rng.random::<f32>() * 2.0 - 1.0)
            .collect();
        let c: Vec<f32> = (0..rows).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect();
        let gout: Vec<f32> = (0..rows * d).map(|_| rng.random::<f32>() - 0.5).collect();
        // candle
        let dev = Device::Cpu;
        let vars: Vec<Var> = w
            .iter()
            .zip(&specs)
            .map(|(v, s)| Var::from_vec(v.clone(), s.shape.as_slice(), &dev).unwrap())
            .collect();
        let wt: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
        let xt = Tensor::from_slice(&x, (rows, d), &dev).unwrap();
        let ct = Tensor::from_slice(&c, (rows, 1), &dev).unwrap();
        let gt = Tensor::from_slice(&gout, (rows, d), &dev).unwrap();
        let f = cfg.forward(&wt, &xt, &ct).unwrap();
        let fc: Vec<f32> = f.flatten_all().unwrap().to_vec1().unwrap();
        let grads = (f * gt).unwrap().sum_all().unwrap().backward().unwrap();
        // native
        let mut net = NativeNet::new(&cfg).unwrap();
        let fnat = net.forward(&w, &x, &c).to_vec();
        let mut g: Vec<Vec<f32>> = w.iter().map(|v| vec![0.0; v.len()]).collect();
        net.backward(&w, &gout, &mut g);
        let rel = |a: &[f32], b: &[f32]| {
            let num: f64 = a.iter().zip(b).map(|(x, y)| ((x - y) as f64).powi(2)).sum();
            let den: f64 = b.iter().map(|y| (*y as f64).powi(2)).sum();
            (num / den.max(1e-30)).sqrt()
        };
        let ef = rel(&fnat, &fc);
        assert!(ef < 1e-5, "{}: forward differs by {ef}", cfg.describe());
        for (i, (s, v)) in specs.iter().zip(&vars).enumerate() {
            let gc: Vec<f32> = grads
                .get(v)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let e = rel(&g[i], &gc);
            assert!(
                e < 1e-4,
                "{}: gradient of {} differs by {e}",
                cfg.describe(),
                s.name
            );
        }
    }

    fn cfg(arch: Arch, shape: &[usize], layers: usize, kernel: usize) -> NetConfig {
        let o = TrainOpts {
            arch,
            hidden: 24,
            layers,
            channels: 5,
            kernel,
            emb: 7,
            output: Output::Smooth,
            ..TrainOpts::default()
        };
        NetConfig::from_opts(&o, shape)
    }

    #[test]
    fn mlp_matches_candle() {
        check(cfg(Arch::Mlp, &[5], 3, 3), 70);
        check(cfg(Arch::Mlp, &[1], 1, 3), 9);
    }

    #[test]
    fn conv_with_layer_kernels_and_skip_matches_candle() {
        let mut c = cfg(Arch::Conv, &[8, 8], 3, 5);
        c.kernels = vec![5, 1, 1];
        c.skip = 3;
        check(c.clone(), 11);
        c.skip_degree = 3;
        check(c, 11);
        let mut c = cfg(Arch::Conv, &[7, 7], 2, 3);
        c.kernels = vec![1, 3];
        check(c, 5);
    }

    #[test]
    fn conv_matches_candle() {
        check(cfg(Arch::Conv, &[6, 6], 3, 3), 19);
        check(cfg(Arch::Conv, &[8, 8], 2, 5), 33);
        check(cfg(Arch::Conv, &[5, 5], 4, 5), 3);
    }
}
