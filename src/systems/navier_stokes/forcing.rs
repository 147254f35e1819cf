//! The stochastic forcing `F = Re F⁻¹[a · mask_k · exp(iφ_k)]` and its diffusing phases.
//!
//! **Definition (the reference's).** One phase `φ_k` per forced wavenumber of the *full*
//! complex N×N spectrum (independent phases for `k` and `−k`), and
//! `F(x) = Re[(1/N²) Σ_k a·mask_k·e^{iφ_k} e^{ik·x}]`, i.e. NumPy's `ifft2` (which divides by N²)
//! of the full complex spectrum, real part. The mask is `{|k|² ≤ k2_max}` with `kx, ky` the
//! signed grid wavenumbers, minus the Nyquist row and column (`|kx| = N/2` or `|ky| = N/2`), so
//! it is symmetric under `k → −k`.
//!
//! **Implementation.** Taking the real part keeps the Hermitian part of the spectrum: the
//! unnormalised forward FFT of `F` is `F̂_k = ½(c_k + conj(c_{−k})) = (a/2)(e^{iφ_k} + e^{−iφ_{−k}})`
//! on the forced set, 0 elsewhere. This is evaluated directly in the half (rfft) layout; the test
//! `forcing_equals_real_part_of_full_complex_ifft` checks it against a direct evaluation of the
//! definition above.
//!
//! **Mean.** The forced set contains `k = 0`, so `⟨F⟩ₓ = a·cos(φ₀)/N²`. The equation uses
//! `F − r⟨F⟩ₓ`; here the `k = 0` coefficient is multiplied by `1 − r` (default 0.1).
//!
//! **Noise convention (SPEC §1).** The phases are the only noise: `dφ = √2 dW`, so `G = √2 I`,
//! `D = 2 I` on the phases (variance `2t` after time `t`). Phases are kept wrapped to [0, 2π).
//!
//! **In the RK4 step** (see [`PhasePath`]) the phases are advanced by two Brownian increments
//! of duration dt/2 (`√dt · ξ` each); stage 1 sees `F(φ(t))`, stages 2 and 3 `F(φ(t + dt/2))`,
//! stage 4 `F(φ(t + dt))`. The forcing integral over a step is thus Simpson's rule on the
//! sampled phase path, and the phases evolve every step (the reference's frozen-phase bug
//! cannot occur: the phases are part of every member's state).
use crate::core::rng::Rng;
use num_complex::Complex64 as C64;
use rand::RngExt;
use rand_distr::StandardNormal;
use std::f64::consts::TAU;

/// `(sin x, cos x)` for the phases (|x| ≤ 1e6; used on [0, 2π]), ~3× faster than libm's
/// `sin_cos` and within 2 ulp of it (test `fast_sin_cos_matches_libm`): Cody–Waite reduction
/// by π/2 (round-to-nearest via the 1.5·2⁵² trick) and fdlibm's minimax kernels on [−π/4, π/4].
#[inline]
#[allow(clippy::excessive_precision)] // fdlibm's published coefficients, kept verbatim
pub(crate) fn sin_cos(x: f64) -> (f64, f64) {
    const MAGIC: f64 = 6_755_399_441_055_744.0; // 1.5·2⁵²
    const PIO2_HI: f64 = 1.570_796_326_734_125_614_17; // first 33 bits of π/2
    const PIO2_LO: f64 = 6.077_100_506_506_192_249_32e-11; // π/2 − PIO2_HI
    const S1: f64 = -1.666_666_666_666_663_243_48e-1;
    const S2: f64 = 8.333_333_333_322_489_461_24e-3;
    const S3: f64 = -1.984_126_982_985_794_931_34e-4;
    const S4: f64 = 2.755_731_370_707_006_767_89e-6;
    const S5: f64 = -2.505_076_025_340_686_341_95e-8;
    const S6: f64 = 1.589_690_995_211_550_102_21e-10;
    const C1: f64 = 4.166_666_666_666_660_190_37e-2;
    const C2: f64 = -1.388_888_888_887_410_957_49e-3;
    const C3: f64 = 2.480_158_728_947_672_941_78e-5;
    const C4: f64 = -2.755_731_435_139_066_330_35e-7;
    const C5: f64 = 2.087_572_321_298_174_827_90e-9;
    const C6: f64 = -1.135_964_755_778_819_482_65e-11;
    let q = (x * std::f64::consts::FRAC_2_PI + MAGIC) - MAGIC;
    let r = (x - q * PIO2_HI) - q * PIO2_LO;
    let z = r * r;
    let sr = r + r * z * (S1 + z * (S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)))));
    let cr = 1.0 - 0.5 * z + z * z * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6)))));
    let quad = (q as i64) & 3;
    let (s, c) = if quad & 1 == 0 { (sr, cr) } else { (cr, sr) };
    let s = if quad & 2 == 0 { s } else { -s };
    let c = if (quad + 1) & 2 == 0 { c } else { -c };
    (s, c)
}

