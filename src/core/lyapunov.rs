//! Continuous Lyapunov equation `A X + X Aᵀ + Q = 0` (stationary covariance of a linear OU
//! process, `Q = G Gᵀ`) and stability of `A`, on nalgebra's real Schur decomposition.
//!
//! Bartels–Stewart: `A = U T Uᵀ` with `T` upper quasi-triangular (1×1 and 2×2 diagonal blocks),
//! then `T Y + Y Tᵀ = −Uᵀ Q U` is solved block by block from the bottom-right corner (each block
//! a Sylvester equation of size ≤ 2×2, i.e. a ≤ 4×4 linear system), and `X = U Y Uᵀ`.
//! O(D³) work; D = 64 takes milliseconds. The solution is symmetrised and its residual checked.
use crate::{Error, Result};
use nalgebra::DMatrix;
use ndarray::Array2;

/// ndarray → nalgebra.
pub(crate) fn to_na(a: &Array2<f64>) -> DMatrix<f64> {
    DMatrix::from_fn(a.nrows(), a.ncols(), |i, j| a[[i, j]])
}

/// nalgebra → ndarray.
pub(crate) fn to_nd(a: &DMatrix<f64>) -> Array2<f64> {
    Array2::from_shape_fn((a.nrows(), a.ncols()), |(i, j)| a[(i, j)])
}

/// Real Schur form `A = U T Uᵀ` plus the diagonal block layout of `T`.
pub(crate) struct RealSchur {
    pub u: DMatrix<f64>,
    pub t: DMatrix<f64>,
    /// (start, size) of each diagonal block of T, size 1 or 2.
    pub blocks: Vec<(usize, usize)>,
}

impl RealSchur {
    /// Computes the decomposition; errors on non-finite input or non-convergence.
    pub(crate) fn new(a: &DMatrix<f64>, what: &str) -> Result<Self> {
        let d = a.nrows();
        if a.ncols() != d || d == 0 {
            return Err(Error::shape(format!(
                "{what}: matrix is {}×{}; pass a square matrix",
                a.nrows(),
                a.ncols()
            )));
        }
        if a.iter().any(|v| !v.is_finite()) {
            return Err(Error::invalid(format!(
                "{what}: matrix has non-finite entries"
            )));
        }
        let schur = nalgebra::linalg::Schur::try_new(a.clone(), f64::EPSILON, 1000 * d.max(10))
            .ok_or_else(|| {
                Error::invalid(format!(
                    "{what}: the Schur decomposition did not converge; the matrix may be badly \
                     scaled — rescale it or perturb repeated eigenvalues slightly"
                ))
            })?;
        let (u, t) = schur.unpack();
        let mut blocks = Vec::new();
        let mut i = 0;
        while i < d {
            if i + 1 < d && t[(i + 1, i)] != 0.0 {
                if i + 2 < d && t[(i + 2, i + 1)] != 0.0 {
                    return Err(Error::invalid(format!(
                        "{what}: the Schur form has an unconverged 3×3 block at row {i}; \
                         rescale the matrix"
                    )));
                }
                blocks.push((i, 2));
                i += 2;
            } else {
                blocks.push((i, 1));
                i += 1;
            }
        }
        Ok(RealSchur { u, t, blocks })
    }

    /// Eigenvalues (re, im) of A, one per row.
    pub(crate) fn eigenvalues(&self) -> Vec<(f64, f64)> {
        let t = &self.t;
        let mut ev = Vec::new();
        for &(s, n) in &self.blocks {
            if n == 1 {
                ev.push((t[(s, s)], 0.0));
            } else {
                let (a, b, c, d) = (t[(s, s)], t[(s, s + 1)], t[(s + 1, s)], t[(s + 1, s + 1)]);
                let tr = 0.5 * (a + d);
                let disc = 0.25 * (a - d) * (a - d) + b * c;
                if disc >= 0.0 {
                    ev.push((tr + disc.sqrt(), 0.0));
                    ev.push((tr - disc.sqrt(), 0.0));
                } else {
                    ev.push((tr, (-disc).sqrt()));
                    ev.push((tr, -(-disc).sqrt()));
                }
            }
        }
        ev
    }
}

