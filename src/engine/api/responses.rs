//! Script API for linear response: Gaussian FDT, GFDT with any score, perturbation ensembles,
//! the analytic OU response and the accuracy metric.
use rhai::plugin::*;
use rhai::Module;
use serde::Deserialize;

/// The `response` topic module.
pub fn module() -> Module {
    let mut m = exported_module!(responses_api);
    m.set_custom_type::<crate::core::response::Response>("response");
    m
}

/// Options of `gaussian_fdt`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FdtOpts {
    /// Number of lags (lag ℓ at ℓ·dt of the trajectory).
    pub lags: usize,
}
impl Default for FdtOpts {
    fn default() -> Self {
        FdtOpts { lags: 51 }
    }
}

/// Options of `gfdt`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GfdtOpts {
    pub lags: usize,
    /// `S(t)S(0)⁻¹` (true) or the raw `−⟨x(t)s(x(0))ᵀ⟩` (false).
    pub normalized: bool,
}
impl Default for GfdtOpts {
    fn default() -> Self {
        GfdtOpts {
            lags: 51,
            normalized: true,
        }
    }
}

/// Options of `analytic_response`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalyticOpts {
    pub lags: usize,
    /// Lag spacing (time units).
    pub dt: f64,
}
impl Default for AnalyticOpts {
    fn default() -> Self {
        AnalyticOpts { lags: 51, dt: 1.0 }
    }
}

/// Options of `rel_err`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RelErrOpts {
    /// Curves compared: offsets `[dx, dy]` (grids) or indices `[i, j]` (vectors); `None`:
    /// [`crate::response::default_curves`].
    pub offsets: Option<Vec<Vec<usize>>>,
    /// Largest lag time compared.
    pub tmax: f64,
}
impl Default for RelErrOpts {
    fn default() -> Self {
        RelErrOpts {
            offsets: None,
            tmax: 50.0,
        }
    }
}

#[fdtlab_macros::guarded]
#[export_module]
pub mod responses_api {
    use super::{AnalyticOpts, FdtOpts, GfdtOpts, RelErrOpts};
    use crate::core::response::Response;
    use crate::engine::array::NdArray;
    use crate::engine::error::rt;
    use crate::engine::handles::{GridSystem, ScoreHandle, TrajHandle};
    use crate::engine::options::parse_opts;
    use crate::response::fdt_periodic::{gaussian_fdt_periodic, gfdt_periodic};
    use crate::response::fdt_vec::{gaussian_fdt_vec, gfdt_vec};
    use crate::response::metrics::rel_err as rel_err_fn;
    use crate::systems::impulse::{impulse_response as ac_impulse, ImpulseOpts};
    use crate::systems::ou_green::ou_green_response;
    use ndarray::{Array1, IxDyn};
    use rhai::{Array, Dynamic, EvalAltResult, Map, FLOAT, INT};

    type Res<T> = Result<T, Box<EvalAltResult>>;

