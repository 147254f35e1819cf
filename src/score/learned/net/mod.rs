//! Score networks. A network is described by a serialisable [`NetConfig`]; its weights are a
//! flat list of tensors in the order of [`NetConfig::specs`], so the same forward code runs
//! with trainable variables, EMA weights or loaded weights.
//!
//! Every network maps `(c_in(σ)·y_t, c_noise(σ))` to a raw output `F` of the shape of the state;
//! the score in standardised units is `F / σ` (see `train.rs`).
mod conv;
pub(crate) mod layers;
mod mlp;
mod unet;

use super::opts::{Arch, Output, TrainOpts};
use candle_core::{Result as CResult, Tensor};
use serde::{Deserialize, Serialize};

/// Architecture and sizes of a score network (stored in `model.json`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NetConfig {
    /// Network family.
    pub arch: Arch,
    /// Shape of one state: `[D]` (mlp) or `[N, N]` (conv, unet).
    pub state_shape: Vec<usize>,
    /// MLP hidden width.
    pub hidden: usize,
    /// MLP hidden layers / conv number of convolutions.
    pub layers: usize,
    /// conv / unet channels.
    pub channels: usize,
    /// conv / unet kernel size.
    pub kernel: usize,
    /// conv: per-layer kernel sizes (empty: `kernel` for every layer).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kernels: Vec<usize>,
    /// conv: kernel size of the linear input→output convolution (0 = none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skip: usize,
    /// conv: highest power of the pointwise polynomial on the linear path (0: none).
    #[serde(default, skip_serializing_if = "is_le_one")]
    pub skip_degree: usize,
    /// conv / unet noise-embedding width.
    pub emb: usize,
    /// How the output F becomes the score.
    pub output: Output,
}

fn is_zero(v: &usize) -> bool {
    *v == 0
}

fn is_le_one(v: &usize) -> bool {
    *v <= 1
}

impl NetConfig {
    /// Number of trainable scalars, computed with checked arithmetic before any weight (or
    /// the parameter list, which grows with `layers`) exists; `None` above `usize::MAX`.
    /// For conv nets every layer is counted with the largest kernel (an upper bound).
    pub(crate) fn param_bound(&self) -> Option<usize> {
        let lin = |fan_in: usize, out: usize| fan_in.checked_add(1)?.checked_mul(out);
        let conv = |cin: usize, cout: usize, k: usize| {
            cin.checked_mul(k)?
                .checked_mul(k)?
                .checked_add(1)?
                .checked_mul(cout)
        };
        let d = self
            .state_shape
            .iter()
            .try_fold(1usize, |a, &n| a.checked_mul(n))?;
        let emb = || lin(2 * layers::N_FREQ + 1, self.emb);
        let (c, k, e) = (self.channels, self.kernel, self.emb);
        match self.arch {
            Arch::Mlp => {
                let first = lin(d.checked_add(1)?, self.hidden)?;
                let hidden =
                    lin(self.hidden, self.hidden)?.checked_mul(self.layers.saturating_sub(1))?;
                let out = lin(self.hidden, d)?;
                first.checked_add(hidden)?.checked_add(out)
            }
            Arch::Conv => {
                let per_layer = conv(c, c, k)?.checked_add(lin(e, c)?)?;
                let skip = self.skip.checked_mul(self.skip)?.checked_add(1)?;
                per_layer
                    .checked_mul(self.layers)?
                    .checked_add(emb()?)?
                    .checked_add(skip)?
                    .checked_add(self.n_poly())
            }
            Arch::Unet => {
                // The largest block is 4c → 2c; eight blocks bound the total.
                let c4 = c.checked_mul(4)?;
                let block = conv(c4, c4, k)?.checked_add(lin(e, c4)?)?;
                block.checked_mul(8)?.checked_add(emb()?)
            }
        }
    }

