//! Adam with global gradient-norm clipping, and the EMA of the weights, on candle tensors
//! (device-generic). The moments live in [`super::Weights`] so they are saved and resumed.
use candle_core::{Result, Tensor, Var};

/// Adam hyper-parameters (β and ε as in the reference training).
pub(crate) const BETA1: f64 = 0.9;
pub(crate) const BETA2: f64 = 0.999;
pub(crate) const EPS: f64 = 1e-8;

/// Global L2 norm of all gradients.
pub(crate) fn global_norm(grads: &[Tensor]) -> Result<f64> {
    let mut s = 0.0f64;
    for g in grads {
        s += g.sqr()?.sum_all()?.to_dtype(candle_core::DType::F64)?.to_scalar::<f64>()?;
    }
    Ok(s.sqrt())
}

/// One Adam step (`step` counts from 1) with gradients pre-multiplied by `gscale` (clipping).
pub(crate) fn adam_step(
    vars: &[Var],
    grads: &[Tensor],
    m: &mut [Tensor],
    v: &mut [Tensor],
    step: u64,
    lr: f64,
    gscale: f64,
) -> Result<()> {
    let bc1 = 1.0 - BETA1.powi(step as i32);
    let bc2 = 1.0 - BETA2.powi(step as i32);
    for (((var, g), m), v) in vars.iter().zip(grads).zip(m.iter_mut()).zip(v.iter_mut()) {
        let g = g.affine(gscale, 0.0)?;
        *m = (m.affine(BETA1, 0.0)? + g.affine(1.0 - BETA1, 0.0)?)?;
        *v = (v.affine(BETA2, 0.0)? + g.sqr()?.affine(1.0 - BETA2, 0.0)?)?;
        let denom = v.affine(1.0 / bc2, 0.0)?.sqrt()?.affine(1.0, EPS)?;
        let upd = m.affine(lr / bc1, 0.0)?.div(&denom)?;
        var.set(&var.as_tensor().sub(&upd)?)?;
    }
    Ok(())
}

/// EMA decay used at optimiser step `step` (1-based): ramps up as (1+n)/(10+n) so that the
/// average forgets the random initial weights quickly in short runs.
pub(crate) fn ema_decay(target: f64, step: u64) -> f64 {
    target.min((1.0 + step as f64) / (10.0 + step as f64))
}

/// `ema ← d·ema + (1−d)·w`.
pub(crate) fn ema_update(ema: &mut [Tensor], vars: &[Var], d: f64) -> Result<()> {
    for (e, w) in ema.iter_mut().zip(vars) {
        *e = (e.affine(d, 0.0)? + w.as_tensor().affine(1.0 - d, 0.0)?)?;
    }
    Ok(())
}