/// `x` wrapped to [0, 2π) (one add for the usual small step; `rem_euclid` otherwise).
#[inline]
fn wrap(x: f64) -> f64 {
    let y = if x >= TAU {
        x - TAU
    } else if x < 0.0 {
        x + TAU
    } else {
        x
    };
    if (0.0..TAU).contains(&y) {
        y
    } else {
        y.rem_euclid(TAU)
    }
}

/// Signed wavenumber of grid index `i` (`i ≤ n/2` → `i`, else `i − n`).
pub(crate) fn wave(i: usize, n: usize) -> i64 {
    if i <= n / 2 {
        i as i64
    } else {
        i as i64 - n as i64
    }
}

/// True for the wavenumbers kept by the 2/3 rule: `|kx| < n/3` and `|ky| < n/3`.
pub(crate) fn in_box(n: usize, kx: i64, ky: i64) -> bool {
    3 * kx.unsigned_abs() < n as u64 && 3 * ky.unsigned_abs() < n as u64
}

/// One coefficient of the half spectrum that the forcing touches.
#[derive(Clone, Copy, Debug)]
struct Term {
    /// Index in the half layout `ky * n + kx`.
    idx: usize,
    /// Phase index of `k`.
    plus: usize,
    /// Phase index of `−k`.
    minus: usize,
    /// `a/2`, times `1 − r` at `k = 0`.
    scale: f64,
}

/// The forced wavenumbers and the map from phases to the forcing spectrum.
#[derive(Clone, Debug)]
pub struct ForcingTable {
    n: usize,
    modes: Vec<(i64, i64)>,
    terms: Vec<Term>,
}

impl ForcingTable {
    /// The forced set of an `n`×`n` grid: `|k|² ≤ k2_max` minus the Nyquist row/column, phases
    /// ordered like the full NumPy array (kx index 0..n, then ky index 0..n). `amp` is `a`,
    /// `removal` the fraction `r` of the mean removed; with `dealias` the coefficients outside
    /// the 2/3 box get no forcing (their phases still evolve). With `amp = 0` the spectrum is 0.
    pub fn new(n: usize, amp: f64, k2_max: f64, removal: f64, dealias: bool) -> Self {
        let nyq = (n / 2) as i64;
        let mut index = vec![usize::MAX; n * n];
        let mut modes = Vec::new();
        for ix in 0..n {
            for iy in 0..n {
                let (kx, ky) = (wave(ix, n), wave(iy, n));
                if kx.abs() == nyq || ky.abs() == nyq {
                    continue;
                }
                if ((kx * kx + ky * ky) as f64) <= k2_max {
                    index[ix * n + iy] = modes.len();
                    modes.push((kx, ky));
                }
            }
        }
        let to_idx = |k: i64| -> usize { k.rem_euclid(n as i64) as usize };
        let mut terms = Vec::new();
        if amp != 0.0 {
            for jy in 0..=n / 2 {
                for ix in 0..n {
                    let (kx, ky) = (wave(ix, n), jy as i64);
                    let plus = index[to_idx(kx) * n + to_idx(ky)];
                    if plus == usize::MAX || (dealias && !in_box(n, kx, ky)) {
                        continue;
                    }
                    let minus = index[to_idx(-kx) * n + to_idx(-ky)];
                    debug_assert!(minus != usize::MAX, "the mask is symmetric");
                    let mut scale = 0.5 * amp;
                    if kx == 0 && ky == 0 {
                        scale *= 1.0 - removal;
                    }
                    terms.push(Term {
                        idx: jy * n + ix,
                        plus,
                        minus,
                        scale,
                    });
                }
            }
        }
        ForcingTable { n, modes, terms }
    }