    /// Gaussian ("quasi-Gaussian") FDT `R(t) = C(t) C(0)⁻¹` from a trajectory; on grids C is
    /// circulant and the division is per Fourier mode. Options: `lags` (51). Standard errors
    /// by delete-one jackknife over members (or time segments when there are fewer than 8).
    ///
    /// ```rhai
    /// let tr = ou(#{ n: 8 }).simulate(#{ members: 2, spinup: 5.0, duration: 60.0 });
    /// let g = gaussian_fdt(tr, #{ lags: 11 });
    /// assert_eq(g.lags, 11);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn gaussian_fdt(traj: TrajHandle, opts: Map) -> Res<Response> {
        let o: FdtOpts = parse_opts(opts, "gaussian_fdt")?;
        if super::super::scores::is_grid(&traj.0) {
            Ok(gaussian_fdt_periodic(&traj.0, o.lags)?)
        } else {
            Ok(gaussian_fdt_vec(&traj.0, o.lags)?)
        }
    }

    /// GFDT with any score: `R(t) = −⟨x(t) s(x(0))ᵀ⟩` (raw) or `S(t)S(0)⁻¹` (normalised, the
    /// default, as in the paper's figures). Options: `lags` (51), `normalized` (true). On grids
    /// the estimate is averaged over all source pixels (translation invariance).
    ///
    /// ```rhai
    /// let sys = ou(#{ n: 8 });
    /// let tr = sys.simulate(#{ members: 2, spinup: 5.0, duration: 60.0 });
    /// let r = gfdt(tr, exact_score(sys), #{ lags: 11, normalized: false });
    /// assert_eq(r.normalized, false);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn gfdt(traj: TrajHandle, score: ScoreHandle, opts: Map) -> Res<Response> {
        let o: GfdtOpts = parse_opts(opts, "gfdt")?;
        if super::super::scores::is_grid(&traj.0) {
            Ok(gfdt_periodic(
                &traj.0,
                score.0.as_ref(),
                o.lags,
                o.normalized,
            )?)
        } else {
            Ok(gfdt_vec(&traj.0, score.0.as_ref(), o.lags, o.normalized)?)
        }
    }

    /// Perturbation-ensemble ground truth: for each experiment a control and a perturbed copy
    /// start from a state of `starts` (`[S, N, N]`, see `start_states`), kicked by `±eps`, with
    /// common random numbers; the central difference is averaged. Options: `eps` (0.0625),
    /// `window` (50 time units), `save_every` (0 = one time unit), `experiments` (128),
    /// `mode` ("pixel" kicks pixel (1,1); "random_signs" kicks all pixels with random signs and
    /// correlates — about 75× fewer experiments for the same error on Allen–Cahn), `seed`.
    ///
    /// ```rhai
    /// let sys = ou(#{ n: 8 });
    /// let tr = sys.simulate(#{ members: 2, spinup: 5.0, duration: 20.0 });
    /// let ens = impulse_response(sys, start_states(tr, 5.0, 4), #{ experiments: 4, window: 5.0 });
    /// assert_eq(ens.lags, 6);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn impulse_response(sys: GridSystem, starts: NdArray, opts: Map) -> Res<Response> {
        let o: ImpulseOpts = parse_opts(opts, "impulse_response")?;
        let n = sys.0.n();
        let v = starts.view();
        let s3 = v.into_dimensionality::<ndarray::Ix3>().map_err(|_| {
            rt(format!(
                "impulse_response: starts has shape {:?}; expected [S, {n}, {n}] (use start_states)",
                starts.shape()
            ))
        })?;
        Ok(ac_impulse(&sys.0, s3, &o)?)
    }

    /// The exact OU response (Green's function of `κΔ − U∂ₓ − γ`, exact in Fourier space) of a
    /// linear grid system (λ = 0). Options: `lags` (51), `dt` (1.0, lag spacing in time units);
    /// any number of lags whose `[lags, N, N]` values fit the memory budget.
    ///
    /// ```rhai
    /// let r = analytic_response(ou(#{ n: 8 }), #{ lags: 5, dt: 1.0 });
    /// assert_eq(r.curve([0, 0]).value[0], 1.0);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn analytic_response(sys: GridSystem, opts: Map) -> Res<Response> {
        let o: AnalyticOpts = parse_opts(opts, "analytic_response")?;
        Ok(ou_green_response(sys.0.params(), o.dt, o.lags)?)
    }

    /// Relative L2 error `‖R̂ − R_ref‖₂ / ‖R_ref‖₂` over the curves `offsets` and lags
    /// `t ≤ tmax` (SPEC accuracy metric), with its standard error propagated from both
    /// responses. Options: `offsets` (default: up to four curves `[k, 0]` that fit both — on a
    /// grid [[0,0],[1,0],[2,0],[3,0]]), `tmax` (50). Returns
    /// `#{ value, stderr }`.
    ///
    /// ```rhai
    /// let a = analytic_response(ou(#{ n: 8 }), #{ lags: 5 });
    /// let e = rel_err(a, a, #{ tmax: 4.0 });
    /// assert_eq(e.value, 0.0);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn rel_err(est: Response, reference: Response, opts: Map) -> Res<Map> {
        let o: RelErrOpts = parse_opts(opts, "rel_err")?;
        let offsets = o
            .offsets
            .unwrap_or_else(|| crate::response::default_curves(&[&est, &reference]));
        let e = rel_err_fn(&est, &reference, &offsets, o.tmax)?;
        let mut m = Map::new();
        m.insert("value".into(), Dynamic::from_float(e.value));
        m.insert("stderr".into(), Dynamic::from_float(e.stderr));
        Ok(m)
    }

    /// One curve of a response: `#{ t, value, stderr }` (ndarrays over lags) at an offset
    /// `[dx, dy]` from the kicked pixel (grids) or an index pair `[i, j]` (vectors).
    ///
    /// ```rhai
    /// let c = analytic_response(ou(#{ n: 8 }), #{ lags: 3 }).curve([1, 0]);
    /// assert_eq(c.t.to_array(), [0.0, 1.0, 2.0]);
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn curve(r: &mut Response, at: Array) -> Res<Map> {
        let idx = super::idx_arg(&Dynamic::from(at), "curve")?;
        let (v, e) = r.curve(&idx).ok_or_else(|| {
            rt(format!(
                "curve: index {idx:?} does not fit a response with values of shape {:?} per \
                 lag; e.g. {:?}",
                r.tail(),
                crate::response::default_curves(&[&*r])
                    .first()
                    .cloned()
                    .unwrap_or_default()
            ))
        })?;
        let arr = |x: Vec<f64>| Dynamic::from(NdArray::from_array(Array1::from(x).into_dyn()));
        let mut m = Map::new();
        m.insert("t".into(), arr(r.times()));
        m.insert("value".into(), arr(v));
        m.insert("stderr".into(), arr(e));
        Ok(m)
    }

    /// Legend name.
    ///
    /// ```rhai
    /// assert_eq(analytic_response(ou(#{ n: 8 }), #{ lags: 2 }).name, "analytic");
    /// ```
    #[rhai_fn(get = "name", pure)]
    pub fn name(r: &mut Response) -> String {
        r.name.clone()
    }

    /// A copy with another legend name.
    ///
    /// ```rhai
    /// let r = analytic_response(ou(#{ n: 8 }), #{ lags: 2 }).rename("exact");
    /// assert_eq(r.name, "exact");
    /// ```
    #[rhai_fn(pure)]
    pub fn rename(r: &mut Response, name: &str) -> Response {
        let mut c = r.clone();
        c.name = name.to_string();
        c
    }

    /// Lag spacing (time units).
    ///
    /// ```rhai
    /// assert_eq(analytic_response(ou(#{ n: 8 }), #{ lags: 2, dt: 0.5 }).dt, 0.5);
    /// ```
    #[rhai_fn(get = "dt", pure)]
    pub fn dt(r: &mut Response) -> FLOAT {
        r.dt
    }

    /// Number of lags.
    ///
    /// ```rhai
    /// assert_eq(analytic_response(ou(#{ n: 8 }), #{ lags: 7 }).lags, 7);
    /// ```
    #[rhai_fn(get = "lags", pure)]
    pub fn lags(r: &mut Response) -> INT {
        r.lags() as INT
    }

    /// True for the normalised form `S(t)S(0)⁻¹`.
    ///
    /// ```rhai
    /// assert_eq(analytic_response(ou(#{ n: 8 }), #{ lags: 2 }).normalized, false);
    /// ```
    #[rhai_fn(get = "normalized", pure)]
    pub fn normalized(r: &mut Response) -> bool {
        r.normalized
    }

    /// All values `[lags, ...]` as an ndarray.
    ///
    /// ```rhai
    /// assert_eq(analytic_response(ou(#{ n: 8 }), #{ lags: 2 }).values.shape, [2, 8, 8]);
    /// ```
    #[rhai_fn(get = "values", pure)]
    pub fn values(r: &mut Response) -> NdArray {
        NdArray::from_array(r.values.clone())
    }

    /// Standard errors (same shape as `values`), or `()` when the estimator has none.
    ///
    /// ```rhai
    /// assert_eq(analytic_response(ou(#{ n: 8 }), #{ lags: 2 }).stderr, ());
    /// ```
    #[rhai_fn(get = "stderr", pure)]
    pub fn stderr(r: &mut Response) -> Dynamic {
        match &r.stderr {
            Some(s) => Dynamic::from(NdArray::from_array(s.clone())),
            None => Dynamic::UNIT,
        }
    }

    /// Lag times (time units) as an ndarray.
    ///
    /// ```rhai
    /// assert_eq(analytic_response(ou(#{ n: 8 }), #{ lags: 2 }).times.to_array(), [0.0, 1.0]);
    /// ```
    #[rhai_fn(get = "times", pure)]
    pub fn times(r: &mut Response) -> NdArray {
        let t = r.times();
        NdArray::from_array(ndarray::ArrayD::from_shape_vec(IxDyn(&[t.len()]), t).unwrap())
    }

    /// Saves curves of one or more responses as CSV (columns `t`, then `value` and `stderr`
    /// per response and offset) or JSON (by extension). Options: `offsets` (default: as
    /// `plot_responses`).
    ///
    /// ```rhai
    /// let a = analytic_response(ou(#{ n: 8 }), #{ lags: 3 });
    /// save_responses(out_path("r.csv"), [a], #{ offsets: [[0, 0], [1, 0]] });
    /// save_responses(out_path("r.json"), [a], #{ offsets: [[0, 0]] });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn save_responses(path: &str, responses: Array, opts: Map) -> Res<()> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct O {
            #[serde(default)]
            offsets: Option<Vec<Vec<usize>>>,
        }
        let o: O = parse_opts(opts, "save_responses")?;
        let rs = super::responses_of(&responses, "save_responses")?;
        let offsets = o
            .offsets
            .unwrap_or_else(|| crate::response::default_curves(&rs.iter().collect::<Vec<_>>()));
        super::write_curves(std::path::Path::new(path), &rs, &offsets)?;
        Ok(())
    }

    /// Summary line.
    ///
    /// ```rhai
    /// print(analytic_response(ou(#{ n: 8 }), #{ lags: 2 }));
    /// ```
    #[rhai_fn(name = "to_string", pure)]
    pub fn to_string(r: &mut Response) -> String {
        super::describe(r)
    }

    /// Summary line (debug form).
    ///
    /// ```rhai
    /// debug(analytic_response(ou(#{ n: 8 }), #{ lags: 2 }));
    /// ```
    #[rhai_fn(name = "to_debug", pure)]
    pub fn to_debug(r: &mut Response) -> String {
        super::describe(r)
    }
}

