//! Script API for general perturbations `u(x)` and observables `A(x)` (SPEC 2): the GFDT with
//! `B = ∇·u + u·s` for any score and its Gaussian counterpart, impulse and step perturbation
//! ensembles on any vector SDE, step responses and responses to a forcing profile `f(t)`.
use crate::engine::api::closures::{CallCtx, ClosureObservable, ClosurePerturbation, DivSpec};
use crate::engine::array::NdArray;
use crate::engine::error::rt;
use crate::systems::observable::{BuiltinObservable, Observable};
use crate::systems::perturbation::{ConstantPerturbation, LinearPerturbation, Perturbation};
use rhai::plugin::*;
use rhai::{Array, EvalAltResult, FnPtr, Module};

/// The `perturb` topic module.
pub fn module() -> Module {
    let mut m = exported_module!(general_api);
    m.set_custom_type::<PertSpec>("perturbation");
    m.set_custom_type::<ObsSpec>("observable");
    m
}

type Res<T> = Result<T, Box<EvalAltResult>>;

/// A perturbation field `u(x)`. Script type "perturbation".
#[derive(Clone)]
pub enum PertSpec {
    /// `u = v`.
    Const(Vec<f64>),
    /// `u = M x`.
    Linear(ndarray::Array2<f64>),
    /// `u = f(x)` with its divergence.
    Closure {
        /// `|x| -> vector`.
        f: FnPtr,
        /// Divergence.
        div: DivSpec,
    },
}

impl PertSpec {
    /// From a script value: a perturbation, a closure (divergence by finite differences), a
    /// vector (constant) or a square matrix (linear field `M x`).
    pub fn from_dynamic(v: &Dynamic, what: &str) -> Res<Self> {
        if let Some(p) = v.clone().try_cast::<PertSpec>() {
            return Ok(p);
        }
        if let Some(f) = v.clone().try_cast::<FnPtr>() {
            return Ok(PertSpec::Closure {
                f,
                div: DivSpec::Fd,
            });
        }
        let a = NdArray::from_dynamic(v, what).map_err(|e| {
            rt(format!(
                "{what}: u must be a vector, a square matrix or a closure |x| -> u(x) ({e})"
            ))
        })?;
        match a.ndim() {
            0 | 1 => Ok(PertSpec::Const(a.view().iter().copied().collect())),
            2 => Ok(PertSpec::Linear(crate::engine::api::sde::matrix_arg(
                v, what,
            )?)),
            _ => Err(rt(format!(
                "{what}: u has shape {:?}; pass a vector, matrix or closure",
                a.shape()
            ))),
        }
    }

    /// The numerics perturbation in dimension `d` (closures bound to `cc`).
    pub fn build(&self, cc: CallCtx, d: usize) -> crate::Result<Box<dyn Perturbation>> {
        Ok(match self {
            PertSpec::Const(v) => Box::new(ConstantPerturbation::new(v.clone())?),
            PertSpec::Linear(m) => Box::new(LinearPerturbation::new(m.clone())?),
            PertSpec::Closure { f, div } => Box::new(ClosurePerturbation {
                ctx: cc,
                f: f.clone(),
                div: div.clone(),
                d,
                name: format!(
                    "u = {}(x)",
                    if f.is_anonymous() {
                        "closure"
                    } else {
                        f.fn_name()
                    }
                ),
            }),
        })
    }

    fn describe(&self) -> String {
        match self {
            PertSpec::Const(v) => format!("perturbation u = {v:?} (constant, ∇·u = 0)"),
            PertSpec::Linear(m) => format!("perturbation u = M x, M = {m} (∇·u = tr M)"),
            PertSpec::Closure { div, .. } => format!(
                "perturbation u = closure ({})",
                match div {
                    DivSpec::Fd => "∇·u by central finite differences".to_string(),
                    DivSpec::Const(c) => format!("∇·u = {c}"),
                    DivSpec::Fn(_) => "∇·u from a closure".to_string(),
                }
            ),
        }
    }
}

/// A scalar observable `A(x)`. Script type "observable".
#[derive(Clone)]
pub enum ObsSpec {
    /// Built-in.
    Builtin(BuiltinObservable),
    /// `(x_i − c)^p`.
    Central(CentralMoment),
    /// A closure `|x| -> number`.
    Closure {
        /// The closure.
        f: FnPtr,
        /// Legend name.
        name: String,
    },
}

