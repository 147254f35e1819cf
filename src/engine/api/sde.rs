//! Script API for vector SDEs `dx = F(x) dt + G(x) dW` (SPEC 1, 4): systems typed in Rhai
//! (`sde`), the native low-dimensional zoo (`linear_ou`, `reduced_climate`, `triad`), their
//! simulation, exact scores and analytic responses, and the KGMM score (SPEC 5).
use crate::engine::api::closures::{CallCtx, ClosureDrift, ClosureNoise};
use crate::engine::array::NdArray;
use crate::engine::error::rt;
use crate::systems::linear_ou::LinearOu;
use crate::systems::reduced_climate::ReducedClimate;
use crate::systems::sde::{Noise, Sde};
use crate::systems::triad::Triad;
use rhai::plugin::*;
use rhai::{EvalAltResult, FnPtr, Module, NativeCallContext};
use std::sync::Arc;

/// The `sde` topic module.
pub fn module() -> Module {
    let mut m = exported_module!(sde_api);
    m.set_custom_type::<SdeHandle>("sde");
    m
}

/// A native zoo system (its SDE runs with native drift and noise, members in parallel).
#[derive(Clone)]
pub enum Native {
    /// `dx = A x dt + G dW`.
    LinearOu(Arc<LinearOu>),
    /// The scalar reduced climate model.
    ReducedClimate(Arc<ReducedClimate>),
    /// The ENSO-like triad.
    Triad(Triad),
    /// Any native `Sde` without extra structure.
    Plain,
}

/// The noise of a closure system.
#[derive(Clone)]
pub enum NoiseSpec {
    /// Constant or diagonal.
    Fixed(Noise),
    /// `|x| -> G(x)` (a [D, K] matrix, or a length-D diagonal).
    Closure(FnPtr),
}

/// A system typed in Rhai: closures, called from the thread running the script.
#[derive(Clone)]
pub struct ClosureSys {
    /// Name in messages and trajectories.
    pub name: String,
    /// State dimension D.
    pub d: usize,
    /// `|x| -> F(x)`.
    pub drift: FnPtr,
    /// The noise.
    pub noise: NoiseSpec,
}

/// A vector SDE. Script type "sde".
#[derive(Clone)]
pub enum SdeHandle {
    /// A native system.
    Native(Arc<Sde>, Native),
    /// A system typed in Rhai.
    Closure(std::rc::Rc<ClosureSys>),
}

impl SdeHandle {
    /// State dimension D.
    pub fn dim(&self) -> usize {
        match self {
            SdeHandle::Native(s, _) => s.dim(),
            SdeHandle::Closure(c) => c.d,
        }
    }
    /// Name.
    pub fn name(&self) -> String {
        match self {
            SdeHandle::Native(s, _) => s.name().to_string(),
            SdeHandle::Closure(c) => c.name.clone(),
        }
    }
    /// Runs `f` with the numerics [`Sde`]: the native one, or closure adapters valid for the
    /// duration of this call only (see [`super::closures`]).
    pub fn with_sde<R>(
        &self,
        ctx: &NativeCallContext,
        f: impl FnOnce(&Sde) -> crate::Result<R>,
    ) -> crate::Result<R> {
        match self {
            SdeHandle::Native(s, _) => f(s),
            SdeHandle::Closure(c) => {
                // SAFETY: the adapters live in `sde`, which is dropped at the end of this arm,
                // before `ctx`; they report parallel_safe() = false (module doc of closures).
                let cc = unsafe { CallCtx::new(ctx) };
                let drift = Arc::new(ClosureDrift {
                    ctx: cc,
                    f: c.drift.clone(),
                    d: c.d,
                    what: format!("drift of system '{}'", c.name),
                });
                let noise = match &c.noise {
                    NoiseSpec::Fixed(n) => n.clone(),
                    NoiseSpec::Closure(g) => Noise::StateDependent(Arc::new(ClosureNoise::probe(
                        cc,
                        g.clone(),
                        &vec![0.0; c.d],
                        format!("noise of system '{}'", c.name),
                    )?)),
                };
                let sde = Sde::new(c.name.clone(), drift, noise)?;
                f(&sde)
            }
        }
    }
}

