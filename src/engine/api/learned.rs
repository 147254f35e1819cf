//! Script API for learned scores (SPEC §5): denoising-score-matching training, models as
//! script values (type "model"), persistence, sampling with the learned score, radial spectra
//! and loss curves.
use rhai::plugin::*;
use rhai::Module;
use serde::Deserialize;

/// The `learned` topic module.
pub fn module() -> Module {
    let mut m = exported_module!(learned_api);
    m.set_custom_type::<crate::engine::handles::ModelHandle>("model");
    m
}

/// Options of `plot_loss`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LossPlotOpts {
    /// Figure title.
    pub title: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl Default for LossPlotOpts {
    fn default() -> Self {
        LossPlotOpts {
            title: "DSM training loss".into(),
            width: 900,
            height: 600,
        }
    }
}

/// Training samples `[S, ...state]` from a script value: a trajectory (all frames of all
/// members, `[M*T, ...state]`) or an ndarray `[S, ...state]`.
fn samples_of(data: &Dynamic, what: &str) -> crate::Result<ndarray::ArrayD<f64>> {
    use crate::engine::handles::TrajHandle;
    use crate::engine::NdArray;
    if let Some(t) = data.clone().try_cast::<TrajHandle>() {
        let d = &t.0.data;
        if d.ndim() < 3 {
            return Err(crate::Error::shape(format!(
                "{what}: trajectory data must be [members, frames, ...state], got {:?}",
                d.shape()
            )));
        }
        let mut shape = vec![d.shape()[0] * d.shape()[1]];
        shape.extend_from_slice(&d.shape()[2..]);
        crate::engine::array::check_values(what, &shape, 8)?;
        let flat: Vec<f64> = d.iter().copied().collect();
        return ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&shape), flat)
            .map_err(|e| crate::Error::shape(format!("{what}: {e}")));
    }
    if data.is::<NdArray>() || data.is_array() {
        let a = NdArray::from_dynamic(data, what)?;
        // A copy when the script still holds the array.
        crate::engine::array::check_values(what, a.shape(), 8)?;
        return Ok(a.into_owned());
    }
    Err(crate::Error::invalid(format!(
        "{what}: data must be a trajectory or an ndarray [samples, ...state], got {}",
        crate::engine::handles::script_type(data)
    )))
}

#[fdtlab_macros::guarded]
#[export_module]
pub mod learned_api {
    use crate::engine::array::NdArray;
    use crate::engine::error::rt;
    use crate::engine::handles::{ModelHandle, ScoreHandle};
    use crate::engine::options::{parse_opts, take};
    use crate::plot::{save_lines, Figure, LineStyle, Panel, Series};
    use crate::score::learned::diagnostics::{self, SampleOpts};
    use crate::score::learned::{train, LearnedModel, TrainOpts};
    use ndarray::Ix3;
    use rhai::{Array, Dynamic, EvalAltResult, Map, INT};
    use std::path::Path;
    use std::sync::Arc;

    type Res<T> = Result<T, Box<EvalAltResult>>;

