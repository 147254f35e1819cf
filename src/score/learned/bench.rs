//! Training-speed benchmarks (samples per second of DSM training steps), comparable with
//! `bench/dsm_torch.py`. Set mimalloc as the global allocator in the binary for
//! representative numbers (glibc malloc is markedly slower for candle's many small tensors).
use super::data::{Batch, NoiseDraw};
use super::opts::{Arch, LossWeight, TrainOpts};
use super::train::Trainer;
use super::{LearnedModel, ModelMeta, NetConfig};
use crate::core::rng::stream_rng;
use crate::{Error, Result};
use std::time::Instant;

/// Times `steps` training steps after `warm` warm-up steps on Gaussian data with `threads`
/// rayon threads; returns samples per second.
fn bench(
    opts: TrainOpts,
    state: &[usize],
    threads: usize,
    warm: usize,
    steps: usize,
) -> Result<f64> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| Error::invalid(format!("thread pool: {e}")))?;
    pool.install(|| {
        opts.validate(state)?;
        let cfg = NetConfig::from_opts(&opts, state);
        let d = cfg.dim();
        // Defaults: σ_min = 0.01 and seed 0; standardised data (mean 0, scale 1).
        let meta = ModelMeta::untrained(cfg, &opts, 10.0, 0.0, 1.0);
        let model_cfg = meta.net.clone();
        let mut model = LearnedModel::init(meta);
        let n = 4 * opts.batch;
        let mut y = vec![0f32; n * d];
        let mut rng = stream_rng(1, 0);
        super::data::fill_normal(&mut rng, &mut y);
        let prep = super::data::Prepared {
            d,
            train: y,
            val: vec![],
        };
        let mut tr = Trainer::new(&mut model, &prep, &opts)?;
        let rows: Vec<usize> = (0..opts.batch).collect();
        let mut t0 = Instant::now();
        let mut b = Batch::default();
        for s in 0..warm + steps {
            if s == warm {
                t0 = Instant::now();
            }
            let nd = NoiseDraw {
                sigma_power: opts.sigma_power,
                sigma_min: 0.01,
                sigma_max: 10.0,
                cfg: &model_cfg,
                antithetic: opts.antithetic,
                unit_weight: false,
                band: None,
            };
            b.redraw(&prep.train, d, &rows, &mut rng, &nd);
            tr.step(&b, 0)?;
        }
        Ok((steps * opts.batch) as f64 / t0.elapsed().as_secs_f64())
    })
}

/// DSM training throughput (samples/s) of the MLP 64→256→256→256→64 with log σ input, batch
/// 1024 — the model of `bench/dsm_torch.py`.
pub fn bench_dsm_mlp(threads: usize) -> Result<f64> {
    let opts = TrainOpts {
        arch: Arch::Mlp,
        hidden: 256,
        layers: 3,
        batch: 1024,
        antithetic: false,
        loss_weight: LossWeight::Sigma2,
        ..TrainOpts::default()
    };
    bench(opts, &[64], threads, 5, 40)
}

/// [`bench_dsm_mlp`] with another hidden width and batch (2 threads; for quick runs).
pub fn bench_dsm_mlp_sized(hidden: usize, batch: usize, dim: usize, steps: usize) -> Result<f64> {
    let opts = TrainOpts {
        arch: Arch::Mlp,
        hidden,
        layers: 3,
        batch,
        antithetic: false,
        loss_weight: LossWeight::Sigma2,
        ..TrainOpts::default()
    };
    bench(opts, &[dim], 2, 1, steps)
}

/// DSM training throughput (samples/s) of the default periodic conv net on 32×32 fields,
/// batch 128.
pub fn bench_dsm_conv(threads: usize) -> Result<f64> {
    let opts = TrainOpts {
        arch: Arch::Conv,
        batch: 128,
        antithetic: false,
        loss_weight: LossWeight::Sigma2,
        ..TrainOpts::default()
    };
    bench(opts, &[32, 32], threads, 2, 10)
}

/// Name tag of the grid network of [`bench_dsm_conv_steps`] (for the bench line).
pub const CONV_BENCH_TAG: &str = "k5x1x1_skip15_ch32";

/// DSM training throughput (data samples/s) of the Allen–Cahn training configuration of
/// `scripts/allen_cahn.rhai` on 32×32 fields: periodic conv with kernels [5, 1, 1] and a 15×15
/// linear skip, 32 channels, batch 16, antithetic noise (two network rows per sample) and
/// balanced weighting.
pub fn bench_dsm_conv_steps(threads: usize, steps: usize) -> Result<f64> {
    let opts = TrainOpts {
        arch: Arch::Conv,
        kernels: Some(vec![5, 1, 1]),
        skip: 15,
        channels: 32,
        batch: 16,
        ..TrainOpts::default()
    };
    bench(opts, &[32, 32], threads, 2, steps)
}

/// Score evaluation throughput (states/s) of an untrained default periodic conv net on 32×32
/// fields (the cost of a learned-score GFDT per stored state).
pub fn bench_score_conv(threads: usize) -> Result<f64> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| Error::invalid(format!("thread pool: {e}")))?;
    pool.install(|| {
        use crate::score::Score;
        let opts = TrainOpts {
            arch: Arch::Conv,
            ..TrainOpts::default()
        };
        let state = [32, 32];
        opts.validate(&state)?;
        let meta = ModelMeta::untrained(NetConfig::from_opts(&opts, &state), &opts, 10.0, 0.0, 1.0);
        let score = LearnedModel::init(meta).score();
        let n = 512;
        let x =
            ndarray::Array2::from_shape_fn((n, 1024), |(i, j)| ((i * 7 + j * 3) % 11) as f64 * 0.1);
        let mut out = ndarray::Array2::zeros((n, 1024));
        score.eval_batch(x.view(), out.view_mut())?; // warm-up (workspaces)
        let t0 = Instant::now();
        score.eval_batch(x.view(), out.view_mut())?;
        Ok(n as f64 / t0.elapsed().as_secs_f64())
    })
}
