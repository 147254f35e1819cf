//! [`LearnedScore`]: a trained model as a [`Score`] in physical units.
use super::data::{c_in, c_noise};
use super::native::NativeNet;
use super::net::NetConfig;
use super::train::eval_chunk;
use super::{cerr, to_tensors, LearnedModel};
use crate::score::Score;
use crate::{Error, Result};
use candle_core::{DType, Device, Tensor};
use ndarray::{ArrayView2, ArrayViewMut2};
use std::sync::{Arc, Mutex};

/// The learned score `s(x) = ∇ log ρ(x)` in physical units: the network at σ_min with the best
/// EMA weights, `s_x(x) = c_out(σ_min) F(c_in·y, c_noise(σ_min)) / scale` with
/// `y = (x − mean)/scale` (see [`super::opts::Output`]).
/// Runs on the native CPU engine where it implements the architecture, else on candle
/// (U-Net, GPU). Cheap to clone (weights are shared); f64 in and out, f32 inside.
#[derive(Clone)]
pub struct LearnedScore {
    cfg: NetConfig,
    w: Arc<Vec<Vec<f32>>>,
    /// Candle weights and device, where candle evaluates the network.
    candle: Option<(Vec<Tensor>, Device)>,
    /// Native engines with their workspaces, reused across calls (one per concurrent caller).
    pool: Arc<Mutex<Vec<NativeNet>>>,
    mean: f64,
    scale: f64,
    sigma_min: f64,
    sigma_max: f64,
    name: String,
}

impl std::fmt::Debug for LearnedScore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LearnedScore")
            .field("net", &self.cfg.describe())
            .field("mean", &self.mean)
            .field("scale", &self.scale)
            .field("sigma_min", &self.sigma_min)
            .field("sigma_max", &self.sigma_max)
            .finish()
    }
}

impl LearnedScore {
    /// The scoring view of `model` (best EMA weights).
    pub fn new(model: &LearnedModel) -> Self {
        let cfg = &model.meta.net;
        let dev = super::device();
        let candle = if dev.is_cpu() && NativeNet::new(cfg).is_some() {
            None
        } else {
            // A failure to place the weights on the GPU falls back to the CPU.
            let t = to_tensors(cfg, &model.w.best, &dev)
                .map(|t| (t, dev))
                .or_else(|_| {
                    to_tensors(cfg, &model.w.best, &Device::Cpu).map(|t| (t, Device::Cpu))
                });
            t.ok()
        };
        LearnedScore {
            cfg: cfg.clone(),
            w: Arc::new(model.w.best.clone()),
            candle,
            pool: Arc::new(Mutex::new(Vec::new())),
            mean: model.meta.mean,
            scale: model.meta.scale,
            sigma_min: model.meta.sigma_min,
            sigma_max: model.meta.sigma_max,
            name: format!("learned score ({})", cfg.describe()),
        }
    }

    /// Noise range `(σ_min, σ_max)` of the model in physical units.
    pub fn sigma_range(&self) -> (f64, f64) {
        (self.sigma_min * self.scale, self.sigma_max * self.scale)
    }

