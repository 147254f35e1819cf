//! Adam with global gradient-norm clipping, and the EMA of the weights, on host vectors (one
//! fused pass per parameter, element-wise and so independent of the thread count).
use rayon::prelude::*;

/// Adam hyper-parameters (β and ε as in the reference training).
pub(crate) const BETA1: f64 = 0.9;
pub(crate) const BETA2: f64 = 0.999;
pub(crate) const EPS: f64 = 1e-8;

/// Elements per parallel task.
const CHUNK: usize = 16_384;

/// Global L2 norm of all gradients (f64 accumulation in a fixed order).
pub(crate) fn global_norm(grads: &[Vec<f32>]) -> f64 {
    grads
        .iter()
        .map(|g| {
            g.par_chunks(CHUNK)
                .map(|c| c.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>())
                .collect::<Vec<f64>>()
                .iter()
                .sum::<f64>()
        })
        .sum::<f64>()
        .sqrt()
}

/// The optimiser state a step updates.
pub(crate) struct StepState<'a> {
    pub params: &'a mut [Vec<f32>],
    pub m: &'a mut [Vec<f32>],
    pub v: &'a mut [Vec<f32>],
    pub ema: &'a mut [Vec<f32>],
}

/// One Adam step (`step` counts from 1) on gradients pre-multiplied by `gscale` (clipping),
/// followed by `ema ← d·ema + (1−d)·w`.
pub(crate) fn adam_ema_step(
    st: StepState,
    grads: &[Vec<f32>],
    step: u64,
    lr: f64,
    gscale: f64,
    ema_decay: f64,
) {
    let bc1 = 1.0 - BETA1.powi(step.min(i32::MAX as u64) as i32);
    let bc2 = 1.0 - BETA2.powi(step.min(i32::MAX as u64) as i32);
    let (b1, b2, gs) = (BETA1 as f32, BETA2 as f32, gscale as f32);
    let (lr1, ibc2, eps) = ((lr / bc1) as f32, (1.0 / bc2) as f32, EPS as f32);
    let (d, d1) = (ema_decay as f32, (1.0 - ema_decay) as f32);
    for ((((w, m), v), e), g) in st
        .params
        .iter_mut()
        .zip(st.m.iter_mut())
        .zip(st.v.iter_mut())
        .zip(st.ema.iter_mut())
        .zip(grads)
    {
        w.par_chunks_mut(CHUNK)
            .zip(m.par_chunks_mut(CHUNK))
            .zip(v.par_chunks_mut(CHUNK))
            .zip(e.par_chunks_mut(CHUNK))
            .zip(g.par_chunks(CHUNK))
            .for_each(|((((w, m), v), e), g)| {
                for i in 0..w.len() {
                    let gi = g[i] * gs;
                    m[i] = b1 * m[i] + (1.0 - b1) * gi;
                    v[i] = b2 * v[i] + (1.0 - b2) * gi * gi;
                    w[i] -= lr1 * m[i] / ((v[i] * ibc2).sqrt() + eps);
                    e[i] = d * e[i] + d1 * w[i];
                }
            });
    }
}

/// EMA decay used at optimiser step `step` (1-based): ramps up as (1+n)/(10+n) so that the
/// average forgets the random initial weights quickly in short runs.
pub(crate) fn ema_decay(target: f64, step: u64) -> f64 {
    target.min((1.0 + step as f64) / (10.0 + step as f64))
}
