//! Training options ([`TrainOpts`]) and the network choice ([`Arch`]). Deserialisable from a
//! Rhai object map with unknown keys refused, so a typo is an error rather than a silent default.
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Which network family learns the score.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// Multilayer perceptron for vector states `[D]`: input `(c_in·x, log σ / 4)`, SiLU hidden
    /// layers of width `hidden`, output D.
    Mlp,
    /// Translation-equivariant fully convolutional net for periodic N×N grids (circular
    /// padding), `layers` convolutions of `kernel`×`kernel` with `channels` channels and the
    /// noise level added as a per-channel bias. For local scores (Allen–Cahn, OU).
    Conv,
    /// Small periodic U-Net (2 levels, avg-pool down, nearest up, skip connections) for grids
    /// whose score is non-local (Navier–Stokes). Needs N divisible by 4.
    Unet,
}

/// How the network output F becomes the score (standardised units).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Output {
    /// `s = F / √(σ² + 1)` (default): `F/σ` for σ above the data scale (1 in standardised
    /// units), bounded as σ → 0. The score at σ_min then inherits the network's smoothness in
    /// σ instead of amplifying its small-σ error by 1/σ_min (= 100).
    Smooth,
    /// `s = F / σ`, the reference code's choice. At σ_min = 0.01 an output error δ becomes a
    /// score error 100 δ, and the loss hardly constrains F there: 119 % score error at σ_min
    /// on the tests' 2-D Gaussian (σ² weighting), and 600 % on a 1-D Gaussian without
    /// antithetic noise, where "smooth" gives a few %.
    Sigma,
}

/// Weight of the noise levels in the DSM loss.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LossWeight {
    /// `E‖F + z/(σ c_out(σ))‖²` (default; with output "smooth" the score errors get weight
    /// 1 + σ²): every noise level counts, so the score at σ_min is fitted, not extrapolated.
    /// Needs antithetic noise (the gradient variance would grow like 1/σ² without it). For
    /// σ ≫ 1 (standardised units) it coincides with "sigma2".
    Balanced,
    /// `E‖σ s_θ + z‖²` (the reference, SPEC §5): score errors weighted by σ², so errors at
    /// σ_min = 0.01 count 10⁻⁴ as much as at σ = 1. Measured on the tests' 2-D Gaussian and
    /// double well: 15 % and 28 % score error at σ_min where "balanced" gives 4 % and 11 %.
    Sigma2,
}

/// Learning-rate schedule after the warm-up.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// `lr` throughout.
    Constant,
    /// `lr · (1 + cos(π p)) / 2`, p = fraction of this run's optimiser steps taken.
    Cosine,
}

/// How the data are split into disjoint training and validation sets.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// The last `val_frac` of the samples (in the order given) are the validation set. For
    /// time-series snapshots ordered member by member this keeps validation states away from
    /// correlated training neighbours (whole members or a final time block).
    Tail,
    /// A random permutation drawn from the seed decides which samples validate (for independent
    /// samples only: with correlated snapshots the validation loss would be optimistic).
    Shuffle,
}

