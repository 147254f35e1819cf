//! CPU kernels of the native engine: row-major matrix products through the `gemm` crate and
//! vectorisable element-wise loops (SiLU with a polynomial exp), compiled for AVX2+FMA when the
//! CPU has it (runtime dispatch) and for the baseline otherwise.

/// A matrix operand: data and (row, column) strides in elements.
#[derive(Clone, Copy)]
pub(crate) struct Mat<'a> {
    pub data: &'a [f32],
    pub rs: usize,
    pub cs: usize,
}

impl<'a> Mat<'a> {
    /// Row-major `[rows × cols]` storage (or its transpose with `t`).
    pub fn rm(data: &'a [f32], cols: usize, t: bool) -> Self {
        if t {
            Mat {
                data,
                rs: 1,
                cs: cols,
            }
        } else {
            Mat {
                data,
                rs: cols,
                cs: 1,
            }
        }
    }
}

/// `C[m×n] (+)= A[m×k] · B[k×n]` for arbitrary strides; C has strides `(c_rs, c_cs)`.
/// `acc`: add to C instead of overwriting. `par`: let gemm use the current rayon pool.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_strided(
    c: &mut [f32],
    c_rs: usize,
    c_cs: usize,
    a: Mat,
    b: Mat,
    m: usize,
    n: usize,
    k: usize,
    acc: bool,
    par: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    let last = |rs: usize, cs: usize, r: usize, cc: usize| (r - 1) * rs + (cc - 1) * cs;
    assert!(c.len() > last(c_rs, c_cs, m, n));
    if k == 0 {
        if !acc {
            for i in 0..m {
                for j in 0..n {
                    c[i * c_rs + j * c_cs] = 0.0;
                }
            }
        }
        return;
    }
    assert!(a.data.len() > last(a.rs, a.cs, m, k) && b.data.len() > last(b.rs, b.cs, k, n));
    let parallelism = if par && rayon::current_num_threads() > 1 {
        gemm::Parallelism::Rayon(rayon::current_num_threads())
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: every element addressed through the strides lies inside its slice (asserted
    // above), and c does not alias a or b (a mutable and two shared borrows).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            c_cs as isize,
            c_rs as isize,
            acc,
            a.data.as_ptr(),
            a.cs as isize,
            a.rs as isize,
            b.data.as_ptr(),
            b.cs as isize,
            b.rs as isize,
            1.0f32,
            1.0f32,
            false,
            false,
            false,
            parallelism,
        )
    }
}

/// `C[m×n] (+)= op(A)[m×k] · op(B)[k×n]`, all row-major. `ta`: A is stored as `[k×m]`;
/// `tb`: B is stored as `[n×k]`. `acc`: add to C instead of overwriting. `par`: let gemm use
/// the current rayon pool (for large products called from a single thread).
#[allow(clippy::too_many_arguments)]
pub(crate) fn matmul(
    c: &mut [f32],
    a: &[f32],
    b: &[f32],
    m: usize,
    n: usize,
    k: usize,
    ta: bool,
    tb: bool,
    acc: bool,
    par: bool,
) {
    let a = Mat::rm(a, if ta { m } else { k }, ta);
    let b = Mat::rm(b, if tb { k } else { n }, tb);
    gemm_strided(c, n, 1, a, b, m, n, k, acc, par)
}

/// `e^x` in f32 to ~2 ulp, branch-free so that loops over it vectorise: x = n ln2 + r with
/// |r| ≤ ln2/2, a degree-6 Taylor polynomial for e^r, and 2^n built from the exponent bits.
#[inline(always)]
pub(crate) fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    const MAGIC: f32 = 12_582_912.0; // 1.5 · 2^23: adding it rounds to an integer
    let x = x.clamp(-87.0, 88.0);
    let n = (x * LOG2E + MAGIC) - MAGIC;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    let bits = ((n as i32 + 127) as u32) << 23;
    p * f32::from_bits(bits)
}

/// Logistic sigmoid `1 / (1 + e^{-x})`.
#[inline(always)]
pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp_f32(-x))
}

