//! The DSM training loop: minibatches, Adam with warm-up and clipping, EMA, validation,
//! best-model tracking, Ctrl-C and blow-up handling, resume.
use super::data::{self, Batch, NoiseDraw, Prepared};
use super::native::NativeNet;
use super::net::NetConfig;
use super::opt;
use super::opts::{LossWeight, Schedule, TrainOpts};
use super::{cerr, to_tensors, EpochStats, LearnedModel, ModelMeta};
use crate::core::progress::Progress;
use crate::core::rng::stream_rng;
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
/// Ctrl-C (see [`crate::core::interrupt`]) ends training early: the returned model holds the best
/// EMA weights seen so far and `interrupted() == true`; the Ctrl-C flag stays set for the
/// caller (the Rhai `train_score` clears it, so a script can go on to save the model). A non-finite loss or gradient returns [`Error::BlowUp`].
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
    // A minibatch is used twice with antithetic noise; validation runs in chunks.
    let rows = opts
        .batch
        .saturating_mul(if opts.antithetic { 2 } else { 1 })
        .max(eval_chunk(cfg.dim()));
    cfg.training_request(train_rows.len(), val_rows.len(), rows)
        .check()?;

    let mut model = match resume {
        Some(m) => {
            check_resume(&m, &cfg, opts)?;
            let mut m = m;
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
            let meta = ModelMeta::untrained(cfg.clone(), opts, sigma_max, mean, scale);
            LearnedModel::init(meta)
        }
    };
    let prep = Prepared {
        d: cfg.dim(),
        train: data::standardise(&data, &train_rows, model.meta.mean, model.meta.scale),
        val: data::standardise(&data, &val_rows, model.meta.mean, model.meta.scale),
    };
    let first_epoch = model.meta.history.len();
    Trainer::new(&mut model, &prep, opts)?.run()?;
    if let Some(w) = diagnose(&model.meta, first_epoch) {
        crate::warn::warn(w);
    }
    Ok(model)
}

/// A loss (per component, see [`super::EpochStats`]) above this is taken as a blow-up. A
/// network that outputs zero scores exactly 0; working runs stay near or below 0 (measured:
/// −1.3 … +0.03 per component on 1-D and 2-D data, balanced and σ² weighting, lr 2e-4 … 0.05),
/// and a diverged run is orders of magnitude above (E12 of the bad-input findings: 3.8e29,
/// then 1e7 and 1723).
pub const LOSS_EXPLODED: f64 = 10.0;