fn describe(r: &crate::core::response::Response) -> String {
    format!(
        "response '{}': {} lags × {:?}, dt = {}{}{}",
        r.name,
        r.lags(),
        &r.values.shape()[1..],
        r.dt,
        if r.normalized { ", normalised" } else { "" },
        if r.stderr.is_some() {
            ", with standard errors"
        } else {
            ""
        }
    )
}

/// The responses in a script array (error naming the position of anything else).
pub fn responses_of(
    arr: &rhai::Array,
    what: &str,
) -> Result<Vec<crate::core::response::Response>, Box<rhai::EvalAltResult>> {
    arr.iter()
        .enumerate()
        .map(|(i, d)| {
            d.clone()
                .try_cast::<crate::core::response::Response>()
                .ok_or_else(|| {
                    crate::engine::error::rt(format!(
                        "{what}: item {i} is {}, expected a response",
                        crate::engine::handles::script_type(d)
                    ))
                })
        })
        .collect()
}

/// Writes curves as CSV or JSON (by extension), atomically.
pub fn write_curves(
    path: &std::path::Path,
    rs: &[crate::core::response::Response],
    offsets: &[Vec<usize>],
) -> crate::Result<()> {
    use crate::Error;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut cols: Vec<(String, Vec<f64>)> = Vec::new();
    let lags = rs.iter().map(|r| r.lags()).min().unwrap_or(0);
    let dt = rs.first().map(|r| r.dt).unwrap_or(1.0);
    for r in rs {
        if (r.dt - dt).abs() > 1e-9 * dt {
            return Err(Error::invalid(format!(
                "save_responses: '{}' has dt = {} but the first has dt = {dt}; save them separately",
                r.name, r.dt
            )));
        }
        for o in offsets {
            let (v, e) = r.curve(o).ok_or_else(|| {
                Error::invalid(format!(
                    "save_responses: offset {o:?} does not fit '{}' (values of shape {:?} per \
                     lag); pass offsets that index it, e.g. offsets: {:?}",
                    r.name,
                    r.tail(),
                    crate::response::default_curves(&[r])
                ))
            })?;
            let key = format!("{} {:?}", r.name, o);
            cols.push((format!("{key} value"), v[..lags].to_vec()));
            cols.push((format!("{key} stderr"), e[..lags].to_vec()));
        }
    }
    let t: Vec<f64> = (0..lags).map(|l| l as f64 * dt).collect();
    let text = match ext.as_str() {
        "csv" => {
            let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
            let mut s = std::iter::once("t".to_string())
                .chain(cols.iter().map(|(k, _)| q(k)))
                .collect::<Vec<_>>()
                .join(",");
            s.push('\n');
            for l in 0..lags {
                let row: Vec<String> = std::iter::once(format!("{}", t[l]))
                    .chain(cols.iter().map(|(_, c)| format!("{}", c[l])))
                    .collect();
                s.push_str(&row.join(","));
                s.push('\n');
            }
            s
        }
        "json" => {
            let mut obj = serde_json::Map::new();
            obj.insert("t".into(), serde_json::json!(t));
            for (k, c) in &cols {
                obj.insert(k.clone(), serde_json::json!(c));
            }
            serde_json::to_string_pretty(&obj).map_err(|e| Error::io(path, e))? + "\n"
        }
        _ => {
            return Err(Error::invalid(format!(
                "save_responses: '{}' must end in .csv or .json",
                path.display()
            )))
        }
    };
    crate::core::atomic::write_bytes(path, text.as_bytes())
}

fn idx_arg(d: &rhai::Dynamic, what: &str) -> Result<Vec<usize>, Box<rhai::EvalAltResult>> {
    use crate::engine::error::rt;
    use rhai::Array;
    let a = d
        .read_lock::<Array>()
        .ok_or_else(|| rt(format!("{what}: expected an index array like [1, 0]")))?;
    a.iter()
        .map(|x| match x.as_int() {
            Ok(i) if i >= 0 => Ok(i as usize),
            _ => Err(rt(format!("{what}: indices must be non-negative integers"))),
        })
        .collect()
}