    /// Scale dividing the data before the network (physical units per standardised unit).
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Scalar mean removed from the data before the network.
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// Score of the data density smoothed with Gaussian noise of standard deviation `sigma`
    /// (physical units, within [`Self::sigma_range`] for a trained answer) at the rows of `x`
    /// (`[B, D]`), written into `out`.
    pub fn eval_sigma(
        &self,
        x: ArrayView2<f64>,
        sigma: f64,
        mut out: ArrayViewMut2<f64>,
    ) -> Result<()> {
        let d = self.cfg.dim();
        if x.ncols() != d || out.dim() != x.dim() {
            return Err(Error::shape(format!(
                "learned score on states of dimension {d}: got x {:?} and out {:?}; pass [B, {d}] \
                 arrays",
                x.dim(),
                out.dim()
            )));
        }
        if !(sigma.is_finite() && sigma > 0.0) {
            return Err(Error::invalid(format!(
                "noise level sigma = {sigma} must be positive and finite"
            )));
        }
        let s = sigma / self.scale; // standardised units
        let chunk = eval_chunk(d);
        let mut buf = Vec::with_capacity(chunk * d);
        for (c0, xc) in x.axis_chunks_iter(ndarray::Axis(0), chunk).enumerate() {
            buf.clear();
            for (r, row) in xc.rows().into_iter().enumerate() {
                for &v in row {
                    if !v.is_finite() {
                        return Err(Error::invalid(format!(
                            "learned score: input state {} contains {v}; pass finite states",
                            c0 * chunk + r
                        )));
                    }
                    buf.push(((v - self.mean) / self.scale) as f32);
                }
            }
            let res = self.eval_std(&buf, s)?;
            let mut oc = out.slice_mut(ndarray::s![c0 * chunk..c0 * chunk + xc.nrows(), ..]);
            for (o, &f) in oc.iter_mut().zip(res.iter()) {
                *o = f as f64 / self.scale;
            }
            if let Some(pos) = res.iter().position(|v| !v.is_finite()) {
                return Err(Error::BlowUp(format!(
                    "learned score is {} at state {} (component {}); the input is far outside \
                     the training data or the model is broken",
                    res[pos],
                    c0 * chunk + pos / d,
                    pos % d
                )));
            }
        }
        Ok(())
    }
}

impl LearnedScore {
    /// Score in standardised units at standardised states `y` (`[B·D]`) and
    /// standardised noise level `s`: `c_out(s) F(c_in(s)·y, c_noise(s))`, in chunks.
    pub(crate) fn eval_std(&self, y: &[f32], s: f64) -> Result<Vec<f32>> {
        let d = self.cfg.dim();
        let (ci, cn, co) = (c_in(s) as f32, c_noise(s) as f32, self.cfg.c_out(s) as f32);
        let mut out = Vec::with_capacity(y.len());
        let mut native = match &self.candle {
            None => {
                let pooled = self.pool.lock().ok().and_then(|mut p| p.pop());
                pooled.or_else(|| NativeNet::new(&self.cfg))
            }
            Some(_) => None,
        };
        for yc in y.chunks(eval_chunk(d) * d) {
            let nb = yc.len() / d;
            let xin: Vec<f32> = yc.iter().map(|v| v * ci).collect();
            let cnv = vec![cn; nb];
            match (&mut native, &self.candle) {
                (Some(net), _) => {
                    let f = net.forward(&self.w, &xin, &cnv);
                    out.extend(f.iter().map(|v| v * co));
                }
                (None, Some((w, dev))) => {
                    let f = (|| {
                        let xin = Tensor::from_vec(xin, (nb, d), dev)?;
                        let cnt = Tensor::from_vec(cnv, (nb, 1), dev)?;
                        let f = self.cfg.forward(w, &xin, &cnt)?;
                        f.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()
                    })()
                    .map_err(cerr("learned score"))?;
                    out.extend(f.iter().map(|v| v * co));
                }
                (None, None) => {
                    return Err(Error::invalid(
                        "learned score: the weights could not be placed on any device",
                    ))
                }
            }
        }
        if let (Some(net), Ok(mut p)) = (native, self.pool.lock()) {
            p.push(net);
        }
        Ok(out)
    }

    /// Standardised noise range `(σ_min, σ_max)` the model was trained on.
    pub(crate) fn sigma_range_std(&self) -> (f64, f64) {
        (self.sigma_min, self.sigma_max)
    }

    /// Shape of one state.
    pub fn state_shape(&self) -> &[usize] {
        &self.cfg.state_shape
    }
}

impl Score for LearnedScore {
    fn dim(&self) -> usize {
        self.cfg.dim()
    }
    fn state_shape(&self) -> Vec<usize> {
        self.cfg.state_shape.clone()
    }
    fn name(&self) -> String {
        self.name.clone()
    }
    fn eval_batch(&self, x: ArrayView2<f64>, out: ArrayViewMut2<f64>) -> Result<()> {
        self.eval_sigma(x, self.sigma_min * self.scale, out)
    }
}
