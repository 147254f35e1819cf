//! Step responses and responses to arbitrary forcing profiles from an impulse response
//! (SPEC 2): `δ⟨A⟩(t) = ε ∫₀ᵗ R(t − τ) f(τ) dτ`.
//!
//! Both work on any [`Response`] (`values` `[L, ...]`, lags `dt` apart), using the trapezoid
//! rule on the lag grid (error O(dt²) for smooth R and f).
//!
//! **Error bars.** The input carries one standard error per lag but not their correlations.
//! Errors of one estimate at neighbouring lags are strongly positively correlated (they come
//! from the same data), so the propagated error is the fully correlated bound
//! `σ_S(t) = Σ_k w_k |f_k| σ_R(t − τ_k)` (triangle inequality for standard deviations): an upper
//! bound, never an underestimate. [`crate::response::general::GfdtOpts::step`] gives
//! jackknife error bars of a GFDT step response that account for the correlations exactly.
use crate::core::response::Response;
use crate::{Error, Result};
use ndarray::{Array2, ArrayD, IxDyn};

fn flat(a: &ArrayD<f64>) -> Result<Array2<f64>> {
    let l = a.shape()[0];
    let rest: usize = a.shape()[1..].iter().product();
    a.as_standard_layout()
        .into_owned()
        .into_shape_with_order((l, rest))
        .map_err(|e| Error::shape(format!("response values: {e}")))
}

fn unflat(a: Array2<f64>, shape: &[usize]) -> Result<ArrayD<f64>> {
    a.into_shape_with_order(IxDyn(shape))
        .map_err(|e| Error::shape(format!("response values: {e}")))
}

fn check(r: &Response, what: &str) -> Result<()> {
    if r.values.ndim() == 0 || r.lags() == 0 || !(r.dt > 0.0 && r.dt.is_finite()) {
        return Err(Error::invalid(format!(
            "{what}: the response '{}' has no lags or dt = {}; pass an impulse response",
            r.name, r.dt
        )));
    }
    Ok(())
}

/// Step response `S(t_l) = ∫₀^{t_l} R(τ) dτ` (trapezoid; `S(0) = 0`), same shape as `r`.
/// Named "<name> (step)"; stderr by the correlated bound (module doc).
pub fn step_from_impulse(r: &Response) -> Result<Response> {
    let f = vec![1.0; r.lags()];
    let mut s = response_to_forcing(r, &f, 1.0)?;
    s.name = format!("{} (step)", r.name);
    Ok(s)
}

/// Response to the forcing `ε f(t)`: `δ⟨A⟩(t_l) = ε Σ_k w_k R(t_l − τ_k) f(τ_k) dt` with
/// trapezoid weights `w` on `τ_k = k dt, k = 0..l`. `f` is sampled on the lag grid
/// (`f[k] = f(k dt)`); the output has `min(L, f.len())` lags and the trailing shape of `r`.
/// Named "<name> (forced)"; stderr by the correlated bound (module doc).
pub fn response_to_forcing(r: &Response, f: &[f64], eps: f64) -> Result<Response> {
    check(r, "response to forcing")?;
    if f.is_empty() || f.iter().any(|v| !v.is_finite()) || !eps.is_finite() {
        return Err(Error::invalid(format!(
            "response to forcing: f has {} samples (finite ones needed) and eps = {eps}; pass \
             f sampled at the response's lags t = k·{}",
            f.len(),
            r.dt
        )));
    }
    let lags = r.lags().min(f.len());
    let shape: Vec<usize> = std::iter::once(lags)
        .chain(r.values.shape()[1..].iter().cloned())
        .collect();
    let rv = flat(&r.values)?;
    let re = r.stderr.as_ref().map(flat).transpose()?;
    let cols = rv.ncols();
    let mut out = Array2::<f64>::zeros((lags, cols));
    let mut err = Array2::<f64>::zeros((lags, cols));
    for l in 1..lags {
        for k in 0..=l {
            let w = if k == 0 || k == l { 0.5 } else { 1.0 } * r.dt * f[k] * eps;
            for c in 0..cols {
                out[[l, c]] += w * rv[[l - k, c]];
                if let Some(e) = &re {
                    err[[l, c]] += w.abs() * e[[l - k, c]];
                }
            }
        }
    }
    Ok(Response {
        name: format!("{} (forced)", r.name),
        dt: r.dt,
        values: unflat(out, &shape)?,
        stderr: match re {
            Some(_) => Some(unflat(err, &shape)?),
            None => None,
        },
        normalized: r.normalized,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expo(lags: usize, dt: f64) -> Response {
        let v = ArrayD::from_shape_fn(IxDyn(&[lags, 2]), |i| {
            let t = i[0] as f64 * dt;
            if i[1] == 0 {
                (-t).exp()
            } else {
                (-2.0 * t).exp() * 3.0
            }
        });
        Response {
            name: "exp".into(),
            dt,
            stderr: Some(ArrayD::from_elem(IxDyn(&[lags, 2]), 0.01)),
            values: v,
            normalized: false,
        }
    }

    #[test]
    fn step_of_exponential() {
        let (lags, dt) = (201, 0.01);
        let s = step_from_impulse(&expo(lags, dt)).unwrap();
        for l in [0, 1, 50, 200] {
            let t = l as f64 * dt;
            // Trapezoid error ≤ t dt² max|R''| / 12.
            assert!((s.values[[l, 0]] - (1.0 - (-t).exp())).abs() < 1e-5);
            assert!((s.values[[l, 1]] - 1.5 * (1.0 - (-2.0 * t).exp())).abs() < 1e-4);
            // Correlated bound: σ·t.
            let e = s.stderr.as_ref().unwrap()[[l, 0]];
            assert!((e - 0.01 * t).abs() < 1e-12);
        }
        assert_eq!(s.name, "exp (step)");
    }

    #[test]
    fn ramp_forcing_convolution() {
        // R = e^{-t}, f(t) = t: ∫₀ᵗ e^{-(t-τ)} τ dτ = t − 1 + e^{-t}.
        let (lags, dt) = (301, 0.01);
        let f: Vec<f64> = (0..400).map(|k| k as f64 * dt).collect();
        let s = response_to_forcing(&expo(lags, dt), &f, 2.0).unwrap();
        assert_eq!(s.values.shape(), &[301, 2]);
        for l in [10, 150, 300] {
            let t = l as f64 * dt;
            assert!((s.values[[l, 0]] - 2.0 * (t - 1.0 + (-t).exp())).abs() < 1e-4);
        }
        assert!(response_to_forcing(&expo(5, dt), &[f64::NAN], 1.0).is_err());
    }
}
