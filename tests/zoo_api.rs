//! The SDE zoo and general perturbations through the script API (issue 5): closure systems,
//! native zoo systems, GFDT with general u(x) and observables, ensembles, step and forced
//! responses; closure errors are catchable runtime errors, never panics.
mod common;
use common::{eval, ok};

/// Runs `call` inside try/catch and returns the caught message.
fn caught(call: &str) -> String {
    let src = format!("let r = \"no error\"; try {{ {call}; }} catch (e) {{ r = `${{e}}`; }} r");
    let v = eval(&src).unwrap_or_else(|e| panic!("not catchable: {e}"));
    let msg = v.into_string().unwrap();
    assert_ne!(msg, "no error", "{call} should fail");
    msg
}

fn f(v: &rhai::Dynamic, key: &str) -> f64 {
    v.clone()
        .cast::<rhai::Map>()
        .get(key)
        .unwrap_or_else(|| panic!("no {key}"))
        .as_float()
        .unwrap()
}

/// Rhai: ‖stderr‖₂ / ‖values of ref‖₂ of response `r` over the curves `offs` and t ≤ tmax.
const RSE: &str = "
fn rse(r, reference, offs, tmax) {
    let n = (tmax / r.dt).round().to_int() + 1;
    let s2 = 0.0; let v2 = 0.0;
    for o in offs {
        let s = r.curve(o).stderr.slice(0, 0, n);
        let v = reference.curve(o).value.slice(0, 0, n);
        s2 += (s * s).sum(); v2 += (v * v).sum();
    }
    sqrt(s2 / v2)
}
";

const TR: &str = "let tr = sde(#{ drift: |x| -x, noise: [1.0, 1.0] }).simulate(#{ members: 2, duration: 20.0 });";