/// What is wrong with a finished training run, if anything, as one warning (the findings'
/// E12: a diverged run returned a model without a word). Looks at the epochs of this run
/// (`history[first_epoch..]`) and the selected model:
/// - the loss *exploded*: a training or validation loss above [`LOSS_EXPLODED`];
/// - *no better than zero*: the selected model's validation loss (the last training loss
///   without a validation set) is not below 0, the loss of a network that outputs zero;
/// - *worse at the end*: the last epoch's validation loss is above the selected one's by more
///   than `max(½ |best|, 0.1)` (half the selected model's gain over a zero output).
///
/// The returned model is always the selected one (`best_epoch`, see `consider_best`); the
/// warning says so, with the numbers and what to change.
pub fn diagnose(meta: &ModelMeta, first_epoch: usize) -> Option<String> {
    let run = meta.history.get(first_epoch..).unwrap_or(&[]);
    let last = run.last()?;
    let opts = &meta.opts;
    let mut problems = Vec::new();
    let worst = |f: &dyn Fn(&super::EpochStats) -> Option<f64>| {
        run.iter().filter_map(|h| f(h).map(|v| (h.epoch, v))).fold(
            None,
            |acc: Option<(usize, f64)>, x| match acc {
                Some(a) if a.1 >= x.1 => Some(a),
                _ => Some(x),
            },
        )
    };
    let wt = worst(&|h| Some(h.train_loss));
    let wv = worst(&|h| h.val_loss);
    let exploded = [wt, wv].iter().flatten().any(|(_, v)| *v > LOSS_EXPLODED);
    if exploded {
        let part = |name: &str, w: Option<(usize, f64)>| {
            w.map(|(e, v)| format!("largest {name} loss {v:.4e} in epoch {e}"))
        };
        let parts: Vec<String> = [part("training", wt), part("validation", wv)]
            .into_iter()
            .flatten()
            .collect();
        problems.push(format!(
            "the loss exploded ({}; a network that outputs zero scores 0 and working runs stay \
             near or below 0)",
            parts.join(", ")
        ));
    }
    let sel = meta.best_epoch.map_or("-".to_string(), |e| e.to_string());
    let selected = match meta.best_val {
        Some(v) => Some(("validation", v)),
        None if last.val_loss.is_none() => Some(("training", last.train_loss)),
        None => None,
    };
    let mut useless = false;
    if let Some((kind, v)) = selected {
        if v >= 0.0 {
            useless = true;
            problems.push(format!(
                "no epoch beat a network that outputs zero: the selected model (epoch {sel}) has \
                 {kind} loss {v:.4}, not below 0, so its score is no better than s = 0"
            ));
        }
    }
    let mut worse = false;
    if let (Some(best), Some(now)) = (meta.best_val, last.val_loss) {
        if !useless && now - best > (0.5 * best.abs()).max(0.1) {
            worse = true;
            problems.push(format!(
                "the last epoch ({}) has validation loss {now:.4}, far above the {best:.4} of the \
                 selected epoch {sel}",
                last.epoch
            ));
        }
    }
    if problems.is_empty() {
        return None;
    }
    let fix = if exploded || worse {
        format!(
            "lower the learning rate (lr = {}: try 10× smaller), lengthen the warm-up (warmup = \
             {} steps) or use schedule: \"cosine\"",
            opts.lr, opts.warmup
        )
    } else {
        format!(
            "train longer (more epochs or data: {} optimiser steps so far, warm-up {} steps) or \
             check the data",
            meta.step, opts.warmup
        )
    };
    Some(format!(
        "train_score: {}; the model returned is the selected one (epoch {sel}); {fix}",
        problems.join("; ")
    ))
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

/// Validation inputs with one fixed noise draw (antithetic pairs, the training weighting).
struct ValSet {
    batches: Vec<Batch>,
    n: usize,
}

impl ValSet {
    fn new(prep: &Prepared, seed: u64, nd: &NoiseDraw) -> Self {
        let n = prep.n_val();
        let chunk = eval_chunk(prep.d) / 2;
        let mut rng = stream_rng(seed, VAL_STREAM);
        let rows: Vec<usize> = (0..n).collect();
        let batches = rows
            .chunks(chunk.max(1))
            .map(|r| Batch::draw(&prep.val, prep.d, r, &mut rng, nd))
            .collect();
        ValSet { batches, n }
    }
}

/// Rows per forward pass when evaluating (keeps activations to a few tens of MB).
pub(crate) fn eval_chunk(d: usize) -> usize {
    (262_144 / d).clamp(2, 4096)
}

/// Host batch → device tensors `(x_in [R, D], c_noise [R, 1], t [R, D], a [R, 1])`.
fn batch_tensors(b: &Batch, d: usize, dev: &Device) -> candle_core::Result<[Tensor; 4]> {
    let n = b.c_noise.len();
    Ok([
        Tensor::from_slice(&b.x_in, (n, d), dev)?,
        Tensor::from_slice(&b.c_noise, (n, 1), dev)?,
        Tensor::from_slice(&b.z, (n, d), dev)?,
        Tensor::from_slice(&b.k, (n, 1), dev)?,
    ])
}

/// Per row, the weighted DSM loss `‖a F + t‖²` minus its θ-independent part `‖t‖²`, i.e.
/// `(aF)·(aF + 2t)` (`[R]`; same gradient, O(1) values).
fn loss_rows(cfg: &NetConfig, w: &[Tensor], t: &[Tensor; 4]) -> candle_core::Result<Tensor> {
    let u = cfg.forward(w, &t[0], &t[1])?.broadcast_mul(&t[3])?;
    let v = (&u + t[2].affine(2.0, 0.0)?)?;
    (u * v)?.sum(1)
}

/// Sum over the rows of [`loss_rows`] (a scalar tensor).
fn loss_sum(cfg: &NetConfig, w: &[Tensor], t: &[Tensor; 4]) -> candle_core::Result<Tensor> {
    loss_rows(cfg, w, t)?.sum_all()
}

/// Computes losses and gradients: the native CPU engine where it implements the
/// architecture, candle's autograd otherwise (U-Net, GPU).
pub(crate) enum Engine {
    Native(NativeNet),
    Candle(Device),
}

impl Engine {
    pub(crate) fn new(cfg: &NetConfig) -> Self {
        let dev = super::device();
        match (dev.is_cpu(), NativeNet::new(cfg)) {
            (true, Some(n)) => Engine::Native(n),
            _ => Engine::Candle(dev),
        }
    }

    /// Mean loss per row of batch `b` with weights `w`; with `grads` also the gradients, with
    /// `per_row` (evaluation only) the loss of every row appended.
    pub(crate) fn loss(
        &mut self,
        cfg: &NetConfig,
        w: &[Vec<f32>],
        b: &Batch,
        grads: Option<(&mut [Vec<f32>], &mut Vec<f32>)>,
        per_row: Option<&mut Vec<f64>>,
    ) -> Result<f64> {
        match self {
            Engine::Native(n) => Ok(n.loss(w, b, grads, per_row)),
            Engine::Candle(dev) => {
                let rows = b.c_noise.len();
                (|| {
                    let t = batch_tensors(b, cfg.dim(), dev)?;
                    let Some((g, _)) = grads else {
                        let wt = to_tensors(cfg, w, dev)?;
                        let l = loss_rows(cfg, &wt, &t)?.to_dtype(candle_core::DType::F64)?;
                        let l = l.to_vec1::<f64>()?;
                        let total = l.iter().sum::<f64>();
                        if let Some(pr) = per_row {
                            pr.extend_from_slice(&l);
                        }
                        return Ok(total / rows as f64);
                    };
                    let vars = cfg
                        .specs()
                        .iter()
                        .zip(w)
                        .map(|(s, v)| Var::from_slice(v, s.shape.as_slice(), dev))
                        .collect::<candle_core::Result<Vec<_>>>()?;
                    let wt: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
                    let loss = (loss_sum(cfg, &wt, &t)? / rows as f64)?;
                    let lv = loss.to_dtype(candle_core::DType::F64)?.to_scalar::<f64>()?;
                    if !lv.is_finite() {
                        return Ok(lv);
                    }
                    let mut gs = loss.backward()?;
                    for (gi, p) in g.iter_mut().zip(&wt) {
                        match gs.remove(p) {
                            Some(x) => {
                                let v = x.flatten_all()?.to_vec1::<f32>()?;
                                gi.copy_from_slice(&v);
                            }
                            None => gi.iter_mut().for_each(|v| *v = 0.0),
                        }
                    }
                    Ok(lv)
                })()
                .map_err(cerr("training step"))
            }
        }
    }
}

pub(crate) struct Trainer<'a> {
    model: &'a mut LearnedModel,
    prep: &'a Prepared,
    opts: &'a TrainOpts,
    engine: Engine,
    grads: Vec<Vec<f32>>,
    dbuf: Vec<f32>,
    val: ValSet,
    /// Per-sample validation losses of the kept (`best`) model.
    best_rows: Option<Vec<f64>>,
    /// Reused minibatch buffers.
    batch: Batch,
    /// Band limit of the training noise (`TrainOpts::noise_kmax`), built once per run.
    band: Option<data::BandLimit>,
    /// Optimiser step at which this run started and the number of steps it will take (for
    /// the learning-rate schedule).
    run_start: u64,
    run_steps: u64,
}