macro_rules! multiversion {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),*) $body:block) => {
        $(#[$m])*
        $vis fn $name($($arg: $ty),*) {
            #[inline(always)]
            fn generic($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2($($arg: $ty),*) {
                    generic($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: the CPU supports the enabled features (checked just above).
                    unsafe { avx2($($arg),*) };
                    return;
                }
            }
            generic($($arg),*)
        }
    };
}

multiversion! {
    /// Row-wise bias (`bias[j % n]`) plus SiLU in place: `z ← z + b`, `sig ← σ(z)`,
    /// `h ← z σ(z)`. `z` keeps the pre-activation for the backward pass.
    pub(crate) fn bias_silu(z: &mut [f32], sig: &mut [f32], h: &mut [f32], bias: &[f32]) {
        let n = bias.len();
        for ((zr, sr), hr) in z.chunks_exact_mut(n).zip(sig.chunks_exact_mut(n)).zip(h.chunks_exact_mut(n)) {
            for j in 0..n {
                let v = zr[j] + bias[j];
                let s = sigmoid(v);
                zr[j] = v;
                sr[j] = s;
                hr[j] = v * s;
            }
        }
    }
}

multiversion! {
    /// One channel of a conv layer: `z ← z + b`, `sig ← σ(z)`, `h ← z σ(z)`.
    pub(crate) fn shift_silu(z: &mut [f32], sig: &mut [f32], h: &mut [f32], b: f32) {
        for ((zv, sv), hv) in z.iter_mut().zip(sig.iter_mut()).zip(h.iter_mut()) {
            let v = *zv + b;
            let sg = sigmoid(v);
            *zv = v;
            *sv = sg;
            *hv = v * sg;
        }
    }
}

multiversion! {
    /// k×k taps over a padded plane `ext` (`(N+k−1)²`): `out[x, y] += Σ w[dx, dy]
    /// ext[x+ox, y+oy]` with `(ox, oy) = (dx, dy)`, or `(k−1−dx, k−1−dy)` with `flip`.
    pub(crate) fn taps_axpy(out: &mut [f32], ext: &[f32], w: &[f32], n: usize, k: usize, flip: bool) {
        let m = n + k - 1;
        for dx in 0..k {
            for dy in 0..k {
                let wv = w[dx * k + dy];
                let (ox, oy) = if flip { (k - 1 - dx, k - 1 - dy) } else { (dx, dy) };
                for x in 0..n {
                    let e = &ext[(x + ox) * m + oy..(x + ox) * m + oy + n];
                    let o = &mut out[x * n..(x + 1) * n];
                    for (a, b) in o.iter_mut().zip(e) {
                        *a += wv * b;
                    }
                }
            }
        }
    }
}

multiversion! {
    /// k×k correlations with a padded plane: `gw[dx, dy] += Σ_{x,y} g[x, y] ext[x+dx, y+dy]`.
    pub(crate) fn taps_dot(g: &[f32], ext: &[f32], gw: &mut [f32], n: usize, k: usize) {
        let m = n + k - 1;
        let mut acc = [0f32; 64];
        for dx in 0..k {
            for dy in 0..k {
                let mut total = 0.0f32;
                for c0 in (0..n).step_by(64) {
                    let w = (n - c0).min(64);
                    let acc = &mut acc[..w];
                    acc.iter_mut().for_each(|v| *v = 0.0);
                    for x in 0..n {
                        let e = &ext[(x + dx) * m + dy + c0..(x + dx) * m + dy + c0 + w];
                        let gr = &g[x * n + c0..x * n + c0 + w];
                        for ((a, u), v) in acc.iter_mut().zip(gr).zip(e) {
                            *a += u * v;
                        }
                    }
                    total += acc.iter().sum::<f32>();
                }
                gw[dx * k + dy] += total;
            }
        }
    }
}

multiversion! {
    /// Backward of SiLU in place: `g ← g · σ(z) (1 + z (1 − σ(z)))`.
    pub(crate) fn silu_backward(g: &mut [f32], z: &[f32], sig: &[f32]) {
        for ((gv, &zv), &sv) in g.iter_mut().zip(z).zip(sig) {
            *gv *= sv * (1.0 + zv * (1.0 - sv));
        }
    }
}

multiversion! {
    /// Adds `bias[j % n]` to every row.
    pub(crate) fn add_bias(z: &mut [f32], bias: &[f32]) {
        let n = bias.len();
        for zr in z.chunks_exact_mut(n) {
            for j in 0..n {
                zr[j] += bias[j];
            }
        }
    }
}

multiversion! {
    /// Column sums of a row-major `[rows, n]` matrix accumulated into `out` (`[n]`).
    pub(crate) fn col_sums(out: &mut [f32], g: &[f32]) {
        let n = out.len();
        for gr in g.chunks_exact(n) {
            for j in 0..n {
                out[j] += gr[j];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_accurate() {
        let mut worst = 0.0f64;
        for i in -8000..=8000 {
            let x = i as f32 * 0.01;
            let (a, b) = (exp_f32(x) as f64, (x as f64).exp());
            worst = worst.max(((a - b) / b).abs());
        }
        assert!(worst < 5e-7, "worst relative error {worst}");
    }

    #[test]
    fn matmul_transposes() {
        // A = [[1,2,3],[4,5,6]] (2×3), B = [[1,0],[0,1],[1,1]] (3×2): AB = [[4,5],[10,11]].
        let a = [1., 2., 3., 4., 5., 6.];
        let b = [1., 0., 0., 1., 1., 1.];
        let mut c = [0f32; 4];
        matmul(&mut c, &a, &b, 2, 2, 3, false, false, false, false);
        assert_eq!(c, [4., 5., 10., 11.]);
        let at = [1., 4., 2., 5., 3., 6.];
        let bt = [1., 0., 1., 0., 1., 1.];
        matmul(&mut c, &at, &bt, 2, 2, 3, true, true, false, true);
        assert_eq!(c, [4., 5., 10., 11.]);
        matmul(&mut c, &at, &b, 2, 2, 3, true, false, true, false);
        assert_eq!(c, [8., 10., 20., 22.]);
    }
}
