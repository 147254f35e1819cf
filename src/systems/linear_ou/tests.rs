use super::*;
use crate::response::sde_ensemble::{impulse_ensemble, EnsembleOpts};
use crate::systems::observable::{BuiltinObservable, Observable};
use crate::systems::perturbation::ConstantPerturbation;
use crate::systems::sde::Method;
use ndarray::{array, Axis};

/// A non-normal, oscillatory 3-D OU.
fn ou() -> LinearOu {
    let a = array![[-1.0, 3.0, 0.0], [-0.5, -1.0, 1.0], [0.0, 0.0, -2.0]];
    let g = array![[1.0, 0.0, 0.0], [0.2, 0.7, 0.0], [0.0, 0.3, 1.2]];
    LinearOu::new(a, g).unwrap()
}

#[test]
fn stein_identity_on_exact_samples() {
    // −⟨x s(x)ᵀ⟩ = I. Entry (i, j) is the mean of n iid products p = −x_i s_j; its standard
    // error is sd(p)/√n. |mean − δ_ij| < 4 se holds for each of the 9 entries with probability
    // ≈ 1 − 9·6e-5 under the CLT (n = 20000).
    let ou = ou();
    let n = 20_000;
    let x = ou.sample_stationary(n, 7);
    let mut s = Array2::zeros((n, 3));
    ou.eval_batch(x.view(), s.view_mut()).unwrap();
    for i in 0..3 {
        for j in 0..3 {
            let p: Vec<f64> = (0..n).map(|b| -x[[b, i]] * s[[b, j]]).collect();
            let m = p.iter().sum::<f64>() / n as f64;
            let var = p.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1) as f64;
            let se = (var / n as f64).sqrt();
            let target = if i == j { 1.0 } else { 0.0 };
            assert!((m - target).abs() < 4.0 * se, "({i},{j}): {m} ± {se}");
        }
    }
    // Exact samples have covariance C: compare the sample covariance (4 se of each entry,
    // se² ≈ (C_ii C_jj + C_ij²)/n for Gaussian data).
    let c = ou.covariance();
    for i in 0..3 {
        for j in 0..3 {
            let m = x.column(i).dot(&x.column(j)) / n as f64;
            let se = ((c[[i, i]] * c[[j, j]] + c[[i, j]].powi(2)) / n as f64).sqrt();
            assert!((m - c[[i, j]]).abs() < 4.0 * se);
        }
    }
}

#[test]
fn impulse_ensemble_with_crn_is_the_discrete_propagator() {
    // Linear drift + common noise: x⁺ − x⁻ = 2ε P^n u with P the one-step propagator,
    // whatever the noise (EM: P = I + A dt; Heun: P = I + A dt + (A dt)²/2). So the ensemble
    // mean is P^n e_j up to rounding, its stderr ~ 0, and it differs from e^{At} by the
    // integrator's O(dt) (EM) or O(dt²) (Heun) error.
    crate::core::progress::set_quiet(true);
    let ou = ou();
    let sde = ou.sde().unwrap();
    let starts = ou.sample_stationary(16, 1);
    let obs: Vec<BuiltinObservable> = (0..3).map(BuiltinObservable::Component).collect();
    let obs_ref: Vec<&dyn Observable> = obs.iter().map(|o| o as &dyn Observable).collect();
    let dt = 0.01;
    let exact = ou.exact_response(0.1, 31).unwrap();
    for method in [Method::Em, Method::Heun] {
        let opts = EnsembleOpts {
            eps: 0.01,
            dt,
            save_every: 10,
            window: 3.0,
            seed: 5,
            method,
        };
        let ad = ou.a() * dt;
        let p = match method {
            Method::Em => Array2::eye(3) + &ad,
            Method::Heun => Array2::eye(3) + &ad + ad.dot(&ad) * 0.5,
        };
        for j in 0..3 {
            let u = ConstantPerturbation::unit(3, j).unwrap();
            let r = impulse_ensemble(&sde, &u, &obs_ref, starts.view(), &opts).unwrap();
            assert_eq!(r.values.shape(), &[31, 3]);
            let mut pn = Array2::<f64>::eye(3);
            let mut max_ex = 0.0f64;
            for l in 0..31 {
                for i in 0..3 {
                    let v = r.values[[l, i]];
                    assert!((v - pn[[i, j]]).abs() < 1e-9, "{method:?} l {l} ({i},{j})");
                    assert!(r.stderr.as_ref().unwrap()[[l, i]] < 1e-9);
                    max_ex = max_ex.max((v - exact.values[[l, i, j]]).abs());
                }
                for _ in 0..10 {
                    pn = p.dot(&pn);
                }
            }
            // Global error over t ≤ 3: EM ~ t dt ‖A‖²/2 · ‖e^{At}‖ ≲ 0.1; Heun ~ t dt² ‖A‖³/6.
            let tol = if method == Method::Em { 0.1 } else { 2e-3 };
            assert!(max_ex < tol, "{method:?} e_{j}: {max_ex}");
        }
    }
}

