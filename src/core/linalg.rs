//! Inverses for the D×D matrices of the estimators (`C(0)⁻¹`, `S(0)⁻¹`, Gaussian score fits):
//! LU with partial pivoting and Cholesky, kept by hand because their errors name the component
//! that makes a data covariance singular. Matrix exponentials and the Lyapunov equation live in
//! [`crate::core::lyapunov`] (nalgebra).
use crate::{Error, Result};
use ndarray::{Array1, Array2, ArrayView2};

/// Relative pivot size below which a matrix is treated as singular.
pub const SINGULAR_RTOL: f64 = 1e-12;

fn check_square(a: &ArrayView2<f64>, what: &str) -> Result<usize> {
    let (r, c) = a.dim();
    if r != c || r == 0 {
        return Err(Error::shape(format!(
            "{what} must be a non-empty square matrix, got {r}×{c}"
        )));
    }
    if let Some(((i, j), v)) = a.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(Error::invalid(format!(
            "{what} has a non-finite entry {v} at ({i}, {j}); check the data for NaN/inf"
        )));
    }
    Ok(r)
}

/// LU factorisation with partial pivoting of a square matrix, for solves and inverses.
pub struct Lu {
    lu: Array2<f64>,
    perm: Vec<usize>,
}

impl Lu {
    /// Factorises `a`. `what` names the matrix in error messages (e.g. "S(0)").
    pub fn new(a: ArrayView2<f64>, what: &str) -> Result<Lu> {
        let n = check_square(&a, what)?;
        let mut lu = a.to_owned();
        let mut perm: Vec<usize> = (0..n).collect();
        let scale = lu.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if scale == 0.0 {
            return Err(Error::invalid(format!(
                "{what} is the zero matrix; it cannot be inverted"
            )));
        }
        for k in 0..n {
            let (p, pv) = (k..n)
                .map(|i| (i, lu[[i, k]].abs()))
                .fold((k, -1.0), |b, c| if c.1 > b.1 { c } else { b });
            if pv <= SINGULAR_RTOL * scale * n as f64 {
                return Err(Error::invalid(format!(
                    "{what} ({n}×{n}) is singular or nearly so: pivot {k} is {pv:.3e} against entries of size {scale:.3e}; \
                     some component is (almost) constant or a linear combination of others — \
                     drop it, or use more data"
                )));
            }
            if p != k {
                for j in 0..n {
                    lu.swap([k, j], [p, j]);
                }
                perm.swap(k, p);
            }
            let d = lu[[k, k]];
            for i in k + 1..n {
                let f = lu[[i, k]] / d;
                lu[[i, k]] = f;
                if f != 0.0 {
                    for j in k + 1..n {
                        lu[[i, j]] -= f * lu[[k, j]];
                    }
                }
            }
        }
        Ok(Lu { lu, perm })
    }

    /// Solves `A x = b`.
    pub fn solve(&self, b: &[f64]) -> Array1<f64> {
        let n = self.perm.len();
        let mut x: Array1<f64> = self.perm.iter().map(|&p| b[p]).collect();
        for i in 0..n {
            let mut s = x[i];
            for j in 0..i {
                s -= self.lu[[i, j]] * x[j];
            }
            x[i] = s;
        }
        for i in (0..n).rev() {
            let mut s = x[i];
            for j in i + 1..n {
                s -= self.lu[[i, j]] * x[j];
            }
            x[i] = s / self.lu[[i, i]];
        }
        x
    }

    /// The inverse matrix.
    pub fn inverse(&self) -> Array2<f64> {
        let n = self.perm.len();
        let mut inv = Array2::zeros((n, n));
        let mut e = vec![0.0; n];
        for j in 0..n {
            e.iter_mut().for_each(|v| *v = 0.0);
            e[j] = 1.0;
            inv.column_mut(j).assign(&self.solve(&e));
        }
        inv
    }
}