impl<'a> Trainer<'a> {
    pub(crate) fn new(
        model: &'a mut LearnedModel,
        prep: &'a Prepared,
        opts: &'a TrainOpts,
    ) -> Result<Self> {
        let m = &model.meta;
        let band = match opts.noise_kmax {
            Some(k) => Some(data::BandLimit::new(m.net.state_shape[0], k)?),
            None => None,
        };
        let nd = NoiseDraw {
            sigma_min: m.sigma_min,
            sigma_power: opts.sigma_power,
            sigma_max: m.sigma_max,
            cfg: &m.net,
            antithetic: true,
            unit_weight: opts.loss_weight == LossWeight::Balanced,
            band: band.as_ref(),
        };
        let val = ValSet::new(prep, opts.seed, &nd);
        let engine = Engine::new(&m.net);
        let grads = model.w.params.iter().map(|p| vec![0.0; p.len()]).collect();
        Ok(Trainer {
            prep,
            opts,
            engine,
            grads,
            dbuf: vec![],
            val,
            best_rows: None,
            batch: Batch::default(),
            band,
            run_start: model.meta.step,
            run_steps: (opts.epochs as u64)
                .saturating_mul(prep.n_train().div_ceil(opts.batch) as u64),
            model,
        })
    }

    /// Validation loss per component of `w` and the loss of every validation sample (its
    /// antithetic pair summed).
    fn val_loss(&mut self, w: &[Vec<f32>]) -> Result<Option<(f64, Vec<f64>)>> {
        if self.val.n == 0 {
            return Ok(None);
        }
        let cfg = &self.model.meta.net;
        let mut rows = Vec::with_capacity(2 * self.val.n);
        for b in &self.val.batches {
            self.engine.loss(cfg, w, b, None, Some(&mut rows))?;
        }
        let per_sample: Vec<f64> = rows.chunks(2).map(|p| p.iter().sum()).collect();
        let mean = rows.iter().sum::<f64>() / (rows.len() * self.prep.d) as f64;
        Ok(Some((mean, per_sample)))
    }