#[test]
fn closure_errors_are_runtime_errors() {
    // Drift: wrong shape, throws, NaN.
    let m = caught("sde(#{ drift: |x| [1.0], noise: 1.0, dim: 2 }).simulate(#{ duration: 1.0 })");
    assert!(
        m.contains("drift") && m.contains("2 are needed") && m.contains("member 0"),
        "{m}"
    );
    let m = caught(
        "sde(#{ drift: |x| throw \"boom\", noise: 1.0, dim: 2 }).simulate(#{ duration: 1.0 })",
    );
    assert!(m.contains("boom") && m.contains("drift"), "{m}");
    let m = caught("sde(#{ drift: |x| x / 0.0, noise: 1.0, dim: 2 }).simulate(#{ duration: 1.0 })");
    assert!(m.contains("NaN") && m.contains("t = 0"), "{m}");
    let m = caught("sde(#{ drift: |x| \"no\", noise: 1.0, dim: 1 }).simulate(#{ duration: 1.0 })");
    assert!(m.contains("drift"), "{m}");
    // Noise closure: wrong shape, throws, NaN/inf.
    let m = caught(
        "sde(#{ drift: |x| -x, noise: |x| [[1.0, 0.0]], dim: 2 }).simulate(#{ duration: 1.0 })",
    );
    assert!(m.contains("noise") && m.contains("[1, 2]"), "{m}");
    let m = caught(
        "sde(#{ drift: |x| -x, noise: |x| throw \"bad G\", dim: 1 }).simulate(#{ duration: 1.0 })",
    );
    assert!(m.contains("bad G"), "{m}");
    let m = caught("sde(#{ drift: |x| -x, noise: |x| [[1.0 / x[0]]], dim: 1 }).simulate(#{ duration: 1.0, init: [0.0] })");
    assert!(m.contains("noise") && m.contains("inf"), "{m}");
    // Perturbation closure: wrong shape, throws, NaN.
    let m = caught(&format!(
        "{TR} gfdt_general(tr, gaussian_score(tr), |x| [1.0], obs_x(0), #{{ window: 1.0 }})"
    ));
    assert!(
        m.contains("perturbation") && m.contains("2 are needed"),
        "{m}"
    );
    let m = caught(&format!("{TR} gfdt_general(tr, gaussian_score(tr), |x| throw \"no u\", obs_x(0), #{{ window: 1.0 }})"));
    assert!(m.contains("no u"), "{m}");
    let m = caught(&format!(
        "{TR} gfdt_general(tr, gaussian_score(tr), |x| x / 0.0, obs_x(0), #{{ window: 1.0 }})"
    ));
    assert!(m.contains("NaN"), "{m}");
    let m = caught(&format!("{TR} impulse_ensemble(sde(#{{ drift: |x| -x, noise: [1.0, 1.0] }}), |x| [0.0, 0.0/0.0], obs_x(0), start_states(tr, 1.0, 4), #{{ window: 1.0 }})"));
    assert!(m.contains("NaN") && m.contains("experiment 0"), "{m}");
    // Observable closure: wrong type, throws, NaN (GFDT and ensemble).
    let m = caught(&format!(
        "{TR} gfdt_general(tr, gaussian_score(tr), [1.0, 0.0], |x| [1.0, 2.0], #{{ window: 1.0 }})"
    ));
    assert!(m.contains("observable") && m.contains("one number"), "{m}");
    let m = caught(&format!("{TR} gfdt_general(tr, gaussian_score(tr), [1.0, 0.0], |x| throw \"no A\", #{{ window: 1.0 }})"));
    assert!(m.contains("no A"), "{m}");
    let m = caught(&format!("{TR} step_ensemble(linear_ou(#{{ A: [[-1.0, 0.0], [0.0, -1.0]] }}), [1.0, 0.0], |x| 0.0 / 0.0, start_states(tr, 1.0, 4), #{{ window: 1.0 }})"));
    assert!(m.contains("not finite"), "{m}");
    // Divergence closure and forcing closure.
    let m = caught(&format!("{TR} gfdt_general(tr, gaussian_score(tr), perturbation(|x| x, |x| throw \"no div\"), obs_x(0), #{{ window: 1.0 }})"));
    assert!(m.contains("no div"), "{m}");
    let m = caught(
        "forced_response(analytic_response(linear_ou(#{ A: [[-1.0]] }), #{}), |t| \"x\", 1.0)",
    );
    assert!(m.contains("forcing"), "{m}");
    // Options and systems.
    let m = caught("sde(#{ drift: |x| -x })");
    assert!(m.contains("noise"), "{m}");
    let m = caught("sde(#{ drift: |x| -x, noise: 1.0 })");
    assert!(m.contains("dim"), "{m}");
    let m = caught("sde(#{ drift: |x| -x, noise: 1.0, dim: 1, dirft: 1 })");
    assert!(m.contains("dirft"), "{m}");
    let m = caught("exact_score(triad())");
    assert!(m.contains("kgmm_score"), "{m}");
    let m = caught("linear_ou(#{ A: [[1.0]] })");
    assert!(m.contains("no stationary state"), "{m}");
}

