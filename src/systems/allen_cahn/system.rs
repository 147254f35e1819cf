//! The Allen–Cahn / OU system: symbols, the RK4 + Euler–Maruyama step in spectral space, the
//! drift and the exact score.
//!
//! Spectral conventions (see [`crate::core::spectral`]): a state is kept as its unnormalised
//! forward FFT `θ̂ = FFT(θ)` in the transposed half layout `spec[ky * n + kx]`. The linear part
//! has the symbol `L_k = −κ|k|² − i U kx − γ`, where **kx := 0 at the x-Nyquist index**
//! (`kx = n/2`): there `∂ₓ` is ambiguous (`sin(n x / 2)` vanishes on the grid) and any other
//! choice would make the Nyquist coefficients of a real field non-real. `|k|²` keeps `kx = n/2`.
use super::params::AcParams;
use crate::core::rng::Rng;
use crate::core::spectral::{Spectral2d, SpectralWorkspace};
use crate::systems::gauss::fill_normals;
use crate::{Error, Result};
use num_complex::Complex64 as C64;

/// A grid value with |θ| above this counts as a blow-up.
pub const BLOWUP_LIMIT: f64 = 1e6;

/// The system: parameters, FFT plans and precomputed per-coefficient symbols.
/// Cheap to clone and shareable across threads (`Send + Sync`).
#[derive(Clone)]
pub struct AcSystem {
    p: AcParams,
    sp: Spectral2d,
    /// Σ_k = ε²/(1+|k|²).
    sig: Vec<f64>,
    /// L_k = −κ|k|² − iU kx − γ (kx = 0 at the x-Nyquist index).
    lin: Vec<C64>,
    /// RK4 amplification factor 1 + z + z²/2 + z³/6 + z⁴/24 of z = L_k dt (used for λ = 0).
    amp: Vec<C64>,
    /// Noise amplitude √dt · N · √Σ_k (the increment spectrum is this times the FFT of white noise).
    noise_amp: Vec<f64>,
    /// Q⁻¹(κΔ − γ) symbol: (1+|k|²)/ε² · (−κ|k|² − γ) (for the exact score).
    score_lin: Vec<f64>,
}

/// Per-thread (per-member) scratch buffers for [`AcSystem`]; make one with
/// [`AcSystem::workspace`] and reuse it for every call.
pub struct AcWorkspace {
    pub(crate) sw: SpectralWorkspace,
    tmp: Vec<C64>,
    acc: Vec<C64>,
    k: Vec<C64>,
    pub(crate) field: Vec<f64>,
    normals: Vec<f64>,
}

