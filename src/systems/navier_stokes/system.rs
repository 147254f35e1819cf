//! The Navier–Stokes system: symbols, the nonlinear term, and the RK4 step in spectral space.
//!
//! A state is kept as the unnormalised forward FFT `ζ̂` of the vorticity in the transposed half
//! layout of [`crate::core::spectral`]. The right-hand side is
//! `ζ̂ₜ = N̂(ζ̂) + L_k ζ̂ + F̂_k(t)` with
//! - `L_k = 𝒟(k) − i U kx` for `k ≠ 0` (`𝒟 = −hypo|k|⁻⁴ − hyper|k|⁴`, `U` the background flow,
//!   `kx := 0` at the x-Nyquist index), and `L_0 = −1` (the `−⟨ζ⟩ₓ` term; 𝒟 is not used at 0);
//! - `N̂` the nonlinear advection by the perturbation velocity `u' = (∂ᵧψ, −∂ₓψ)`; the uniform
//!   background part `U ∂ₓζ` of `u·∇ζ` is linear and is applied exactly in `L_k` (for a uniform
//!   flow the advective, conservative and skew-symmetric forms coincide);
//! - `F̂` the forcing spectrum of [`super::forcing`], with the mean already reduced by `1 − r`.
//!
//! Sign convention (as in SPEC 3.2 and the reference): `ψ = Δ⁻¹ζ` with `u' = ∂ᵧψ`, `v = −∂ₓψ`,
//! so `∂ₓv − ∂ᵧu' = −ζ`: this is the usual 2-D Navier–Stokes for `ω = −ζ` (same invariants,
//! same statistics up to the sign of the forcing, whose law is symmetric).
//!
//! Derivatives are `∂ₓ → i kx`, `∂ᵧ → i ky`, zero on the x-Nyquist column resp. the y-Nyquist row
//! (odd derivatives of the Nyquist modes vanish on the grid), `ψ̂ = −ζ̂/|k|²`, `ψ̂₀ = 0`.
//!
//! **Dealiasing (2/3 rule, `dealias = true`).** Resolved modes: `|kx| < n/3` and `|ky| < n/3`
//! (n = 32: |kx|, |ky| ≤ 10; the x- and y-Nyquist modes are never resolved). The model *lives
//! on the resolved modes*: every state entering the simulator (initial states, impulse
//! perturbations) is projected onto them, the forcing is restricted to them (at n ≥ 32 the
//! forced set |k|² ≤ 112.5 lies inside anyway), and the nonlinear term is truncated to them
//! after the products. With resolved inputs the grid products have no aliasing into resolved
//! modes, so `N̂` is the exact Galerkin projection of `−u'·∇ζ`: the semi-discrete system conserves
//! energy and enstrophy exactly (inviscid, unforced), and the advective, conservative and
//! skew-symmetric forms are *equal* (up to rounding; test `forms_agree_when_dealiased`). The
//! advective form is therefore used (5 FFTs per evaluation instead of 8). Consequence for users:
//! stationary fields have exactly zero energy outside the resolved modes (their covariance is
//! singular there: the Gaussian FDT and the normalised GFDT use its pseudo-inverse, response 0
//! on those modes, see `response::fdt_periodic`), and a pixel impulse acts through its resolved
//! part (at n = 32 the pixel itself gets 441/1024 of δ).
//!
//! **Without dealiasing (`dealias = false`)** the skew-symmetric form
//! `−½[u'·∇ζ + ∇·(u'ζ)]` is evaluated with grid products on the full grid (aliased). Because the
//! spectral derivative is skew-adjoint, it conserves the discrete enstrophy `Σζ²` exactly
//! (semi-discretely) even with aliasing; energy is not conserved.
use super::forcing::{in_box, wave, ForcingTable};
use super::params::NsParams;
use crate::core::spectral::{Spectral2d, SpectralWorkspace};
use crate::{Error, Result};
use num_complex::Complex64 as C64;

/// A vorticity RMS above this counts as a blow-up.
pub const BLOWUP_RMS: f64 = 1e6;

