//! Translation-equivariant periodic conv net for N×N grids. Layer l: circular k×k convolution,
//! plus a per-channel bias from the noise embedding (FiLM-like shift), SiLU; the last layer maps
//! to one channel without activation. Every operation commutes with periodic shifts, so the
//! learned score is exactly translation equivariant, like the true score of a homogeneous field.
use super::layers::{circ_conv, noise_embedding, noise_embedding_specs, silu_with_shift};
use super::{Cursor, NetConfig, SpecList};
use candle_core::{Result, Tensor};

pub(super) fn specs(cfg: &NetConfig, s: &mut SpecList) {
    noise_embedding_specs(cfg.emb, s);
    let c = cfg.channels;
    for l in 0..cfg.layers {
        let k = cfg.kernel_of(l);
        let cin = if l == 0 { 1 } else { c };
        let cout = if l + 1 == cfg.layers { 1 } else { c };
        s.conv(&format!("conv.{l}"), cin, cout, k);
        if l + 1 < cfg.layers {
            s.linear(&format!("conv.{l}.emb"), cfg.emb, cout);
        }
    }
    if cfg.skip > 0 {
        s.conv("skip", 1, 1, cfg.skip);
    }
    if cfg.n_poly() > 0 {
        s.push(
            "skip.poly".into(),
            vec![cfg.n_poly()],
            super::Init::Uniform(0.01),
        );
    }
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
    let x4 = x.reshape((b, 1, n, n))?;
    let mut h = x4.clone();
    for l in 0..cfg.layers {
        let (w, bias) = c.pair()?;
        h = circ_conv(&h, w, bias)?;
        if l + 1 < cfg.layers {
            let (we, be) = c.pair()?;
            h = silu_with_shift(&h, &e, we, be)?;
        }
    }
    if cfg.skip > 0 {
        let (w, bias) = c.pair()?;
        h = (h + circ_conv(&x4, w, bias)?)?;
    }
    if cfg.n_poly() > 0 {
        let a = c.next()?;
        let mut xp = x4.clone();
        for i in 0..cfg.n_poly() {
            xp = (&xp * &x4)?;
            let ai = a.narrow(0, i, 1)?.reshape((1, 1, 1, 1))?;
            h = (h + xp.broadcast_mul(&ai)?)?;
        }
    }
    h.reshape((b, n * n))
}