impl AcSystem {
    /// Validates `params` and precomputes the symbols.
    pub fn new(params: AcParams) -> Result<Self> {
        params.validate()?;
        // The wavenumber tables of `Spectral2d` (3 × f64) and the five symbols below
        // (3 × f64, 2 × complex): 80 bytes per coefficient of the half spectrum.
        crate::budget::Request::new(format!("a {n}×{n} grid", n = params.n))
            .buffer(
                "the spectral tables",
                &[("", params.n), ("modes", params.n / 2 + 1)],
                80,
            )
            .fix("use a smaller n")
            .check()?;
        let sp = Spectral2d::new(params.n)?;
        let len = sp.spec_len();
        let (n, dt) = (params.n as f64, params.dt);
        let mut sig = Vec::with_capacity(len);
        let mut lin = Vec::with_capacity(len);
        let mut amp = Vec::with_capacity(len);
        let mut noise_amp = Vec::with_capacity(len);
        let mut score_lin = Vec::with_capacity(len);
        for i in 0..len {
            let k2 = sp.k2()[i];
            let kx = if sp.is_x_nyquist(i) { 0.0 } else { sp.kx()[i] };
            let s = params.eps2 / (1.0 + k2);
            let l = C64::new(-params.kappa * k2 - params.gamma, -params.u * kx);
            let z = l * dt;
            sig.push(s);
            lin.push(l);
            amp.push(1.0 + z * (1.0 + z * (0.5 + z * (1.0 / 6.0 + z / 24.0))));
            noise_amp.push(dt.sqrt() * n * s.sqrt());
            score_lin.push((1.0 + k2) / params.eps2 * (-params.kappa * k2 - params.gamma));
        }
        Ok(AcSystem {
            p: params,
            sp,
            sig,
            lin,
            amp,
            noise_amp,
            score_lin,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &AcParams {
        &self.p
    }

    /// Grid points per side.
    pub fn n(&self) -> usize {
        self.p.n
    }

    /// The FFT plans and wavenumber tables.
    pub fn spectral(&self) -> &Spectral2d {
        &self.sp
    }

    /// One line naming the system and its parameters (for titles and trajectory metadata).
    pub fn describe(&self) -> String {
        let p = &self.p;
        let kind = if p.is_linear() {
            "OU (linear Allen–Cahn)".to_string()
        } else {
            "Allen–Cahn".to_string()
        };
        format!(
            "{kind} N={} λ={} κ={} U={} γ={} ε²={} dt={}",
            p.n, p.lambda, p.kappa, p.u, p.gamma, p.eps2, p.dt
        )
    }

    /// Bytes of one [`AcWorkspace`] (for memory checks of runs that make one per thread).
    pub fn workspace_bytes(&self) -> usize {
        let (n, len) = (self.p.n, self.sp.spec_len());
        self.sp.workspace_bytes() + 3 * 16 * len + 2 * 8 * n * n
    }

    /// A fresh workspace (allocates once; reuse it).
    pub fn workspace(&self) -> AcWorkspace {
        let len = self.sp.spec_len();
        let z = C64::new(0.0, 0.0);
        AcWorkspace {
            sw: self.sp.workspace(),
            tmp: vec![z; len],
            acc: vec![z; len],
            k: vec![z; len],
            field: vec![0.0; self.p.n * self.p.n],
            normals: vec![0.0; self.p.n * self.p.n],
        }
    }

    /// A zero spectrum of the right length.
    pub(crate) fn zero_spec(&self) -> Vec<C64> {
        vec![C64::new(0.0, 0.0); self.sp.spec_len()]
    }

    fn check_len(&self, what: &str, len: usize) -> Result<()> {
        let d = self.p.n * self.p.n;
        if len != d {
            return Err(Error::shape(format!(
                "{what} has {len} values but the {n}×{n} grid needs {d}",
                n = self.p.n
            )));
        }
        Ok(())
    }

    /// `FFT(f(θ))` of the state spectrum `input` into `out` (λ > 0). Returns false when the
    /// real field has a non-finite value or |θ| > [`BLOWUP_LIMIT`].
    #[inline(always)]
    fn cubic_hat(
        &self,
        input: &[C64],
        out: &mut [C64],
        field: &mut [f64],
        sw: &mut SpectralWorkspace,
    ) -> bool {
        let lam = self.p.lambda;
        self.sp.inverse(input, field, sw);
        let mut ok = true;
        for v in field.iter_mut() {
            let t = *v;
            ok &= t.abs() <= BLOWUP_LIMIT;
            *v = lam * t * (1.0 - t * t);
        }
        self.sp.forward(field, out, sw);
        ok
    }

    /// Spectral drift of the state spectrum `input` into `out`:
    /// `Σ_k FFT(f(θ)) + L_k θ̂` (only `L_k θ̂` for λ = 0).
    fn rhs(&self, input: &[C64], out: &mut [C64], field: &mut [f64], sw: &mut SpectralWorkspace) {
        if self.p.lambda == 0.0 {
            for ((o, i), l) in out.iter_mut().zip(input).zip(&self.lin) {
                *o = l * i;
            }
            return;
        }
        self.cubic_hat(input, out, field, sw);
        for (((o, i), l), s) in out.iter_mut().zip(input).zip(&self.lin).zip(&self.sig) {
            *o = *o * *s + l * i;
        }
    }

    /// One step of the SPEC integrator on the state spectrum `y`: classical RK4 on the drift,
    /// then `noise` (an increment spectrum from [`AcSystem::fill_noise`]) is added.
    /// For λ = 0 the RK4 step of the linear drift is applied as its exact amplification
    /// factor `1 + z + z²/2 + z³/6 + z⁴/24`, `z = L_k dt` (the same map, without FFTs).
    /// Returns false when the state at the start of the step (checked for λ > 0 only) had a
    /// non-finite value or |θ| > [`BLOWUP_LIMIT`].
    pub(crate) fn step(&self, y: &mut [C64], noise: Option<&[C64]>, w: &mut AcWorkspace) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2 (checked just above).
                return unsafe { self.step_avx2(y, noise, w) };
            }
        }
        self.step_impl(y, noise, w)
    }

