//! Script API for score functions `s(x) = ∇ log ρ(x)` and their diagnostics.
use rhai::plugin::*;
use rhai::Module;

/// The `scores` topic module.
pub fn module() -> Module {
    let mut m = exported_module!(scores_api);
    m.set_custom_type::<crate::engine::handles::ScoreHandle>("score");
    m
}

/// Whether a trajectory's states are periodic N×N grids (else vectors).
pub fn is_grid(t: &crate::core::trajectory::Trajectory) -> bool {
    let s = t.state_shape();
    s.len() == 2 && s[0] == s[1]
}

#[fdtlab_macros::guarded]
#[export_module]
pub mod scores_api {
    use crate::engine::array::NdArray;
    use crate::engine::error::rt;
    use crate::engine::handles::{GridSystem, ScoreHandle, TrajHandle};
    use crate::response::stein::{stein_check, SteinKind};
    use crate::score::exact::ExactAcScore;
    use crate::score::gaussian::{GaussianScore, PeriodicGaussianScore};
    use ndarray::{Array2, ArrayD, IxDyn};
    use rhai::{Dynamic, EvalAltResult, Map, INT};
    use std::sync::Arc;

    type Res<T> = Result<T, Box<EvalAltResult>>;

    /// The exact score of a grid system (SPEC 3.1):
    /// `s(θ) = (2/N²)[f(θ) + Q⁻¹(κΔ − γ)θ]`.
    ///
    /// ```rhai
    /// let s = exact_score(ou(#{ n: 8 }));
    /// assert_eq(s.dim, 64);
    /// ```
    pub fn exact_score(sys: GridSystem) -> ScoreHandle {
        ScoreHandle(Arc::new(ExactAcScore::new((*sys.0).clone())))
    }