/// `(x_i − c)^p` (with c the mean: the response of the p-th central moment to first order,
/// e.g. p = 2 and c = ⟨x_i⟩: the variance).
#[derive(Clone, Debug)]
pub struct CentralMoment {
    /// Component.
    pub i: usize,
    /// Power (≥ 1).
    pub p: u32,
    /// Centre.
    pub c: f64,
}

impl Observable for CentralMoment {
    fn name(&self) -> String {
        format!("(x_{} − {:.4})^{}", self.i, self.c, self.p)
    }
    fn eval(&self, x: &[f64]) -> crate::Result<f64> {
        x.get(self.i)
            .map(|v| (v - self.c).powi(self.p as i32))
            .ok_or_else(|| {
                crate::Error::invalid(format!("{}: state has {} components", self.name(), x.len()))
            })
    }
    fn check_dim(&self, d: usize) -> crate::Result<()> {
        if self.i >= d || self.p == 0 {
            return Err(crate::Error::invalid(format!(
                "observable {}: needs component {} < D = {d} and p ≥ 1",
                self.name(),
                self.i
            )));
        }
        Ok(())
    }
}

impl ObsSpec {
    fn name(&self) -> String {
        match self {
            ObsSpec::Builtin(b) => b.name(),
            ObsSpec::Central(c) => c.name(),
            ObsSpec::Closure { name, .. } => name.clone(),
        }
    }
    fn build(&self, cc: CallCtx) -> Box<dyn Observable> {
        match self {
            ObsSpec::Builtin(b) => Box::new(b.clone()),
            ObsSpec::Central(c) => Box::new(c.clone()),
            ObsSpec::Closure { f, name } => Box::new(ClosureObservable {
                ctx: cc,
                f: f.clone(),
                name: name.clone(),
            }),
        }
    }
}

/// Observables from a script value: one observable or closure, or an array of them.
pub fn obs_list(v: &Dynamic, what: &str) -> Res<Vec<ObsSpec>> {
    let one = |x: &Dynamic| -> Res<ObsSpec> {
        if let Some(o) = x.clone().try_cast::<ObsSpec>() {
            return Ok(o);
        }
        if let Some(f) = x.clone().try_cast::<FnPtr>() {
            let name = if f.is_anonymous() {
                "A(x)".to_string()
            } else {
                f.fn_name().to_string()
            };
            return Ok(ObsSpec::Closure { f, name });
        }
        Err(rt(format!(
            "{what}: expected an observable (obs_x(i), obs_moment(i, p), obs_mean(), …) or a \
             closure |x| -> number, got {}",
            crate::engine::handles::script_type(x)
        )))
    };
    if let Some(a) = v.read_lock::<Array>() {
        if a.is_empty() {
            return Err(rt(format!(
                "{what}: no observables given; pass e.g. [obs_x(0)]"
            )));
        }
        return a.iter().map(one).collect();
    }
    Ok(vec![one(v)?])
}

/// Runs `f` with the built perturbation and observables (closures bound to `ctx`, dropped
/// before returning — see [`super::closures`]).
pub fn with_u_obs<R>(
    ctx: &NativeCallContext,
    u: &PertSpec,
    obs: &[ObsSpec],
    d: usize,
    f: impl FnOnce(&dyn Perturbation, &[&dyn Observable]) -> crate::Result<R>,
) -> crate::Result<R> {
    // SAFETY: the adapters live in `pu` and `ob`, dropped at the end of this function.
    let cc = unsafe { CallCtx::new(ctx) };
    let pu = u.build(cc, d)?;
    let ob: Vec<Box<dyn Observable>> = obs.iter().map(|o| o.build(cc)).collect();
    let refs: Vec<&dyn Observable> = ob.iter().map(|b| b.as_ref()).collect();
    f(pu.as_ref(), &refs)
}

