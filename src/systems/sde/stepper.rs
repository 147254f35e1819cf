//! One integrator step with checked drift/noise evaluations and a preallocated workspace.
//!
//! Euler–Maruyama: `x ← x + F(x) dt + G(x) ΔW`.
//!
//! Stochastic Heun (predictor–corrector), Itô-consistent form:
//! `x̃ = x + F(x) dt + G(x) ΔW`, `x ← x + ½ (F(x) + F(x̃)) dt + G(x) ΔW`.
//! For additive noise this *is* the usual stochastic Heun scheme (strong order 1, weak order 2
//! for the drift part). For state-dependent noise the common variant that also averages
//! `½ (G(x) + G(x̃)) ΔW` converges to the *Stratonovich* solution, which differs from the Itô
//! SDE by the noise-induced drift `½ Σ_k (∂_j G_ik) G_jk`; fdtlab keeps `G` at the start of the
//! step instead, so both methods solve the Itô SDE (strong order ½, weak order 1 when G depends
//! on x — the trapezoidal drift still reduces the drift error).
use super::{fmt_state, Noise, Sde};
use crate::systems::perturbation::Perturbation;
use crate::{Error, Result};
use rand::RngExt;
use rand_distr::StandardNormal;

/// States beyond this magnitude count as a blow-up (long before f64 overflows in a cubic drift).
pub(crate) const BLOWUP_ABS: f64 = 1e100;

/// Which integrator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scheme {
    Em,
    Heun,
}

/// Per-copy scratch buffers (one per member or ensemble copy; no allocation while stepping).
pub(crate) struct Work {
    f0: Vec<f64>,
    f1: Vec<f64>,
    xp: Vec<f64>,
    g: Vec<f64>,
    gdw: Vec<f64>,
    uu: Vec<f64>,
}

impl Work {
    pub(crate) fn new(sde: &Sde) -> Self {
        let d = sde.dim();
        let k = sde.noise_dim();
        Work {
            f0: vec![0.0; d],
            f1: vec![0.0; d],
            xp: vec![0.0; d],
            g: vec![0.0; d * k],
            gdw: vec![0.0; d],
            uu: vec![0.0; d],
        }
    }
}

/// A drift perturbation `ε u(x)` added to F (step-forcing ensembles).
pub(crate) type Forcing<'a> = Option<(&'a dyn Perturbation, f64)>;

/// Integrator state shared by all members of a run.
pub(crate) struct Stepper<'a> {
    pub sde: &'a Sde,
    pub scheme: Scheme,
    pub dt: f64,
    pub sqdt: f64,
}

impl<'a> Stepper<'a> {
    pub(crate) fn new(sde: &'a Sde, scheme: Scheme, dt: f64) -> Self {
        Stepper {
            sde,
            scheme,
            dt,
            sqdt: dt.sqrt(),
        }
    }

    /// Fills `dw` with Brownian increments `√dt ξ`, ξ ~ N(0, I_K).
    #[inline]
    pub(crate) fn draw(&self, rng: &mut crate::core::rng::Rng, dw: &mut [f64]) {
        for v in dw.iter_mut() {
            let z: f64 = rng.sample(StandardNormal);
            *v = self.sqdt * z;
        }
    }

    fn drift(&self, x: &[f64], out: &mut [f64], uu: &mut [f64], forcing: Forcing) -> Result<()> {
        out.fill(f64::NAN);
        self.sde
            .drift
            .eval(x, out)
            .map_err(|e| super::in_context(e, "drift"))?;
        if let Some((u, eps)) = forcing {
            uu.fill(f64::NAN);
            u.u(x, uu)
                .map_err(|e| super::in_context(e, "perturbation u(x)"))?;
            if let Some(i) = uu.iter().position(|v| !v.is_finite()) {
                return Err(Error::BlowUp(format!(
                    "perturbation u(x) returned {} in component {i} at x = {} (a component left \
                     unwritten reads NaN); make u finite there",
                    uu[i],
                    fmt_state(x)
                )));
            }
            for (o, v) in out.iter_mut().zip(uu.iter()) {
                *o += eps * v;
            }
        }
        if let Some(i) = out.iter().position(|v| !v.is_finite()) {
            return Err(Error::BlowUp(format!(
                "drift returned {} in component {i} at x = {} (a component the drift left \
                 unwritten reads NaN). If x is large the run diverged: reduce dt (now {}); \
                 otherwise the drift is undefined at x: fix the drift there",
                out[i],
                fmt_state(x),
                self.dt
            )));
        }
        Ok(())
    }

    /// `gdw = G(x) dw`.
    fn noise(&self, x: &[f64], dw: &[f64], g: &mut [f64], gdw: &mut [f64]) -> Result<()> {
        let k = dw.len();
        let gm: &[f64] = match &self.sde.noise {
            Noise::Diagonal(_) => {
                for ((o, gi), w) in gdw.iter_mut().zip(&self.sde.g_const).zip(dw) {
                    *o = gi * w;
                }
                return Ok(());
            }
            Noise::Constant(_) => &self.sde.g_const,
            Noise::StateDependent(f) => {
                g.fill(f64::NAN);
                f.eval(x, g)
                    .map_err(|e| super::in_context(e, "noise G(x)"))?;
                if let Some(i) = g.iter().position(|v| !v.is_finite()) {
                    return Err(Error::BlowUp(format!(
                        "noise G(x) returned {} at entry ({}, {}) at x = {} (an entry left \
                         unwritten reads NaN); make G finite there or reduce dt (now {})",
                        g[i],
                        i / k,
                        i % k,
                        fmt_state(x),
                        self.dt
                    )));
                }
                g
            }
        };
        for (o, row) in gdw.iter_mut().zip(gm.chunks_exact(k)) {
            *o = super::dot(row, dw);
        }
        Ok(())
    }

    /// Advances `x` by one step with increments `dw`. On error `x` is left unchanged.
    pub(crate) fn step(
        &self,
        x: &mut [f64],
        dw: &[f64],
        w: &mut Work,
        forcing: Forcing,
    ) -> Result<()> {
        let dt = self.dt;
        self.drift(x, &mut w.f0, &mut w.uu, forcing)?;
        self.noise(x, dw, &mut w.g, &mut w.gdw)?;
        // Euler predictor (the EM step itself).
        for (((p, xi), f), g) in w.xp.iter_mut().zip(x.iter()).zip(&w.f0).zip(&w.gdw) {
            *p = xi + f * dt + g;
        }
        if self.scheme == Scheme::Heun {
            self.drift(&w.xp, &mut w.f1, &mut w.uu, forcing)?;
            let it =
                w.xp.iter_mut()
                    .zip(x.iter())
                    .zip(&w.f0)
                    .zip(&w.f1)
                    .zip(&w.gdw);
            for ((((p, xi), f0), f1), g) in it {
                *p = xi + 0.5 * (f0 + f1) * dt + g;
            }
        }
        if let Some(i) = w.xp.iter().position(|v| v.is_nan() || v.abs() > BLOWUP_ABS) {
            return Err(Error::BlowUp(format!(
                "state component {i} became {:e} in one step from x = {}: the integration \
                 diverged; reduce dt (now {dt}, try {}) or check that the drift confines the state",
                w.xp[i],
                fmt_state(x),
                dt / 4.0
            )));
        }
        x.copy_from_slice(&w.xp);
        Ok(())
    }
}
