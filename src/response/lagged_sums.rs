//! Lagged product sums for the general GFDT ([`crate::response::general`]).
//!
//! `cross_sums(a, b, L)[k][τ] = Σ_{t < len_b, t+τ < len_a} a_k(t+τ) b(t)` for τ = 0..L. The
//! FFT work is done by the shared correlation engine [`crate::response::xcorr::xcorr`]: both
//! series are zero-padded to a common length n, so its pairs `t < n − τ` are exactly the pairs
//! above (padding contributes zeros), and its per-lag mean is multiplied back by the pair count
//! `n − τ`. The plain sums `sa`, `sb` and the pair counts (prefix sums) stay here.
use crate::response::xcorr::xcorr;
use crate::Result;
use ndarray::Array3;

/// Lagged cross sums through [`xcorr`] (kept as a type so callers hold one per thread).
pub(crate) struct LaggedFft;

impl LaggedFft {
    pub(crate) fn new() -> Self {
        LaggedFft
    }

    /// See the module doc. Every `a[k]` has the same length `len_a ≥ 1`; `b` has `len_b ≥ 1`.
    pub(crate) fn cross_sums(
        &mut self,
        a: &[&[f64]],
        b: &[f64],
        lags: usize,
    ) -> Result<Vec<Vec<f64>>> {
        let len_a = a.first().map_or(0, |v| v.len());
        let n = len_a.max(b.len());
        let k = a.len();
        let mut out = vec![vec![0.0; lags]; k];
        if n == 0 || k == 0 || lags == 0 {
            return Ok(out);
        }
        let mut av = Array3::<f64>::zeros((1, n, k));
        for (j, aj) in a.iter().enumerate() {
            for (t, v) in aj.iter().enumerate() {
                av[[0, t, j]] = *v;
            }
        }
        let mut bv = Array3::<f64>::zeros((1, n, 1));
        for (t, v) in b.iter().enumerate() {
            bv[[0, t, 0]] = *v;
        }
        let l_eff = lags.min(n);
        let c = xcorr(av.view(), bv.view(), l_eff)?;
        for (j, oj) in out.iter_mut().enumerate() {
            for (tau, o) in oj.iter_mut().enumerate().take(l_eff) {
                *o = c[[tau, j, 0]] * (n - tau) as f64;
            }
        }
        Ok(out)
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
        let got = LaggedFft::new()
            .cross_sums(&[&a, &a[..20]], &b, lags)
            .unwrap();
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
