//! Tests of the Allen–Cahn / OU simulator (integrator, noise law, stationary statistics,
//! exact score, reproducibility, errors).
use super::system::fill_white_spectrum;
use super::*;
use crate::score::exact::ExactAcScore;
use crate::score::Score;
use crate::Error;
use ndarray::{Array2, Array3, Axis};
use num_complex::Complex64 as C64;
use std::f64::consts::PI;

fn quiet() {
    crate::core::progress::set_quiet(true);
}

fn pool(t: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(t)
        .build()
        .unwrap()
}

/// Deterministic pseudo-random field in [-amp, amp] (no rng dependence).
fn field(n: usize, amp: f64, salt: u64) -> Vec<f64> {
    let mut z = salt.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n * n)
        .map(|_| {
            z ^= z << 13;
            z ^= z >> 7;
            z ^= z << 17;
            amp * ((z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0)
        })
        .collect()
}

/// The noise construction is exactly white: the map from the n² standard normals to the real
/// field `IFFT(ξ̂)` is square and orthonormal (A Aᵀ = I), so the field is iid N(0, 1) per
/// pixel, the law of real white noise, whose FFT is what the integrator needs.
#[test]
fn noise_is_white() {
    for n in [4usize, 6, 8] {
        let sp = crate::core::spectral::Spectral2d::new(n).unwrap();
        let mut ws = sp.workspace();
        let d = n * n;
        let ones = vec![1.0; sp.spec_len()];
        let mut spec = vec![C64::new(0.0, 0.0); sp.spec_len()];
        let mut a = Array2::<f64>::zeros((d, d)); // column j = image of e_j
        for j in 0..d {
            let mut i = 0;
            let mut next = || {
                i += 1;
                if i - 1 == j {
                    1.0
                } else {
                    0.0
                }
            };
            fill_white_spectrum(n, &ones, &mut next, &mut spec);
            assert_eq!(i, d, "the construction must consume exactly n² normals");
            let mut f = vec![0.0; d];
            sp.inverse(&spec, &mut f, &mut ws);
            for (r, v) in f.iter().enumerate() {
                a[[r, j]] = *v;
            }
        }
        let aat = a.dot(&a.t());
        for ((r, c), v) in aat.indexed_iter() {
            let want = if r == c { 1.0 } else { 0.0 };
            assert!((v - want).abs() < 1e-12, "n={n} (A Aᵀ)[{r},{c}] = {v}");
        }
    }
}

