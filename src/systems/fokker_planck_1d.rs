//! Exact (deterministic) linear response of a 1-D SDE `dx = F(x) dt + √(2σ²) dW` by solving the
//! linearised Fokker–Planck equation — a reference without sampling error for the scalar
//! systems (reduced climate).
//!
//! In 1-D every drift is a gradient: `ρ ∝ exp(Φ/σ²)`, `Φ' = F`, and the probability flux is
//! `J = F p − σ² ∂ₓp = −σ² ρ ∂ₓ(p/ρ)`. Finite volumes on a uniform grid of cell centres `x_k`
//! with the square-root approximation of the flux,
//! `J_{k+½} = −(σ²/h) √(ρ_k ρ_{k+1}) (p_{k+1}/ρ_{k+1} − p_k/ρ_k)`, zero flux at the ends,
//! keep the discrete stationary density exact and are second order in h. A drift perturbation
//! `ε u(x)` adds the flux `ε u(x_{k+½}) √(ρ_k ρ_{k+1})` (for u = 1 this is exactly the derivative
//! of the discrete exponentially tilted density). The step response
//! `δp' = L δp + g`, `δp(0) = 0`, is integrated by Crank–Nicolson (tridiagonal solves) started
//! with four backward-Euler quarter steps (Rannacher smoothing, damps stiff modes);
//! `δ⟨A⟩(t) = Σ_k A(x_k) δp_k(t) h`. Errors: O(h²) in space (h = range/2000) and O(dt²) in time
//! (internal dt ≤ 0.005).
use crate::core::response::Response;
use crate::systems::observable::{check_all, Observable};
use crate::systems::perturbation::Perturbation;
use crate::{Error, Result};
use ndarray::Array2;

/// Cells of the grid.
const CELLS: usize = 2000;