    /// A memory request for training this network: the standardised data (training and
    /// validation copies, the validation batches and the copy used to pick σ_max, all f32),
    /// the weights with their gradients, Adam moments, EMA and best copies, the activations
    /// of a minibatch of `rows` rows (forward and backward) and, for conv nets, the per-chunk
    /// im2col buffers.
    pub(crate) fn training_request(
        &self,
        n_train: usize,
        n_val: usize,
        rows: usize,
    ) -> crate::budget::Request {
        let d = self
            .state_shape
            .iter()
            .try_fold(1usize, |a, &n| a.checked_mul(n))
            .unwrap_or(usize::MAX);
        let params = self.param_bound().unwrap_or(usize::MAX);
        let samples = n_train
            .saturating_mul(2)
            .saturating_add(n_val.saturating_mul(3));
        // Activation values per row: pre-activations, activations and their gradients.
        let (width, depth) = match self.arch {
            Arch::Mlp => (self.hidden, self.layers),
            Arch::Conv => (self.channels.saturating_mul(d), self.layers),
            Arch::Unet => (self.channels.saturating_mul(d), 16),
        };
        let mut r = crate::budget::Request::new("train_score")
            .buffer(
                "the standardised data",
                &[("rows", samples), ("values", d)],
                4,
            )
            .buffer(
                "the weights and optimiser state",
                &[("", 8), ("parameters", params)],
                4,
            )
            .buffer(
                "the activations",
                &[
                    ("rows", rows),
                    ("", 4),
                    ("layers", depth.saturating_add(1)),
                    ("", width.max(d)),
                ],
                4,
            );
        if self.arch != Arch::Mlp {
            let cols = self
                .channels
                .saturating_mul(4)
                .saturating_mul(self.kernel)
                .saturating_mul(self.kernel);
            r = r.buffer(
                "the convolution buffers",
                &[("chunks", 16), ("", 2), ("", cols), ("values", d)],
                4,
            );
        }
        r.fix("use a smaller network (hidden, layers, channels), a smaller batch or fewer samples")
    }

    /// Number of pointwise polynomial coefficients on the linear path (powers 2..=degree).
    pub(crate) fn n_poly(&self) -> usize {
        if self.skip > 0 {
            self.skip_degree.saturating_sub(1)
        } else {
            0
        }
    }
}

/// How a parameter is initialised.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Init {
    /// Uniform on ±bound (PyTorch's default for linear and conv layers: bound = 1/√fan_in).
    Uniform(f64),
}

/// Name and shape of one parameter tensor.
#[derive(Clone, Debug)]
pub(crate) struct ParamSpec {
    pub name: String,
    pub shape: Vec<usize>,
    pub init: Init,
}

/// Collects parameter specs while a network describes itself.
#[derive(Default)]
pub(crate) struct SpecList(pub Vec<ParamSpec>);

impl SpecList {
    /// A dense layer `in → out`: weight `[out, in]` and bias `[out]`.
    pub fn linear(&mut self, name: &str, fan_in: usize, out: usize) {
        let b = 1.0 / (fan_in as f64).sqrt();
        self.push(
            format!("{name}.weight"),
            vec![out, fan_in],
            Init::Uniform(b),
        );
        self.push(format!("{name}.bias"), vec![out], Init::Uniform(b));
    }
    /// A k×k convolution `cin → cout`: weight `[cout, cin, k, k]`, bias `[cout]`.
    pub fn conv(&mut self, name: &str, cin: usize, cout: usize, k: usize) {
        let b = 1.0 / ((cin * k * k) as f64).sqrt();
        self.push(
            format!("{name}.weight"),
            vec![cout, cin, k, k],
            Init::Uniform(b),
        );
        self.push(format!("{name}.bias"), vec![cout], Init::Uniform(b));
    }
    fn push(&mut self, name: String, shape: Vec<usize>, init: Init) {
        self.0.push(ParamSpec { name, shape, init });
    }
}

/// Hands out the weights in spec order during a forward pass.
pub(crate) struct Cursor<'a> {
    w: &'a [Tensor],
    i: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(w: &'a [Tensor]) -> Self {
        Cursor { w, i: 0 }
    }
    /// The next weight tensor.
    pub fn next(&mut self) -> CResult<&'a Tensor> {
        let t = self.w.get(self.i).ok_or_else(|| {
            candle_core::Error::Msg(format!("network needs more than {} weights", self.w.len()))
        })?;
        self.i += 1;
        Ok(t)
    }
    /// The next (weight, bias) pair.
    pub fn pair(&mut self) -> CResult<(&'a Tensor, &'a Tensor)> {
        Ok((self.next()?, self.next()?))
    }
    /// Errors unless every weight was used (guards spec/forward consistency).
    pub fn finish(&self) -> CResult<()> {
        if self.i != self.w.len() {
            candle_core::bail!("network used {} of {} weights", self.i, self.w.len());
        }
        Ok(())
    }
}