/// Options of [`crate::score::learned::train`]. Every field has a default; unknown keys are
/// refused.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields, default)]
pub struct TrainOpts {
    /// Network family: "mlp" (vectors), "conv" (local grid scores), "unet" (non-local grids).
    pub arch: Arch,
    /// MLP hidden width.
    pub hidden: usize,
    /// MLP: number of hidden layers. conv: number of convolutions (≥ 2).
    pub layers: usize,
    /// conv / unet: channels of the hidden feature maps (unet: first level; doubled below).
    pub channels: usize,
    /// conv / unet: odd kernel size of the convolutions.
    pub kernel: usize,
    /// conv: per-layer odd kernel sizes, e.g. `[9, 1, 1]` (one 9×9 circular convolution, then
    /// pointwise layers). When set it replaces `layers` (= its length) and `kernel`. A local
    /// linear operator plus a pointwise nonlinearity (the Allen–Cahn score) is then
    /// representable with one wide first layer at a fraction of the cost of stacked k×k layers.
    pub kernels: Option<Vec<usize>>,
    /// conv: kernel size of a linear circular convolution from the input straight to the output
    /// (0 = none, default). The score of a field whose log-density is a quadratic form plus
    /// pointwise terms has a large linear part (Allen–Cahn, OU: a spectral stencil); a linear
    /// path learns it as a convex problem instead of through the SiLU layers.
    pub skip: usize,
    /// conv with `skip`: highest power of pointwise polynomial terms `Σ_{p=2..degree} a_p x^p`
    /// added to the linear path (1 = linear only, default). A score with a pointwise
    /// polynomial part (Allen–Cahn: the cubic `λθ(1 − θ²)`) then is linear in the parameters
    /// at σ_min, and the SiLU layers only learn the correction.
    pub skip_degree: usize,
    /// Learning-rate schedule after warm-up: "constant" (default) or "cosine" (decays to 0 over
    /// this run's optimiser steps, which lowers the noise floor of the final weights).
    pub schedule: Schedule,
    /// conv / unet: width of the noise-level embedding (sinusoidal features of log σ → SiLU
    /// → per-layer per-channel bias).
    pub emb: usize,
    /// Output scaling: "smooth" (default, `s = F/√(σ²+1)`) or "sigma" (`s = F/σ`).
    pub output: Output,
    /// Antithetic noise: every minibatch row is used twice, with z and −z (same σ). The loss
    /// estimate stays unbiased, but the leading O(σ) noise of the DSM gradient cancels, which
    /// is what makes the score at small σ learnable. Doubles the network evaluations per row.
    pub antithetic: bool,
    /// Noise-level weighting of the loss: "balanced" (default) or "sigma2" (reference).
    pub loss_weight: LossWeight,
    /// Passes over the training set.
    pub epochs: usize,
    /// Minibatch size.
    pub batch: usize,
    /// Adam learning rate after warm-up (β = 0.9/0.999, ε = 1e-8).
    pub lr: f64,
    /// Linear learning-rate warm-up in optimiser steps (0 = none). The reference code used 5000
    /// at GPU scale; 1000 suits CPU-sized runs.
    pub warmup: usize,
    /// Global gradient-norm clip (0 = no clipping).
    pub clip: f64,
    /// EMA decay of the weights; the effective decay ramps as min(ema, (1+n)/(10+n)) over the
    /// first optimiser steps so that short runs are not dominated by the initial weights.
    pub ema: f64,
    /// Fraction of the samples held out for validation (0 ≤ val_frac < 1; 0 = no validation,
    /// then the final EMA weights are kept).
    pub val_frac: f64,
    /// How to split training and validation data: "tail" (default) or "shuffle".
    pub split: Split,
    /// Seed of every random draw (initial weights, batches, noise levels, noise).
    pub seed: u64,
    /// Smallest noise level, in standardised units; the score is evaluated there.
    pub sigma_min: f64,
    /// Largest noise level in standardised units; default: the largest pairwise distance among
    /// (up to 1000 of) the training samples.
    pub sigma_max: Option<f64>,
    /// Where the training noise levels concentrate: `σ = σ_min (σ_max/σ_min)^(u^p)` with
    /// u ~ U(0, 1) and p = `sigma_power` (default 1: log-uniform, SPEC 5). p > 1 spends more
    /// of the training on small σ, where the GFDT evaluates the score, while still covering
    /// σ_max for sampling (p = 3: half the draws have σ below σ_min (σ_max/σ_min)^0.125).
    pub sigma_power: f64,
    /// conv / unet: band-limit the DSM noise to the Fourier modes `|kx|, |ky| ≤ noise_kmax`
    /// (default: none, white noise). For band-limited data, e.g. 2/3-dealiased Navier–Stokes
    /// (`noise_kmax = (N − 1)/3`, 10 at N = 32): the data then have no variance outside those
    /// modes, where the score of the noised data is `−x/σ²`, a non-local projection up to 10⁴
    /// large at σ_min that a small network cannot represent and that is useless for the GFDT
    /// (the field has no component there); with band-limited noise the network learns the
    /// score on the data's support only.
    pub noise_kmax: Option<usize>,
}