/// Which form of the nonlinear term to evaluate (internal; see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Form {
    Advective,
    Conservative,
    Skew,
}

/// The system: parameters, FFT plans, the forcing table and per-coefficient symbols.
/// Cheap to clone and shareable across threads.
#[derive(Clone)]
pub struct NsSystem {
    p: NsParams,
    sp: Spectral2d,
    forcing: ForcingTable,
    /// `L_k` (see the module docs).
    lin: Vec<C64>,
    /// `1/|k|²`, 0 at k = 0.
    inv_k2: Vec<f64>,
    /// `kx` for ∂ₓ (0 on the x-Nyquist column).
    dx: Vec<f64>,
    /// `ky` for ∂ᵧ (0 on the y-Nyquist row).
    dy: Vec<f64>,
    /// 1 for kept (resolved) coefficients, 0 for the truncated ones (all 1 without dealiasing).
    keep: Vec<f64>,
    form: Form,
}

/// Per-thread (per-member) scratch buffers for [`NsSystem`]; make one with
/// [`NsSystem::workspace`] and reuse it.
pub struct NsWorkspace {
    pub(crate) sw: SpectralWorkspace,
    spec: [Vec<C64>; 4],
    phys: [Vec<f64>; 6],
    tmp: Vec<C64>,
    acc: Vec<C64>,
    k: Vec<C64>,
    /// A real field of the grid (free scratch for callers between calls).
    pub(crate) field: Vec<f64>,
}

