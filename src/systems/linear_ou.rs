//! Linear Ornstein–Uhlenbeck process `dx = A x dt + G dW` (SPEC 4) with everything exact:
//! `F(x) = A x`, noise `G` (D×K), `D = G Gᵀ`. `A` must be stable (every eigenvalue with
//! negative real part); then the stationary law is `N(0, C)` with `A C + C Aᵀ + G Gᵀ = 0`,
//! the score is `s(x) = −C⁻¹ x`, and the impulse response of `⟨x⟩` to a kick is `e^{At}`.
//!
//! Note that an integrator with finite dt samples a slightly different stationary law
//! (Euler–Maruyama: covariance error O(dt); stochastic Heun: O(dt²)), so comparisons of
//! simulated data with these exact formulas carry that bias.
use super::sde::{Drift, Noise, Sde};
use crate::core::lyapunov::{check_stable, lyapunov_schur, to_na, to_nd, RealSchur};
use crate::core::response::Response;
use crate::core::score::Score;
use crate::{Error, Result};
use ndarray::{Array2, Array3, ArrayView2, ArrayViewMut2};
use rand::RngExt;
use rand_distr::StandardNormal;
use std::sync::Arc;

/// The drift `F(x) = A x` (row-major A).
#[derive(Clone, Debug)]
pub struct LinearDrift {
    a: Vec<f64>,
    d: usize,
}

impl LinearDrift {
    /// `F(x) = A x` for a square matrix A.
    pub fn new(a: &Array2<f64>) -> Result<Self> {
        if a.nrows() != a.ncols() || a.nrows() == 0 {
            return Err(Error::shape(format!(
                "linear drift: A is {}×{}; pass a square D×D matrix",
                a.nrows(),
                a.ncols()
            )));
        }
        Ok(LinearDrift {
            a: a.iter().cloned().collect(),
            d: a.nrows(),
        })
    }
}

impl Drift for LinearDrift {
    fn dim(&self) -> usize {
        self.d
    }
    #[inline]
    fn eval(&self, x: &[f64], out: &mut [f64]) -> Result<()> {
        for (o, row) in out.iter_mut().zip(self.a.chunks_exact(self.d)) {
            *o = super::sde::dot(row, x);
        }
        Ok(())
    }
}

/// A stable linear OU process with its exact stationary covariance, score and responses.
#[derive(Clone, Debug)]
pub struct LinearOu {
    a: Array2<f64>,
    g: Array2<f64>,
    c: Array2<f64>,
    prec: Array2<f64>,
    chol: Array2<f64>,
}

impl LinearOu {
    /// `dx = A x dt + G dW` with A (D×D) stable and G (D×K). Errors when A is unstable or when
    /// the noise does not reach every direction (singular stationary covariance: no score).
    pub fn new(a: Array2<f64>, g: Array2<f64>) -> Result<Self> {
        let d = a.nrows();
        if a.ncols() != d || d == 0 {
            return Err(Error::shape(format!(
                "linear OU: A is {}×{}; pass a square D×D drift matrix with D ≥ 1, e.g. \
                 A: [[-1.0]]",
                a.nrows(),
                a.ncols()
            )));
        }
        if g.nrows() != d || g.ncols() == 0 {
            return Err(Error::shape(format!(
                "linear OU: G is {}×{} but A is {d}×{d}; pass G as a {d}×K noise matrix \
                 (K ≥ 1), or leave it out for the identity",
                g.nrows(),
                g.ncols()
            )));
        }
        if g.iter().any(|v| !v.is_finite()) {
            return Err(Error::invalid("linear OU: G has non-finite entries"));
        }
        let an = to_na(&a);
        let schur = check_stable(&an, "linear OU drift matrix A")?;
        let q = to_na(&g.dot(&g.t()));
        let cn = lyapunov_schur(&an, &schur, &q)?;
        let chol = nalgebra::Cholesky::new(cn.clone()).ok_or_else(|| {
            Error::invalid(
                "linear OU: the stationary covariance C is singular — the noise G does not reach \
                 every component through A (the pair (A, G) is not controllable), so the density \
                 and the score do not exist; add noise to the missing directions",
            )
        })?;
        let prec = chol.inverse();
        let prec = (&prec + prec.transpose()) * 0.5;
        Ok(LinearOu {
            a,
            g,
            c: to_nd(&cn),
            prec: to_nd(&prec),
            chol: to_nd(&chol.l()),
        })
    }

