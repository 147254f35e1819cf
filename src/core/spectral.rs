//! Real 2-D FFTs on an N×N periodic grid ([0, 2π)², integer wavenumbers).
//!
//! Real fields are row-major `f[ix * n + iy]` (axis 0 = x, axis 1 = y). Spectra use the
//! *transposed* half layout `spec[ky * n + kx]`, `ky = 0..=n/2` (the half axis, from the real
//! FFT along y) and `kx = 0..n` (full axis), so each fixed-`ky` line is contiguous. Use
//! [`Spectral2d::kx`], [`Spectral2d::ky`], [`Spectral2d::k2`] (same layout) instead of indexing
//! by hand. Forward transforms are unnormalised (like NumPy); [`Spectral2d::inverse`] divides
//! by n², so `inverse(forward(f)) = f`.
use num_complex::Complex64;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// FFT plans and wavenumber tables for one grid size. Cheap to share (`Arc` inside); each
/// thread needs its own [`SpectralWorkspace`].
#[derive(Clone)]
pub struct Spectral2d {
    n: usize,
    nh: usize,
    r2c: Arc<dyn RealToComplex<f64>>,
    c2r: Arc<dyn ComplexToReal<f64>>,
    fwd: Arc<dyn Fft<f64>>,
    inv: Arc<dyn Fft<f64>>,
    kx: Vec<f64>,
    ky: Vec<f64>,
    k2: Vec<f64>,
}

/// Per-thread scratch buffers for [`Spectral2d`]; allocate once, reuse every call.
pub struct SpectralWorkspace {
    row: Vec<f64>,
    half: Vec<Complex64>,
    lines: Vec<Complex64>,
    scratch: Vec<Complex64>,
}

impl Spectral2d {
    /// Plans for an `n`×`n` grid (`n` even, ≥ 4).
    pub fn new(n: usize) -> crate::Result<Self> {
        if n < 4 || !n.is_multiple_of(2) {
            return Err(crate::Error::invalid(format!(
                "grid size n = {n} must be even and at least 4 (e.g. n: 32)"
            )));
        }
        crate::budget::Request::new(format!("a {n}×{n} grid"))
            .buffer(
                "the wavenumber tables",
                &[("", n), ("modes", n / 2 + 1)],
                24,
            )
            .fix("use a smaller n")
            .check()?;
        let nh = n / 2 + 1;
        let mut rp = RealFftPlanner::<f64>::new();
        let mut cp = FftPlanner::<f64>::new();
        let wave = |i: usize| -> f64 {
            if i <= n / 2 {
                i as f64
            } else {
                i as f64 - n as f64
            }
        };
        let mut kx = vec![0.0; n * nh];
        let mut ky = vec![0.0; n * nh];
        let mut k2 = vec![0.0; n * nh];
        for jy in 0..nh {
            for ix in 0..n {
                let idx = jy * n + ix;
                // kx at the Nyquist index is taken as +n/2 (|k|² uses n²/4 either way).
                kx[idx] = wave(ix);
                ky[idx] = jy as f64;
                k2[idx] = kx[idx] * kx[idx] + ky[idx] * ky[idx];
            }
        }
        Ok(Spectral2d {
            n,
            nh,
            r2c: rp.plan_fft_forward(n),
            c2r: rp.plan_fft_inverse(n),
            fwd: cp.plan_fft_forward(n),
            inv: cp.plan_fft_inverse(n),
            kx,
            ky,
            k2,
        })
    }

    /// Grid points per side.
    pub fn n(&self) -> usize {
        self.n
    }
    /// Number of complex coefficients in a spectrum: `n * (n/2 + 1)`.
    pub fn spec_len(&self) -> usize {
        self.n * self.nh
    }
    /// x-wavenumber of each spectral coefficient (Nyquist as +n/2).
    pub fn kx(&self) -> &[f64] {
        &self.kx
    }
    /// y-wavenumber of each spectral coefficient (0..=n/2).
    pub fn ky(&self) -> &[f64] {
        &self.ky
    }
    /// |k|² of each spectral coefficient.
    pub fn k2(&self) -> &[f64] {
        &self.k2
    }
    /// True for the x-Nyquist coefficients, where an odd derivative ∂ₓ is set to zero.
    pub fn is_x_nyquist(&self, idx: usize) -> bool {
        idx % self.n == self.n / 2
    }
    /// Multiplicity of each coefficient in a sum over the full (both-halves) spectrum:
    /// 1 for ky = 0 and ky = n/2, 2 otherwise (the conjugate half is implicit).
    pub fn weight(&self, idx: usize) -> f64 {
        let jy = idx / self.n;
        if jy == 0 || jy == self.nh - 1 {
            1.0
        } else {
            2.0
        }
    }