/// Errors unless every eigenvalue of `a` has a negative real part (`Re λ < −1e-12 ‖A‖`).
/// `what` names the matrix in the message. Returns the Schur form for reuse.
pub(crate) fn check_stable(a: &DMatrix<f64>, what: &str) -> Result<RealSchur> {
    let s = RealSchur::new(a, what)?;
    let scale = a.norm().max(f64::MIN_POSITIVE);
    let worst =
        s.eigenvalues().into_iter().fold(
            (f64::NEG_INFINITY, 0.0),
            |w, e| if e.0 > w.0 { e } else { w },
        );
    if worst.0 >= -1e-12 * scale {
        return Err(Error::invalid(format!(
            "{what}: eigenvalue {:.6}{:+.6}i has real part ≥ 0, so the process has no stationary \
             state; make every eigenvalue's real part negative (e.g. add more damping: A − c I)",
            worst.0, worst.1
        )));
    }
    Ok(s)
}

/// Solves `A X + X Aᵀ + Q = 0` for stable `A` (checked) and symmetric `Q`.
pub fn solve_lyapunov(a: &Array2<f64>, q: &Array2<f64>) -> Result<Array2<f64>> {
    let an = to_na(a);
    let schur = check_stable(&an, "Lyapunov equation A X + X Aᵀ + Q = 0, matrix A")?;
    Ok(to_nd(&lyapunov_schur(&an, &schur, &to_na(q))?))
}