impl NsSystem {
    /// Validates `params` and precomputes the symbols and the forcing table.
    pub fn new(params: NsParams) -> Result<Self> {
        params.validate()?;
        let n = params.n;
        // Per coefficient of the half spectrum: the wavenumber tables (3 × f64), L_k (complex)
        // and four more f64 symbols, and at most one forcing term (32 bytes); per grid point
        // the forcing index and at most one forced mode (8 + 16 bytes).
        crate::budget::Request::new(format!("navier_stokes: a {n}×{n} grid"))
            .buffer("the spectral tables", &[("", n), ("modes", n / 2 + 1)], 104)
            .buffer("the forcing tables", &[("", n), ("", n)], 24)
            .fix("use a smaller n")
            .check()?;
        let sp = Spectral2d::new(n)?;
        let len = sp.spec_len();
        let (mut lin, mut inv_k2) = (Vec::with_capacity(len), Vec::with_capacity(len));
        let (mut dx, mut dy, mut keep) = (
            Vec::with_capacity(len),
            Vec::with_capacity(len),
            Vec::with_capacity(len),
        );
        for i in 0..len {
            let k2 = sp.k2()[i];
            let (ix, jy) = (i % n, i / n);
            let kxd = if sp.is_x_nyquist(i) { 0.0 } else { sp.kx()[i] };
            let kyd = if jy == n / 2 { 0.0 } else { sp.ky()[i] };
            if k2 == 0.0 {
                lin.push(C64::new(-1.0, 0.0));
                inv_k2.push(0.0);
            } else {
                let d = -params.hypo / (k2 * k2) - params.hyper * k2 * k2;
                lin.push(C64::new(d, -params.background_u * kxd));
                inv_k2.push(1.0 / k2);
            }
            dx.push(kxd);
            dy.push(kyd);
            let kept = !params.dealias || in_box(n, wave(ix, n), jy as i64);
            keep.push(if kept { 1.0 } else { 0.0 });
        }
        let forcing = ForcingTable::new(
            n,
            params.amplitude(),
            params.forcing_k2_max,
            params.mean_forcing_removal,
            params.dealias,
        );
        let form = if params.dealias {
            Form::Advective
        } else {
            Form::Skew
        };
        Ok(NsSystem {
            p: params,
            sp,
            forcing,
            lin,
            inv_k2,
            dx,
            dy,
            keep,
            form,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &NsParams {
        &self.p
    }

    /// Grid points per side.
    pub fn n(&self) -> usize {
        self.p.n
    }

    /// The integrator step.
    pub fn dt(&self) -> f64 {
        self.p.dt
    }

    /// The FFT plans and wavenumber tables.
    pub fn spectral(&self) -> &Spectral2d {
        &self.sp
    }

    /// The forced wavenumbers and the phase → forcing map.
    pub fn forcing(&self) -> &ForcingTable {
        &self.forcing
    }

    /// Largest resolved |kx| (= |ky|) under the 2/3 rule, or n/2 without dealiasing.
    pub fn kmax(&self) -> usize {
        if self.p.dealias {
            (self.p.n - 1) / 3
        } else {
            self.p.n / 2
        }
    }

    /// How [`NsSystem::describe`] starts: trajectories whose `system` starts with it come from
    /// a Navier–Stokes run.
    pub const DESCRIBE_PREFIX: &'static str = "2-D Navier–Stokes";

    /// One line naming the system and its parameters (for titles and trajectory metadata).
    pub fn describe(&self) -> String {
        let p = &self.p;
        let alias = if p.dealias {
            format!("2/3 dealiased |kx|,|ky|≤{}", self.kmax())
        } else {
            "aliased (skew form)".to_string()
        };
        format!(
            "{} (vorticity) N={} dt={} U={} hypo={} hyper={} a={} |k|²≤{} \
             ({} phases) r={} {alias}",
            Self::DESCRIBE_PREFIX,
            p.n,
            p.dt,
            p.background_u,
            p.hypo,
            p.hyper,
            p.amplitude(),
            p.forcing_k2_max,
            self.forcing.phases_len(),
            p.mean_forcing_removal
        )
    }

    /// Bytes of one member in flight: an [`NsWorkspace`], the member's spectrum and forcing
    /// path (four spectra and its phases) and one real field (for memory checks of runs that
    /// hold one per thread).
    pub fn member_bytes(&self) -> usize {
        let (len, nn) = (self.sp.spec_len(), self.p.n * self.p.n);
        let workspace = self.sp.workspace_bytes() + 7 * 16 * len + 7 * 8 * nn;
        workspace + 4 * 16 * len + 24 * self.forcing.phases_len() + 8 * nn
    }

    /// A fresh workspace (allocates once; reuse it).
    pub fn workspace(&self) -> NsWorkspace {
        let len = self.sp.spec_len();
        let nn = self.p.n * self.p.n;
        let z = C64::new(0.0, 0.0);
        NsWorkspace {
            sw: self.sp.workspace(),
            spec: std::array::from_fn(|_| vec![z; len]),
            phys: std::array::from_fn(|_| vec![0.0; nn]),
            tmp: vec![z; len],
            acc: vec![z; len],
            k: vec![z; len],
            field: vec![0.0; nn],
        }
    }

    /// A zero spectrum of the right length.
    pub(crate) fn zero_spec(&self) -> Vec<C64> {
        vec![C64::new(0.0, 0.0); self.sp.spec_len()]
    }

    /// Errors unless `len` is the number of grid values.
    pub(crate) fn check_len(&self, what: &str, len: usize) -> Result<()> {
        let d = self.p.n * self.p.n;
        if len != d {
            return Err(Error::shape(format!(
                "{what} has {len} values but the {n}×{n} grid needs {d}",
                n = self.p.n
            )));
        }
        Ok(())
    }

    /// Zeroes the coefficients the model does not resolve (no-op without dealiasing).
    pub(crate) fn project(&self, z: &mut [C64]) {
        if self.p.dealias {
            for (v, k) in z.iter_mut().zip(&self.keep) {
                *v *= *k;
            }
        }
    }

    /// Spectrum of a real field, projected onto the resolved modes and made exactly Hermitian.
    pub(crate) fn to_spec(&self, field: &[f64], out: &mut [C64], ws: &mut NsWorkspace) {
        self.sp.forward(field, out, &mut ws.sw);
        self.project(out);
        self.hermitianize(out);
    }

    /// Real field of a spectrum.
    pub(crate) fn to_field(&self, z: &[C64], field: &mut [f64], ws: &mut NsWorkspace) {
        self.sp.inverse(z, field, &mut ws.sw);
    }

    /// Makes the self-conjugate rows (ky = 0 and ky = n/2) exactly Hermitian in kx; rounding in
    /// the FFTs leaves a tiny anti-Hermitian part there that the real field ignores.
    pub(crate) fn hermitianize(&self, y: &mut [C64]) {
        let n = self.p.n;
        for base in [0, (n / 2) * n] {
            let row = &mut y[base..base + n];
            row[0].im = 0.0;
            row[n / 2].im = 0.0;
            for kx in 1..n / 2 {
                let v = 0.5 * (row[kx] + row[n - kx].conj());
                row[kx] = v;
                row[n - kx] = v.conj();
            }
        }
    }

    /// RMS of the real field of `z` (Parseval), used for blow-up checks.
    pub(crate) fn rms(&self, z: &[C64]) -> f64 {
        let mut s = 0.0;
        for (i, v) in z.iter().enumerate() {
            s += self.sp.weight(i) * v.norm_sqr();
        }
        let nn = (self.p.n * self.p.n) as f64;
        (s / (nn * nn)).sqrt()
    }

    /// Nonlinear term `N̂(ζ̂)` (advection by the perturbation velocity, with minus sign) in the
    /// given form, truncated to the resolved modes, into `out`.
    pub(crate) fn nonlinear(&self, z: &[C64], form: Form, out: &mut [C64], ws: &mut NsWorkspace) {
        let [su, sv, sx, sy] = &mut ws.spec;
        for i in 0..z.len() {
            let zi = z[i];
            let ik_x = C64::new(0.0, self.dx[i]);
            let ik_y = C64::new(0.0, self.dy[i]);
            let psi = -zi * self.inv_k2[i];
            su[i] = ik_y * psi;
            sv[i] = -(ik_x * psi);
            sx[i] = ik_x * zi;
            sy[i] = ik_y * zi;
        }
        let [fu, fv, fx, fy, fz, fp] = &mut ws.phys;
        self.sp.inverse(su, fu, &mut ws.sw);
        self.sp.inverse(sv, fv, &mut ws.sw);
        let need_adv = form != Form::Conservative;
        let need_cons = form != Form::Advective;
        if need_adv {
            self.sp.inverse(sx, fx, &mut ws.sw);
            self.sp.inverse(sy, fy, &mut ws.sw);
            for (((p, u), v), (x, y)) in fp.iter_mut().zip(&*fu).zip(&*fv).zip(fx.iter().zip(&*fy))
            {
                *p = u * x + v * y;
            }
            self.sp.forward(fp, out, &mut ws.sw);
        }
        if need_cons {
            self.sp.inverse(z, fz, &mut ws.sw);
            // ∇·(u'ζ): transform u'ζ and v ζ (reusing fx, fy as products and sx, sy as spectra).
            for (((a, b), u), (v, w)) in fx
                .iter_mut()
                .zip(fy.iter_mut())
                .zip(&*fu)
                .zip(fv.iter().zip(&*fz))
            {
                *a = u * w;
                *b = v * w;
            }
            self.sp.forward(fx, sx, &mut ws.sw);
            self.sp.forward(fy, sy, &mut ws.sw);
            // Skew: ½(advective + conservative); Conservative: the divergence alone.
            for i in 0..out.len() {
                let div = C64::new(0.0, self.dx[i]) * sx[i] + C64::new(0.0, self.dy[i]) * sy[i];
                out[i] = if need_adv { 0.5 * (out[i] + div) } else { div };
            }
        }
        for (o, k) in out.iter_mut().zip(&self.keep) {
            *o *= -*k;
        }
    }

    /// Right-hand side `N̂(ζ̂) + L ζ̂ + F̂` into `out`.
    pub(crate) fn rhs(&self, z: &[C64], force: &[C64], out: &mut [C64], ws: &mut NsWorkspace) {
        self.nonlinear(z, self.form, out, ws);
        for (((o, zi), l), f) in out.iter_mut().zip(z).zip(&self.lin).zip(force) {
            *o += l * zi + f;
        }
    }

    /// One classical RK4 step of the state spectrum `y` with the stage forcings
    /// `F(t)`, `F(t + dt/2)` (stages 2 and 3) and `F(t + dt)`. Returns the RMS of the new
    /// vorticity (non-finite or > [`BLOWUP_RMS`] means a blow-up).
    pub(crate) fn rk4(
        &self,
        y: &mut [C64],
        f0: &[C64],
        fh: &[C64],
        f1: &[C64],
        w: &mut NsWorkspace,
    ) -> f64 {
        let dt = self.p.dt;
        let (h2, h3, h6) = (0.5 * dt, dt / 3.0, dt / 6.0);
        let mut k = std::mem::take(&mut w.k);
        let mut acc = std::mem::take(&mut w.acc);
        let mut tmp = std::mem::take(&mut w.tmp);
        self.rhs(y, f0, &mut k, w);
        for (((a, t), v), k) in acc.iter_mut().zip(&mut tmp).zip(&*y).zip(&k) {
            *a = v + k * h6;
            *t = v + k * h2;
        }
        self.rhs(&tmp, fh, &mut k, w);
        for (((a, t), v), k) in acc.iter_mut().zip(&mut tmp).zip(&*y).zip(&k) {
            *a += k * h3;
            *t = v + k * h2;
        }
        self.rhs(&tmp, fh, &mut k, w);
        for (((a, t), v), k) in acc.iter_mut().zip(&mut tmp).zip(&*y).zip(&k) {
            *a += k * h3;
            *t = v + k * dt;
        }
        self.rhs(&tmp, f1, &mut k, w);
        for ((v, a), k) in y.iter_mut().zip(&acc).zip(&k) {
            *v = a + k * h6;
        }
        w.k = k;
        w.acc = acc;
        w.tmp = tmp;
        self.hermitianize(y);
        self.rms(y)
    }

    /// The blow-up error for `what` (e.g. "member 3") at `step` / time `t` with RMS `rms`.
    pub(crate) fn blowup(&self, what: &str, step: u64, t: f64, rms: f64) -> Error {
        Error::BlowUp(format!(
            "Navier–Stokes {what} blew up at step {step} (t = {t:.4}): vorticity RMS = {rms:e} \
             (limit {BLOWUP_RMS:e}). The explicit RK4 step is unstable at dt = {}; pass a smaller \
             dt (the paper uses dt: 0.0078125 = 1/128), or reduce forcing_amp / background_u",
            self.p.dt
        ))
    }

    /// Energy `½⟨|u'|²⟩` and enstrophy `½⟨ζ²⟩` of a state spectrum (perturbation velocity
    /// `u' = (∂ᵧψ, −∂ₓψ)`, background flow excluded; derivatives as in the solver).
    pub fn energy_enstrophy_spec(&self, z: &[C64]) -> (f64, f64) {
        let (mut e, mut zz) = (0.0, 0.0);
        for (i, v) in z.iter().enumerate() {
            let w = self.sp.weight(i);
            let m = v.norm_sqr();
            let d2 = self.dx[i] * self.dx[i] + self.dy[i] * self.dy[i];
            e += w * m * d2 * self.inv_k2[i] * self.inv_k2[i];
            zz += w * m;
        }
        let nn = (self.p.n * self.p.n) as f64;
        (0.5 * e / (nn * nn), 0.5 * zz / (nn * nn))
    }

    /// Energy `½⟨|u'|²⟩` and enstrophy `½⟨ζ²⟩` of a vorticity field (`n*n`, x = axis 0), as
    /// [`NsSystem::energy_enstrophy_spec`] (the field is not projected).
    pub fn energy_enstrophy(&self, zeta: &[f64]) -> Result<(f64, f64)> {
        self.check_len("zeta", zeta.len())?;
        let mut ws = self.sp.workspace();
        let mut z = self.zero_spec();
        self.sp.forward(zeta, &mut z, &mut ws);
        Ok(self.energy_enstrophy_spec(&z))
    }

    /// Per-coefficient `|û'|²`-weight `(dx² + dy²)/|k|⁴` (used by the diagnostics).
    pub(crate) fn energy_weight(&self, i: usize) -> f64 {
        (self.dx[i] * self.dx[i] + self.dy[i] * self.dy[i]) * self.inv_k2[i] * self.inv_k2[i]
    }
}