    /// Validates the current EMA and decides whether it becomes the scoring model. The fixed
    /// noise draw makes the validation losses of two models a paired comparison: the EMA
    /// replaces the kept model unless its loss is significantly higher, i.e. the mean paired
    /// difference exceeds two standard errors. A plain "lowest loss wins" rule would pick
    /// among nearly equal late epochs by noise, and often an early, less trained one.
    fn consider_best(&mut self, epoch: usize) -> Result<Option<f64>> {
        if self.best_rows.is_none() && self.model.meta.best_epoch.is_some() {
            let best = self.model.w.best.clone();
            self.best_rows = self.val_loss(&best)?.map(|v| v.1);
        }
        let ema = std::mem::take(&mut self.model.w.ema);
        let v = self.val_loss(&ema);
        self.model.w.ema = ema;
        let v = v?;
        if let Some((vl, _)) = &v {
            if !vl.is_finite() {
                return Err(blow_up(
                    self.opts,
                    epoch,
                    self.model.meta.step,
                    "validation loss",
                    *vl,
                ));
            }
        }
        let accept = match (&v, &self.best_rows) {
            (None, _) | (Some(_), None) => true,
            (Some((_, now)), Some(best)) => {
                let n = now.len() as f64;
                let d: Vec<f64> = now.iter().zip(best).map(|(a, b)| a - b).collect();
                let mean = d.iter().sum::<f64>() / n;
                let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
                mean <= 2.0 * (var / n).sqrt()
            }
        };
        if accept {
            self.model.w.best = self.model.w.ema.clone();
            self.model.meta.best_epoch = Some(epoch);
            self.model.meta.best_val = v.as_ref().map(|x| x.0);
            self.best_rows = v.as_ref().map(|x| x.1.clone());
        }
        Ok(v.map(|x| x.0))
    }