#[test]
fn closure_system_reproduces_native_linear_ou_bit_for_bit() {
    // Same SDE (A = −I, G = I), same seed: the closure drift −x and the native matvec give the
    // same floating-point numbers, so the trajectories agree exactly.
    let v = ok("
        let o = #{ members: 3, duration: 5.0, dt: 0.01, seed: 7, init: [0.5, -0.2], method: \"heun\" };
        let a = sde(#{ drift: |x| -x, noise: [1.0, 1.0] }).simulate(o);
        let b = linear_ou(#{ A: [[-1.0, 0.0], [0.0, -1.0]] }).simulate(o);
        (a.data - b.data).abs().max()");
    assert!(v.as_float().unwrap() < 1e-12, "{v}");
    // State-dependent noise closure vs the native triad: same law, same numbers.
    let v = ok("
        let p = triad().params;
        let s3 = p.sigma3;
        let tri = sde(#{ name: \"triad in Rhai\", dim: 3,
            drift: |x| [-0.2 * x[0] - 0.4 * x[1] + x[2], -0.2 * x[1] + 0.4 * x[0], -2.0 * x[2]],
            noise: |x| [0.3 * sqrt(2.0), 0.3 * sqrt(2.0), sqrt(2.0) * s3 * (x[0].tanh() + 1.0)] });
        let o = #{ members: 2, duration: 5.0, dt: 0.01, seed: 3, init: [0.1, 0.2, 0.3] };
        (tri.simulate(o).data - triad().simulate(o).data).abs().max()");
    assert!(v.as_float().unwrap() < 1e-9, "{v}");
}

#[test]
fn closure_perturbation_matches_native_linear_field() {
    // u(x) = x as a closure (∇·u by finite differences) and as the matrix I (∇·u = tr I):
    // the same GFDT up to the finite-difference error (~1e-10 relative).
    let v = ok("
        let sys = linear_ou(#{ A: [[-1.0, 2.0], [0.0, -1.5]] });
        let tr = sys.simulate(#{ members: 8, duration: 200.0, dt: 0.02, save_every: 5 });
        let obs = [obs_product(0, 0), obs_product(0, 1), observable(\"x1²\", |x| x[1] * x[1])];
        let a = gfdt_general(tr, exact_score(sys), |x| x, obs, #{ window: 2.0 });
        let b = gfdt_general(tr, exact_score(sys), [[1.0, 0.0], [0.0, 1.0]], obs, #{ window: 2.0 });
        (a.values - b.values).abs().max() / b.values.abs().max()");
    assert!(v.as_float().unwrap() < 1e-7, "{v}");
}

#[test]
fn gfdt_on_non_normal_ou_small() {
    // A = [[−1, 2], [0, −1.5]], G = I, 8 members × 1000 time units (Heun, dt 0.02). The library
    // test at 16 × 8000 has relative se ≈ 1 %; here 16× less data → ≈ 4 %. Tolerance: the
    // error within 3 of its own relative se ‖se‖/‖R‖ plus 1 % (dt bias, O(dt²) ≈ 4e-4);
    // KGMM: plus 5 % for the mixture's smoothing bias (SPEC acceptance: 10 % at full scale).
    let v = ok(&(RSE.to_string() + "
        let sys = linear_ou(#{ A: [[-1.0, 2.0], [0.0, -1.5]], G: [[1.0, 0.0], [0.0, 1.0]] });
        let tr = sys.simulate(#{ members: 8, spinup: 10.0, duration: 1000.0, dt: 0.02, save_every: 5, method: \"heun\" });
        let exact = analytic_response(sys, #{ dt: tr.dt, lags: 41 });
        let offs = #{ offsets: [[0, 0], [0, 1], [1, 0], [1, 1]], tmax: 4.0 };
        let g1 = gfdt(tr, exact_score(sys), #{ lags: 41, normalized: false });
        let g2 = gaussian_fdt(tr, #{ lags: 41 });
        let g3 = gfdt(tr, kgmm_score(tr.thin(5), #{ clusters: 64 }), #{ lags: 41, normalized: false });
        let res = #{};
        for p in [[\"exact\", g1], [\"gauss\", g2], [\"kgmm\", g3]] {
            res[p[0]] = rel_err(p[1], exact, offs).value;
            res[p[0] + \"_se\"] = rse(p[1], exact, offs.offsets, 4.0);
        }
        res"));
    eprintln!("non-normal OU (small): {v:?}");
    for k in ["exact", "gauss", "kgmm"] {
        let (e, s) = (f(&v, k), f(&v, &format!("{k}_se")));
        let tol = 3.0 * s + if k == "kgmm" { 0.06 } else { 0.01 };
        assert!(e < tol, "{k}: {e} vs {tol}");
    }
}

#[test]
fn state_dependent_perturbation_on_ou() {
    // u(x) = x (damping change): GFDT of the second moments vs e^{At}(C + C)e^{Aᵀt} on a 2-D
    // non-normal OU, small data (8 × 1000): within 3 relative se + 1 %.
    let v = ok("
        let sys = linear_ou(#{ A: [[-1.0, 2.0], [0.0, -1.5]] });
        let tr = sys.simulate(#{ members: 8, spinup: 10.0, duration: 1000.0, dt: 0.02, save_every: 5, method: \"heun\" });
        let g = gfdt_general(tr, exact_score(sys), |x| x, [obs_product(0, 0), obs_product(1, 1)], #{ window: 4.0 });
        let ex = analytic_second_moments(sys, [[1.0, 0.0], [0.0, 1.0]], #{ dt: tr.dt, lags: 41 });
        let num = 0.0; let den = 0.0; let se = 0.0;
        for l in 0..41 {
            for k in 0..2 {
                let d = g.values.get([l, k]) - ex.values.get([l, k, k]);
                num += d * d; den += ex.values.get([l, k, k]) ** 2; se += g.stderr.get([l, k]) ** 2;
            }
        }
        #{ err: sqrt(num / den), se: sqrt(se / den) }");
    eprintln!("u = x on OU (small): {v:?}");
    assert!(f(&v, "err") < 3.0 * f(&v, "se") + 0.01, "{v:?}");
}

#[test]
fn reduced_climate_step_response_small() {
    // Exact-score GFDT step response of ⟨x⟩ vs the Fokker–Planck answer (8 × 3000): within 3
    // relative se + 1 % (‖se‖/‖S‖ ≈ 5 % here); the Gaussian FDT is off by > 20 % (skewed
    // density, 73 % measured); the 400-experiment step ensemble (‖se‖/‖S‖ ≈ 7 %) within 4 se
    // (its lags are strongly correlated, so the L2 error is ≈ |z|·se with z one normal draw).
    let v = ok(&(RSE.to_string() + "
        let sys = reduced_climate();
        let tr = sys.simulate(#{ members: 8, spinup: 50.0, duration: 3000.0, dt: 0.02, save_every: 5, method: \"heun\" });
        let ex = exact_step_response(sys, obs_x(0), #{ dt: tr.dt, lags: 201 });
        let g = gfdt_general(tr, exact_score(sys), [1.0], obs_x(0), #{ window: 20.0, step: true });
        let ga = gaussian_fdt_general(tr, [1.0], obs_x(0), #{ window: 20.0, step: true });
        let e = rel_err(g, ex, #{ offsets: [[0]], tmax: 20.0 });
        let eg = rel_err(ga, ex, #{ offsets: [[0]], tmax: 20.0 });
        let st = step_ensemble(sys, [1.0], obs_x(0), start_states(tr, 5.0, 400), #{ eps: 0.05, dt: 0.02, save_every: 5, window: 20.0, method: \"heun\" });
        let es = rel_err(st, ex, #{ offsets: [[0]], tmax: 20.0 });
        #{ err: e.value, se: rse(g, ex, [[0]], 20.0), gauss: eg.value, ens: es.value, ens_se: rse(st, ex, [[0]], 20.0) }"));
    eprintln!("reduced climate (small): {v:?}");
    assert!(f(&v, "err") < 3.0 * f(&v, "se") + 0.01, "{v:?}");
    assert!(f(&v, "gauss") > 0.2, "{v:?}");
    assert!(f(&v, "ens") < 4.0 * f(&v, "ens_se") + 0.01, "{v:?}");
}

#[test]
fn step_and_forced_responses() {
    // A constant forcing f = 1 is the step response; e^{−t} integrates to 1 − e^{−t}.
    let v = ok("
        let r = analytic_response(linear_ou(#{ A: [[-1.0]] }), #{ dt: 0.01, lags: 301 });
        let s = step_response(r);
        let y = forced_response(r, |t| 1.0, 1.0);
        let z = forced_response(r, ones([301]), 2.0);
        #{ a: (s.values - y.values).abs().max(), b: (z.values - 2.0 * s.values).abs().max(),
           c: abs(s.values.get([300, 0, 0]) - (1.0 - exp(-3.0))) }");
    assert!(
        f(&v, "a") < 1e-14 && f(&v, "b") < 1e-14 && f(&v, "c") < 1e-5,
        "{v:?}"
    );
}

#[test]
fn zoo_handles_and_scores() {
    let v = ok("
        let ou = linear_ou(#{ A: [[-2.0, 0.0], [0.0, -0.5]] });
        let s = exact_score(ou).evaluate(nd([1.0, 1.0]));
        let rc = reduced_climate();
        let f = rc.drift(nd([1.0]));
        let sc = exact_score(rc).evaluate(nd([1.0]));
        #{ s0: s.get([0]), s1: s.get([1]), ratio: sc.get([0]) / f.get([0]), s: rc.params.s }");
    // C = diag(1/4, 1), s = −C⁻¹x; reduced climate: s = F / s², s = 0.7071.
    assert!((f(&v, "s0") + 4.0).abs() < 1e-12 && (f(&v, "s1") + 1.0).abs() < 1e-12);
    let s = f(&v, "s");
    assert!((f(&v, "ratio") - 1.0 / (s * s)).abs() < 1e-9);
}