/// A single Fourier mode under the deterministic linear drift evolves as exp(L_k t):
/// `cos(kx x + ky y)` → `e^{−(κ|k|²+γ)t} cos(kx (x − U t) + ky y)`.
/// RK4 error bound per mode: |R(z) − e^z| ≤ |z|⁵/120 · e^{|z|} (Taylor remainder), and with
/// |R|, |e^z| ≤ 1 the global error after n steps is ≤ n |R(z) − e^z|. Also checks the order:
/// halving dt divides the error by ≈ 2⁴ = 16. At the x-Nyquist index the mode does not advect
/// (kx := 0 convention for ∂ₓ).
#[test]
fn single_mode_rk4() {
    let n = 8;
    let run = |kx: f64, ky: f64, dt: f64, t: f64| -> (f64, f64) {
        let p = AcParams {
            n,
            lambda: 0.0,
            kappa: 0.5,
            u: 1.0,
            gamma: 0.3,
            eps2: 0.004,
            dt,
        };
        let sys = AcSystem::new(p.clone()).unwrap();
        let mut w = sys.workspace();
        let h = 2.0 * PI / n as f64;
        let f0: Vec<f64> = (0..n * n)
            .map(|i| (kx * (i / n) as f64 * h + ky * (i % n) as f64 * h).cos())
            .collect();
        let mut y = sys.zero_spec();
        sys.spectral().forward(&f0, &mut y, &mut w.sw);
        let steps = (t / dt).round() as usize;
        for _ in 0..steps {
            assert!(sys.step_deterministic(&mut y, &mut w));
        }
        let mut f = vec![0.0; n * n];
        sys.spectral().inverse(&y, &mut f, &mut w.sw);
        let nyq = kx == (n / 2) as f64;
        let adv = if nyq { 0.0 } else { p.u };
        let a = p.kappa * (kx * kx + ky * ky) + p.gamma;
        let err = (0..n * n)
            .map(|i| {
                let (x, yy) = ((i / n) as f64 * h, (i % n) as f64 * h);
                let exact = (-a * t).exp() * (kx * (x - adv * t) + ky * yy).cos();
                (f[i] - exact).abs()
            })
            .fold(0.0, f64::max);
        let z = C64::new(-a, -adv * kx) * dt;
        let bound = steps as f64 * z.norm().powi(5) / 120.0 * z.norm().exp();
        (err, bound)
    };
    for (kx, ky) in [(3.0, 2.0), (1.0, 0.0), (4.0, 1.0)] {
        let (e1, b1) = run(kx, ky, 0.05, 1.0);
        let (e2, b2) = run(kx, ky, 0.025, 1.0);
        assert!(
            e1 <= b1 + 1e-13,
            "mode ({kx},{ky}): error {e1} > bound {b1}"
        );
        assert!(
            e2 <= b2 + 1e-13,
            "mode ({kx},{ky}): error {e2} > bound {b2}"
        );
        let ratio = e1 / e2;
        assert!(
            (12.0..20.0).contains(&ratio),
            "mode ({kx},{ky}): error ratio {ratio} for dt → dt/2, RK4 needs ≈ 16 ({e1}, {e2})"
        );
    }
}

/// The stage-wise RK4 used for λ > 0 is the same map as the amplification factor used for
/// λ = 0 when the cubic is negligible (λ = 1e-300): agreement to rounding.
#[test]
fn stagewise_rk4_equals_linear_amplification() {
    let mk = |lambda| {
        AcSystem::new(AcParams {
            n: 8,
            lambda,
            kappa: 0.3,
            u: 0.7,
            gamma: 0.2,
            eps2: 0.004,
            dt: 0.05,
        })
        .unwrap()
    };
    let (lin, stg) = (mk(0.0), mk(1e-300));
    let f0 = field(8, 1.0, 3);
    let mut w = lin.workspace();
    let (mut a, mut b) = (lin.zero_spec(), lin.zero_spec());
    lin.spectral().forward(&f0, &mut a, &mut w.sw);
    b.copy_from_slice(&a);
    for _ in 0..20 {
        lin.step_deterministic(&mut a, &mut w);
        stg.step_deterministic(&mut b, &mut w);
    }
    let (mut fa, mut fb) = (vec![0.0; 64], vec![0.0; 64]);
    lin.spectral().inverse(&a, &mut fa, &mut w.sw);
    lin.spectral().inverse(&b, &mut fb, &mut w.sw);
    for (x, y) in fa.iter().zip(&fb) {
        assert!((x - y).abs() < 1e-13, "{x} vs {y}");
    }
}

/// Convergence order of the full nonlinear (Allen–Cahn) deterministic integrator: successive
/// differences between dt, dt/2, dt/4 shrink by ≈ 16 (4th order). A wrong stage coefficient
/// would drop the order to 1 or 2 (ratio 2 or 4).
#[test]
fn allen_cahn_rk4_order() {
    let n = 8;
    let f0 = field(n, 0.8, 11);
    let t = 0.25;
    let solve = |dt: f64| -> Vec<f64> {
        let sys = AcSystem::new(AcParams {
            n,
            dt,
            ..AcParams::allen_cahn()
        })
        .unwrap();
        let mut w = sys.workspace();
        let mut y = sys.zero_spec();
        sys.spectral().forward(&f0, &mut y, &mut w.sw);
        for _ in 0..(t / dt).round() as usize {
            assert!(sys.step_deterministic(&mut y, &mut w));
        }
        let mut f = vec![0.0; n * n];
        sys.spectral().inverse(&y, &mut f, &mut w.sw);
        f
    };
    let s: Vec<Vec<f64>> = [128.0, 256.0, 512.0]
        .iter()
        .map(|k| solve(1.0 / k))
        .collect();
    let diff = |a: &[f64], b: &[f64]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    };
    let (d1, d2) = (diff(&s[0], &s[1]), diff(&s[1], &s[2]));
    let ratio = d1 / d2;
    assert!(d1 > 1e-12, "the test must see the truncation error ({d1})");
    assert!((12.0..20.0).contains(&ratio), "ratio {ratio} ({d1}, {d2})");
}