    pub(crate) fn run(mut self) -> Result<()> {
        let (d, opts) = (self.prep.d, self.opts);
        let n_train = self.prep.n_train();
        let first_epoch = self.model.meta.history.len();
        let bar = Progress::new(
            (opts.epochs * n_train) as u64,
            &format!("training {}", self.model.meta.net.describe()),
            "samples",
        );
        self.model.meta.interrupted = false;
        let mut perm: Vec<usize> = (0..n_train).collect();
        for epoch in first_epoch..first_epoch + opts.epochs {
            let t0 = Instant::now();
            let mut rng = stream_rng(opts.seed, EPOCH_STREAM + epoch as u64);
            perm.iter_mut().enumerate().for_each(|(i, p)| *p = i);
            data::shuffle(&mut perm, &mut rng);
            let (mut loss_acc, mut seen, mut steps) = (0.0f64, 0usize, 0u64);
            for rows in perm.chunks(opts.batch) {
                if crate::core::interrupt::requested() {
                    self.model.meta.interrupted = true;
                    break;
                }
                let m = &self.model.meta;
                let nd = NoiseDraw {
                    sigma_min: m.sigma_min,
                    sigma_power: opts.sigma_power,
                    sigma_max: m.sigma_max,
                    cfg: &m.net,
                    antithetic: opts.antithetic,
                    unit_weight: opts.loss_weight == LossWeight::Balanced,
                    band: self.band.as_ref(),
                };
                let mut batch = std::mem::take(&mut self.batch);
                batch.redraw(&self.prep.train, d, rows, &mut rng, &nd);
                let l = self.step(&batch, epoch);
                self.batch = batch;
                let l = l?;
                loss_acc += l * rows.len() as f64;
                seen += rows.len();
                steps += 1;
                bar.inc(rows.len() as u64);
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
                break;
            }
        }
        bar.finish();
        Ok(())
    }

    /// One optimiser step; returns the batch's mean loss per row (before the step).
    pub(crate) fn step(&mut self, batch: &Batch, epoch: usize) -> Result<f64> {
        let opts = self.opts;
        let step = self.model.meta.step + 1;
        let loss = self.engine.loss(
            &self.model.meta.net,
            &self.model.w.params,
            batch,
            Some((&mut self.grads, &mut self.dbuf)),
            None,
        )?;
        if !loss.is_finite() {
            return Err(blow_up(opts, epoch, step, "training loss", loss));
        }
        let gnorm = opt::global_norm(&self.grads);
        if !gnorm.is_finite() {
            return Err(blow_up(opts, epoch, step, "gradient norm", gnorm));
        }
        let gscale = if opts.clip > 0.0 && gnorm > opts.clip {
            opts.clip / gnorm
        } else {
            1.0
        };
        let lr = learning_rate(opts, step, step - self.run_start, self.run_steps);
        let w = &mut self.model.w;
        let st = opt::StepState {
            params: &mut w.params,
            m: &mut w.adam_m,
            v: &mut w.adam_v,
            ema: &mut w.ema,
        };
        opt::adam_ema_step(
            st,
            &self.grads,
            step,
            lr,
            gscale,
            opt::ema_decay(opts.ema, step),
        );
        self.model.meta.step = step;
        Ok(loss)
    }
}

/// The learning rate of global optimiser step `step` (1-based), the `k`-th (1-based) of a run
/// of `total` steps: linear warm-up over the first `warmup` global steps, times the schedule.
fn learning_rate(opts: &TrainOpts, step: u64, k: u64, total: u64) -> f64 {
    let warm = if opts.warmup > 0 {
        (step as f64 / opts.warmup as f64).min(1.0)
    } else {
        1.0
    };
    let sched = match opts.schedule {
        Schedule::Constant => 1.0,
        Schedule::Cosine => {
            let p = ((k.saturating_sub(1)) as f64 / total.max(1) as f64).min(1.0);
            0.5 * (1.0 + (std::f64::consts::PI * p).cos())
        }
    };
    opts.lr * warm * sched
}

fn blow_up(opts: &TrainOpts, epoch: usize, step: u64, what: &str, v: f64) -> Error {
    Error::BlowUp(format!(
        "{what} became {v} in epoch {epoch} at optimiser step {step}; likely causes: learning \
         rate too high (lr = {}: try 10× smaller or a longer warmup), non-finite or extreme \
         training data, or sigma_min = {} too small for the data resolution",
        opts.lr, opts.sigma_min
    ))
}