/// A 2-D matrix from a script value (ndarray or nested array).
pub fn matrix_arg(v: &Dynamic, what: &str) -> Result<ndarray::Array2<f64>, Box<EvalAltResult>> {
    let a = NdArray::from_dynamic(v, what)?;
    a.view()
        .to_owned()
        .into_dimensionality::<ndarray::Ix2>()
        .map_err(|_| {
            rt(format!(
                "{what}: expected a matrix (2-D), got shape {:?}",
                a.shape()
            ))
        })
}

/// A vector from a script value (ndarray, array of numbers).
pub fn vector_arg(v: &Dynamic, what: &str) -> Result<Vec<f64>, Box<EvalAltResult>> {
    let a = NdArray::from_dynamic(v, what)?;
    if a.ndim() > 1 {
        return Err(rt(format!(
            "{what}: expected a vector, got shape {:?}",
            a.shape()
        )));
    }
    Ok(a.view().iter().copied().collect())
}

/// Lag grid of the analytic responses (`dt`, `lags`).
/// The drift `F = 0` of dimension D: lets `sde()` validate a fixed noise without building a
/// D×D matrix.
struct ZeroDrift(usize);

impl crate::systems::sde::Drift for ZeroDrift {
    fn dim(&self) -> usize {
        self.0
    }
    fn eval(&self, _x: &[f64], out: &mut [f64]) -> crate::Result<()> {
        out.fill(0.0);
        Ok(())
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Grid {
    /// Lag spacing (time units).
    pub dt: f64,
    /// Number of lags.
    pub lags: usize,
}
impl Default for Grid {
    fn default() -> Self {
        Grid { dt: 0.1, lags: 51 }
    }
}

fn rc(p: ReducedClimate) -> Result<SdeHandle, Box<EvalAltResult>> {
    let sde = p.sde()?;
    Ok(SdeHandle::Native(
        Arc::new(sde),
        Native::ReducedClimate(Arc::new(p)),
    ))
}

fn tr(p: Triad) -> Result<SdeHandle, Box<EvalAltResult>> {
    let sde = p.sde()?;
    Ok(SdeHandle::Native(Arc::new(sde), Native::Triad(p)))
}

fn ou_of<'a>(sys: &'a SdeHandle, what: &str) -> Result<&'a LinearOu, Box<EvalAltResult>> {
    match sys {
        SdeHandle::Native(_, Native::LinearOu(ou)) => Ok(ou),
        _ => Err(rt(format!(
            "{what}: system '{}' is not a linear OU; the analytic response exists for \
             linear_ou(#{{ A, G }}) only (compare other systems with an ensemble)",
            sys.name()
        ))),
    }
}

/// The error for the keys left in `rest` after the valid options were taken out: the first
/// one, a "did you mean" suggestion and the valid options (as `parse_opts` words it).
fn unknown_option(rest: &rhai::Map, valid: &[&str], what: &str) -> Box<EvalAltResult> {
    let key = rest
        .keys()
        .next()
        .map(|k| k.to_string())
        .unwrap_or_default();
    let hint = crate::engine::options::closest(&key, valid.iter().copied())
        .map(|s| format!(" (did you mean '{s}'?)"))
        .unwrap_or_default();
    rt(format!(
        "{what}: unknown option '{key}'{hint}; valid options are: {}",
        valid.join(", ")
    ))
}

fn describe(sys: &SdeHandle) -> String {
    match sys {
        SdeHandle::Native(s, _) => format!("native {s:?}"),
        SdeHandle::Closure(c) => format!(
            "Rhai SDE '{}' (D = {}, {} noise; closures: members run sequentially)",
            c.name,
            c.d,
            match c.noise {
                NoiseSpec::Closure(_) => "state-dependent",
                _ => "additive",
            }
        ),
    }
}