/// Test OU parameters with fast mixing (slowest mode: γ = 0.2, 5 time units) and small
/// discretisation bias (a·dt ≤ 0.0135, see below).
fn fast_ou() -> AcParams {
    AcParams {
        n: 8,
        lambda: 0.0,
        kappa: 0.02,
        u: 0.3,
        gamma: 0.2,
        eps2: 0.004,
        dt: 1.0 / 64.0,
    }
}

/// Stationary statistics of the OU test system, from independent members.
/// Returns (per-member pixel second moments, per-member Stein values −⟨θ s⟩/pixel).
fn ou_member_stats(sys: &AcSystem, members: usize) -> (Vec<f64>, Vec<f64>) {
    let opts = RunOpts {
        members,
        spinup: 40.0,
        duration: 200.0,
        save_every: 32,
        seed: 7,
        init_amp: 0.12,
    };
    let tr = simulate(sys, &opts, None).unwrap();
    let n = sys.n();
    let score = ExactAcScore::new(sys.clone());
    let mut var = vec![];
    let mut stein = vec![];
    for m in 0..members {
        let x = tr
            .data
            .index_axis(Axis(0), m)
            .to_shape((tr.frames(), n * n))
            .unwrap()
            .to_owned();
        let mut s = Array2::zeros(x.dim());
        score.eval_batch(x.view(), s.view_mut()).unwrap();
        var.push(x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64);
        stein.push(-x.iter().zip(s.iter()).map(|(a, b)| a * b).sum::<f64>() / x.len() as f64);
    }
    (var, stein)
}

fn mean_se(v: &[f64]) -> (f64, f64) {
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64;
    (m, (var / v.len() as f64).sqrt())
}

/// Per-mode stationary variance ratio (discrete scheme / continuous SDE) and the continuous
/// per-mode pixel-variance contribution, over the full spectrum (weights from the half layout).
///
/// Derivation. θ̂_k = FFT(θ)_k obeys dθ̂_k = L_k θ̂_k dt + N √Σ_k dŴ_k with E|dŴ_k|² = N² dt
/// (FFT of white noise), so E|θ̂_k|² = N⁴ Σ_k / (2(κ|k|² + γ)) (complex OU, −Re L_k = κ|k|²+γ).
/// The pixel variance is (1/N⁴) Σ_k E|θ̂_k|² (Parseval, modes uncorrelated up to conjugates)
/// = Σ_k Σ_k / (2(κ|k|² + γ)). For the scheme θ̂ ← R_k θ̂ + η, E|η|² = dt N⁴ Σ_k, the exact
/// stationary value is dt N⁴ Σ_k / (1 − |R_k|²) = (continuous) · (1 + O(a dt)).
fn ou_theory(sys: &AcSystem) -> (f64, f64, f64) {
    let p = sys.params();
    let sp = sys.spectral();
    let (mut v_cont, mut v_disc, mut stein_disc) = (0.0, 0.0, 0.0);
    for i in 0..sp.spec_len() {
        let k2 = sp.k2()[i];
        let kx = if sp.is_x_nyquist(i) { 0.0 } else { sp.kx()[i] };
        let s = p.eps2 / (1.0 + k2);
        let a = p.kappa * k2 + p.gamma;
        let z = C64::new(-a, -p.u * kx) * p.dt;
        let r = 1.0 + z * (1.0 + z * (0.5 + z * (1.0 / 6.0 + z / 24.0)));
        let w = sp.weight(i);
        let cont = s / (2.0 * a);
        let disc = p.dt * s / (1.0 - r.norm_sqr());
        v_cont += w * cont;
        v_disc += w * disc;
        stein_disc += w * disc / cont / (p.n * p.n) as f64;
    }
    (v_cont, v_disc, stein_disc)
}

