//! The analytic impulse response of the OU process (Allen–Cahn with λ = 0).
//!
//! With λ = 0 the drift is linear, `κΔ − U∂ₓ − γ`, and the response of θ(x + r, t) to a unit
//! kick of θ(x, 0) is its Green's function, exact in Fourier space:
//! `Ĝ_k(t) = exp((−κ|k|² − i U kx − γ) t)` with kx := 0 at the x-Nyquist index (the
//! simulator's convention), `G(r, t) = IFFT(Ĝ(t))(r)`. The noise does not enter.
use crate::core::response::Response;
use crate::core::spectral::Spectral2d;
use crate::systems::allen_cahn::AcParams;
use crate::{Error, Result};
use ndarray::Array3;
use num_complex::Complex64 as C64;

/// Analytic OU response `[lags, N, N]` at times `l · dt_lag`, indexed by the offset (dx, dy)
/// mod N from the kicked pixel; name "analytic", no stderr, not normalised.
/// Errors unless λ = 0 (the Allen–Cahn response has no closed form). γ = 0 is accepted here
/// (the Green's function exists even though the process has no stationary state).
pub fn ou_green_response(params: &AcParams, dt_lag: f64, lags: usize) -> Result<Response> {
    if params.lambda != 0.0 {
        return Err(Error::invalid(format!(
            "the analytic response exists only for the linear (OU) system, but lambda = {}; \
             pass lambda: 0 or use the perturbation ensemble (impulse_response)",
            params.lambda
        )));
    }
    let n = params.n;
    if n < 4 || !n.is_multiple_of(2) {
        return Err(Error::invalid(format!(
            "n = {n} must be even and at least 4; pass e.g. n: 32"
        )));
    }
    for (name, v) in [("kappa", params.kappa), ("gamma", params.gamma)] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(Error::invalid(format!(
                "{name} = {v} must be finite and ≥ 0"
            )));
        }
    }
    if !params.u.is_finite() {
        return Err(Error::invalid(format!("u = {} must be finite", params.u)));
    }
    if !(dt_lag.is_finite() && dt_lag > 0.0) {
        return Err(Error::invalid(format!(
            "lag spacing dt = {dt_lag} must be positive and finite; pass e.g. 1.0"
        )));
    }
    if lags == 0 {
        return Err(Error::invalid(
            "lags = 0; pass the number of lags ≥ 1, e.g. 51 (times 0..50)",
        ));
    }
    crate::budget::Request::new("analytic_response")
        .buffer("the response", &[("lags", lags), ("", n), ("", n)], 8)
        .buffer(
            "the spectral tables",
            &[("", n), ("modes", n / 2 + 1)],
            24 + 2 * 16,
        )
        .fix("use fewer lags or a smaller n")
        .check()?;
    let sp = Spectral2d::new(n)?;
    let mut ws = sp.workspace();
    let sym: Vec<C64> = (0..sp.spec_len())
        .map(|i| {
            let kx = if sp.is_x_nyquist(i) { 0.0 } else { sp.kx()[i] };
            C64::new(-params.kappa * sp.k2()[i] - params.gamma, -params.u * kx)
        })
        .collect();
    let mut spec = vec![C64::new(0.0, 0.0); sp.spec_len()];
    let mut values = Array3::<f64>::zeros((lags, n, n));
    for (l, mut frame) in values.outer_iter_mut().enumerate() {
        if l % 256 == 255 {
            // Many lags are allowed now that only memory bounds them: let Ctrl-C stop it.
            crate::core::interrupt::check("analytic_response")?;
        }
        let t = l as f64 * dt_lag;
        for (s, z) in spec.iter_mut().zip(&sym) {
            *s = (z * t).exp();
        }
        let out = frame.as_slice_mut().expect("fresh array is contiguous");
        sp.inverse(&spec, out, &mut ws);
    }
    Ok(Response {
        name: "analytic".into(),
        dt: dt_lag,
        values: values.into_dyn(),
        stderr: None,
        normalized: false,
    })
}
