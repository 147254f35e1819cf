//! Lagged product sums by zero-padded FFT — a small private stand-in for the correlation engine.
//!
//! `cross_sums(a, b, L)[k][τ] = Σ_{t < len_b, t+τ < len_a} a_k(t+τ) b(t)` for τ = 0..L, computed
//! as one circular correlation of length `n ≥ max(len_a, len_b + L − 1)` (a power of two), so
//! no pair wraps around. O(n log n) instead of O(len · L).
//!
//! NOTE for the lead: when `crate::response::xcorr::xcorr` is merged this helper can be swapped
//! for it (it is only used by [`crate::response::general`]); the plain sums `sa`, `sb`, `n`
//! (prefix sums) stay here.
use num_complex::Complex;
use realfft::RealFftPlanner;

/// A per-thread FFT planner with reusable buffers.
pub(crate) struct LaggedFft {
    planner: RealFftPlanner<f64>,
    buf: Vec<f64>,
    spec_b: Vec<Complex<f64>>,
    spec_a: Vec<Complex<f64>>,
}

impl LaggedFft {
    pub(crate) fn new() -> Self {
        LaggedFft {
            planner: RealFftPlanner::new(),
            buf: Vec::new(),
            spec_b: Vec::new(),
            spec_a: Vec::new(),
        }
    }

    /// See the module doc. Every `a[k]` has the same length `len_a ≥ 1`; `b` has `len_b ≥ 1`.
    pub(crate) fn cross_sums(&mut self, a: &[&[f64]], b: &[f64], lags: usize) -> Vec<Vec<f64>> {
        let len_a = a.first().map_or(0, |v| v.len());
        let n = len_a
            .max(b.len() + lags.saturating_sub(1))
            .max(2)
            .next_power_of_two();
        let fwd = self.planner.plan_fft_forward(n);
        let inv = self.planner.plan_fft_inverse(n);
        self.buf.clear();
        self.buf.resize(n, 0.0);
        self.buf[..b.len()].copy_from_slice(b);
        self.spec_b.resize(n / 2 + 1, Complex::default());
        self.spec_a.resize(n / 2 + 1, Complex::default());
        // Lengths are consistent by construction, so the FFT cannot fail.
        let _ = fwd.process(&mut self.buf, &mut self.spec_b);
        let mut out = Vec::with_capacity(a.len());
        for ak in a {
            self.buf.clear();
            self.buf.resize(n, 0.0);
            self.buf[..ak.len()].copy_from_slice(ak);
            let _ = fwd.process(&mut self.buf, &mut self.spec_a);
            for (x, y) in self.spec_a.iter_mut().zip(&self.spec_b) {
                *x *= y.conj();
            }
            // Real signals: DC and Nyquist bins are real up to rounding; c2r insists on it.
            let last = self.spec_a.len() - 1;
            self.spec_a[0].im = 0.0;
            self.spec_a[last].im = 0.0;
            let _ = inv.process(&mut self.spec_a, &mut self.buf);
            let scale = 1.0 / n as f64;
            out.push(
                (0..lags)
                    .map(|tau| {
                        if tau < len_a {
                            self.buf[tau] * scale
                        } else {
                            0.0
                        }
                    })
                    .collect(),
            );
        }
        out
    }
}

/// Number of pairs at lag τ: `max(0, min(len_b, len_a − τ))`.
pub(crate) fn pair_count(len_a: usize, len_b: usize, tau: usize) -> usize {
    len_b.min(len_a.saturating_sub(tau))
}

/// `Σ a(t+τ)` and `Σ b(t)` over the pairs at each lag τ < L (prefix sums).
pub(crate) fn plain_sums(a: &[f64], b: &[f64], lags: usize) -> (Vec<f64>, Vec<f64>) {
    let prefix = |v: &[f64]| {
        let mut p = Vec::with_capacity(v.len() + 1);
        p.push(0.0);
        let mut s = 0.0;
        for x in v {
            s += x;
            p.push(s);
        }
        p
    };
    let (pa, pb) = (prefix(a), prefix(b));
    let mut sa = vec![0.0; lags];
    let mut sb = vec![0.0; lags];
    for tau in 0..lags {
        let c = pair_count(a.len(), b.len(), tau);
        if c > 0 {
            sa[tau] = pa[tau + c] - pa[tau];
            sb[tau] = pb[c];
        }
    }
    (sa, sb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fft_sums_match_direct_loop() {
        let a: Vec<f64> = (0..37).map(|i| ((i * 7 % 11) as f64 - 5.0) * 0.3).collect();
        let b: Vec<f64> = (0..29).map(|i| ((i * 5 % 13) as f64 - 6.0) * 0.2).collect();
        let lags = 12;
        let got = LaggedFft::new().cross_sums(&[&a, &a[..20]], &b, lags);
        for (k, ak) in [&a[..], &a[..20]].iter().enumerate() {
            for tau in 0..lags {
                let direct: f64 = (0..b.len())
                    .filter(|t| t + tau < ak.len())
                    .map(|t| ak[t + tau] * b[t])
                    .sum();
                assert!((got[k][tau] - direct).abs() < 1e-12, "k {k} tau {tau}");
            }
        }
        let (sa, sb) = plain_sums(&a[..20], &b, lags);
        for tau in 0..lags {
            let c = pair_count(20, b.len(), tau);
            let da: f64 = (0..c).map(|t| a[t + tau]).sum();
            let db: f64 = (0..c).map(|t| b[t]).sum();
            assert!((sa[tau] - da).abs() < 1e-12 && (sb[tau] - db).abs() < 1e-12);
        }
    }
}