/// OU stationary pixel variance = Σ_k Σ_k / (2(κ|k|² + γ)) within 4 standard errors, the
/// standard error from 64 independent members (std of per-member averages / √64).
/// Stein identity: −⟨θ(x) s(x)⟩ (averaged over pixels and frames) = 1 within 2 %. With the
/// numbers below the Stein standard error is ≈ 0.27 %, so 2 % is ~7 standard errors: a
/// wrong factor in the score or noise (≥ 2× → ≥ 50 % off) fails, chance fluctuations don't.
/// The scheme's own bias (discrete / continuous variance, 1 + O(a dt)) is computed and shown
/// to be far below these tolerances.
#[test]
fn ou_stationary_variance_and_stein() {
    quiet();
    let sys = AcSystem::new(fast_ou()).unwrap();
    let (v_cont, v_disc, stein_disc) = ou_theory(&sys);
    let (var, stein) = ou_member_stats(&sys, 64);
    let (vm, vse) = mean_se(&var);
    let (sm, sse) = mean_se(&stein);
    eprintln!(
        "pixel variance {vm:.5} ± {vse:.5} (continuous {v_cont:.5}, discrete {v_disc:.5}); \
         Stein {sm:.5} ± {sse:.5} (discrete scheme {stein_disc:.5})"
    );
    // The scheme's bias (≈ 0.4 %, ≈ 0.7 stderr here) is small enough that both the SPEC's
    // continuous formula and the scheme's exact stationary value are within 4 stderr.
    assert!(
        (v_disc - v_cont).abs() < vse,
        "scheme bias too large for this test"
    );
    assert!(
        (vm - v_cont).abs() < 4.0 * vse,
        "variance {vm} vs {v_cont} ± {vse}"
    );
    assert!(
        (vm - v_disc).abs() < 4.0 * vse,
        "variance {vm} vs scheme {v_disc} ± {vse}"
    );
    assert!(sse < 0.005, "Stein stderr {sse} too large for a 2 % test");
    assert!((sm - 1.0).abs() < 0.02, "Stein {sm} ± {sse}");
    assert!(
        (sm - stein_disc).abs() < 4.0 * sse,
        "Stein {sm} vs scheme {stein_disc}"
    );
}

/// The drift equals (N²/2) Q s(θ) − U∂ₓθ for any θ (algebraic identity of the exact score).
#[test]
fn drift_is_preconditioned_score_plus_advection() {
    for lambda in [4000.0, 0.0] {
        let p = AcParams {
            n: 16,
            lambda,
            gamma: 0.03,
            ..AcParams::allen_cahn()
        };
        let sys = AcSystem::new(p.clone()).unwrap();
        let sp = sys.spectral();
        let mut w = sys.workspace();
        let th = field(16, 1.2, 5);
        let d = 256;
        let (mut drift, mut s) = (vec![0.0; d], vec![0.0; d]);
        sys.drift(&th, &mut drift, &mut w).unwrap();
        sys.exact_score(&th, &mut s, &mut w).unwrap();
        let (mut sh, mut th_h) = (sys.zero_spec(), sys.zero_spec());
        sp.forward(&s, &mut sh, &mut w.sw);
        sp.forward(&th, &mut th_h, &mut w.sw);
        for i in 0..sp.spec_len() {
            let kx = if sp.is_x_nyquist(i) { 0.0 } else { sp.kx()[i] };
            let q = p.eps2 / (1.0 + sp.k2()[i]);
            sh[i] = sh[i] * (q * d as f64 / 2.0) + th_h[i] * C64::new(0.0, -p.u * kx);
        }
        let mut rhs = vec![0.0; d];
        sp.inverse(&sh, &mut rhs, &mut w.sw);
        let scale = drift.iter().map(|v| v.abs()).fold(0.0, f64::max);
        for (a, b) in drift.iter().zip(&rhs) {
            assert!((a - b).abs() <= 1e-12 * scale, "λ={lambda}: {a} vs {b}");
        }
    }
}