#[fdtlab_macros::guarded]
#[export_module]
pub mod sde_api {
    use super::{
        describe, matrix_arg, ou_of, rc, tr, unknown_option, ClosureSys, Grid, Native, NoiseSpec,
        SdeHandle,
    };
    use crate::core::response::Response;
    use crate::engine::array::NdArray;
    use crate::engine::error::rt;
    use crate::engine::handles::{ScoreHandle, TrajHandle};
    use crate::engine::options::{parse_opts, take};
    use crate::score::kgmm::{Kgmm, KgmmOpts};
    use crate::systems::linear_ou::LinearOu;
    use crate::systems::reduced_climate::ReducedClimate;
    use crate::systems::sde::{Noise, SdeRunOpts};
    use crate::systems::triad::Triad;
    use ndarray::Array2;
    use rhai::{Dynamic, EvalAltResult, FnPtr, Map, NativeCallContext, INT};
    use std::sync::Arc;

    type Res<T> = Result<T, Box<EvalAltResult>>;

    /// A system typed in Rhai, `dx = F(x) dt + G dW` (closures: 20–60× slower than native).
    ///
    /// Options: `drift` (closure `|x| -> F(x)`,
    /// x a length-D ndarray; return an ndarray or array of D numbers), `noise` (a number σ →
    /// `G = σ I`; a vector → diagonal G; a [D, K] matrix; or a closure `|x| -> G(x)` returning
    /// [D, K] or a length-D diagonal — state-dependent, Itô), `dim` (D; needed when the noise
    /// does not tell it), `name`.
    ///
    /// Speed: every step calls the Rhai closure (≈ 3 µs per call), so a closure system is
    /// 20–60× slower than a native one of the same dimension. Measured (`fdtlab bench`, one
    /// member, one thread, Euler–Maruyama, drift `|x| A.dot(x)` vs `linear_ou(#{ A })`, load ≈ 8
    /// on 2 cores): D = 2: 0.34 M vs 21 M steps/s (61×); D = 8: 0.29 M vs 6.4 M steps/s (22×).
    /// Members of a closure system run one after another on the script's thread (Rhai closures
    /// cannot be shared between threads); native systems run members in parallel. Use a
    /// closure system to prototype; for long runs use a native zoo system where one fits.
    /// Errors of the closure (it throws, returns the wrong shape, or NaN) stop the run with a
    /// catchable error naming the member and time.
    ///
    /// ```rhai
    /// let sys = sde(#{ drift: |x| -x, noise: [1.0, 0.5], name: "ou2" });
    /// let tr = sys.simulate(#{ members: 2, duration: 2.0, dt: 0.01, save_every: 10 });
    /// assert_eq(tr.data.shape, [2, 21, 2]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn sde(opts: Map) -> Res<SdeHandle> {
        let mut opts = opts;
        let drift: FnPtr = take(&mut opts, "drift", "sde")?.ok_or_else(|| {
            rt("sde: option 'drift' is missing; pass drift: |x| ... (returns F(x))")
        })?;
        let noise = opts.remove("noise").unwrap_or(Dynamic::UNIT);
        let name: String = match opts.remove("name") {
            None => "custom SDE".into(),
            Some(v) => v.into_string().map_err(|t| {
                rt(format!(
                    "sde: name must be a string, got {}",
                    crate::engine::handles::script_type_name(t)
                ))
            })?,
        };
        let dim: Option<usize> = match opts.remove("dim") {
            None => None,
            Some(v) => {
                let d = v.as_int().map_err(|t| {
                    rt(format!(
                        "sde: dim must be an integer, got {}",
                        crate::engine::handles::script_type_name(t)
                    ))
                })?;
                if d < 1 {
                    return Err(rt(format!(
                        "sde: dim = {d}; pass the state dimension D ≥ 1"
                    )));
                }
                Some(d as usize)
            }
        };
        if !opts.is_empty() {
            return Err(unknown_option(
                &opts,
                &["drift", "noise", "dim", "name"],
                "sde",
            ));
        }
        let need_dim = |what: &str| {
            dim.ok_or_else(|| {
                rt(format!(
                    "sde: {what} noise does not tell the dimension; pass dim: D"
                ))
            })
        };
        let (d, spec) = if noise.is_unit() {
            return Err(rt("sde: option 'noise' is missing; pass a number, vector, [D, K] matrix or closure |x| -> G(x)"));
        } else if let Some(f) = noise.clone().try_cast::<FnPtr>() {
            (need_dim("closure")?, NoiseSpec::Closure(f))
        } else if let Ok(s) = crate::engine::array::num_arg(&noise, "sde: noise") {
            let d = need_dim("scalar")?;
            crate::budget::check(
                "sde",
                "the noise vector",
                &[("values", d)],
                8,
                "use a smaller dim",
            )?;
            (d, NoiseSpec::Fixed(Noise::Diagonal(vec![s; d])))
        } else {
            let a = NdArray::from_dynamic(&noise, "sde: noise")?;
            match a.ndim() {
                1 => (
                    a.size(),
                    NoiseSpec::Fixed(Noise::Diagonal(a.view().iter().copied().collect())),
                ),
                2 => (
                    a.shape()[0],
                    NoiseSpec::Fixed(Noise::Constant(matrix_arg(&noise, "sde: noise")?)),
                ),
                _ => {
                    return Err(rt(format!(
                        "sde: noise has shape {:?}; pass a vector or a [D, K] matrix",
                        a.shape()
                    )))
                }
            }
        };
        if d == 0 {
            return Err(rt(format!(
                "sde: the noise has shape {:?}, so the state would have D = 0 components; pass a \
                 noise with D ≥ 1 rows (a vector of D values, a [D, K] matrix, or a number with \
                 dim: D), and a drift closure returning D numbers",
                NdArray::from_dynamic(&noise, "sde: noise")
                    .map(|a| a.shape().to_vec())
                    .unwrap_or_default()
            )));
        }
        if let Some(d0) = dim {
            if d0 != d {
                return Err(rt(format!(
                    "sde: dim = {d0} but the noise has {d} rows; make them agree"
                )));
            }
        }
        if let NoiseSpec::Fixed(n) = &spec {
            // Validates shapes and finiteness now rather than at the first run.
            crate::systems::sde::Sde::new(name.clone(), Arc::new(super::ZeroDrift(d)), n.clone())?;
        }
        Ok(SdeHandle::Closure(std::rc::Rc::new(ClosureSys {
            name,
            d,
            drift,
            noise: spec,
        })))
    }

    /// Any linear OU `dx = A x dt + G dW` (SPEC 4), native. Options: `A` (D×D, stable),
    /// `G` (D×K; default the identity). Exact score `−C⁻¹x` (`A C + C Aᵀ + G Gᵀ = 0`, solved by
    /// Bartels–Stewart) via `exact_score`, exact response `e^{At}` via `analytic_response`.
    ///
    /// ```rhai
    /// let sys = linear_ou(#{ A: [[-1.0, 2.0], [0.0, -1.5]], G: [[1.0, 0.0], [0.0, 1.0]] });
    /// assert_eq(sys.dim, 2);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn linear_ou(opts: Map) -> Res<SdeHandle> {
        let mut opts = opts;
        let a = opts
            .remove("A")
            .ok_or_else(|| rt("linear_ou: option 'A' (the D×D drift matrix) is missing"))?;
        let a = matrix_arg(&a, "linear_ou: A")?;
        let g = match opts.remove("G") {
            Some(g) => matrix_arg(&g, "linear_ou: G")?,
            None => Array2::eye(a.nrows()),
        };
        if !opts.is_empty() {
            return Err(unknown_option(&opts, &["A", "G"], "linear_ou"));
        }
        let ou = LinearOu::new(a, g)?;
        let sde = ou.sde()?;
        Ok(SdeHandle::Native(
            Arc::new(sde),
            Native::LinearOu(Arc::new(ou)),
        ))
    }

    /// The scalar reduced climate model of SPEC 4, native:
    /// `dx = (F₀ + a x + b x² − c x³) dt + √2 s dW` (F₀ 0.6, a −0.0222, b −0.2, c 0.0494,
    /// s 0.7071). Exact score `F(x)/s²`; `exact_step_response` gives the exact response to a
    /// shift of F₀ (Fokker–Planck).
    ///
    /// ```rhai
    /// let sys = reduced_climate();
    /// assert_eq(sys.dim, 1);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn reduced_climate() -> Res<SdeHandle> {
        rc(ReducedClimate::default())
    }

    /// Reduced climate model with options overriding `f0`, `a`, `b`, `c`, `s`.
    ///
    /// ```rhai
    /// let sys = reduced_climate(#{ f0: 0.7 });
    /// assert_eq(sys.params.f0, 0.7);
    /// ```
    #[rhai_fn(name = "reduced_climate", return_raw)]
    pub fn reduced_climate_opts(opts: Map) -> Res<SdeHandle> {
        rc(parse_opts::<ReducedClimate>(opts, "reduced_climate")?)
    }

    /// The ENSO-like triad of SPEC 4 with state-dependent noise `σ₃(x₁) = 1.5 (tanh x₁ + 1)`,
    /// native (d 0.2, w 0.4, d_tau 2, sigma1 = sigma2 = 0.3, sigma3 1.5). No closed-form
    /// score: use `kgmm_score`, `gaussian_score` or `train_score`.
    ///
    /// ```rhai
    /// assert_eq(triad().dim, 3);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn triad() -> Res<SdeHandle> {
        tr(Triad::default())
    }

    /// The triad with options overriding `d`, `w`, `d_tau`, `sigma1`, `sigma2`, `sigma3`.
    ///
    /// ```rhai
    /// assert_eq(triad(#{ w: 0.5 }).params.w, 0.5);
    /// ```
    #[rhai_fn(name = "triad", return_raw)]
    pub fn triad_opts(opts: Map) -> Res<SdeHandle> {
        tr(parse_opts::<Triad>(opts, "triad")?)
    }

    /// Simulates an ensemble `[members, frames, D]`. Options: `members` (1), `dt` (0.01),
    /// `spinup` (0, time), `duration` (100, time), `save_every` (10 steps), `seed` (0),
    /// `method` ("em" Euler–Maruyama | "heun" stochastic Heun), `init` ("zeros", one start
    /// `[x1, ...]`, or one per member `[[...], ...]` / an ndarray [members, D], e.g. `tr.last`).
    /// Native systems run members in parallel; closure systems one after another. Results are
    /// bit-identical for a seed whatever the thread count. A trajectory over the memory budget
    /// is refused before the run starts (see `memory_budget`).
    ///
    /// ```rhai
    /// let tr = reduced_climate().simulate(#{ members: 2, duration: 5.0, method: "heun" });
    /// assert_eq(tr.data.shape, [2, 51, 1]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn simulate(ctx: NativeCallContext, sys: &mut SdeHandle, opts: Map) -> Res<TrajHandle> {
        let o: SdeRunOpts = parse_opts(opts, "simulate")?;
        let t = sys.with_sde(&ctx, |s| s.simulate(&o))?;
        Ok(TrajHandle::new(t))
    }

    /// The drift `F(x)` at one state (length-D ndarray).
    ///
    /// ```rhai
    /// let f = linear_ou(#{ A: [[-2.0]] }).drift(ones([1]));
    /// assert_eq(f.to_array(), [-2.0]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn drift(ctx: NativeCallContext, sys: &mut SdeHandle, x: NdArray) -> Res<NdArray> {
        let d = sys.dim();
        if x.size() != d {
            return Err(rt(format!(
                "drift: x has shape {:?}; pass a state of {d} components",
                x.shape()
            )));
        }
        let xv: Vec<f64> = x.view().iter().copied().collect();
        let out = sys.with_sde(&ctx, |s| {
            let mut out = vec![f64::NAN; d];
            s.drift().eval(&xv, &mut out)?;
            Ok(out)
        })?;
        Ok(NdArray::from_shape_vec(&[d], out)?)
    }

    /// State dimension D.
    ///
    /// ```rhai
    /// assert_eq(triad().dim, 3);
    /// ```
    #[rhai_fn(get = "dim", pure)]
    pub fn dim(sys: &mut SdeHandle) -> INT {
        sys.dim() as INT
    }

    /// Name.
    ///
    /// ```rhai
    /// assert_eq(reduced_climate().name, "reduced climate");
    /// ```
    #[rhai_fn(get = "name", pure)]
    pub fn name(sys: &mut SdeHandle) -> String {
        sys.name()
    }

    /// True for native systems (parallel members, native speed), false for closure systems.
    ///
    /// ```rhai
    /// assert(triad().native);
    /// assert(!sde(#{ drift: |x| -x, noise: 1.0, dim: 1 }).native);
    /// ```
    #[rhai_fn(get = "native", pure)]
    pub fn native(sys: &mut SdeHandle) -> bool {
        matches!(sys, SdeHandle::Native(..))
    }

    /// Parameters of a zoo system as a map (`A`, `G`, `C` for a linear OU; the model's
    /// coefficients otherwise; empty for closure systems).
    ///
    /// ```rhai
    /// let p = linear_ou(#{ A: [[-1.0]] }).params;
    /// assert_eq(p.C.to_array(), [[0.5]]);
    /// ```
    #[rhai_fn(get = "params", pure, return_raw)]
    pub fn params(sys: &mut SdeHandle) -> Res<Map> {
        let mut m = Map::new();
        let json = |v: serde_json::Value| crate::engine::options::json_to_dynamic(&v);
        match sys {
            SdeHandle::Native(_, Native::LinearOu(ou)) => {
                let arr =
                    |a: &Array2<f64>| Dynamic::from(NdArray::from_array(a.clone().into_dyn()));
                m.insert("A".into(), arr(ou.a()));
                m.insert("G".into(), arr(ou.g()));
                m.insert("C".into(), arr(ou.covariance()));
            }
            SdeHandle::Native(_, Native::ReducedClimate(p)) => {
                let v = serde_json::json!({"f0": p.f0, "a": p.a, "b": p.b, "c": p.c, "s": p.s});
                return Ok(json(v).cast::<Map>());
            }
            SdeHandle::Native(_, Native::Triad(p)) => {
                let v = serde_json::json!({"d": p.d, "w": p.w, "d_tau": p.d_tau, "sigma1": p.sigma1, "sigma2": p.sigma2, "sigma3": p.sigma3});
                return Ok(json(v).cast::<Map>());
            }
            _ => {}
        }
        Ok(m)
    }

    /// The exact score of a zoo system where one exists: linear OU (`−C⁻¹x`) and the reduced
    /// climate model (`F(x)/s²`). The triad and closure systems have none (an error says what
    /// to use instead).
    ///
    /// ```rhai
    /// let s = exact_score(linear_ou(#{ A: [[-1.0]] }));
    /// assert_eq(s.evaluate(ones([1])).to_array(), [-2.0]);
    /// ```
    #[rhai_fn(name = "exact_score", return_raw)]
    pub fn exact_score(sys: SdeHandle) -> Res<ScoreHandle> {
        match &sys {
            SdeHandle::Native(_, Native::LinearOu(ou)) => Ok(ScoreHandle(ou.clone())),
            SdeHandle::Native(_, Native::ReducedClimate(p)) => Ok(ScoreHandle(p.clone())),
            _ => Err(rt(format!(
                "exact_score: system '{}' has no closed-form score (only linear_ou and \
                 reduced_climate do); use kgmm_score(traj, #{{}}), gaussian_score(traj) or \
                 train_score(traj, #{{ arch: \"mlp\" }}).score",
                sys.name()
            ))),
        }
    }

    /// Exact impulse response `R(t) = e^{At}` of a linear OU (`[lags, D, D]`, entry (i, j):
    /// response of ⟨x_i⟩ to a kick of x_j), on the lag grid `#{ dt, lags }` (defaults 0.1, 51).
    ///
    /// ```rhai
    /// let r = analytic_response(linear_ou(#{ A: [[-1.0]] }), #{ dt: 0.5, lags: 3 });
    /// assert(abs(r.values.get([1, 0, 0]) - exp(-0.5)) < 1e-12);
    /// ```
    #[rhai_fn(name = "analytic_response", return_raw)]
    pub fn analytic_response(sys: SdeHandle, opts: Map) -> Res<Response> {
        let o: Grid = parse_opts(opts, "analytic_response")?;
        Ok(ou_of(&sys, "analytic_response")?.exact_response(o.dt, o.lags)?)
    }

    /// Exact response of the second moments `⟨x xᵀ⟩` of a linear OU to the perturbation
    /// `u(x) = M x` (e.g. M = I: a change of damping): impulse `e^{At}(MC + CMᵀ)e^{Aᵀt}`, or
    /// with `step: true` the step response. `[lags, D, D]`. Options `dt` (0.1), `lags` (51),
    /// `step` (false).
    ///
    /// ```rhai
    /// let r = analytic_second_moments(linear_ou(#{ A: [[-1.0]] }), [[1.0]], #{ dt: 0.5, lags: 2 });
    /// assert(abs(r.values.get([0, 0, 0]) - 1.0) < 1e-12);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn analytic_second_moments(sys: SdeHandle, m: Dynamic, opts: Map) -> Res<Response> {
        let mut opts = opts;
        let step = match opts.remove("step") {
            None => false,
            Some(v) => v.as_bool().map_err(|t| {
                rt(format!(
                    "analytic_second_moments: step must be true/false, got {}",
                    crate::engine::handles::script_type_name(t)
                ))
            })?,
        };
        let o: Grid = parse_opts(opts, "analytic_second_moments")?;
        let ou = ou_of(&sys, "analytic_second_moments")?;
        let m = matrix_arg(&m, "analytic_second_moments: M")?;
        Ok(if step {
            ou.second_moment_step_response(&m, o.dt, o.lags)?
        } else {
            ou.second_moment_response(&m, o.dt, o.lags)?
        })
    }

    /// KGMM score (SPEC 5): k-means on the data, then a Gaussian mixture around the cluster
    /// centres — a cheap, robust score for low-dimensional data. `data` is a trajectory (every
    /// frame of every member; thin long runs with `tr.thin(k)`) or an ndarray [samples, D].
    /// Options: `clusters` (128), `bandwidth` (unset: chosen by held-out score matching),
    /// `iterations` (30), `tol` (1e-3), `seed` (0), `shrink` (true), `min_kernel` (3).
    ///
    /// ```rhai
    /// let tr = linear_ou(#{ A: [[-1.0]] }).simulate(#{ duration: 200.0 });
    /// let s = kgmm_score(tr, #{ clusters: 8 });
    /// assert_eq(s.dim, 1);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn kgmm_score(data: Dynamic, opts: Map) -> Res<ScoreHandle> {
        let o: KgmmOpts = parse_opts(opts, "kgmm_score")?;
        let k = if let Some(t) = data.clone().try_cast::<TrajHandle>() {
            Kgmm::fit_trajectory(&t.0, &o)?
        } else {
            let a = NdArray::from_dynamic(&data, "kgmm_score: data")?;
            let x = a
                .view()
                .to_owned()
                .into_dimensionality::<ndarray::Ix2>()
                .map_err(|_| {
                    rt(format!(
                        "kgmm_score: data has shape {:?}; pass [samples, D] or a trajectory",
                        a.shape()
                    ))
                })?;
            Kgmm::fit(x.view(), &o)?
        };
        Ok(ScoreHandle(Arc::new(k)))
    }

    /// Describes the system.
    ///
    /// ```rhai
    /// print(triad());
    /// ```
    #[rhai_fn(name = "to_string", pure)]
    pub fn to_string(sys: &mut SdeHandle) -> String {
        describe(sys)
    }

    /// Describes the system (debug form).
    ///
    /// ```rhai
    /// debug(reduced_climate());
    /// ```
    #[rhai_fn(name = "to_debug", pure)]
    pub fn to_debug(sys: &mut SdeHandle) -> String {
        describe(sys)
    }
}