    /// Bytes of one [`SpectralWorkspace`] (for memory checks).
    pub fn workspace_bytes(&self) -> usize {
        8 * self.n + 16 * (self.nh + self.n * self.nh + self.scratch_len())
    }

    fn scratch_len(&self) -> usize {
        self.r2c
            .get_scratch_len()
            .max(self.c2r.get_scratch_len())
            .max(self.fwd.get_inplace_scratch_len())
            .max(self.inv.get_inplace_scratch_len())
            .max(1)
    }

    /// A fresh workspace for this grid.
    pub fn workspace(&self) -> SpectralWorkspace {
        let s = self.scratch_len();
        SpectralWorkspace {
            row: vec![0.0; self.n],
            half: vec![Complex64::new(0.0, 0.0); self.nh],
            lines: vec![Complex64::new(0.0, 0.0); self.n * self.nh],
            scratch: vec![Complex64::new(0.0, 0.0); s],
        }
    }

    /// Unnormalised forward transform of a real field (`n*n`) into `spec` (`spec_len()`).
    pub fn forward(&self, field: &[f64], spec: &mut [Complex64], ws: &mut SpectralWorkspace) {
        let (n, nh) = (self.n, self.nh);
        debug_assert_eq!(field.len(), n * n);
        debug_assert_eq!(spec.len(), n * nh);
        for ix in 0..n {
            ws.row.copy_from_slice(&field[ix * n..(ix + 1) * n]);
            self.r2c
                .process_with_scratch(&mut ws.row, &mut ws.half, &mut ws.scratch)
                .expect("buffer lengths are fixed by the plan");
            for (jy, v) in ws.half.iter().enumerate() {
                spec[jy * n + ix] = *v;
            }
        }
        self.fwd.process_with_scratch(spec, &mut ws.scratch);
    }

    /// Inverse transform (divides by n²) of `spec` into a real field. `spec` is unchanged.
    pub fn inverse(&self, spec: &[Complex64], field: &mut [f64], ws: &mut SpectralWorkspace) {
        let (n, nh) = (self.n, self.nh);
        ws.lines.copy_from_slice(spec);
        self.inv
            .process_with_scratch(&mut ws.lines, &mut ws.scratch);
        let scale = 1.0 / (n * n) as f64;
        for ix in 0..n {
            for jy in 0..nh {
                ws.half[jy] = ws.lines[jy * n + ix] * scale;
            }
            // Self-conjugate coefficients must be real for a real signal.
            ws.half[0].im = 0.0;
            ws.half[nh - 1].im = 0.0;
            self.c2r
                .process_with_scratch(
                    &mut ws.half,
                    &mut field[ix * n..(ix + 1) * n],
                    &mut ws.scratch,
                )
                .expect("buffer lengths are fixed by the plan and the input is made valid");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_single_mode() {
        let n = 8;
        let sp = Spectral2d::new(n).unwrap();
        let mut ws = sp.workspace();
        let f: Vec<f64> = (0..n * n).map(|i| ((i * 7919) % 13) as f64 - 6.0).collect();
        let mut s = vec![Complex64::new(0.0, 0.0); sp.spec_len()];
        let mut g = vec![0.0; n * n];
        sp.forward(&f, &mut s, &mut ws);
        sp.inverse(&s, &mut g, &mut ws);
        for (a, b) in f.iter().zip(&g) {
            assert!((a - b).abs() < 1e-12);
        }
        // cos(2x + 3y): coefficient n²/2 at (kx, ky) = (2, 3), zero elsewhere.
        let h = 2.0 * std::f64::consts::PI / n as f64;
        let c: Vec<f64> = (0..n * n)
            .map(|i| (2.0 * (i / n) as f64 * h + 3.0 * (i % n) as f64 * h).cos())
            .collect();
        sp.forward(&c, &mut s, &mut ws);
        for (idx, v) in s.iter().enumerate() {
            let expect = if sp.kx()[idx] == 2.0 && sp.ky()[idx] == 3.0 {
                (n * n) as f64 / 2.0
            } else {
                0.0
            };
            assert!(
                (v.re - expect).abs() < 1e-9 && v.im.abs() < 1e-9,
                "idx {idx}: {v}"
            );
        }
    }

    #[test]
    fn odd_sizes_are_refused() {
        assert!(Spectral2d::new(7).is_err());
        assert!(Spectral2d::new(2).is_err());
    }
}