    /// Dimension D.
    pub fn dim(&self) -> usize {
        self.a.nrows()
    }
    /// Drift matrix A.
    pub fn a(&self) -> &Array2<f64> {
        &self.a
    }
    /// Noise matrix G.
    pub fn g(&self) -> &Array2<f64> {
        &self.g
    }
    /// Stationary covariance C (solves `A C + C Aᵀ + G Gᵀ = 0`).
    pub fn covariance(&self) -> &Array2<f64> {
        &self.c
    }
    /// Precision `C⁻¹`.
    pub fn precision(&self) -> &Array2<f64> {
        &self.prec
    }

    /// The SDE (drift `A x`, constant noise G) for simulation and ensembles. A square diagonal
    /// G is passed as [`Noise::Diagonal`] (D instead of D² operations per step).
    pub fn sde(&self) -> Result<Sde> {
        let g = &self.g;
        let diagonal = g.is_square() && g.indexed_iter().all(|((i, j), v)| i == j || *v == 0.0);
        let noise = if diagonal {
            Noise::Diagonal(g.diag().to_vec())
        } else {
            Noise::Constant(g.clone())
        };
        Sde::new(
            format!("linear OU (D = {})", self.dim()),
            Arc::new(LinearDrift::new(&self.a)?),
            noise,
        )
    }

    fn expm(&self, t: f64) -> Array2<f64> {
        to_nd(&(to_na(&self.a) * t).exp())
    }

    /// `e^{A k dt}` for k = 0..lags, as `[L, D, D]`. Computed as powers of `e^{A dt}`
    /// (relative rounding growth ~ L·1e-16, negligible for any sensible L).
    /// `copies` is the number of `[L, D, D]` arrays the caller holds at once (the propagators
    /// and its own result), checked against the memory budget.
    fn propagators(&self, dt: f64, lags: usize, copies: usize) -> Result<Array3<f64>> {
        if !(dt > 0.0 && dt.is_finite()) || lags == 0 {
            return Err(Error::invalid(format!(
                "linear OU response: dt = {dt}, lags = {lags}; pass dt > 0 and lags ≥ 1"
            )));
        }
        let d = self.dim();
        crate::budget::check(
            "analytic_response",
            "the response",
            &[("", copies), ("lags", lags), ("", d), ("", d)],
            8,
            "use fewer lags",
        )?;
        let e = self.expm(dt);
        let mut out = Array3::zeros((lags, d, d));
        let mut cur = Array2::<f64>::eye(d);
        for l in 0..lags {
            out.index_axis_mut(ndarray::Axis(0), l).assign(&cur);
            cur = e.dot(&cur);
        }
        Ok(out)
    }

    /// Exact impulse response of `⟨x⟩`: `R_ij(t) = (e^{At})_ij` (kick of component j, response
    /// of x_i) at t = l·dt, l = 0..lags; values `[L, D, D]`.
    pub fn exact_response(&self, dt: f64, lags: usize) -> Result<Response> {
        Ok(Response {
            name: "analytic".into(),
            dt,
            values: self.propagators(dt, lags, 1)?.into_dyn(),
            stderr: None,
            normalized: false,
        })
    }

    /// Lagged covariance `C(t) = ⟨x(t) x(0)ᵀ⟩ = e^{At} C`.
    pub fn lagged_covariance(&self, t: f64) -> Array2<f64> {
        self.expm(t).dot(&self.c)
    }

    fn check_m(&self, m: &Array2<f64>) -> Result<()> {
        let d = self.dim();
        if m.dim() != (d, d) || m.iter().any(|v| !v.is_finite()) {
            return Err(Error::shape(format!(
                "linear OU: perturbation matrix M must be a finite {d}×{d} matrix (it is {}×{})",
                m.nrows(),
                m.ncols()
            )));
        }
        Ok(())
    }

    /// Exact impulse response of the second moments `⟨x xᵀ⟩` to the perturbation `u(x) = M x`:
    /// `R(t) = e^{At} (M C + C Mᵀ) e^{Aᵀt}`, values `[L, D, D]` (entry (i, j) is the response
    /// of `⟨x_i x_j⟩`). Derivation: a kick `x₀ → (I + εM) x₀` with `x₀ ~ N(0, C)` gives
    /// `⟨x(t) x(t)ᵀ⟩ = e^{At}(I+εM) C (I+εM)ᵀ e^{Aᵀt} + C − e^{At} C e^{Aᵀt}`; differentiate at ε = 0.
    /// (The response of `⟨x⟩` to `u = M x` is zero: the law is symmetric under x → −x.)
    pub fn second_moment_response(
        &self,
        m: &Array2<f64>,
        dt: f64,
        lags: usize,
    ) -> Result<Response> {
        self.check_m(m)?;
        let p = m.dot(&self.c) + self.c.dot(&m.t());
        let e = self.propagators(dt, lags, 2)?;
        let mut out = Array3::zeros(e.dim());
        for l in 0..lags {
            let el = e.index_axis(ndarray::Axis(0), l);
            out.index_axis_mut(ndarray::Axis(0), l)
                .assign(&el.dot(&p).dot(&el.t()));
        }
        Ok(Response {
            name: "analytic".into(),
            dt,
            values: out.into_dyn(),
            stderr: None,
            normalized: false,
        })
    }

