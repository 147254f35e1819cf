//! The DSM training loop: minibatches, Adam with warm-up and clipping, EMA, validation,
//! best-model tracking, Ctrl-C and blow-up handling, resume.
use super::data::{self, Batch, NoiseDraw, Prepared};
use super::net::NetConfig;
use super::opt;
use super::opts::{LossWeight, TrainOpts};
use super::{cerr, EpochStats, LearnedModel, ModelMeta};
use crate::progress::Progress;
use crate::rng::stream_rng;
use crate::{Error, Result};
use candle_core::{Device, Tensor, Var};
use ndarray::ArrayViewD;
use std::time::Instant;

/// RNG stream of the fixed validation noise.
const VAL_STREAM: u64 = 2;
/// RNG streams of epoch e are `EPOCH_STREAM + e` (global epoch index, so a resumed run draws
/// exactly what an uninterrupted run would have drawn).
const EPOCH_STREAM: u64 = 1000;
/// Largest number of training points used to set σ_max.
const SIGMA_MAX_POINTS: usize = 1000;

/// Trains a DSM score model on `data` (`[S, ...state]`, physical units).
///
/// With `resume = Some(model)` training continues from that model's weights, EMA, Adam moments,
/// step counter and history (same architecture, state shape, σ schedule and scaling; the
/// options may change `epochs`, `lr`, `batch`, ...). Resuming with the same data, seed and
/// options reproduces an uninterrupted run bit for bit.
///
/// Ctrl-C (see [`crate::interrupt`]) ends training early: the returned model holds the best
/// EMA weights seen so far and `interrupted() == true`; the Ctrl-C flag stays set for the
/// caller. A non-finite loss or gradient returns [`Error::BlowUp`].
pub fn train(
    data: ArrayViewD<f64>,
    opts: &TrainOpts,
    resume: Option<LearnedModel>,
) -> Result<LearnedModel> {
    if data.ndim() < 2 {
        return Err(Error::shape(format!(
            "training data must be [samples, ...state], got shape {:?}",
            data.shape()
        )));
    }
    let state_shape = data.shape()[1..].to_vec();
    opts.validate(&state_shape)?;
    data::check_finite(&data)?;
    let cfg = NetConfig::from_opts(opts, &state_shape);
    let (train_rows, val_rows) = data::split(data.shape()[0], opts)?;
    let dev = super::device();

    let mut model = match resume {
        Some(m) => {
            check_resume(&m, &cfg, opts)?;
            let mut m = m;
            if !m.device.same_device(&dev) {
                m = m.to_device(&dev)?;
            }
            m.meta.opts = opts.clone();
            m.meta.seed = opts.seed;
            m
        }
        None => {
            let (mean, scale) = data::mean_scale(&data, &train_rows)?;
            let sigma_max = match opts.sigma_max {
                Some(s) => s,
                None => {
                    let y = data::standardise(&data, &train_rows, mean, scale);
                    data::max_pairwise(&y, cfg.dim(), SIGMA_MAX_POINTS)
                }
            };
            if sigma_max <= opts.sigma_min {
                return Err(Error::invalid(format!(
                    "σ_max = {sigma_max} (largest pairwise distance of the standardised \
                     training data) is not above σ_min = {}; pass sigma_max explicitly",
                    opts.sigma_min
                )));
            }
            let meta = ModelMeta {
                net: cfg.clone(),
                sigma_min: opts.sigma_min,
                sigma_max,
                mean,
                scale,
                seed: opts.seed,
                step: 0,
                history: vec![],
                best_epoch: None,
                best_val: None,
                interrupted: false,
                opts: opts.clone(),
            };
            LearnedModel::init(meta, &dev)?
        }
    };
    let prep = Prepared {
        d: cfg.dim(),
        train: data::standardise(&data, &train_rows, model.meta.mean, model.meta.scale),
        val: data::standardise(&data, &val_rows, model.meta.mean, model.meta.scale),
    };
    Trainer::new(&mut model, &prep, opts)?.run()?;
    Ok(model)
}