    /// Number of phases (forced wavenumbers of the full complex spectrum).
    pub fn phases_len(&self) -> usize {
        self.modes.len()
    }

    /// The forced wavenumbers `(kx, ky)`, in phase order.
    pub fn modes(&self) -> &[(i64, i64)] {
        &self.modes
    }

    /// Grid size.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Writes the forcing spectrum (unnormalised forward FFT of `F − r⟨F⟩ₓ`, half layout) of
    /// the phases `phases` into `out`; coefficients outside the forced set are set to 0.
    /// `sincos` is scratch of length [`ForcingTable::phases_len`].
    pub fn spectrum(&self, phases: &[f64], sincos: &mut [(f64, f64)], out: &mut [C64]) {
        debug_assert_eq!(phases.len(), self.modes.len());
        for o in out.iter_mut() {
            *o = C64::new(0.0, 0.0);
        }
        if self.terms.is_empty() {
            return;
        }
        for (s, p) in sincos.iter_mut().zip(phases) {
            *s = sin_cos(*p);
        }
        for t in &self.terms {
            let (sp, cp) = sincos[t.plus];
            let (sm, cm) = sincos[t.minus];
            out[t.idx] = C64::new(t.scale * (cp + cm), t.scale * (sp - sm));
        }
    }

    /// Uniform random initial phases in [0, 2π), one per forced wavenumber, from `rng`.
    pub fn random_phases(&self, rng: &mut Rng) -> Vec<f64> {
        (0..self.modes.len())
            .map(|_| TAU * rng.random::<f64>())
            .collect()
    }
}

/// The phases of one member and the forcing spectra an RK4 step needs: `F(t)`, `F(t + dt/2)`,
/// `F(t + dt)`. Allocation-free after construction.
pub struct PhasePath {
    phases: Vec<f64>,
    sincos: Vec<(f64, f64)>,
    f0: Vec<C64>,
    fh: Vec<C64>,
    f1: Vec<C64>,
}

impl PhasePath {
    /// Starts from `phases` (length [`ForcingTable::phases_len`]); `spec_len` is the length
    /// of a half spectrum.
    pub fn new(table: &ForcingTable, phases: Vec<f64>, spec_len: usize) -> Self {
        let z = C64::new(0.0, 0.0);
        let mut p = PhasePath {
            sincos: vec![(0.0, 0.0); phases.len()],
            phases,
            f0: vec![z; spec_len],
            fh: vec![z; spec_len],
            f1: vec![z; spec_len],
        };
        table.spectrum(&p.phases, &mut p.sincos, &mut p.f1);
        p
    }

    /// The current phases.
    pub fn phases(&self) -> &[f64] {
        &self.phases
    }

    /// Replaces the phases (e.g. a new start state) and recomputes the current forcing.
    pub fn set_phases(&mut self, table: &ForcingTable, phases: &[f64]) {
        self.phases.copy_from_slice(phases);
        table.spectrum(&self.phases, &mut self.sincos, &mut self.f1);
    }

    /// The forcing spectrum at the current phases.
    pub fn current(&self) -> &[C64] {
        &self.f1
    }

    /// Advances the phases by one step `dt` (two half-step Brownian increments `√dt·ξ`, i.e.
    /// `√2·√(dt/2)·ξ`, drawn from `rng`: first all phases of the first half, then all of the
    /// second) and returns the stage forcings `(F(t), F(t + dt/2), F(t + dt))`.
    pub fn advance(
        &mut self,
        table: &ForcingTable,
        rng: &mut Rng,
        dt: f64,
    ) -> (&[C64], &[C64], &[C64]) {
        std::mem::swap(&mut self.f0, &mut self.f1);
        let s = dt.sqrt();
        for p in self.phases.iter_mut() {
            *p = wrap(*p + s * rng.sample::<f64, _>(StandardNormal));
        }
        table.spectrum(&self.phases, &mut self.sincos, &mut self.fh);
        for p in self.phases.iter_mut() {
            *p = wrap(*p + s * rng.sample::<f64, _>(StandardNormal));
        }
        table.spectrum(&self.phases, &mut self.sincos, &mut self.f1);
        (&self.f0, &self.fh, &self.f1)
    }
}