impl NetConfig {
    /// The configuration for `opts` on states of shape `state_shape` (opts already validated).
    pub fn from_opts(opts: &TrainOpts, state_shape: &[usize]) -> Self {
        let kernels = match (&opts.kernels, opts.arch) {
            (Some(ks), Arch::Conv) => ks.clone(),
            _ => vec![],
        };
        NetConfig {
            arch: opts.arch,
            state_shape: state_shape.to_vec(),
            hidden: opts.hidden,
            layers: if kernels.is_empty() {
                opts.layers
            } else {
                kernels.len()
            },
            channels: opts.channels,
            kernel: kernels.iter().copied().max().unwrap_or(opts.kernel),
            kernels,
            skip: if opts.arch == Arch::Conv {
                opts.skip
            } else {
                0
            },
            // Normalised so that "no polynomial" is always 0 (the value a model.json without
            // the field loads as).
            skip_degree: if opts.arch == Arch::Conv && opts.skip > 0 && opts.skip_degree > 1 {
                opts.skip_degree
            } else {
                0
            },
            emb: opts.emb,
            output: opts.output,
        }
    }

    /// Kernel size of conv layer `l`.
    pub fn kernel_of(&self, l: usize) -> usize {
        self.kernels.get(l).copied().unwrap_or(self.kernel)
    }

    /// The factor `c_out(σ)` with `s = c_out(σ) F` (σ in standardised units).
    pub fn c_out(&self, sigma: f64) -> f64 {
        match self.output {
            Output::Smooth => 1.0 / (sigma * sigma + 1.0).sqrt(),
            Output::Sigma => 1.0 / sigma,
        }
    }

    /// Number of scalars in one state.
    pub fn dim(&self) -> usize {
        self.state_shape.iter().product()
    }

    /// The parameter tensors, in forward order.
    pub(crate) fn specs(&self) -> Vec<ParamSpec> {
        let mut s = SpecList::default();
        match self.arch {
            Arch::Mlp => mlp::specs(self, &mut s),
            Arch::Conv => conv::specs(self, &mut s),
            Arch::Unet => unet::specs(self, &mut s),
        }
        s.0
    }

    /// Raw network output `F(x_in, c_noise)`: `x_in` is `[B, D]` (already multiplied by
    /// c_in(σ)), `c_noise` is `[B, 1]` (= ln σ / 4); returns `[B, D]`.
    pub(crate) fn forward(&self, w: &[Tensor], x_in: &Tensor, c_noise: &Tensor) -> CResult<Tensor> {
        let mut c = Cursor::new(w);
        let out = match self.arch {
            Arch::Mlp => mlp::forward(self, &mut c, x_in, c_noise)?,
            Arch::Conv => conv::forward(self, &mut c, x_in, c_noise)?,
            Arch::Unet => unet::forward(self, &mut c, x_in, c_noise)?,
        };
        c.finish()?;
        Ok(out)
    }

    /// One-line description for tables and `model.json`.
    pub fn describe(&self) -> String {
        match self.arch {
            Arch::Mlp => format!(
                "mlp {}→{}×{}→{}",
                self.dim() + 1,
                self.hidden,
                self.layers,
                self.dim()
            ),
            Arch::Conv if !self.kernels.is_empty() => format!(
                "periodic conv {}×{} {}ch k{:?}{}",
                self.state_shape[0],
                self.state_shape[1],
                self.channels,
                self.kernels,
                if self.skip > 0 && self.n_poly() > 0 {
                    format!(" + linear k{} + poly{}", self.skip, self.skip_degree)
                } else if self.skip > 0 {
                    format!(" + linear k{}", self.skip)
                } else {
                    String::new()
                }
            ),
            Arch::Conv => format!(
                "periodic conv {}×{} {}×{}ch k{}",
                self.state_shape[0], self.state_shape[1], self.layers, self.channels, self.kernel
            ),
            Arch::Unet => format!(
                "periodic unet {}×{} ch {}/{} k{}",
                self.state_shape[0],
                self.state_shape[1],
                self.channels,
                2 * self.channels,
                self.kernel
            ),
        }
    }
}