/// Step response `∫₀ᵗ R_A` of each observable to the drift perturbation `u` (switched on at
/// t = 0) for the 1-D process with unnormalised log density `log_rho` (`= Φ/σ²`) and noise
/// `σ²` (= D/2, e.g. `s²` for the reduced climate). Values `[lags, n_obs]`, lags `dt` apart.
/// `range` is the grid `[lo, hi]`, which must cover the density (e.g. from
/// [`super::reduced_climate::Density1d`]).
pub fn step_response_1d(
    log_rho: impl Fn(f64) -> f64,
    sigma2: f64,
    range: (f64, f64),
    u: &dyn Perturbation,
    obs: &[&dyn Observable],
    dt: f64,
    lags: usize,
) -> Result<Response> {
    check_all(obs, 1)?;
    let (lo, hi) = range;
    let positive = |v: f64| v.is_finite() && v > 0.0;
    if u.dim() != 1 || !positive(sigma2) || !positive(hi - lo) || !positive(dt) || lags == 0 {
        return Err(Error::invalid(format!(
            "1-D Fokker–Planck response: needs a 1-D perturbation, σ² > 0, lo < hi, dt > 0 and \
             lags ≥ 1 (got D = {}, σ² = {sigma2}, [{lo}, {hi}], dt = {dt}, lags = {lags})",
            u.dim()
        )));
    }
    crate::budget::check(
        "exact_step_response",
        "the response",
        &[("lags", lags), ("observables", obs.len())],
        8,
        "use fewer lags",
    )?;
    let n = CELLS;
    let h = (hi - lo) / n as f64;
    let xs: Vec<f64> = (0..n).map(|k| lo + (k as f64 + 0.5) * h).collect();
    let logs: Vec<f64> = xs.iter().map(|&x| log_rho(x)).collect();
    let m = logs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return Err(Error::invalid(
            "1-D Fokker–Planck response: log ρ is not finite",
        ));
    }
    let mut rho: Vec<f64> = logs.iter().map(|l| (l - m).exp()).collect();
    let z: f64 = rho.iter().sum::<f64>() * h;
    rho.iter_mut().for_each(|r| *r /= z);
    // Interface weights w_{k+½} = √(ρ_k ρ_{k+1}), k = 0..n−2; c = σ² w / h.
    let w: Vec<f64> = (0..n - 1).map(|k| (rho[k] * rho[k + 1]).sqrt()).collect();
    let c: Vec<f64> = w.iter().map(|wk| sigma2 * wk / h).collect();
    // Tridiagonal L: lower[k] = L[k,k−1], diag[k], upper[k] = L[k,k+1].
    let mut lower = vec![0.0; n];
    let mut diag = vec![0.0; n];
    let mut upper = vec![0.0; n];
    for k in 0..n {
        let cl = if k > 0 { c[k - 1] } else { 0.0 };
        let cr = if k + 1 < n { c[k] } else { 0.0 };
        diag[k] = -(cl + cr) / (h * rho[k]);
        if k > 0 {
            lower[k] = cl / (h * rho[k - 1]);
        }
        if k + 1 < n {
            upper[k] = cr / (h * rho[k + 1]);
        }
    }
    // Source g_k = −(δJ_{k+½} − δJ_{k−½}) / h with δJ_{k+½} = u(x_{k+½}) w_{k+½}.
    let mut dj = vec![0.0; n + 1];
    let mut uu = [f64::NAN];
    for k in 0..n - 1 {
        u.u(&[lo + (k as f64 + 1.0) * h], &mut uu)?;
        if !uu[0].is_finite() {
            return Err(Error::invalid(format!(
                "1-D Fokker–Planck response: u is {} at x = {}",
                uu[0],
                lo + (k as f64 + 1.0) * h
            )));
        }
        dj[k + 1] = uu[0] * w[k];
    }
    let g: Vec<f64> = (0..n).map(|k| -(dj[k + 1] - dj[k]) / h).collect();
    let a_vals: Vec<Vec<f64>> = obs
        .iter()
        .map(|o| {
            xs.iter()
                .map(|&x| o.eval(&[x]))
                .collect::<Result<Vec<f64>>>()
        })
        .collect::<Result<_>>()?;
    let sub = (dt / 0.005).ceil().max(1.0) as usize;
    let tau = dt / sub as f64;
    let mut p = vec![0.0; n];
    let mut out = Array2::zeros((lags, obs.len()));
    let mut rhs = vec![0.0; n];
    let mut scratch = vec![0.0; n];
    // One θ-step: (I − θτL) p⁺ = (I + (1−θ)τL) p + τ g.
    let mut theta_step = |p: &mut Vec<f64>, theta: f64, tau: f64| {
        for k in 0..n {
            let mut lp = diag[k] * p[k];
            if k > 0 {
                lp += lower[k] * p[k - 1];
            }
            if k + 1 < n {
                lp += upper[k] * p[k + 1];
            }
            rhs[k] = p[k] + (1.0 - theta) * tau * lp + tau * g[k];
        }
        thomas(
            |k| -theta * tau * lower[k],
            |k| 1.0 - theta * tau * diag[k],
            |k| -theta * tau * upper[k],
            &rhs,
            &mut scratch,
            p,
        );
    };
    let mut started = false;
    for l in 1..lags {
        for _ in 0..sub {
            if !started {
                for _ in 0..4 {
                    theta_step(&mut p, 1.0, tau / 4.0);
                }
                started = true;
            } else {
                theta_step(&mut p, 0.5, tau);
            }
        }
        for (j, a) in a_vals.iter().enumerate() {
            out[[l, j]] = a.iter().zip(&p).map(|(x, y)| x * y).sum::<f64>() * h;
        }
        if l % 64 == 0 {
            crate::core::interrupt::check("Fokker–Planck response")?;
        }
    }
    if out.iter().any(|v| !v.is_finite()) {
        return Err(Error::BlowUp(
            "1-D Fokker–Planck response: the solution is not finite; check the range".into(),
        ));
    }
    Ok(Response {
        name: "exact (Fokker–Planck)".into(),
        dt,
        values: out.into_dyn(),
        stderr: None,
        normalized: false,
    })
}

/// Thomas algorithm for a tridiagonal system with coefficient closures (a: sub, b: diagonal,
/// c: super diagonal); `cp` is scratch of length n.
fn thomas(
    a: impl Fn(usize) -> f64,
    b: impl Fn(usize) -> f64,
    c: impl Fn(usize) -> f64,
    d: &[f64],
    cp: &mut [f64],
    x: &mut [f64],
) {
    let n = d.len();
    let mut beta = b(0);
    cp[0] = c(0) / beta;
    x[0] = d[0] / beta;
    for k in 1..n {
        beta = b(k) - a(k) * cp[k - 1];
        cp[k] = c(k) / beta;
        x[k] = (d[k] - a(k) * x[k - 1]) / beta;
    }
    for k in (0..n - 1).rev() {
        x[k] -= cp[k] * x[k + 1];
    }
}