    /// Exact step response of `⟨x xᵀ⟩` to `u(x) = M x` switched on at t = 0:
    /// `Y(t) = ∫₀ᵗ e^{As} P e^{Aᵀs} ds = Y∞ − e^{At} Y∞ e^{Aᵀt}` with `P = MC + CMᵀ` and
    /// `A Y∞ + Y∞ Aᵀ + P = 0` (Y∞ is the change of the stationary covariance when A → A + εM).
    pub fn second_moment_step_response(
        &self,
        m: &Array2<f64>,
        dt: f64,
        lags: usize,
    ) -> Result<Response> {
        self.check_m(m)?;
        let p = m.dot(&self.c) + self.c.dot(&m.t());
        let an = to_na(&self.a);
        let schur = RealSchur::new(&an, "linear OU drift matrix A")?;
        let yinf = to_nd(&lyapunov_schur(&an, &schur, &to_na(&p))?);
        let e = self.propagators(dt, lags, 2)?;
        let mut out = Array3::zeros(e.dim());
        for l in 0..lags {
            let el = e.index_axis(ndarray::Axis(0), l);
            out.index_axis_mut(ndarray::Axis(0), l)
                .assign(&(&yinf - &el.dot(&yinf).dot(&el.t())));
        }
        Ok(Response {
            name: "analytic".into(),
            dt,
            values: out.into_dyn(),
            stderr: None,
            normalized: false,
        })
    }

    /// Exact impulse response of the moments `⟨x_iᵖ⟩`, p = 1..4, to a constant perturbation
    /// `u = v`, values `[L, 4]`. The kick shifts the mean by `m(t) = e^{At} v` and leaves the
    /// covariance unchanged, and `d/dμ E[(μ + σz)ᵖ]` at μ = 0 is `p σ^{p−1} E[z^{p−1}]`:
    /// p = 1: `m_i`, p = 2: 0, p = 3: `3 C_ii m_i`, p = 4: 0.
    pub fn moment_response_to_shift(
        &self,
        v: &[f64],
        i: usize,
        dt: f64,
        lags: usize,
    ) -> Result<Response> {
        let d = self.dim();
        if v.len() != d || i >= d {
            return Err(Error::shape(format!(
                "linear OU moment response: v has {} entries and i = {i}; pass D = {d} entries and i < {d}",
                v.len()
            )));
        }
        let e = self.propagators(dt, lags, 1)?;
        let cii = self.c[[i, i]];
        let out = Array2::from_shape_fn((lags, 4), |(l, p)| {
            let mi: f64 = (0..d).map(|j| e[[l, i, j]] * v[j]).sum();
            match p {
                0 => mi,
                2 => 3.0 * cii * mi,
                _ => 0.0,
            }
        });
        Ok(Response {
            name: "analytic".into(),
            dt,
            values: out.into_dyn(),
            stderr: None,
            normalized: false,
        })
    }

    /// `n` independent exact samples of the stationary law `N(0, C)` (`x = L z`, `C = L Lᵀ`),
    /// `[n, D]`, from `stream_rng(seed, 0)`.
    pub fn sample_stationary(&self, n: usize, seed: u64) -> Array2<f64> {
        let d = self.dim();
        let mut rng = crate::core::rng::stream_rng(seed, 0);
        let mut out = Array2::zeros((n, d));
        let mut z = vec![0.0; d];
        for mut row in out.rows_mut() {
            for v in z.iter_mut() {
                *v = rng.sample(StandardNormal);
            }
            for i in 0..d {
                row[i] = (0..=i).map(|j| self.chol[[i, j]] * z[j]).sum();
            }
        }
        out
    }
}

impl Score for LinearOu {
    fn dim(&self) -> usize {
        self.a.nrows()
    }
    fn name(&self) -> String {
        "exact score".into()
    }
    /// `s(x) = −C⁻¹ x`.
    fn eval_batch(&self, x: ArrayView2<f64>, mut out: ArrayViewMut2<f64>) -> Result<()> {
        let d = self.a.nrows();
        if x.ncols() != d || out.dim() != x.dim() {
            return Err(Error::shape(format!(
                "linear OU score: x is {:?} and out is {:?}; both must be [B, {d}]",
                x.dim(),
                out.dim()
            )));
        }
        ndarray::linalg::general_mat_mul(-1.0, &x, &self.prec, 0.0, &mut out);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