/// Refuses to resume a model whose architecture or schedule differ from the options.
fn check_resume(m: &LearnedModel, cfg: &NetConfig, opts: &TrainOpts) -> Result<()> {
    if &m.meta.net != cfg {
        return Err(Error::invalid(format!(
            "cannot resume: the model is {} on states {:?}, but the options and data ask for {} \
             on states {:?}; pass the model's architecture options (arch, hidden, layers, \
             channels, kernel, emb) and data of the same state shape",
            m.meta.net.describe(),
            m.meta.net.state_shape,
            cfg.describe(),
            cfg.state_shape
        )));
    }
    if opts.sigma_min != m.meta.sigma_min {
        return Err(Error::invalid(format!(
            "cannot resume: the model was trained with sigma_min = {}, the options say {}; \
             the noise schedule is fixed for a model — pass sigma_min = {}",
            m.meta.sigma_min, opts.sigma_min, m.meta.sigma_min
        )));
    }
    if let Some(s) = opts.sigma_max {
        if s != m.meta.sigma_max {
            return Err(Error::invalid(format!(
                "cannot resume: the model has sigma_max = {}, the options say {s}; leave \
                 sigma_max unset when resuming",
                m.meta.sigma_max
            )));
        }
    }
    Ok(())
}

/// Validation inputs with one fixed noise draw.
struct ValSet {
    batches: Vec<Batch>,
    n: usize,
}

impl ValSet {
    fn new(prep: &Prepared, seed: u64, nd: &NoiseDraw) -> Self {
        let n = prep.n_val();
        let chunk = eval_chunk(prep.d);
        let mut rng = stream_rng(seed, VAL_STREAM);
        let rows: Vec<usize> = (0..n).collect();
        let batches = rows
            .chunks(chunk)
            .map(|r| Batch::draw(&prep.val, prep.d, r, &mut rng, nd))
            .collect();
        ValSet { batches, n }
    }
}

/// Rows per forward pass when evaluating (keeps activations to a few tens of MB).
pub(crate) fn eval_chunk(d: usize) -> usize {
    (262_144 / d).clamp(1, 4096)
}

/// Host batch → device tensors `(x_in [B, D], c_noise [B, 1], z [B, D], k [B, 1])`.
pub(crate) fn batch_tensors(b: &Batch, d: usize, dev: &Device) -> candle_core::Result<[Tensor; 4]> {
    let n = b.c_noise.len();
    Ok([
        Tensor::from_slice(&b.x_in, (n, d), dev)?,
        Tensor::from_slice(&b.c_noise, (n, 1), dev)?,
        Tensor::from_slice(&b.z, (n, d), dev)?,
        Tensor::from_slice(&b.k, (n, 1), dev)?,
    ])
}

/// Sum over the batch of the weighted DSM loss `‖a F + t‖²` minus its θ-independent part
/// `‖t‖²`, i.e. `Σ (aF)·(aF + 2t)` (a scalar tensor; same gradient, O(1) values).
fn loss_sum(cfg: &NetConfig, w: &[Tensor], t: &[Tensor; 4]) -> candle_core::Result<Tensor> {
    let u = cfg.forward(w, &t[0], &t[1])?.broadcast_mul(&t[3])?;
    let v = (&u + t[2].affine(2.0, 0.0)?)?;
    (u * v)?.sum_all()
}

pub(crate) struct Trainer<'a> {
    model: &'a mut LearnedModel,
    prep: &'a Prepared,
    opts: &'a TrainOpts,
    vars: Vec<Var>,
    val: ValSet,
}

impl<'a> Trainer<'a> {
    pub(crate) fn new(model: &'a mut LearnedModel, prep: &'a Prepared, opts: &'a TrainOpts) -> Result<Self> {
        let vars = model
            .w
            .params
            .iter()
            .map(Var::from_tensor)
            .collect::<candle_core::Result<Vec<_>>>()
            .map_err(cerr("training setup"))?;
        let m = &model.meta;
        let nd = NoiseDraw {
            sigma_min: m.sigma_min,
            sigma_max: m.sigma_max,
            cfg: &m.net,
            antithetic: true,
            unit_weight: opts.loss_weight == LossWeight::Balanced,
        };
        let val = ValSet::new(prep, opts.seed, &nd);
        Ok(Trainer {
            model,
            prep,
            opts,
            vars,
            val,
        })
    }

