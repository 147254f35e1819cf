//! Small periodic U-Net for N×N grids with non-local scores. With C = channels:
//! ```text
//! N:    in conv 1→C, block C→C ───────────────────────────────┐ skip
//! N/2:  avg-pool, block C→2C, block 2C→2C ─────────────┐ skip  │
//! N/4:  avg-pool, block 2C→2C (bottleneck)             │       │
//! N/2:  nearest-up, concat ◄──────────────────────────-┘, block 4C→2C
//! N:    nearest-up, concat ◄──────────────────────────────────-┘, block 3C→C, out conv C→1
//! ```
//! A block is a circular k×k convolution, a noise-embedding channel shift and SiLU. Pooling
//! and upsampling by 2 keep equivariance under even shifts only (as any U-Net).
use super::layers::{circ_conv, noise_embedding, noise_embedding_specs, silu_with_shift};
use super::{Cursor, NetConfig, SpecList};
use candle_core::{Result, Tensor};

/// (name, cin, cout) of every block, in forward order (the last one has no embedding).
fn blocks(c: usize) -> [(&'static str, usize, usize); 8] {
    [
        ("unet.in", 1, c),
        ("unet.d1", c, c),
        ("unet.d2a", c, 2 * c),
        ("unet.d2b", 2 * c, 2 * c),
        ("unet.mid", 2 * c, 2 * c),
        ("unet.u2", 4 * c, 2 * c),
        ("unet.u1", 3 * c, c),
        ("unet.out", c, 1),
    ]
}

pub(super) fn specs(cfg: &NetConfig, s: &mut SpecList) {
    noise_embedding_specs(cfg.emb, s);
    for (name, cin, cout) in blocks(cfg.channels) {
        s.conv(name, cin, cout, cfg.kernel);
        if name != "unet.out" {
            s.linear(&format!("{name}.emb"), cfg.emb, cout);
        }
    }
}

fn block(c: &mut Cursor, h: &Tensor, e: &Tensor) -> Result<Tensor> {
    let (w, b) = c.pair()?;
    let h = circ_conv(h, w, b)?;
    let (we, be) = c.pair()?;
    silu_with_shift(&h, e, we, be)
}

pub(super) fn forward(
    cfg: &NetConfig,
    c: &mut Cursor,
    x: &Tensor,
    c_noise: &Tensor,
) -> Result<Tensor> {
    let n = cfg.state_shape[0];
    let b = x.dim(0)?;
    let e = noise_embedding(c, c_noise)?;
    let h = x.reshape((b, 1, n, n))?;
    let h = block(c, &h, &e)?;
    let h1 = block(c, &h, &e)?;
    let h = block(c, &h1.avg_pool2d(2)?, &e)?;
    let h2 = block(c, &h, &e)?;
    let h = block(c, &h2.avg_pool2d(2)?, &e)?;
    let h = h.upsample_nearest2d(n / 2, n / 2)?;
    let h = block(c, &Tensor::cat(&[&h, &h2], 1)?, &e)?;
    let h = h.upsample_nearest2d(n, n)?;
    let h = block(c, &Tensor::cat(&[&h, &h1], 1)?, &e)?;
    let (w, bias) = c.pair()?;
    circ_conv(&h, w, bias)?.reshape((b, n * n))
}