/// Bartels–Stewart on a precomputed (stable) Schur form.
#[allow(clippy::needless_range_loop)] // block indices into several matrices at once
pub(crate) fn lyapunov_schur(
    a: &DMatrix<f64>,
    s: &RealSchur,
    q: &DMatrix<f64>,
) -> Result<DMatrix<f64>> {
    let d = a.nrows();
    if q.nrows() != d || q.ncols() != d {
        return Err(Error::shape(format!(
            "Lyapunov equation: A is {d}×{d} but Q is {}×{}; pass Q of the same size",
            q.nrows(),
            q.ncols()
        )));
    }
    if q.iter().any(|v| !v.is_finite()) {
        return Err(Error::invalid(
            "Lyapunov equation: Q has non-finite entries",
        ));
    }
    let t = &s.t;
    let f = -(s.u.transpose() * q * &s.u);
    let mut y = DMatrix::<f64>::zeros(d, d);
    for &(i0, p) in s.blocks.iter().rev() {
        for &(j0, r) in s.blocks.iter().rev() {
            // rhs = F_IJ − Σ_{k ≥ i0+p} T_Ik Y_kJ − Σ_{k ≥ j0+r} Y_Ik T_Jkᵀ
            let mut rhs = [[0.0f64; 2]; 2];
            for a_ in 0..p {
                for b_ in 0..r {
                    let (ii, jj) = (i0 + a_, j0 + b_);
                    let mut v = f[(ii, jj)];
                    for k in (i0 + p)..d {
                        v -= t[(ii, k)] * y[(k, jj)];
                    }
                    for k in (j0 + r)..d {
                        v -= y[(ii, k)] * t[(jj, k)];
                    }
                    rhs[a_][b_] = v;
                }
            }
            // Small Sylvester T_II Z + Z T_JJᵀ = rhs, unknowns z[a*r + b] = Z_ab.
            let n = p * r;
            let mut m = DMatrix::<f64>::zeros(n, n);
            let mut bvec = nalgebra::DVector::<f64>::zeros(n);
            for a_ in 0..p {
                for b_ in 0..r {
                    let row = a_ * r + b_;
                    bvec[row] = rhs[a_][b_];
                    for c in 0..p {
                        m[(row, c * r + b_)] += t[(i0 + a_, i0 + c)];
                    }
                    for c in 0..r {
                        m[(row, a_ * r + c)] += t[(j0 + b_, j0 + c)];
                    }
                }
            }
            let z = m.lu().solve(&bvec).ok_or_else(|| {
                Error::invalid(
                    "Lyapunov equation: singular block (eigenvalues λ_i + λ_j = 0); A must be stable",
                )
            })?;
            for a_ in 0..p {
                for b_ in 0..r {
                    y[(i0 + a_, j0 + b_)] = z[a_ * r + b_];
                }
            }
        }
    }
    let x = &s.u * y * s.u.transpose();
    let x = (&x + x.transpose()) * 0.5;
    let res = (a * &x + &x * a.transpose() + q).norm();
    let scale = 2.0 * a.norm() * x.norm() + q.norm();
    if res.is_nan() || res > 1e-8 * scale {
        return Err(Error::invalid(format!(
            "Lyapunov equation: residual {res:e} (relative {:e}) is too large; A is too close to \
             unstable or badly scaled — rescale A",
            res / scale
        )));
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn residual(a: &Array2<f64>, x: &Array2<f64>, q: &Array2<f64>) -> f64 {
        let r = a.dot(x) + x.dot(&a.t()) + q;
        r.iter().map(|v| v * v).sum::<f64>().sqrt()
    }

    #[test]
    fn non_normal_with_complex_pairs() {
        // Non-normal (large off-diagonal coupling) with a complex pair and a Jordan-like block.
        let a = array![
            [-1.0, 5.0, 0.0, 0.3, 0.0],
            [0.0, -1.0, 3.0, 0.0, 0.1],
            [0.0, -2.0, -0.5, 1.0, 0.0],
            [0.2, 0.0, 0.0, -2.0, 4.0],
            [0.0, 0.0, 0.0, 0.0, -0.3]
        ];
        let g = array![
            [1.0, 0.0, 0.2],
            [0.0, 0.5, 0.0],
            [0.3, 0.0, 1.0],
            [0.0, 0.0, 0.7],
            [0.0, 0.4, 0.0]
        ];
        let q = g.dot(&g.t());
        let x = solve_lyapunov(&a, &q).unwrap();
        let r = residual(&a, &x, &q);
        assert!(r < 1e-10, "residual {r}");
        // Symmetric positive definite.
        assert!((&x - &x.t()).iter().all(|v| v.abs() < 1e-14));
        assert!(nalgebra::Cholesky::new(to_na(&x)).is_some());
    }

    #[test]
    fn scalar_and_2x2_exact() {
        // a x + x a + q = 0 → x = q / (−2a).
        let x = solve_lyapunov(&array![[-0.5]], &array![[2.0]]).unwrap();
        assert!((x[[0, 0]] - 2.0).abs() < 1e-15);
        // Rotation + damping: A = −γ I + ω J, Q = 2I → X = I/γ.
        let a = array![[-0.5, 2.0], [-2.0, -0.5]];
        let x = solve_lyapunov(&a, &(Array2::eye(2) * 2.0)).unwrap();
        assert!(
            (&x - &(Array2::<f64>::eye(2) * 2.0))
                .iter()
                .all(|v| v.abs() < 1e-12),
            "{x}"
        );
    }

    #[test]
    fn unstable_is_refused_with_fix() {
        let e = solve_lyapunov(&array![[0.1, 1.0], [0.0, -1.0]], &Array2::eye(2)).unwrap_err();
        let m = e.to_string();
        assert!(m.contains("real part") && m.contains("damping"), "{m}");
        let e = solve_lyapunov(&array![[0.0, 1.0], [-1.0, 0.0]], &Array2::eye(2)).unwrap_err();
        assert!(e.to_string().contains("no stationary state"));
    }

    #[test]
    fn random_64_dim() {
        use rand::RngExt;
        let mut rng = crate::core::rng::stream_rng(3, 0);
        let d = 64;
        let a = Array2::from_shape_fn((d, d), |(i, j)| {
            let z: f64 = rng.random::<f64>() - 0.5;
            if i == j {
                -3.0 + z
            } else {
                z * 0.5
            }
        });
        let q = Array2::eye(d);
        let x = solve_lyapunov(&a, &q).unwrap();
        let scale = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!(residual(&a, &x, &q) < 1e-10 * scale.max(1.0));
    }
}