/// Inverse of a general square matrix (LU with partial pivoting).
pub fn inverse(a: ArrayView2<f64>, what: &str) -> Result<Array2<f64>> {
    Ok(Lu::new(a, what)?.inverse())
}

/// Lower Cholesky factor `L` (`A = L Lᵀ`) of a symmetric positive definite matrix. Only the
/// lower triangle of `a` is read. The error names the first component whose variance is not
/// explained by the previous ones (constant, or a linear combination of others).
pub fn cholesky(a: ArrayView2<f64>, what: &str) -> Result<Array2<f64>> {
    let n = check_square(&a, what)?;
    let dmax = (0..n).fold(0.0f64, |m, i| m.max(a[[i, i]]));
    if dmax <= 0.0 {
        return Err(Error::invalid(format!(
            "{what} has no positive diagonal entry (all components constant?); it must be positive definite"
        )));
    }
    let mut l = Array2::<f64>::zeros((n, n));
    for j in 0..n {
        let mut d = a[[j, j]];
        for k in 0..j {
            d -= l[[j, k]] * l[[j, k]];
        }
        if d <= SINGULAR_RTOL * dmax * n as f64 {
            let why = if a[[j, j]] <= SINGULAR_RTOL * dmax {
                format!("component {j} has (almost) zero variance {:.3e}", a[[j, j]])
            } else {
                format!("component {j} is (almost) a linear combination of components 0..{j}")
            };
            return Err(Error::invalid(format!(
                "{what} ({n}×{n}) is singular or nearly so: {why}; drop that component or use more/longer data"
            )));
        }
        let d = d.sqrt();
        l[[j, j]] = d;
        for i in j + 1..n {
            let mut s = a[[i, j]];
            for k in 0..j {
                s -= l[[i, k]] * l[[j, k]];
            }
            l[[i, j]] = s / d;
        }
    }
    Ok(l)
}

/// Inverse of a symmetric positive definite matrix via Cholesky (symmetric result).
pub fn spd_inverse(a: ArrayView2<f64>, what: &str) -> Result<Array2<f64>> {
    let l = cholesky(a, what)?;
    let n = l.nrows();
    // L⁻¹ by forward substitution, then A⁻¹ = L⁻ᵀ L⁻¹.
    let mut li = Array2::<f64>::zeros((n, n));
    for j in 0..n {
        li[[j, j]] = 1.0 / l[[j, j]];
        for i in j + 1..n {
            let mut s = 0.0;
            for k in j..i {
                s -= l[[i, k]] * li[[k, j]];
            }
            li[[i, j]] = s / l[[i, i]];
        }
    }
    let inv = li.t().dot(&li);
    Ok((&inv + &inv.t()) * 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn inverse_lu_and_cholesky() {
        let a = array![[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]];
        let i1 = inverse(a.view(), "a").unwrap();
        let i2 = spd_inverse(a.view(), "a").unwrap();
        let e = a.dot(&i1) - Array2::<f64>::eye(3);
        assert!(e.iter().all(|v| v.abs() < 1e-13));
        assert!((&i1 - &i2).iter().all(|v| v.abs() < 1e-13));
        let b = array![[0.0, 2.0], [1.0, 0.0]]; // needs pivoting
        let ib = inverse(b.view(), "b").unwrap();
        assert!((b.dot(&ib) - Array2::<f64>::eye(2))
            .iter()
            .all(|v| v.abs() < 1e-15));
    }

    #[test]
    fn singular_is_an_error() {
        let a = array![[1.0, 2.0], [2.0, 4.0]];
        assert!(inverse(a.view(), "a").is_err());
        let e = spd_inverse(a.view(), "C(0)").unwrap_err().to_string();
        assert!(e.contains("component 1"), "{e}");
        let z = array![[1.0, 0.0], [0.0, 0.0]];
        let e = cholesky(z.view(), "C").unwrap_err().to_string();
        assert!(e.contains("zero variance"), "{e}");
        let nan = array![[f64::NAN]];
        assert!(inverse(nan.view(), "x").is_err());
    }
}