    /// [`AcSystem::step`] compiled for AVX2 (wider vectors for the element-wise loops; only
    /// IEEE + − × are used and nothing is reduced, so results equal the baseline bit for bit).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn step_avx2(&self, y: &mut [C64], noise: Option<&[C64]>, w: &mut AcWorkspace) -> bool {
        self.step_impl(y, noise, w)
    }

    #[inline(always)]
    fn step_impl(&self, y: &mut [C64], noise: Option<&[C64]>, w: &mut AcWorkspace) -> bool {
        if self.p.lambda == 0.0 {
            match noise {
                Some(nz) => {
                    for ((v, a), z) in y.iter_mut().zip(&self.amp).zip(nz) {
                        *v = *v * a + z;
                    }
                }
                None => {
                    for (v, a) in y.iter_mut().zip(&self.amp) {
                        *v *= a;
                    }
                }
            }
            return true;
        }
        // Stage derivative k = Σ ∘ FFT(f(θ_s)) + L ∘ θ̂_s, fused with the RK4 bookkeeping.
        let dt = self.p.dt;
        let (h2, h3, h6) = (0.5 * dt, dt / 3.0, dt / 6.0);
        let (sig, lin) = (&self.sig[..], &self.lin[..]);
        let ok = self.cubic_hat(y, &mut w.k, &mut w.field, &mut w.sw);
        for (((((a, t), v), f), s), l) in w
            .acc
            .iter_mut()
            .zip(&mut w.tmp)
            .zip(&*y)
            .zip(&w.k)
            .zip(sig)
            .zip(lin)
        {
            let k = f * s + l * v;
            *a = v + k * h6;
            *t = v + k * h2;
        }
        for h in [h2, dt] {
            self.cubic_hat(&w.tmp, &mut w.k, &mut w.field, &mut w.sw);
            for (((((a, t), v), f), s), l) in w
                .acc
                .iter_mut()
                .zip(&mut w.tmp)
                .zip(&*y)
                .zip(&w.k)
                .zip(sig)
                .zip(lin)
            {
                let k = f * s + l * *t;
                *a += k * h3;
                *t = v + k * h;
            }
        }
        self.cubic_hat(&w.tmp, &mut w.k, &mut w.field, &mut w.sw);
        let last = y
            .iter_mut()
            .zip(&w.acc)
            .zip(&w.tmp)
            .zip(&w.k)
            .zip(sig)
            .zip(lin);
        match noise {
            Some(nz) => {
                for ((((((v, a), t), f), s), l), z) in last.zip(nz) {
                    *v = a + (f * s + l * t) * h6 + z;
                }
            }
            None => {
                for (((((v, a), t), f), s), l) in last {
                    *v = a + (f * s + l * t) * h6;
                }
            }
        }
        self.hermitianize(y);
        ok
    }

    /// A step without noise (deterministic RK4 on the drift), for tests of the integrator.
    #[cfg(test)]
    pub(crate) fn step_deterministic(&self, y: &mut [C64], w: &mut AcWorkspace) -> bool {
        self.step(y, None, w)
    }

    /// Makes the self-conjugate rows (ky = 0 and ky = n/2) exactly Hermitian in kx. Rounding in
    /// the FFTs leaves a tiny anti-Hermitian part there that the inverse transform ignores; the
    /// state spectrum is carried across steps, so it is removed each step to keep the state
    /// canonical (the real field is unchanged by this).
    fn hermitianize(&self, y: &mut [C64]) {
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

    /// Draws the noise increment spectrum of one step, `FFT(√dt · N · Q^{1/2} ξ)` with ξ iid
    /// N(0, 1) per grid point, directly in Fourier space (see [`fill_white_spectrum`]), from
    /// n² normals of [`fill_normals`] (one block per step).
    pub(crate) fn fill_noise(&self, rng: &mut Rng, out: &mut [C64], w: &mut AcWorkspace) {
        fill_normals(rng, &mut w.normals);
        let mut it = w.normals.iter();
        fill_white_spectrum(
            self.p.n,
            &self.noise_amp,
            &mut || {
                *it.next()
                    .expect("n² normals for n² real degrees of freedom")
            },
            out,
        );
    }

    /// Drift `F(θ) = Q f(θ) + κΔθ − U∂ₓθ − γθ` of a real field `theta` (`n*n`, row-major,
    /// x = axis 0) into `out`, evaluated spectrally exactly as the integrator does.
    pub fn drift(&self, theta: &[f64], out: &mut [f64], ws: &mut AcWorkspace) -> Result<()> {
        self.check_len("theta", theta.len())?;
        self.check_len("out", out.len())?;
        self.sp.forward(theta, &mut ws.tmp, &mut ws.sw);
        self.rhs(&ws.tmp, &mut ws.k, &mut ws.field, &mut ws.sw);
        self.sp.inverse(&ws.k, out, &mut ws.sw);
        Ok(())
    }

    /// Exact score `s(θ) = (2/N²)[f(θ) + Q⁻¹(κΔ − γ)θ]`, `Q⁻¹ = (1 + |k|²)/ε²`, evaluated
    /// spectrally with the simulator's Laplacian symbol −|k|². Reason: the drift is
    /// `(N²/2) Q s(θ) − U∂ₓθ` and the advection is antisymmetric and commutes with Q.
    pub fn exact_score(&self, theta: &[f64], out: &mut [f64], ws: &mut AcWorkspace) -> Result<()> {
        self.check_len("theta", theta.len())?;
        self.check_len("out", out.len())?;
        self.sp.forward(theta, &mut ws.tmp, &mut ws.sw);
        for (t, s) in ws.tmp.iter_mut().zip(&self.score_lin) {
            *t *= *s;
        }
        self.sp.inverse(&ws.tmp, out, &mut ws.sw);
        let (lam, c) = (self.p.lambda, 2.0 / (self.p.n * self.p.n) as f64);
        for (o, t) in out.iter_mut().zip(theta) {
            *o = c * (*o + lam * t * (1.0 - t * t));
        }
        Ok(())
    }
}

