//! CPU kernels of the native engine: row-major matrix products through the `gemm` crate and
//! vectorisable element-wise loops (SiLU with a polynomial exp), compiled for AVX2+FMA when the
//! CPU has it (runtime dispatch) and for the baseline otherwise.

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
    assert!(c.len() >= m * n && a.len() >= m * k && b.len() >= k * n);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !acc {
            c[..m * n].iter_mut().for_each(|v| *v = 0.0);
        }
        return;
    }
    let (a_rs, a_cs) = if ta { (1, m as isize) } else { (k as isize, 1) };
    let (b_rs, b_cs) = if tb { (1, k as isize) } else { (n as isize, 1) };
    let parallelism = if par && rayon::current_num_threads() > 1 {
        gemm::Parallelism::Rayon(rayon::current_num_threads())
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the slices hold at least the m×n, m×k and k×n elements addressed by the
    // strides above (asserted), and c does not alias a or b (distinct borrows).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            acc,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            1.0f32,
            1.0f32,
            false,
            false,
            false,
            parallelism,
        )
    }
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