#[test]
fn moment_response_to_shift_matches_ensemble() {
    // u = e_0 on x_0^p, p = 1..4, from exact stationary starts. Each lag's ensemble mean has
    // the reported stderr (sd over E = 4000 experiments / √E); 4 se per entry. Heun dt = 0.01:
    // the deterministic integrator bias (~1e-4 relative) is far below the se.
    crate::core::progress::set_quiet(true);
    let ou = ou();
    let sde = ou.sde().unwrap();
    let starts = ou.sample_stationary(4000, 2);
    let obs = BuiltinObservable::moments(0);
    let obs_ref: Vec<&dyn Observable> = obs.iter().map(|o| o as &dyn Observable).collect();
    let opts = EnsembleOpts {
        eps: 0.01,
        dt: 0.01,
        save_every: 50,
        window: 2.0,
        seed: 9,
        method: Method::Heun,
    };
    let u = ConstantPerturbation::unit(3, 0).unwrap();
    let r = impulse_ensemble(&sde, &u, &obs_ref, starts.view(), &opts).unwrap();
    let ex = ou
        .moment_response_to_shift(&[1.0, 0.0, 0.0], 0, 0.5, 5)
        .unwrap();
    let se = r.stderr.as_ref().unwrap();
    for l in 0..5 {
        for p in 0..4 {
            let (v, e, s) = (r.values[[l, p]], ex.values[[l, p]], se[[l, p]]);
            // p = 1: CRN makes it deterministic (se ~ 0); allow integrator error there.
            assert!(
                (v - e).abs() < 4.0 * s + 1e-3,
                "lag {l} p {}: {v} vs {e} ± {s}",
                p + 1
            );
        }
    }
}

#[test]
fn second_moment_responses_are_consistent() {
    let ou = ou();
    let m = array![[1.0, 0.5, 0.0], [0.0, -0.3, 0.2], [0.1, 0.0, 0.4]];
    let r = ou.second_moment_response(&m, 0.01, 801).unwrap();
    let s = ou.second_moment_step_response(&m, 0.01, 801).unwrap();
    // R(0) = MC + CMᵀ.
    let c = ou.covariance();
    let p = m.dot(c) + c.dot(&m.t());
    let r0 = r.values.index_axis(Axis(0), 0);
    assert!(r0.iter().zip(p.iter()).all(|(a, b)| (a - b).abs() < 1e-12));
    // Step = trapezoid integral of the impulse response (O(dt²) quadrature error).
    let st = crate::response::step::step_from_impulse(&r).unwrap();
    let diff = (&st.values - &s.values).mapv(f64::abs);
    assert!(
        diff.iter().all(|v| *v < 1e-4),
        "{}",
        diff.iter().cloned().fold(0.0, f64::max)
    );
    // Long-time limit = dC/dε for A → A + εM (central difference of Lyapunov solutions).
    let eps = 1e-5;
    let cp = LinearOu::new(ou.a() + &(&m * eps), ou.g().clone()).unwrap();
    let cm = LinearOu::new(ou.a() - &(&m * eps), ou.g().clone()).unwrap();
    let dc = (cp.covariance() - cm.covariance()) / (2.0 * eps);
    let yinf = s.values.index_axis(Axis(0), 800); // t = 8, e^{At} ~ e^{-8}
    for (a, b) in yinf.iter().zip(dc.iter()) {
        assert!((a - b).abs() < 1e-3 * (1.0 + b.abs()), "{a} vs {b}");
    }
}

#[test]
fn unstable_or_degenerate_ou_is_refused() {
    let e = LinearOu::new(array![[0.5]], array![[1.0]]).unwrap_err();
    assert!(e.to_string().contains("no stationary state"));
    // Noise only on x_0 of a diagonal A: x_1 is never excited → singular C.
    let e = LinearOu::new(array![[-1.0, 0.0], [0.0, -1.0]], array![[1.0], [0.0]]).unwrap_err();
    assert!(e.to_string().contains("singular"), "{e}");
}
