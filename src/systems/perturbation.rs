//! Drift perturbations `F → F + ε u(x) f(t)` (SPEC 2) and their divergence `∇·u`, which enters
//! the GFDT conjugate variable `B = ∇·u + u·s`.
use crate::{Error, Result};
use ndarray::Array2;

/// A perturbation field `u(x)` on a D-dimensional state.
pub trait Perturbation: Send + Sync {
    /// State dimension D.
    fn dim(&self) -> usize;
    /// Short name for legends, e.g. "u = e_0".
    fn name(&self) -> String;
    /// Writes `u(x)` into `out` (length D, prefilled with NaN by callers that check it).
    fn u(&self, x: &[f64], out: &mut [f64]) -> Result<()>;
    /// `∇·u(x)`. Default: central finite differences, see [`fd_divergence`].
    fn div(&self, x: &[f64]) -> Result<f64> {
        fd_divergence(self, x)
    }
    /// False when `u`/`div` must only be called from the calling thread (closure backed);
    /// see [`crate::systems::sde`] for the contract. Default true.
    fn parallel_safe(&self) -> bool {
        true
    }
}

/// Relative step of [`fd_divergence`]: `h_i = FD_STEP · max(1, |x_i|)`, with `FD_STEP = ε^{1/3}`
/// (ε = machine epsilon), which balances the O(h² ∂³u) truncation error of a central difference
/// against the O(ε |u| / h) rounding error: both ~1e-11 relative for smooth u of unit scale.
pub const FD_STEP: f64 = 6.055_454_452_393_339_5e-6;

/// Central-difference divergence `Σ_i (u_i(x + h_i e_i) − u_i(x − h_i e_i)) / (2 h_i)`; costs
/// 2D evaluations of `u` (allocates three length-D buffers per call).
pub fn fd_divergence<P: Perturbation + ?Sized>(p: &P, x: &[f64]) -> Result<f64> {
    let d = x.len();
    let mut xs = x.to_vec();
    let mut up = vec![f64::NAN; d];
    let mut um = vec![f64::NAN; d];
    let mut div = 0.0;
    for i in 0..d {
        let h = FD_STEP * x[i].abs().max(1.0);
        xs[i] = x[i] + h;
        p.u(&xs, &mut up)?;
        xs[i] = x[i] - h;
        p.u(&xs, &mut um)?;
        xs[i] = x[i];
        // (x + h) - (x - h) is not exactly 2h in floating point; use the realised difference.
        let dh = (x[i] + h) - (x[i] - h);
        div += (up[i] - um[i]) / dh;
    }
    if !div.is_finite() {
        return Err(Error::BlowUp(format!(
            "divergence of perturbation '{}' is {div} at x = {}; make u finite near x",
            p.name(),
            crate::systems::sde::fmt_state(x)
        )));
    }
    Ok(div)
}

/// A constant perturbation `u(x) = v` (e.g. a shift of a forcing constant; `v = e_j` kicks
/// component j). `∇·u = 0`.
#[derive(Clone, Debug)]
pub struct ConstantPerturbation {
    v: Vec<f64>,
}

impl ConstantPerturbation {
    /// `u = v` (finite entries).
    pub fn new(v: Vec<f64>) -> Result<Self> {
        if v.is_empty() || v.iter().any(|a| !a.is_finite()) {
            return Err(Error::invalid(format!(
                "constant perturbation {v:?} must be a non-empty vector of finite numbers"
            )));
        }
        Ok(ConstantPerturbation { v })
    }
    /// `u = e_j` in dimension `d`.
    pub fn unit(d: usize, j: usize) -> Result<Self> {
        if j >= d {
            return Err(Error::invalid(format!(
                "unit perturbation e_{j} in dimension {d}: pass a component 0 ≤ j < {d}"
            )));
        }
        let mut v = vec![0.0; d];
        v[j] = 1.0;
        Ok(ConstantPerturbation { v })
    }
}