    /// Validation loss per component of the given weights.
    fn val_loss(&self, w: &[Tensor]) -> Result<Option<f64>> {
        if self.val.n == 0 {
            return Ok(None);
        }
        let cfg = &self.model.meta.net;
        let mut s = 0.0;
        for b in &self.val.batches {
            let t = batch_tensors(b, self.prep.d, &self.model.device).map_err(cerr("validation"))?;
            let l = loss_sum(cfg, w, &t)
                .and_then(|l| l.to_dtype(candle_core::DType::F64))
                .and_then(|l| l.to_scalar::<f64>())
                .map_err(cerr("validation"))?;
            s += l;
        }
        Ok(Some(s / (self.val.n * self.prep.d) as f64))
    }

    /// Keeps the current EMA as the scoring weights if its validation loss is the best so far
    /// (or if there is no validation set).
    fn consider_best(&mut self, epoch: usize) -> Result<Option<f64>> {
        let v = self.val_loss(&self.model.w.ema)?;
        let better = match (v, self.model.meta.best_val) {
            (None, _) => true,
            (Some(_), None) => true,
            (Some(v), Some(b)) => v < b,
        };
        if let Some(vl) = v {
            if !vl.is_finite() {
                return Err(blow_up(self.opts, epoch, self.model.meta.step, "validation loss", vl));
            }
        }
        if better {
            self.model.w.best = self.model.w.ema.clone();
            self.model.meta.best_epoch = Some(epoch);
            self.model.meta.best_val = v;
        }
        Ok(v)
    }