    /// The Gaussian score fitted to data, `s(x) = −C⁻¹(x − μ)`. For grid trajectories C is
    /// circulant (translation invariance: a Fourier multiplier), for vectors a dense matrix.
    ///
    /// ```rhai
    /// let tr = ou(#{ n: 8 }).simulate(#{ members: 2, spinup: 5.0, duration: 50.0 });
    /// let g = gaussian_score(tr);
    /// assert_eq(g.dim, 64);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn gaussian_score(traj: TrajHandle) -> Res<ScoreHandle> {
        if super::is_grid(&traj.0) {
            Ok(ScoreHandle(Arc::new(PeriodicGaussianScore::fit(&traj.0)?)))
        } else {
            Ok(ScoreHandle(Arc::new(GaussianScore::fit_trajectory(
                &traj.0,
            )?)))
        }
    }

    /// Dimension of a state the score accepts (N² for an N×N grid).
    ///
    /// ```rhai
    /// assert_eq(exact_score(ou(#{ n: 8 })).dim, 64);
    /// ```
    #[rhai_fn(get = "dim", pure)]
    pub fn dim(s: &mut ScoreHandle) -> INT {
        s.0.dim() as INT
    }

    /// Name used in legends.
    ///
    /// ```rhai
    /// assert_eq(exact_score(ou(#{ n: 8 })).name, "exact score");
    /// ```
    #[rhai_fn(get = "name", pure)]
    pub fn name(s: &mut ScoreHandle) -> String {
        s.0.name()
    }

    /// Evaluates the score on one state or a batch: `x` of shape `[...state]` or
    /// `[batch, ...state]` (or flattened, `[D]` / `[batch, D]`); the result has the same shape.
    /// Any other shape is an error, even when its size is a multiple of D.
    ///
    /// ```rhai
    /// let s = exact_score(ou(#{ n: 8 }));
    /// assert_eq(s.evaluate(zeros([8, 8])).shape, [8, 8]);
    /// assert_eq(s.evaluate(zeros([3, 8, 8])).shape, [3, 8, 8]);
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn evaluate(s: &mut ScoreHandle, x: NdArray) -> Res<NdArray> {
        let d = s.0.dim();
        let size = x.size();
        let state = s.0.state_shape();
        let xs = x.shape();
        // One state or a batch [B, ...state]; flattened states ([D], [B, D]) are accepted too.
        let fits =
            |st: &[usize]| (xs.len() == st.len() || xs.len() == st.len() + 1) && xs.ends_with(st);
        if d == 0 || size == 0 || !(fits(&state) || fits(&[d])) {
            let mut batch = vec!["B".to_string()];
            batch.extend(state.iter().map(|v| v.to_string()));
            return Err(rt(format!(
                "evaluate: score '{}' takes states of shape {state:?} (dimension {d}): pass one \
                 state {state:?} or a batch [{}]; got shape {xs:?}",
                s.0.name(),
                batch.join(", ")
            )));
        }
        let b = size / d;
        let flat: Vec<f64> = x.view().iter().copied().collect();
        let xb = Array2::from_shape_vec((b, d), flat).map_err(|e| rt(e.to_string()))?;
        let mut out = Array2::<f64>::zeros((b, d));
        s.0.eval_batch(xb.view(), out.view_mut())?;
        let out = ArrayD::from_shape_vec(IxDyn(x.shape()), out.into_raw_vec_and_offset().0)
            .map_err(|e| rt(e.to_string()))?;
        Ok(NdArray::from_array(out))
    }

    /// Stein check `−⟨x sᵀ⟩ = I` of a score on a trajectory (at most 4000 frames). Returns a map:
    /// grids → `diag` (pixel-averaged diagonal, should be 1), `diag_se`, `max_offdiag`,
    /// `offdiag_se`; vectors → `matrix` (ndarray), `max_dev` (max |M − I|). `text` is a summary.
    ///
    /// ```rhai
    /// let sys = ou(#{ n: 8, gamma: 0.5 });
    /// let tr = sys.simulate(#{ members: 4, spinup: 20.0, duration: 40.0 });
    /// let st = stein(tr, exact_score(sys));
    /// assert(st.diag > 0.8 && st.diag < 1.2);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn stein(traj: TrajHandle, score: ScoreHandle) -> Res<Map> {
        stein_frames(traj, score, 4000)
    }

    /// Stein check using at most `max_frames` frames.
    ///
    /// ```rhai
    /// let sys = ou(#{ n: 8 });
    /// let tr = sys.simulate(#{ members: 2, spinup: 5.0, duration: 20.0 });
    /// print(stein(tr, exact_score(sys), 10).text);
    /// ```
    #[rhai_fn(name = "stein", return_raw)]
    pub fn stein_frames(traj: TrajHandle, score: ScoreHandle, max_frames: INT) -> Res<Map> {
        if max_frames < 2 {
            return Err(rt(format!(
                "stein: max_frames = {max_frames}; use at least 2"
            )));
        }
        let r = stein_check(&traj.0, score.0.as_ref(), max_frames as usize)?;
        let mut m = Map::new();
        m.insert("text".into(), Dynamic::from(r.to_string()));
        m.insert("score".into(), Dynamic::from(r.score.clone()));
        m.insert("frames".into(), Dynamic::from(r.frames as INT));
        match &r.kind {
            SteinKind::Grid {
                diag,
                diag_se,
                max_offdiag,
                offdiag_se,
                ..
            } => {
                m.insert("diag".into(), Dynamic::from_float(*diag));
                m.insert("diag_se".into(), Dynamic::from_float(*diag_se));
                m.insert("max_offdiag".into(), Dynamic::from_float(*max_offdiag));
                m.insert("offdiag_se".into(), Dynamic::from_float(*offdiag_se));
            }
            SteinKind::Vector {
                matrix,
                stderr,
                max_dev,
            } => {
                m.insert(
                    "matrix".into(),
                    Dynamic::from(NdArray::from_array(matrix.clone().into_dyn())),
                );
                m.insert(
                    "stderr".into(),
                    Dynamic::from(NdArray::from_array(stderr.clone().into_dyn())),
                );
                m.insert("max_dev".into(), Dynamic::from_float(*max_dev));
            }
        }
        Ok(m)
    }

    /// The score's name.
    ///
    /// ```rhai
    /// print(exact_score(ou(#{ n: 8 })));
    /// ```
    #[rhai_fn(name = "to_string", pure)]
    pub fn to_string(s: &mut ScoreHandle) -> String {
        format!("score '{}' (dim {})", s.0.name(), s.0.dim())
    }

    /// The score's name (debug form).
    ///
    /// ```rhai
    /// debug(exact_score(ou(#{ n: 8 })));
    /// ```
    #[rhai_fn(name = "to_debug", pure)]
    pub fn to_debug(s: &mut ScoreHandle) -> String {
        format!("score '{}' (dim {})", s.0.name(), s.0.dim())
    }
}