#[fdtlab_macros::guarded]
#[export_module]
pub mod general_api {
    use super::{obs_list, with_u_obs, CentralMoment, ObsSpec, PertSpec, Res};
    use crate::core::response::Response;
    use crate::engine::api::closures::{scalar_result, CallCtx, DivSpec};
    use crate::engine::api::sde::{Grid, Native, SdeHandle};
    use crate::engine::array::{num_arg, NdArray};
    use crate::engine::error::rt;
    use crate::engine::handles::{ScoreHandle, TrajHandle};
    use crate::engine::options::parse_opts;
    use crate::response::general::{gfdt_general as gfdt_fn, gfdt_general_gaussian, GfdtOpts};
    use crate::response::sde_ensemble::{
        impulse_ensemble as imp_fn, step_ensemble as step_fn, EnsembleOpts,
    };
    use crate::response::step::{response_to_forcing, step_from_impulse};
    use crate::systems::observable::BuiltinObservable;
    use rhai::{Array, Dynamic, FnPtr, Map, NativeCallContext, INT};

    fn idx(i: INT, what: &str) -> Res<usize> {
        usize::try_from(i).map_err(|_| rt(format!("{what}: component {i} must be ≥ 0")))
    }

    /// A perturbation `u(x)` of the drift (`F → F + ε u f(t)`): a vector (constant, e.g. a
    /// shift of a forcing constant, ∇·u = 0), a square matrix M (the linear field `u = M x`,
    /// ∇·u = tr M; M = I is a change of damping), or a closure `|x| -> u(x)` (∇·u by central
    /// finite differences, 2D calls of u per state). Wherever a perturbation is expected these
    /// values can also be passed directly.
    ///
    /// ```rhai
    /// let u = perturbation([1.0, 0.0]);
    /// let v = perturbation(|x| x * x);
    /// print(u);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn perturbation(u: Dynamic) -> Res<PertSpec> {
        PertSpec::from_dynamic(&u, "perturbation")
    }

    /// A closure perturbation with its divergence given: a number (constant ∇·u) or a closure
    /// `|x| -> ∇·u(x)` (saves the 2D finite-difference calls).
    ///
    /// ```rhai
    /// let u = perturbation(|x| x * x, |x| 2.0 * x.sum());
    /// print(u);
    /// ```
    #[rhai_fn(name = "perturbation", return_raw)]
    pub fn perturbation_div(u: FnPtr, div: Dynamic) -> Res<PertSpec> {
        let div = if let Some(f) = div.clone().try_cast::<FnPtr>() {
            DivSpec::Fn(f)
        } else {
            DivSpec::Const(num_arg(&div, "perturbation: div")?)
        };
        Ok(PertSpec::Closure { f: u, div })
    }

    /// Observable `x_i` (component i).
    ///
    /// ```rhai
    /// print(obs_x(0));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn obs_x(i: INT) -> Res<ObsSpec> {
        Ok(ObsSpec::Builtin(BuiltinObservable::Component(idx(
            i, "obs_x",
        )?)))
    }

    /// Observable `x_i^p` (its mean is the p-th moment).
    ///
    /// ```rhai
    /// print(obs_moment(0, 3));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn obs_moment(i: INT, p: INT) -> Res<ObsSpec> {
        if !(1..=64).contains(&p) {
            return Err(rt(format!("obs_moment: p = {p}; pass 1 ≤ p ≤ 64")));
        }
        Ok(ObsSpec::Builtin(BuiltinObservable::Moment {
            i: idx(i, "obs_moment")?,
            p: p as u32,
        }))
    }

    /// The moments `x_i^p`, p = 1..=p_max, as an array of observables.
    ///
    /// ```rhai
    /// assert_eq(obs_moments(0, 4).len, 4);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn obs_moments(i: INT, p_max: INT) -> Res<Array> {
        (1..=p_max)
            .map(|p| obs_moment(i, p).map(Dynamic::from))
            .collect()
    }

    /// Observable `(x_i − c)^p`; with c = ⟨x_i⟩ its response is that of the p-th central
    /// moment (p = 2: the variance) to first order.
    ///
    /// ```rhai
    /// print(obs_central(0, 2, 0.5));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn obs_central(i: INT, p: INT, c: Dynamic) -> Res<ObsSpec> {
        if !(1..=64).contains(&p) {
            return Err(rt(format!("obs_central: p = {p}; pass 1 ≤ p ≤ 64")));
        }
        let c = num_arg(&c, "obs_central: c")?;
        Ok(ObsSpec::Central(CentralMoment {
            i: idx(i, "obs_central")?,
            p: p as u32,
            c,
        }))
    }

    /// Observable `x_i x_j` (a second-moment entry).
    ///
    /// ```rhai
    /// print(obs_product(0, 1));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn obs_product(i: INT, j: INT) -> Res<ObsSpec> {
        Ok(ObsSpec::Builtin(BuiltinObservable::Product(
            idx(i, "obs_product")?,
            idx(j, "obs_product")?,
        )))
    }

    /// Observable: the mean of the components `(1/D) Σ x_i`.
    ///
    /// ```rhai
    /// print(obs_mean());
    /// ```
    pub fn obs_mean() -> ObsSpec {
        ObsSpec::Builtin(BuiltinObservable::Mean)
    }

    /// Observable: the energy `½|x|²`.
    ///
    /// ```rhai
    /// print(obs_energy());
    /// ```
    pub fn obs_energy() -> ObsSpec {
        ObsSpec::Builtin(BuiltinObservable::Energy)
    }

    /// An observable from a closure `|x| -> number`, with a legend name. (A bare closure is
    /// accepted wherever observables are, named "A(x)".)
    ///
    /// ```rhai
    /// let a = observable("x0 x1", |x| x[0] * x[1]);
    /// assert_eq(a.name, "x0 x1");
    /// ```
    pub fn observable(name: &str, f: FnPtr) -> ObsSpec {
        ObsSpec::Closure {
            f,
            name: name.to_string(),
        }
    }

    /// Legend name of an observable.
    ///
    /// ```rhai
    /// assert_eq(obs_moment(1, 2).name, "x_1^2");
    /// ```
    #[rhai_fn(get = "name", pure)]
    pub fn obs_name(o: &mut ObsSpec) -> String {
        o.name()
    }

    /// GFDT for a general perturbation and observables (SPEC 2):
    /// `R_A(t) = −⟨A(x(t)) B(x(0))⟩`, `B = ∇·u + u·s`, for any score (exact, Gaussian, KGMM,
    /// learned). Returns a response `[lags, n_obs]` (column k: observable k, raw — not
    /// normalised) with jackknife error bars. Options: `window` (10, time), `step` (false:
    /// return `∫₀ᵗ R`), `center` (true: covariance form), `blocks` (16, jackknife segments
    /// when there are < 8 members). Closure perturbations/observables are evaluated on the
    /// script's thread (members one after another).
    ///
    /// ```rhai
    /// let sys = linear_ou(#{ A: [[-1.0]] });
    /// let tr = sys.simulate(#{ members: 8, duration: 100.0 });
    /// let r = gfdt_general(tr, exact_score(sys), [1.0], [obs_x(0), obs_moment(0, 2)], #{ window: 2.0 });
    /// assert_eq(r.values.shape, [21, 2]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn gfdt_general(
        ctx: NativeCallContext,
        traj: TrajHandle,
        score: ScoreHandle,
        u: Dynamic,
        obs: Dynamic,
        opts: Map,
    ) -> Res<Response> {
        let o: GfdtOpts = parse_opts(opts, "gfdt_general")?;
        let u = PertSpec::from_dynamic(&u, "gfdt_general")?;
        let obs = obs_list(&obs, "gfdt_general")?;
        let d = traj.0.state_dim();
        Ok(with_u_obs(&ctx, &u, &obs, d, |pu, ob| {
            gfdt_fn(&traj.0, score.0.as_ref(), pu, ob, &o)
        })?)
    }

    /// The Gaussian ("quasi-Gaussian") counterpart of `gfdt_general`: the same estimator with
    /// `s(x) = −C⁻¹(x − μ)` fitted to the trajectory. Named "Gaussian FDT". It is exact for
    /// linear systems and fails on skewed densities and on higher moments.
    ///
    /// ```rhai
    /// let tr = linear_ou(#{ A: [[-1.0]] }).simulate(#{ members: 8, duration: 100.0 });
    /// let r = gaussian_fdt_general(tr, [1.0], obs_x(0), #{ window: 2.0, step: true });
    /// assert_eq(r.name, "Gaussian FDT");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn gaussian_fdt_general(
        ctx: NativeCallContext,
        traj: TrajHandle,
        u: Dynamic,
        obs: Dynamic,
        opts: Map,
    ) -> Res<Response> {
        let o: GfdtOpts = parse_opts(opts, "gaussian_fdt_general")?;
        let u = PertSpec::from_dynamic(&u, "gaussian_fdt_general")?;
        let obs = obs_list(&obs, "gaussian_fdt_general")?;
        let d = traj.0.state_dim();
        Ok(with_u_obs(&ctx, &u, &obs, d, |pu, ob| {
            gfdt_general_gaussian(&traj.0, pu, ob, &o)
        })?)
    }

    /// Impulse perturbation ensemble (ground truth, SPEC 2): from each start state (rows of
    /// `starts` [E, D], e.g. `start_states(tr, spacing, E)`) a pair kicked by `±eps u(x₀)` runs
    /// with common noise; the central difference of each observable is averaged. Response
    /// `[lags, n_obs]` ± stderr over experiments. Options: `eps` (0.01), `dt` (0.01),
    /// `save_every` (10), `window` (10), `seed` (0), `method` ("em" | "heun"). Native systems
    /// with built-in perturbation/observables run experiments in parallel.
    ///
    /// ```rhai
    /// let sys = linear_ou(#{ A: [[-1.0]] });
    /// let tr = sys.simulate(#{ members: 2, duration: 50.0 });
    /// let ens = impulse_ensemble(sys, [1.0], obs_x(0), start_states(tr, 2.0, 8), #{ window: 1.0 });
    /// assert_eq(ens.lags, 11);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn impulse_ensemble(
        ctx: NativeCallContext,
        sys: SdeHandle,
        u: Dynamic,
        obs: Dynamic,
        starts: NdArray,
        opts: Map,
    ) -> Res<Response> {
        ensemble(ctx, sys, u, obs, starts, opts, false)
    }

    /// Step-forcing perturbation ensemble: from each start state a pair runs with drift
    /// `F ± eps u(x)` from t = 0 on (common noise); estimates the step response `∫₀ᵗ R`.
    /// Same options as `impulse_ensemble`.
    ///
    /// ```rhai
    /// let sys = reduced_climate();
    /// let tr = sys.simulate(#{ members: 2, duration: 50.0 });
    /// let ens = step_ensemble(sys, [1.0], obs_x(0), start_states(tr, 2.0, 8), #{ window: 1.0, eps: 0.05 });
    /// assert_eq(ens.values.get([0, 0]), 0.0);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn step_ensemble(
        ctx: NativeCallContext,
        sys: SdeHandle,
        u: Dynamic,
        obs: Dynamic,
        starts: NdArray,
        opts: Map,
    ) -> Res<Response> {
        ensemble(ctx, sys, u, obs, starts, opts, true)
    }

    fn ensemble(
        ctx: NativeCallContext,
        sys: SdeHandle,
        u: Dynamic,
        obs: Dynamic,
        starts: NdArray,
        opts: Map,
        step: bool,
    ) -> Res<Response> {
        let what = if step {
            "step_ensemble"
        } else {
            "impulse_ensemble"
        };
        let o: EnsembleOpts = parse_opts(opts, what)?;
        let u = PertSpec::from_dynamic(&u, what)?;
        let obs = obs_list(&obs, what)?;
        let d = sys.dim();
        let st = starts.view().to_owned();
        let st = st
            .into_shape_with_order((starts.size() / d.max(1), d))
            .map_err(|_| {
                rt(format!(
                    "{what}: starts has shape {:?}; pass [E, {d}] states",
                    starts.shape()
                ))
            })?;
        Ok(sys.with_sde(&ctx, |s| {
            with_u_obs(&ctx, &u, &obs, d, |pu, ob| {
                if step {
                    step_fn(s, pu, ob, st.view(), &o)
                } else {
                    imp_fn(s, pu, ob, st.view(), &o)
                }
            })
        })?)
    }

    /// Step response `S(t) = ∫₀ᵗ R(τ) dτ` of an impulse response (trapezoid; error bars by the
    /// fully correlated bound, an upper bound).
    ///
    /// ```rhai
    /// let r = analytic_response(linear_ou(#{ A: [[-1.0]] }), #{ dt: 0.01, lags: 201 });
    /// let s = step_response(r);
    /// assert(abs(s.values.get([200, 0, 0]) - (1.0 - exp(-2.0))) < 1e-4);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn step_response(r: Response) -> Res<Response> {
        Ok(step_from_impulse(&r)?)
    }

    /// Response to the forcing `eps f(t)` by convolution with the impulse response:
    /// `δ⟨A⟩(t) = eps ∫₀ᵗ R(t − τ) f(τ) dτ`. `f` is a closure `|t| -> number` or an array of
    /// samples at the response's lags `t = k·dt`.
    ///
    /// ```rhai
    /// let r = analytic_response(linear_ou(#{ A: [[-1.0]] }), #{ dt: 0.1, lags: 51 });
    /// let y = forced_response(r, |t| sin(t), 0.1);
    /// assert_eq(y.lags, 51);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn forced_response(
        ctx: NativeCallContext,
        r: Response,
        f: Dynamic,
        eps: Dynamic,
    ) -> Res<Response> {
        let eps = num_arg(&eps, "forced_response: eps")?;
        let samples: Vec<f64> = if let Some(fp) = f.clone().try_cast::<FnPtr>() {
            // SAFETY: used only within this call, on this thread.
            let cc = unsafe { CallCtx::new(&ctx) };
            (0..r.lags())
                .map(|k| {
                    let t = k as f64 * r.dt;
                    let v = cc.call(&fp, vec![Dynamic::from_float(t)], "forcing profile f(t)")?;
                    scalar_result(&v, "forcing profile f(t)")
                })
                .collect::<crate::Result<_>>()?
        } else {
            NdArray::from_dynamic(&f, "forced_response: f")?
                .view()
                .iter()
                .copied()
                .collect()
        };
        Ok(response_to_forcing(&r, &samples, eps)?)
    }

    /// Exact step response of observables to a unit shift of F₀ (u = 1) in the reduced climate
    /// model, from the linearised Fokker–Planck equation (no sampling error). `[lags, n_obs]`
    /// on `#{ dt, lags }` (defaults 0.1, 51). Built-in observables only.
    ///
    /// ```rhai
    /// let r = exact_step_response(reduced_climate(), obs_moments(0, 2), #{ dt: 0.5, lags: 5 });
    /// assert_eq(r.values.shape, [5, 2]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn exact_step_response(
        ctx: NativeCallContext,
        sys: SdeHandle,
        obs: Dynamic,
        opts: Map,
    ) -> Res<Response> {
        let g: Grid = parse_opts(opts, "exact_step_response")?;
        let obs = obs_list(&obs, "exact_step_response")?;
        let rc = match &sys {
            SdeHandle::Native(_, Native::ReducedClimate(p)) => p.clone(),
            _ => {
                return Err(rt(format!(
                    "exact_step_response: system '{}' is not the reduced climate model; use \
                     step_ensemble for the ground truth",
                    sys.name()
                )))
            }
        };
        let mut r = with_u_obs(&ctx, &PertSpec::Const(vec![1.0]), &obs, 1, |_, ob| {
            rc.exact_step_response(ob, g.dt, g.lags)
        })?;
        r.name = "exact (Fokker–Planck)".into();
        Ok(r)
    }

    /// Describes a perturbation.
    ///
    /// ```rhai
    /// print(perturbation([[1.0, 0.0], [0.0, 1.0]]));
    /// ```
    #[rhai_fn(name = "to_string", pure)]
    pub fn pert_to_string(u: &mut PertSpec) -> String {
        u.describe()
    }

    /// Describes a perturbation (debug form).
    ///
    /// ```rhai
    /// debug(perturbation([1.0]));
    /// ```
    #[rhai_fn(name = "to_debug", pure)]
    pub fn pert_to_debug(u: &mut PertSpec) -> String {
        u.describe()
    }

    /// Describes an observable.
    ///
    /// ```rhai
    /// print(obs_energy());
    /// ```
    #[rhai_fn(name = "to_string", pure)]
    pub fn obs_to_string(o: &mut ObsSpec) -> String {
        format!("observable {}", o.name())
    }

    /// Describes an observable (debug form).
    ///
    /// ```rhai
    /// debug(obs_mean());
    /// ```
    #[rhai_fn(name = "to_debug", pure)]
    pub fn obs_to_debug(o: &mut ObsSpec) -> String {
        format!("observable {}", o.name())
    }
}