    /// Trains a score model by denoising score matching on `data`: a trajectory (every frame of
    /// every member is a sample) or an ndarray `[samples, ...state]` (vectors `[S, D]` for
    /// arch "mlp", periodic grids `[S, N, N]` for "conv" / "unet").
    ///
    /// Options (all optional): `arch` ("mlp"), `hidden` (128), `layers` (3), `channels` (32),
    /// `kernel` (5), `emb` (32), `output` ("smooth" | "sigma"), `antithetic` (true),
    /// `loss_weight` ("balanced" | "sigma2"), `epochs` (50), `batch` (128), `lr` (2e-4),
    /// `warmup` (1000), `clip` (1.0), `ema` (0.999), `val_frac` (0.2), `split` ("tail" |
    /// "shuffle"), `seed` (0), `sigma_min` (0.01), `sigma_max` (from the data), `noise_kmax`
    /// (grids: noise only in the Fourier modes |kx|, |ky| ≤ noise_kmax, for band-limited data
    /// such as 2/3-dealiased Navier–Stokes, where it is (N − 1)/3), and `resume`:
    /// a model to train for `epochs` more epochs (same architecture and data scaling; the
    /// history continues), `kernels` (conv: per-layer kernel sizes such as `[9, 1, 1]`,
    /// replacing `layers` and `kernel`), `skip` (conv: kernel size of a linear input→output
    /// convolution, 0 = none), `schedule` ("constant" | "cosine" learning-rate decay). Ctrl-C stops training early and returns the best model so far
    /// (`model.interrupted` is then true) and the script goes on (so it can save the model); a
    /// second Ctrl-C stops the script.
    ///
    /// ```rhai
    /// let x = linspace(-1, 1, 200).reshape([200, 1]);
    /// let m = train_score(x, #{ hidden: 8, layers: 1, epochs: 2, warmup: 0 });
    /// assert_eq(m.history.len, 2);
    /// let m2 = train_score(x, #{ hidden: 8, layers: 1, epochs: 3, warmup: 0, resume: m });
    /// assert_eq(m2.history.len, 5);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn train_score(data: Dynamic, opts: Map) -> Res<ModelHandle> {
        let mut opts = opts;
        let resume: Option<ModelHandle> = take(&mut opts, "resume", "train_score")?;
        let o: TrainOpts = parse_opts(opts, "train_score")?;
        let x = super::samples_of(&data, "train_score")?;
        let m = train(x.view(), &o, resume.map(|m| (*m.0).clone()))?;
        if m.interrupted() {
            // The interruption has been turned into a result (the best EMA model so far):
            // clear Ctrl-C so the script can go on to save or use it; another Ctrl-C stops the
            // script as usual.
            crate::core::interrupt::clear();
            eprintln!(
                "training interrupted (Ctrl-C): returning the best model so far (epoch {}); \
                 press Ctrl-C again to stop the script",
                m.meta()
                    .best_epoch
                    .map_or("-".to_string(), |e| e.to_string())
            );
        }
        Ok(ModelHandle(Arc::new(m)))
    }

    /// The learned score `∇ log ρ` (at σ_min, physical units) as a score usable in `gfdt`,
    /// `stein`, `evaluate`, ...
    ///
    /// ```rhai
    /// let m = train_score(linspace(-1, 1, 200).reshape([200, 1]), #{ hidden: 8, epochs: 1 });
    /// let s = m.score;
    /// assert_eq(s.dim, 1);
    /// assert_eq(s.evaluate(zeros([5, 1])).shape, [5, 1]);
    /// ```
    #[rhai_fn(get = "score", pure)]
    pub fn score(m: &mut ModelHandle) -> ScoreHandle {
        ScoreHandle(Arc::new(m.0.score()))
    }

    /// Training history, one map per epoch: `epoch`, `train_loss`, `val_loss` (`()` without a
    /// validation set), `samples_per_sec`, `steps`, `partial` (true for an epoch cut short by
    /// Ctrl-C).
    ///
    /// ```rhai
    /// let m = train_score(linspace(-1, 1, 200).reshape([200, 1]), #{ hidden: 8, epochs: 2 });
    /// let h = m.history;
    /// assert_eq(h[1].epoch, 1);
    /// print(h[1].train_loss);
    /// ```
    #[rhai_fn(get = "history", pure)]
    pub fn history(m: &mut ModelHandle) -> Array {
        m.0.history()
            .iter()
            .map(|e| {
                let mut r = Map::new();
                r.insert("epoch".into(), Dynamic::from(e.epoch as INT));
                r.insert("train_loss".into(), Dynamic::from_float(e.train_loss));
                r.insert(
                    "val_loss".into(),
                    e.val_loss.map(Dynamic::from_float).unwrap_or(Dynamic::UNIT),
                );
                r.insert(
                    "samples_per_sec".into(),
                    Dynamic::from_float(e.samples_per_sec),
                );
                r.insert("steps".into(), Dynamic::from(e.steps as INT));
                r.insert("partial".into(), Dynamic::from_bool(e.partial));
                Dynamic::from_map(r)
            })
            .collect()
    }

    /// True if the training run that produced the model was stopped by Ctrl-C.
    ///
    /// ```rhai
    /// let m = train_score(linspace(-1, 1, 200).reshape([200, 1]), #{ hidden: 8, epochs: 1 });
    /// assert_eq(m.interrupted, false);
    /// ```
    #[rhai_fn(get = "interrupted", pure)]
    pub fn interrupted(m: &mut ModelHandle) -> bool {
        m.0.interrupted()
    }

    /// Number of trainable parameters.
    ///
    /// ```rhai
    /// let m = train_score(linspace(-1, 1, 200).reshape([200, 1]),
    ///                     #{ hidden: 8, layers: 1, epochs: 1 });
    /// print(m.params);
    /// assert(m.params > 0);
    /// ```
    #[rhai_fn(get = "params", pure)]
    pub fn params(m: &mut ModelHandle) -> INT {
        m.0.n_params() as INT
    }

    /// Shape of one state the model scores (`[D]` or `[N, N]`).
    ///
    /// ```rhai
    /// let m = train_score(linspace(-1, 1, 200).reshape([100, 2]), #{ hidden: 8, epochs: 1 });
    /// assert_eq(m.state_shape, [2]);
    /// ```
    #[rhai_fn(get = "state_shape", pure)]
    pub fn state_shape(m: &mut ModelHandle) -> Array {
        m.0.state_shape()
            .iter()
            .map(|&n| Dynamic::from(n as INT))
            .collect()
    }

    /// One-line description: architecture, parameters, epochs, validation loss of the
    /// selected weights.
    ///
    /// ```rhai
    /// let m = train_score(linspace(-1, 1, 200).reshape([200, 1]), #{ hidden: 8, epochs: 1 });
    /// print(m);
    /// assert(m.to_string().contains("model"));
    /// ```
    #[rhai_fn(name = "to_string", name = "to_debug", pure)]
    pub fn to_string(m: &mut ModelHandle) -> String {
        let meta = m.0.meta();
        let best = match (meta.best_epoch, meta.best_val) {
            (Some(e), Some(v)) => format!(", selected epoch {e} (val loss {v:.4})"),
            _ => String::new(),
        };
        format!(
            "model({}, {} params, {} epochs{}{})",
            meta.net.describe(),
            m.0.n_params(),
            meta.history.len(),
            best,
            if meta.interrupted {
                ", interrupted"
            } else {
                ""
            }
        )
    }

    /// Saves a model into the folder `path` (`model.json` + `weights.safetensors`; created if
    /// missing, files replaced atomically).
    ///
    /// ```rhai
    /// let m = train_score(linspace(-1, 1, 200).reshape([200, 1]), #{ hidden: 8, epochs: 1 });
    /// save_model(out_path("m1"), m);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn save_model(path: &str, model: ModelHandle) -> Res<()> {
        model.0.save(Path::new(path))?;
        Ok(())
    }

    /// Loads a model saved by `save_model` (the error names the missing or damaged file).
    ///
    /// ```rhai
    /// let m = train_score(linspace(-1, 1, 200).reshape([200, 1]), #{ hidden: 8, epochs: 1 });
    /// save_model(out_path("m2"), m);
    /// let back = load_model(out_path("m2"));
    /// assert_eq(back.params, m.params);
    /// try { load_model(out_path("nothing here")); } catch (e) { print(e); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn load_model(path: &str) -> Res<ModelHandle> {
        Ok(ModelHandle(Arc::new(LearnedModel::load(Path::new(path))?)))
    }

    /// Draws samples `[samples, ...state]` from the density the model learned, with the
    /// predictor–corrector sampler of the variance-exploding SDE. Options: `samples` (1000),
    /// `steps` (500 noise levels), `corrector` (1 Langevin step per level), `snr` (0.16),
    /// `seed` (0), `denoise` (true: final Tweedie step), `sigma_start` (start the reverse SDE at
    /// this standardised noise level from N(0, 1 + σ²) instead of at σ_max: for models trained
    /// with `sigma_power` > 1, which saw few large noise levels). `samples` × the state size
    /// must fit the memory budget (see `memory_budget`).
    ///
    /// ```rhai
    /// let m = train_score(linspace(-1, 1, 200).reshape([200, 1]), #{ hidden: 8, epochs: 1 });
    /// let x = sample_score(m, #{ samples: 20, steps: 10 });
    /// assert_eq(x.shape, [20, 1]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn sample_score(model: ModelHandle, opts: Map) -> Res<NdArray> {
        let o: SampleOpts = parse_opts(opts, "sample_score")?;
        let x = diagnostics::sample(&model.0.score(), &o)?;
        Ok(NdArray::from_array(x))
    }

    /// Radial power spectrum `E(k)`, k = 0..=N/2, of periodic fields `[S, N, N]` averaged over
    /// the fields; shells `k = round(|(kx, ky)|)`, normalised so the shells sum to the mean
    /// square per pixel (corners beyond N/2 dropped).
    ///
    /// ```rhai
    /// let e = radial_spectrum(ones([2, 8, 8]));
    /// assert_eq(e.shape, [5]);
    /// assert(abs(e[0] - 1.0) < 1e-12);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn radial_spectrum(fields: NdArray) -> Res<NdArray> {
        let v = fields.view().into_dimensionality::<Ix3>().map_err(|_| {
            rt(format!(
                "radial_spectrum needs fields [S, N, N], got shape {:?}; add a leading axis \
                 for a single field (reshape([1, N, N]))",
                fields.shape()
            ))
        })?;
        let e = diagnostics::radial_spectrum(v)?;
        Ok(NdArray::from_shape_vec(&[e.len()], e)?)
    }

    /// Loss curves of a model's training: training and validation loss against the epoch
    /// (linear axes; the DSM loss here is shifted so that lower is better and it can be
    /// negative). Options: `title`, `width` (900), `height` (600). PNG or SVG by extension.
    ///
    /// ```rhai
    /// let m = train_score(linspace(-1, 1, 200).reshape([200, 1]), #{ hidden: 8, epochs: 2 });
    /// plot_loss(out_path("loss.png"), m, #{ title: "1-D test" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn plot_loss(path: &str, model: ModelHandle, opts: Map) -> Res<()> {
        let o: super::LossPlotOpts = parse_opts(opts, "plot_loss")?;
        let h = model.0.history();
        if h.is_empty() {
            return Err(rt(
                "plot_loss: the model has no training history; train it with train_score first",
            ));
        }
        let ep: Vec<f64> = h.iter().map(|e| e.epoch as f64).collect();
        let tl: Vec<f64> = h.iter().map(|e| e.train_loss).collect();
        let mut panel = Panel::new("", "epoch", "DSM loss per component")
            .with_series(Series::new("train", ep, tl).markers(h.len() < 30));
        let (ve, vl): (Vec<f64>, Vec<f64>) = h
            .iter()
            .filter_map(|e| e.val_loss.map(|v| (e.epoch as f64, v)))
            .unzip();
        if !ve.is_empty() {
            panel = panel.with_series(
                Series::new("validation (EMA weights)", ve, vl)
                    .style(LineStyle::Dashed)
                    .markers(h.len() < 30),
            );
        }
        let fig = Figure::new(o.title)
            .with_panel(panel)
            .cols(1)
            .size(o.width, o.height);
        save_lines(Path::new(path), &fig)?;
        Ok(())
    }

    /// `plot_loss` with the default options.
    ///
    /// ```rhai
    /// let m = train_score(linspace(-1, 1, 200).reshape([200, 1]), #{ hidden: 8, epochs: 2 });
    /// plot_loss(out_path("loss.svg"), m);
    /// ```
    #[rhai_fn(name = "plot_loss", return_raw)]
    pub fn plot_loss_default(path: &str, model: ModelHandle) -> Res<()> {
        plot_loss(path, model, Map::new())
    }
}