/// ExactAcScore: batch rows equal single evaluations; bad shapes and NaN are errors.
#[test]
fn exact_score_batch() {
    let sys = AcSystem::new(AcParams {
        n: 8,
        ..AcParams::allen_cahn()
    })
    .unwrap();
    let sc = ExactAcScore::new(sys.clone());
    assert_eq!(sc.dim(), 64);
    let mut x = Array2::<f64>::zeros((5, 64));
    for (b, mut r) in x.outer_iter_mut().enumerate() {
        r.assign(&ndarray::Array1::from(field(8, 1.0, b as u64 + 1)));
    }
    let mut out = Array2::zeros((5, 64));
    sc.eval_batch(x.view(), out.view_mut()).unwrap();
    let mut w = sys.workspace();
    let mut one = vec![0.0; 64];
    for b in 0..5 {
        sys.exact_score(x.row(b).as_slice().unwrap(), &mut one, &mut w)
            .unwrap();
        assert_eq!(out.row(b).as_slice().unwrap(), &one[..]);
    }
    assert!(sc
        .eval_batch(x.view(), Array2::zeros((5, 63)).view_mut())
        .is_err());
    x[[2, 3]] = f64::NAN;
    let e = sc.eval_batch(x.view(), out.view_mut()).unwrap_err();
    assert!(e.to_string().contains("state 2"), "{e}");
}

/// Same seed → bit-identical trajectories with 1 and 2 threads (and a given initial state).
#[test]
fn simulate_reproducible_across_threads() {
    quiet();
    let sys = AcSystem::new(AcParams {
        n: 16,
        ..AcParams::allen_cahn()
    })
    .unwrap();
    let opts = RunOpts {
        members: 5,
        spinup: 3.0,
        duration: 4.0,
        save_every: 16,
        seed: 42,
        init_amp: 0.3,
    };
    let a = pool(1).install(|| simulate(&sys, &opts, None)).unwrap();
    let b = pool(2).install(|| simulate(&sys, &opts, None)).unwrap();
    assert_eq!(a.data.shape(), &[5, 8, 16, 16]);
    assert_eq!(a.data, b.data);
    assert_eq!(a.dt, 0.5);
    assert_eq!(a.t0, 3.0);
    assert!(a.data.iter().all(|v| v.is_finite()));
    // Different members differ; a different seed differs.
    assert_ne!(a.data.index_axis(Axis(0), 0), a.data.index_axis(Axis(0), 1));
    let c = simulate(
        &sys,
        &RunOpts {
            seed: 43,
            ..opts.clone()
        },
        None,
    )
    .unwrap();
    assert_ne!(a.data, c.data);
    // With no spin-up, frame 0 is the given initial state.
    let init = Array3::from_shape_fn((5, 16, 16), |(m, i, j)| 0.01 * (m + i + j) as f64);
    let o0 = RunOpts {
        spinup: 0.0,
        ..opts.clone()
    };
    let d = simulate(&sys, &o0, Some(init.view())).unwrap();
    for m in 0..5 {
        for i in 0..16 {
            for j in 0..16 {
                assert!((d.data[[m, 0, i, j]] - init[[m, i, j]]).abs() < 1e-14);
            }
        }
    }
}

