//! MLP for vector states: `[c_in·y, ln σ / 4] → (Linear, SiLU) × layers → Linear → D`.
use super::layers::{linear, linear_silu};
use super::{Cursor, NetConfig, SpecList};
use candle_core::{Result, Tensor};

pub(super) fn specs(cfg: &NetConfig, s: &mut SpecList) {
    let d = cfg.dim();
    let mut fan_in = d + 1;
    for l in 0..cfg.layers {
        s.linear(&format!("mlp.{l}"), fan_in, cfg.hidden);
        fan_in = cfg.hidden;
    }
    s.linear("mlp.out", fan_in, d);
}

pub(super) fn forward(
    cfg: &NetConfig,
    c: &mut Cursor,
    x: &Tensor,
    c_noise: &Tensor,
) -> Result<Tensor> {
    let mut h = Tensor::cat(&[x, c_noise], 1)?;
    for _ in 0..cfg.layers {
        let (w, b) = c.pair()?;
        h = linear_silu(&h, w, b)?;
    }
    let (w, b) = c.pair()?;
    linear(&h, w, b)
}