impl Default for TrainOpts {
    fn default() -> Self {
        TrainOpts {
            arch: Arch::Mlp,
            hidden: 128,
            layers: 3,
            channels: 32,
            kernel: 5,
            kernels: None,
            skip: 0,
            skip_degree: 1,
            schedule: Schedule::Constant,
            emb: 32,
            output: Output::Smooth,
            antithetic: true,
            loss_weight: LossWeight::Balanced,
            epochs: 50,
            batch: 128,
            lr: 2e-4,
            warmup: 1000,
            clip: 1.0,
            ema: 0.999,
            val_frac: 0.2,
            split: Split::Tail,
            seed: 0,
            sigma_min: 0.01,
            sigma_max: None,
            sigma_power: 1.0,
            noise_kmax: None,
        }
    }
}

fn bad(name: &str, value: impl std::fmt::Display, fix: &str) -> Error {
    Error::invalid(format!(
        "training option {name} = {value} is invalid; {fix}"
    ))
}

impl TrainOpts {
    /// Checks every option and that the architecture fits the state shape (`[D]` or `[N, N]`).
    pub fn validate(&self, state_shape: &[usize]) -> Result<()> {
        let pos = |name: &str, v: usize| {
            if v == 0 {
                Err(bad(name, v, &format!("pass {name} ≥ 1")))
            } else {
                Ok(())
            }
        };
        pos("epochs", self.epochs)?;
        pos("batch", self.batch)?;
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(bad(
                "lr",
                self.lr,
                "pass a positive learning rate such as 2e-4",
            ));
        }
        if !(self.clip.is_finite() && self.clip >= 0.0) {
            return Err(bad(
                "clip",
                self.clip,
                "pass clip ≥ 0 (0 disables clipping)",
            ));
        }
        if !(0.0..1.0).contains(&self.ema) {
            return Err(bad(
                "ema",
                self.ema,
                "pass an EMA decay in [0, 1), e.g. 0.999",
            ));
        }
        if !(0.0..1.0).contains(&self.val_frac) {
            return Err(bad(
                "val_frac",
                self.val_frac,
                "pass 0 ≤ val_frac < 1, e.g. 0.2",
            ));
        }
        if !(self.sigma_min.is_finite() && self.sigma_min > 0.0) {
            return Err(bad(
                "sigma_min",
                self.sigma_min,
                "pass σ_min > 0, e.g. 0.01",
            ));
        }
        if let Some(m) = self.sigma_max {
            if !(m.is_finite() && m > self.sigma_min) {
                return Err(bad(
                    "sigma_max",
                    m,
                    &format!("pass σ_max > σ_min = {} or leave it unset", self.sigma_min),
                ));
            }
        }
        if !(self.sigma_power.is_finite() && self.sigma_power > 0.0) {
            return Err(bad(
                "sigma_power",
                self.sigma_power,
                "pass p > 0 (1 = log-uniform noise levels, 2–4 = more weight on small σ)",
            ));
        }
        if self.loss_weight == LossWeight::Balanced && !self.antithetic {
            return Err(Error::invalid(
                "loss_weight \"balanced\" needs antithetic = true (its gradient noise grows \
                 like 1/σ² otherwise); set antithetic: true or loss_weight: \"sigma2\"",
            ));
        }
        match self.arch {
            Arch::Mlp => {
                pos("hidden", self.hidden)?;
                pos("layers", self.layers)?;
                if let Some(k) = self.noise_kmax {
                    return Err(bad(
                        "noise_kmax",
                        k,
                        "it band-limits grid noise (arch conv or unet); leave it unset for mlp",
                    ));
                }
                if state_shape.len() != 1 {
                    return Err(Error::invalid(format!(
                        "arch \"mlp\" needs vector states [D], but the data hold states of shape \
                         {state_shape:?}; use arch \"conv\" or \"unet\" for N×N grids"
                    )));
                }
            }
            Arch::Conv | Arch::Unet => {
                pos("channels", self.channels)?;
                pos("emb", self.emb)?;
                if self.kernel.is_multiple_of(2) {
                    return Err(bad(
                        "kernel",
                        self.kernel,
                        "pass an odd kernel size (3 or 5)",
                    ));
                }
                if self.skip > 0
                    && (self.arch != Arch::Conv
                        || self.skip.is_multiple_of(2)
                        || self.skip > state_shape.first().copied().unwrap_or(0))
                {
                    return Err(bad(
                        "skip",
                        self.skip,
                        "skip (a linear input→output convolution) needs arch \"conv\" and an odd \
                         kernel size ≤ N, or 0 for none",
                    ));
                }
                if self.skip_degree == 0
                    || self.skip_degree > 5
                    || (self.skip_degree > 1 && self.skip == 0)
                {
                    return Err(bad(
                        "skip_degree",
                        self.skip_degree,
                        "pass 1 ≤ skip_degree ≤ 5 together with skip > 0, e.g. skip: 15, \
                         skip_degree: 3",
                    ));
                }
                if let Some(ks) = &self.kernels {
                    if self.arch != Arch::Conv {
                        return Err(Error::invalid(
                            "the option kernels (per-layer kernel sizes) applies to arch \"conv\" \
                             only; use kernel for \"unet\"",
                        ));
                    }
                    if ks.len() < 2 {
                        return Err(bad(
                            "kernels",
                            format!("{ks:?}"),
                            "a conv net needs at least 2 layers, e.g. [9, 1, 1]",
                        ));
                    }
                    if let Some(k) = ks.iter().find(|k| k.is_multiple_of(2)) {
                        return Err(bad(
                            "kernels",
                            format!("{ks:?}"),
                            &format!("every kernel size must be odd (got {k}), e.g. [9, 1, 1]"),
                        ));
                    }
                    if let Some(k) = ks
                        .iter()
                        .find(|&&k| k > state_shape.first().copied().unwrap_or(0))
                    {
                        return Err(bad(
                            "kernels",
                            format!("{ks:?}"),
                            &format!("kernel {k} exceeds the grid size; pass sizes ≤ N"),
                        ));
                    }
                } else if self.arch == Arch::Conv && self.layers < 2 {
                    return Err(bad("layers", self.layers, "a conv net needs layers ≥ 2"));
                }
                if state_shape.len() != 2 || state_shape[0] != state_shape[1] {
                    return Err(Error::invalid(format!(
                        "arch \"{}\" needs square periodic grids [N, N], but the data hold \
                         states of shape {state_shape:?}; use arch \"mlp\" for vectors",
                        self.arch_name()
                    )));
                }
                let n = state_shape[0];
                if self.kernel > n {
                    return Err(bad(
                        "kernel",
                        self.kernel,
                        &format!("pass kernel ≤ N = {n}"),
                    ));
                }
                if let Some(k) = self.noise_kmax {
                    if k == 0 || k > n / 2 {
                        return Err(bad(
                            "noise_kmax",
                            k,
                            &format!("pass 1 ≤ noise_kmax ≤ N/2 = {}, e.g. (N − 1)/3 for 2/3-dealiased fields", n / 2),
                        ));
                    }
                }
                if self.arch == Arch::Unet && (!n.is_multiple_of(4) || n < 8) {
                    return Err(Error::invalid(format!(
                        "arch \"unet\" pools twice by 2 and needs N divisible by 4 and ≥ 8, \
                         got N = {n}; use arch \"conv\" or another grid size"
                    )));
                }
            }
        }
        Ok(())
    }

    fn arch_name(&self) -> &'static str {
        match self.arch {
            Arch::Mlp => "mlp",
            Arch::Conv => "conv",
            Arch::Unet => "unet",
        }
    }
}