/// Fills `out` (a half-layout spectrum of an `n`×`n` grid) with `amp[i] · ξ̂_i`, where ξ̂ has
/// exactly the law of the unnormalised FFT of a real white-noise field (iid N(0,1) per grid
/// point), using `n²` standard normals from `next`:
/// - the four self-conjugate coefficients (kx, ky ∈ {0, n/2}) are real, N(0, n²);
/// - the other coefficients of the rows ky = 0 and ky = n/2 come in conjugate pairs
///   (kx, n−kx): one draw for kx < n/2, real and imaginary parts iid N(0, n²/2), the mirror is
///   the conjugate;
/// - rows 0 < ky < n/2 (their conjugates live in the implicit half): real and imaginary parts
///   iid N(0, n²/2).
///
/// (The unitary DFT maps iid real Gaussians to this law; the test `noise_is_white` checks that
/// the inverse transform of the construction is an orthonormal map of the `n²` normals, i.e.
/// exactly white noise.)
pub(crate) fn fill_white_spectrum(
    n: usize,
    amp: &[f64],
    next: &mut impl FnMut() -> f64,
    out: &mut [C64],
) {
    let nh = n / 2 + 1;
    let (sr, sc) = (n as f64, n as f64 * std::f64::consts::FRAC_1_SQRT_2);
    for jy in 0..nh {
        let base = jy * n;
        if jy == 0 || jy == nh - 1 {
            out[base] = C64::new(sr * amp[base] * next(), 0.0);
            let h = base + n / 2;
            out[h] = C64::new(sr * amp[h] * next(), 0.0);
            for kx in 1..n / 2 {
                let (re, im) = (next(), next());
                let v = C64::new(sc * re, sc * im);
                out[base + kx] = v * amp[base + kx];
                out[base + n - kx] = v.conj() * amp[base + n - kx];
            }
        } else {
            for i in base..base + n {
                let (re, im) = (next(), next());
                out[i] = C64::new(sc * amp[i] * re, sc * amp[i] * im);
            }
        }
    }
}