/// Absurd dt → BlowUp naming member and step; λ = 0 with γ = 0 and bad options → errors.
#[test]
fn errors() {
    quiet();
    let sys = AcSystem::new(AcParams {
        n: 8,
        dt: 1.0,
        ..AcParams::allen_cahn()
    })
    .unwrap();
    let opts = RunOpts {
        members: 2,
        spinup: 100.0,
        duration: 10.0,
        save_every: 1,
        ..RunOpts::default()
    };
    match simulate(&sys, &opts, None) {
        Err(Error::BlowUp(m)) => {
            assert!(
                m.contains("member") && m.contains("step") && m.contains("dt"),
                "{m}"
            );
        }
        other => panic!(
            "expected BlowUp, got {:?}",
            other.map(|t| t.data.shape().to_vec())
        ),
    }
    // OU blow-up (no cubic): detected by the periodic real-space check.
    let ou = AcSystem::new(AcParams {
        n: 8,
        kappa: 10.0,
        dt: 1.0,
        ..AcParams::ou()
    })
    .unwrap();
    assert!(matches!(simulate(&ou, &opts, None), Err(Error::BlowUp(_))));

    let e = AcSystem::new(AcParams {
        lambda: 0.0,
        gamma: 0.0,
        ..AcParams::allen_cahn()
    })
    .err()
    .expect("λ = 0 with γ = 0 must be refused");
    assert!(e.to_string().contains("gamma"), "{e}");
    for bad in [
        AcParams {
            n: 7,
            ..AcParams::default()
        },
        AcParams {
            n: 2,
            ..AcParams::default()
        },
        AcParams {
            dt: 0.0,
            ..AcParams::default()
        },
        AcParams {
            dt: f64::NAN,
            ..AcParams::default()
        },
        AcParams {
            eps2: 0.0,
            ..AcParams::default()
        },
        AcParams {
            kappa: -1.0,
            ..AcParams::default()
        },
        AcParams {
            gamma: -1.0,
            ..AcParams::default()
        },
        AcParams {
            lambda: -1.0,
            ..AcParams::default()
        },
        AcParams {
            u: f64::INFINITY,
            ..AcParams::default()
        },
    ] {
        assert!(matches!(AcSystem::new(bad), Err(Error::Invalid(_))));
    }
    let good = AcSystem::new(AcParams {
        n: 8,
        ..AcParams::default()
    })
    .unwrap();
    let o = RunOpts::default();
    for bad in [
        RunOpts {
            members: 0,
            ..o.clone()
        },
        RunOpts {
            save_every: 0,
            ..o.clone()
        },
        RunOpts {
            duration: 0.0,
            ..o.clone()
        },
        RunOpts {
            duration: 0.01,
            ..o.clone()
        },
        RunOpts {
            spinup: -1.0,
            ..o.clone()
        },
        RunOpts {
            init_amp: f64::NAN,
            ..o.clone()
        },
    ] {
        assert!(
            matches!(simulate(&good, &bad, None), Err(Error::Invalid(_))),
            "{bad:?}"
        );
    }
    let init = Array3::<f64>::zeros((3, 8, 8));
    assert!(matches!(
        simulate(&good, &o, Some(init.view())),
        Err(Error::Shape(_))
    ));
    // Options maps: unknown keys are refused, defaults fill the rest.
    assert!(serde_json::from_str::<AcParams>(r#"{"lamda": 0}"#).is_err());
    let p: AcParams = serde_json::from_str(r#"{"lambda": 0, "gamma": 0.01}"#).unwrap();
    assert_eq!(p, AcParams::ou());
    assert!(serde_json::from_str::<RunOpts>(r#"{"member": 3}"#).is_err());
}

/// Speed figures (not a test): `cargo test --release bench_ac -- --ignored --nocapture`.
#[test]
#[ignore]
fn bench_ac() {
    let p = AcParams::allen_cahn();
    for t in [1, 2] {
        let r = bench_member_steps(&p, 32, 400, t).unwrap();
        eprintln!(
            "allen-cahn N=32 threads={t}: {r:.0} member-steps/s ({:.1} µs)",
            1e6 / r
        );
    }
    let r = bench_member_steps(&AcParams::ou(), 32, 4000, 2).unwrap();
    eprintln!("OU N=32 threads=2: {r:.0} member-steps/s");
}

#[test]
#[ignore]
fn bench_normals() {
    use rand::Rng;
    use rand::RngExt;
    let mut rng = crate::core::rng::stream_rng(1, 2);
    let n = 20_000_000;
    let t = std::time::Instant::now();
    let mut s = 0.0;
    for _ in 0..n {
        s += rng.sample::<f64, _>(rand_distr::StandardNormal);
    }
    eprintln!(
        "normal: {:.2} ns ({s})",
        t.elapsed().as_secs_f64() / n as f64 * 1e9
    );
    let t = std::time::Instant::now();
    let mut s = 0u64;
    for _ in 0..n {
        s = s.wrapping_add(rng.next_u64());
    }
    eprintln!(
        "u64: {:.2} ns ({s})",
        t.elapsed().as_secs_f64() / n as f64 * 1e9
    );
    let mut buf = vec![0.0; 1024];
    let t = std::time::Instant::now();
    let mut s = 0.0;
    for _ in 0..n / 1024 {
        crate::systems::gauss::fill_normals(&mut rng, &mut buf);
        s += buf[7];
    }
    eprintln!(
        "fill_normals: {:.2} ns ({s})",
        t.elapsed().as_secs_f64() / n as f64 * 1e9
    );
}

#[test]
#[ignore]
fn bench_ac_single() {
    let r = bench_member_steps(&AcParams::allen_cahn(), 16, 2000, 1).unwrap();
    eprintln!(
        "allen-cahn N=32 threads=1: {r:.0} member-steps/s ({:.1} µs)",
        1e6 / r
    );
}

/// Intrinsic single-member step cost: minimum over batches (filters out preemption by other
/// processes on a shared machine). `cargo test --release bench_step_min -- --ignored --nocapture`
#[test]
#[ignore]
fn bench_step_min() {
    use crate::systems::gauss::fill_normals;
    let sys = AcSystem::new(AcParams::allen_cahn()).unwrap();
    let mut w = sys.workspace();
    let mut rng = crate::core::rng::stream_rng(1, 1);
    let f0 = field(32, 0.5, 1);
    let mut y = sys.zero_spec();
    let mut noise = sys.zero_spec();
    sys.spectral().forward(&f0, &mut y, &mut w.sw);
    let mut buf = vec![0.0; 1024];
    let min_of = |f: &mut dyn FnMut()| -> f64 {
        let mut best = f64::INFINITY;
        for _ in 0..300 {
            let t = std::time::Instant::now();
            for _ in 0..20 {
                f();
            }
            best = best.min(t.elapsed().as_secs_f64() / 20.0);
        }
        best * 1e6
    };
    let full = min_of(&mut || {
        sys.fill_noise(&mut rng, &mut noise, &mut w);
        sys.step(&mut y, Some(&noise), &mut w);
    });
    let mut rng2 = crate::core::rng::stream_rng(1, 2);
    let nz = min_of(&mut || fill_normals(&mut rng2, &mut buf));
    let mut acc = 0u64;
    let u = min_of(&mut || {
        use rand::Rng;
        for _ in 0..768 {
            acc = acc.wrapping_add(rng2.next_u64());
        }
    });
    eprintln!("768 u64: {u:.2} µs ({acc})");
    let mut ws = sys.spectral().workspace();
    let mut fld = vec![0.0; 1024];
    let fft = min_of(&mut || {
        sys.spectral().inverse(&y, &mut fld, &mut ws);
        sys.spectral().forward(&fld, &mut noise, &mut ws);
    });
    eprintln!("min µs: full step {full:.2}, 1024 normals {nz:.2}, fwd+inv 2-D FFT pair {fft:.2}");
}
