//! Building blocks shared by the networks, written with candle tensor ops (device-generic and
//! differentiable by candle's autograd).
use super::{Cursor, SpecList};
use candle_core::{Result, Tensor, D};

/// `x Wᵀ + b` for `x: [B, in]`, `W: [out, in]`, `b: [out]`.
pub(crate) fn linear(x: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    x.matmul(&w.t()?)?.broadcast_add(b)
}

/// `SiLU(x Wᵀ + b)`.
pub(crate) fn linear_silu(x: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    linear(x, w, b)?.silu()
}

/// Pads `[B, C, H, W]` periodically by `p` cells on every side.
pub(crate) fn circ_pad(x: &Tensor, p: usize) -> Result<Tensor> {
    if p == 0 {
        return Ok(x.clone());
    }
    let (_, _, h, w) = x.dims4()?;
    let x = Tensor::cat(&[&x.narrow(2, h - p, p)?, x, &x.narrow(2, 0, p)?], 2)?;
    Tensor::cat(&[&x.narrow(3, w - p, p)?, &x, &x.narrow(3, 0, p)?], 3)
}

/// Circular ("periodic") same-size convolution: `w: [cout, cin, k, k]` (k odd), `b: [cout]`.
pub(crate) fn circ_conv(x: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    let k = w.dim(2)?;
    let y = circ_pad(x, k / 2)?.conv2d(w, 0, 1, 1, 1)?;
    let cout = w.dim(0)?;
    y.broadcast_add(&b.reshape((1, cout, 1, 1))?)
}

/// Number of sinusoidal features of c_noise (plus c_noise itself).
pub(crate) const N_FREQ: usize = 8;

/// Fixed frequencies of the sinusoidal noise features, geometric from 0.5 to 16 (c_noise =
/// ln σ / 4 lies in about [-1.2, 1.2]).
pub(crate) fn freqs() -> Vec<f32> {
    (0..N_FREQ)
        .map(|i| (0.5f64 * (32.0f64).powf(i as f64 / (N_FREQ - 1) as f64)) as f32)
        .collect()
}

/// Parameters of the noise embedding `e = SiLU(Linear([c, sin(f c), cos(f c)]))`.
pub(crate) fn noise_embedding_specs(emb: usize, s: &mut SpecList) {
    s.linear("noise_emb", 2 * N_FREQ + 1, emb);
}

/// The noise embedding `[B, emb]` from `c_noise: [B, 1]`.
pub(crate) fn noise_embedding(c: &mut Cursor, c_noise: &Tensor) -> Result<Tensor> {
    let f = Tensor::from_vec(freqs(), (1, N_FREQ), c_noise.device())?;
    let arg = c_noise.broadcast_mul(&f)?;
    let feat = Tensor::cat(&[c_noise, &arg.sin()?, &arg.cos()?], D::Minus1)?;
    let (w, b) = c.pair()?;
    linear_silu(&feat, w, b)
}

/// `SiLU(h + shift)` with the per-channel shift `Linear(e)` broadcast over the grid.
pub(crate) fn silu_with_shift(h: &Tensor, e: &Tensor, we: &Tensor, be: &Tensor) -> Result<Tensor> {
    let (b, c, _, _) = h.dims4()?;
    let shift = linear(e, we, be)?.reshape((b, c, 1, 1))?;
    h.broadcast_add(&shift)?.silu()
}