impl Perturbation for ConstantPerturbation {
    fn dim(&self) -> usize {
        self.v.len()
    }
    fn name(&self) -> String {
        match self.v.iter().position(|&a| a != 0.0) {
            Some(j) if self.v[j] == 1.0 && self.v.iter().filter(|&&a| a != 0.0).count() == 1 => {
                format!("u = e_{j}")
            }
            _ => format!("u = {:?}", self.v),
        }
    }
    fn u(&self, _x: &[f64], out: &mut [f64]) -> Result<()> {
        out.copy_from_slice(&self.v);
        Ok(())
    }
    fn div(&self, _x: &[f64]) -> Result<f64> {
        Ok(0.0)
    }
}

/// A linear perturbation `u(x) = M x` (e.g. `M = I`: a change of damping). `∇·u = tr M`, exact.
#[derive(Clone, Debug)]
pub struct LinearPerturbation {
    m: Vec<f64>,
    d: usize,
    trace: f64,
}

impl LinearPerturbation {
    /// `u(x) = M x` for a square D×D matrix M with finite entries.
    pub fn new(m: Array2<f64>) -> Result<Self> {
        let d = m.nrows();
        if d == 0 || m.ncols() != d {
            return Err(Error::shape(format!(
                "linear perturbation: M is {}×{}; pass a square D×D matrix",
                m.nrows(),
                m.ncols()
            )));
        }
        if m.iter().any(|a| !a.is_finite()) {
            return Err(Error::invalid(
                "linear perturbation: M has non-finite entries",
            ));
        }
        let trace = m.diag().sum();
        Ok(LinearPerturbation {
            m: m.iter().cloned().collect(),
            d,
            trace,
        })
    }
    /// `u(x) = x`.
    pub fn identity(d: usize) -> Result<Self> {
        Self::new(Array2::eye(d))
    }
}

impl Perturbation for LinearPerturbation {
    fn dim(&self) -> usize {
        self.d
    }
    fn name(&self) -> String {
        "u = M x".into()
    }
    fn u(&self, x: &[f64], out: &mut [f64]) -> Result<()> {
        for (o, row) in out.iter_mut().zip(self.m.chunks_exact(self.d)) {
            *o = crate::systems::sde::dot(row, x);
        }
        Ok(())
    }
    fn div(&self, _x: &[f64]) -> Result<f64> {
        Ok(self.trace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// u(x) = (x0², x0 x1, sin x2): ∇·u = 2 x0 + x0 + cos x2.
    struct Poly;
    impl Perturbation for Poly {
        fn dim(&self) -> usize {
            3
        }
        fn name(&self) -> String {
            "poly".into()
        }
        fn u(&self, x: &[f64], out: &mut [f64]) -> Result<()> {
            out[0] = x[0] * x[0];
            out[1] = x[0] * x[1];
            out[2] = x[2].sin();
            Ok(())
        }
    }

    #[test]
    fn fd_divergence_matches_exact() {
        for x in [[0.3f64, -1.2, 0.7], [120.0, 3.0, -40.0]] {
            let exact = 3.0 * x[0] + x[2].cos();
            let fd = Poly.div(&x).unwrap();
            // Truncation h² |∂³u| ~ (6e-6·120)²·0 (quadratic: exact) + rounding ~ ε|u|/h.
            assert!(
                (fd - exact).abs() < 1e-7 * exact.abs().max(1.0),
                "{fd} vs {exact}"
            );
        }
    }

    #[test]
    fn linear_divergence_is_trace() {
        let m = ndarray::array![[1.0, 2.0], [3.0, -4.0]];
        let p = LinearPerturbation::new(m).unwrap();
        assert_eq!(p.div(&[0.1, 0.2]).unwrap(), -3.0);
        assert!((fd_divergence(&p, &[0.1, 0.2]).unwrap() + 3.0).abs() < 1e-8);
        let mut o = [0.0; 2];
        p.u(&[1.0, 1.0], &mut o).unwrap();
        assert_eq!(o, [3.0, -1.0]);
    }
}