    fn run(mut self) -> Result<()> {
        let (d, opts) = (self.prep.d, self.opts);
        let n_train = self.prep.n_train();
        let steps_per_epoch = n_train.div_ceil(opts.batch);
        let first_epoch = self.model.meta.history.len();
        let bar = Progress::new(
            (opts.epochs * n_train) as u64,
            &format!("training {}", self.model.meta.net.describe()),
            "samples",
        );
        self.model.meta.interrupted = false;
        let (smin, smax) = (self.model.meta.sigma_min, self.model.meta.sigma_max);
        let mut perm: Vec<usize> = (0..n_train).collect();
        'epochs: for epoch in first_epoch..first_epoch + opts.epochs {
            let t0 = Instant::now();
            let mut rng = stream_rng(opts.seed, EPOCH_STREAM + epoch as u64);
            perm.iter_mut().enumerate().for_each(|(i, p)| *p = i);
            data::shuffle(&mut perm, &mut rng);
            let (mut loss_acc, mut seen, mut steps) = (0.0f64, 0usize, 0u64);
            for rows in perm.chunks(opts.batch) {
                if crate::interrupt::requested() {
                    self.model.meta.interrupted = true;
                }
                if !self.model.meta.interrupted {
                    let nd = NoiseDraw {
                        sigma_min: smin,
                        sigma_max: smax,
                        cfg: &self.model.meta.net,
                        antithetic: opts.antithetic,
                        unit_weight: opts.loss_weight == LossWeight::Balanced,
                    };
                    let batch = Batch::draw(&self.prep.train, d, rows, &mut rng, &nd);
                    let l = self.step(&batch, epoch)?;
                    loss_acc += l * rows.len() as f64;
                    seen += rows.len();
                    steps += 1;
                    bar.inc(rows.len() as u64);
                }
                if self.model.meta.interrupted {
                    break;
                }
            }
            let partial = self.model.meta.interrupted;
            if steps > 0 || !partial {
                let val = self.consider_best(epoch)?;
                let secs = t0.elapsed().as_secs_f64();
                let st = EpochStats {
                    epoch,
                    train_loss: loss_acc / (seen.max(1) * d) as f64,
                    val_loss: val,
                    samples_per_sec: seen as f64 / secs.max(1e-9),
                    steps,
                    partial,
                };
                bar.set_message(format!(
                    "epoch {}/{} train {:.4} val {} ({:.0} samples/s)",
                    epoch - first_epoch + 1,
                    opts.epochs,
                    st.train_loss,
                    val.map_or("-".to_string(), |v| format!("{v:.4}")),
                    st.samples_per_sec
                ));
                self.model.meta.history.push(st);
            }
            if partial {
                break 'epochs;
            }
            debug_assert!(steps as usize == steps_per_epoch);
        }
        bar.finish();
        self.model.w.params = self
            .vars
            .iter()
            .map(|v| v.as_tensor().copy())
            .collect::<candle_core::Result<Vec<_>>>()
            .map_err(cerr("training"))?;
        Ok(())
    }

    /// One optimiser step; returns the batch's mean loss per row (before the step).
    pub(crate) fn step(&mut self, batch: &Batch, epoch: usize) -> Result<f64> {
        let d = self.prep.d;
        let opts = self.opts;
        let cfg = &self.model.meta.net;
        let t = batch_tensors(batch, d, &self.model.device).map_err(cerr("training step"))?;
        let w: Vec<Tensor> = self.vars.iter().map(|v| v.as_tensor().clone()).collect();
        let nb = batch.c_noise.len();
        let step = self.model.meta.step + 1;
        let (loss_val, grads) = (|| {
            let loss = (loss_sum(cfg, &w, &t)? / nb as f64)?;
            let lv = loss.to_dtype(candle_core::DType::F64)?.to_scalar::<f64>()?;
            let grads = if lv.is_finite() {
                let mut g = loss.backward()?;
                w.iter()
                    .map(|p| match g.remove(p) {
                        Some(x) => Ok(x),
                        None => p.zeros_like(),
                    })
                    .collect::<candle_core::Result<Vec<_>>>()?
            } else {
                vec![]
            };
            Ok::<_, candle_core::Error>((lv, grads))
        })()
        .map_err(cerr("training step"))?;
        if !loss_val.is_finite() {
            return Err(blow_up(opts, epoch, step, "training loss", loss_val));
        }
        let gnorm = opt::global_norm(&grads).map_err(cerr("gradient norm"))?;
        if !gnorm.is_finite() {
            return Err(blow_up(opts, epoch, step, "gradient norm", gnorm));
        }
        let gscale = if opts.clip > 0.0 && gnorm > opts.clip {
            opts.clip / gnorm
        } else {
            1.0
        };
        let lr = if opts.warmup > 0 {
            opts.lr * (step as f64 / opts.warmup as f64).min(1.0)
        } else {
            opts.lr
        };
        let wts = &mut self.model.w;
        opt::adam_step(&self.vars, &grads, &mut wts.adam_m, &mut wts.adam_v, step, lr, gscale)
            .map_err(cerr("Adam step"))?;
        opt::ema_update(&mut wts.ema, &self.vars, opt::ema_decay(opts.ema, step))
            .map_err(cerr("EMA update"))?;
        self.model.meta.step = step;
        Ok(loss_val)
    }
}

fn blow_up(opts: &TrainOpts, epoch: usize, step: u64, what: &str, v: f64) -> Error {
    Error::BlowUp(format!(
        "{what} became {v} in epoch {epoch} at optimiser step {step}; likely causes: learning \
         rate too high (lr = {}: try 10× smaller or a longer warmup), non-finite or extreme \
         training data, or sigma_min = {} too small for the data resolution",
        opts.lr, opts.sigma_min
    ))
}

impl LearnedModel {
    /// The same model with its tensors on `dev`.
    pub(crate) fn to_device(&self, dev: &Device) -> Result<Self> {
        let mv = |ts: &[Tensor]| -> Result<Vec<Tensor>> {
            ts.iter()
                .map(|t| t.to_device(dev).map_err(cerr("moving weights")))
                .collect()
        };
        let w = &self.w;
        Ok(LearnedModel {
            meta: self.meta.clone(),
            w: super::Weights {
                params: mv(&w.params)?,
                ema: mv(&w.ema)?,
                best: mv(&w.best)?,
                adam_m: mv(&w.adam_m)?,
                adam_v: mv(&w.adam_v)?,
            },
            device: dev.clone(),
        })
    }
}
