//! Tests of the perturbation-ensemble ground truth.
use super::*;
use crate::systems::allen_cahn::{simulate, AcParams, RunOpts};
use crate::systems::ou_green::ou_green_response;
use ndarray::{Array3, Array4};

fn quiet() {
    crate::core::progress::set_quiet(true);
}

fn pool(t: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(t)
        .build()
        .unwrap()
}

/// `s` deterministic pseudo-random start fields in [-amp, amp].
fn random_starts(s: usize, n: usize, amp: f64) -> Array3<f64> {
    let mut z: u64 = 0x1234_5678_9abc_def1;
    Array3::from_shape_fn((s, n, n), |_| {
        z ^= z << 13;
        z ^= z >> 7;
        z ^= z << 17;
        amp * ((z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0)
    })
}

/// OU, pixel probe: with common noise the ±ε difference is deterministic (linear system), so
/// every experiment equals the RK4 propagator and the ensemble equals the analytic Green's
/// function to RK4 accuracy. Bound per mode after n steps: n·|R(z) − e^z| ≤ n|z|⁵/120·e^{|z|}
/// (|R|, |e^z| ≤ 1 here); a real-space value is an average of modes, so the same bound holds.
#[test]
fn ou_pixel_ensemble_equals_green() {
    quiet();
    let p = AcParams {
        n: 16,
        ..AcParams::ou()
    };
    let sys = AcSystem::new(p.clone()).unwrap();
    let opts = ImpulseOpts {
        window: 20.0,
        experiments: 3,
        ..ImpulseOpts::default()
    };
    let starts = random_starts(3, 16, 2.0);
    let r = impulse_response(&sys, starts.view(), &opts).unwrap();
    assert_eq!(r.values.shape(), &[21, 16, 16]);
    assert_eq!(r.dt, 1.0);
    assert_eq!(r.name, "ensemble");
    let g = ou_green_response(&p, 1.0, 21).unwrap();
    let sp = sys.spectral();
    let steps = 20.0 * 32.0;
    let zmax = (0..sp.spec_len())
        .map(|i| {
            let kx = if sp.is_x_nyquist(i) { 0.0 } else { sp.kx()[i] };
            C64::new(-p.kappa * sp.k2()[i] - p.gamma, -p.u * kx).norm() * p.dt
        })
        .fold(0.0, f64::max);
    let bound = steps * zmax.powi(5) / 120.0 * zmax.exp() + 1e-12;
    let err = (&r.values - &g.values)
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(err <= bound, "max |ensemble − analytic| = {err} > {bound}");
    let se = r.stderr.as_ref().unwrap();
    assert!(
        se.iter().all(|v| *v < 1e-12),
        "CRN differences must coincide"
    );
    // the response is non-trivial: the kicked pixel still holds a visible fraction at t = 20
    assert!(g.values[[20, 0, 0]] > 0.01 && (g.values[[0, 0, 0]] - 1.0).abs() < 1e-12);
}

/// OU, random signs: unbiased for the analytic response (module docs); every element within
/// 5 standard errors (≈ 5000 elements: a Gaussian |z| > 5 has probability 6e-7 each, so a
/// correct estimator fails with probability < 0.3 %; the seed is fixed anyway). Lag 0 at
/// offset 0 is exactly 1 (σ² = 1).
#[test]
fn ou_random_signs_unbiased() {
    quiet();
    let p = AcParams {
        n: 16,
        ..AcParams::ou()
    };
    let sys = AcSystem::new(p.clone()).unwrap();
    let opts = ImpulseOpts {
        window: 20.0,
        save_every: 64,
        experiments: 64,
        mode: ProbeMode::RandomSigns,
        seed: 5,
        ..ImpulseOpts::default()
    };
    // One start state per experiment: with fewer, the standard error would be the
    // between-state one (fewer degrees of freedom, heavier tails than the 5σ bound assumes).
    let starts = random_starts(64, 16, 2.0);
    let r = impulse_response(&sys, starts.view(), &opts).unwrap();
    let g = ou_green_response(&p, 2.0, 11).unwrap();
    let se = r.stderr.unwrap();
    let mut worst: f64 = 0.0;
    for ((v, a), s) in r.values.iter().zip(g.values.iter()).zip(se.iter()) {
        if *s > 1e-12 {
            worst = worst.max((v - a).abs() / s);
        } else {
            assert!((v - a).abs() < 1e-9);
        }
    }
    assert!(worst < 5.0, "max |z| = {worst}");
    assert!((r.values[[0, 0, 0]] - 1.0).abs() < 1e-12);
}

/// Allen–Cahn (N = 16): the pixel and random-signs estimators agree within their combined
/// standard errors, element by element (|Δ| ≤ 5 √(se₁² + se₂²); 16·16·9 ≈ 2300 elements, a
/// Gaussian |z| > 5 has probability 6e-7, so a correct pair fails with probability < 0.2 %;
/// the stderrs come from 96 independent experiments each). Each experiment starts from a
/// different member (independent start states), so std/√E is an honest standard error. The
/// test is not vacuous: the kicked pixel's response is many standard errors from zero.
#[test]
fn allen_cahn_random_signs_agree_with_pixel() {
    quiet();
    let p = AcParams {
        n: 16,
        ..AcParams::allen_cahn()
    };
    let sys = AcSystem::new(p).unwrap();
    let e = 96;
    let run = RunOpts {
        members: e,
        spinup: 20.0,
        duration: 0.5,
        save_every: 16,
        seed: 1,
        init_amp: 0.5,
    };
    let tr = simulate(&sys, &run, None).unwrap();
    let starts = start_states(&tr, 1.0, e).unwrap();
    let base = ImpulseOpts {
        window: 8.0,
        experiments: e,
        ..ImpulseOpts::default()
    };
    let a = impulse_response(&sys, starts.view(), &base).unwrap();
    let b = impulse_response(
        &sys,
        starts.view(),
        &ImpulseOpts {
            mode: ProbeMode::RandomSigns,
            seed: 99,
            ..base.clone()
        },
    )
    .unwrap();
    let (sa, sb) = (a.stderr.unwrap(), b.stderr.unwrap());
    let mut worst: f64 = 0.0;
    for i in 0..a.values.len() {
        let (va, vb) = (
            a.values.as_slice().unwrap()[i],
            b.values.as_slice().unwrap()[i],
        );
        let s = (sa.as_slice().unwrap()[i].powi(2) + sb.as_slice().unwrap()[i].powi(2)).sqrt();
        if s > 1e-12 {
            worst = worst.max((va - vb).abs() / s);
        } else {
            assert!((va - vb).abs() < 1e-9, "element {i}: {va} vs {vb}");
        }
    }
    let (v1, s1) = (a.values[[1, 0, 0]], sa[[1, 0, 0]]);
    eprintln!(
        "AC N=16: max |z| = {worst:.2}; R(t=1, r=0) pixel {v1:.4} ± {s1:.4}, random signs {:.4} ± {:.4}",
        b.values[[1, 0, 0]],
        sb[[1, 0, 0]]
    );
    assert!(worst < 5.0, "max |z| = {worst}");
    assert!(v1.abs() > 10.0 * s1, "signal {v1} vs stderr {s1}");
}

/// Same seed → bit-identical responses with 1 and 2 threads, in both modes.
#[test]
fn impulse_reproducible_across_threads() {
    quiet();
    let sys = AcSystem::new(AcParams {
        n: 8,
        ..AcParams::allen_cahn()
    })
    .unwrap();
    let starts = random_starts(5, 8, 1.0);
    for mode in [ProbeMode::Pixel, ProbeMode::RandomSigns] {
        let o = ImpulseOpts {
            window: 2.0,
            save_every: 8,
            experiments: 21,
            mode,
            seed: 3,
            ..ImpulseOpts::default()
        };
        let a = pool(1)
            .install(|| impulse_response(&sys, starts.view(), &o))
            .unwrap();
        let b = pool(2)
            .install(|| impulse_response(&sys, starts.view(), &o))
            .unwrap();
        assert_eq!(a.values, b.values);
        assert_eq!(a.stderr, b.stderr);
        assert_eq!(a.dt, 0.25);
        assert_eq!(a.lags(), 9);
    }
}

/// Each experiment alone (its response frames, flattened), as `impulse_with` runs it.
fn single_experiments(
    sys: &AcSystem,
    starts: &Array3<f64>,
    o: &ImpulseOpts,
    count: usize,
) -> Vec<Vec<f64>> {
    let plan = o.plan(sys.params().dt).unwrap();
    let len = plan.lags * sys.n() * sys.n();
    let abort = AtomicBool::new(false);
    (0..count)
        .map(|e| {
            let mut acc = Acc::new(len);
            let mut ew = ExpWork::new(sys);
            run_experiment(
                sys,
                &starts.view(),
                o,
                plan,
                e,
                &mut acc,
                1,
                &mut ew,
                &abort,
            )
            .unwrap();
            acc.mean
        })
        .collect()
}

/// More experiments than start states (C28 of the bad-input findings): experiment e starts
/// from state e mod S, so the standard error is the between-state one, computed here by hand
/// from single experiments: group means m_g over n_g experiments, m = Σ w_g m_g with
/// w_g = n_g/E, se² = G/(G−1) Σ w_g² (m_g − m)². Repeated rows in `starts` are the same
/// states (same groups, same result), and a warning names the numbers.
#[test]
fn reused_starts_give_between_state_stderr() {
    quiet();
    let sys = AcSystem::new(AcParams {
        n: 8,
        ..AcParams::allen_cahn()
    })
    .unwrap();
    let starts = random_starts(3, 8, 0.8);
    let o = ImpulseOpts {
        window: 2.0,
        save_every: 8,
        experiments: 7,
        seed: 5,
        ..ImpulseOpts::default()
    };
    let r = impulse_response(&sys, starts.view(), &o).unwrap();
    let w = crate::warn::take_warnings();
    assert!(
        w.iter()
            .any(|m| m.contains("impulse_response: 7 experiments from only 3 start states")),
        "{w:?}"
    );
    let single = single_experiments(&sys, &starts, &o, 7);
    let len = single[0].len();
    let groups: Vec<Vec<usize>> = (0..3).map(|g| (g..7).step_by(3).collect()).collect();
    let gmean =
        |g: &Vec<usize>, i: usize| g.iter().map(|&e| single[e][i]).sum::<f64>() / g.len() as f64;
    let (vals, se) = (r.values.as_slice().unwrap(), r.stderr.as_ref().unwrap());
    let se = se.as_slice().unwrap();
    let mut worst: f64 = 0.0;
    for i in 0..len {
        let m = (0..7).map(|e| single[e][i]).sum::<f64>() / 7.0;
        let v: f64 = groups
            .iter()
            .map(|g| (g.len() as f64 / 7.0).powi(2) * (gmean(g, i) - m).powi(2))
            .sum();
        let want = (1.5 * v).sqrt();
        worst = worst.max((vals[i] - m).abs()).max((se[i] - want).abs());
    }
    assert!(
        worst < 1e-12,
        "max deviation from the hand computation {worst}"
    );
    assert!(
        se.iter().any(|v| *v > 1e-6),
        "the stderr is not trivially zero"
    );
    // The same states given as repeated rows (S = E = 7): the same groups, the same numbers.
    let mut dup = Array3::<f64>::zeros((7, 8, 8));
    for e in 0..7 {
        dup.index_axis_mut(ndarray::Axis(0), e)
            .assign(&starts.index_axis(ndarray::Axis(0), e % 3));
    }
    let rd = impulse_response(&sys, dup.view(), &o).unwrap();
    assert_eq!(rd.values, r.values);
    assert_eq!(rd.stderr, r.stderr);
    // One state: no standard error can be formed.
    let one = impulse_response(&sys, starts.slice(ndarray::s![0..1, .., ..]), &o).unwrap();
    assert!(one.stderr.is_none());
}

/// The between-state standard error is calibrated where std/√E is not. Over K = 80
/// independent replicas (fresh random start fields and noise streams each), 16 experiments
/// from 4 states per replica: compare the spread of the replica means at one element (lag 1,
/// the kicked pixel) with the mean reported variance se² (unbiased for it) and with the naive
/// sd²/E. The ratio of two variance estimates from 80 replicas is uncertain by about
/// √(2/79 + 2/(3·80)) ≈ 18 %, so the calibrated one must lie in [0.6, 1.6] (> 2.5σ); the
/// naive one, which ignores that experiments share a state, must be below 0.5 (measured:
/// 1.12 and 0.31).
#[test]
fn reused_starts_stderr_is_calibrated() {
    quiet();
    let sys = AcSystem::new(AcParams {
        n: 8,
        ..AcParams::allen_cahn()
    })
    .unwrap();
    let (k, s, e) = (80, 4, 16);
    let i = 8 * 8; // lag 1, offset (0, 0)
    let (mut means, mut se2, mut naive2) = (vec![], vec![], vec![]);
    for rep in 0..k {
        let starts = seeded_starts(s, 8, 0.8, rep as u64);
        let o = ImpulseOpts {
            window: 2.0,
            save_every: 32,
            experiments: e,
            seed: 1000 + rep as u64,
            ..ImpulseOpts::default()
        };
        let r = impulse_response(&sys, starts.view(), &o).unwrap();
        let single = single_experiments(&sys, &starts, &o, e);
        let x: Vec<f64> = single.iter().map(|v| v[i]).collect();
        let m = x.iter().sum::<f64>() / e as f64;
        let var = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (e - 1) as f64;
        means.push(r.values.as_slice().unwrap()[i]);
        se2.push(r.stderr.as_ref().unwrap().as_slice().unwrap()[i].powi(2));
        naive2.push(var / e as f64);
    }
    let _ = crate::warn::take_warnings();
    let mm = means.iter().sum::<f64>() / k as f64;
    let emp = means.iter().map(|v| (v - mm).powi(2)).sum::<f64>() / (k - 1) as f64;
    let avg = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (rg, rn) = (avg(&se2) / emp, avg(&naive2) / emp);
    eprintln!("reported/actual variance of the mean: between states {rg:.2}, naive {rn:.2}");
    assert!(
        (0.6..=1.6).contains(&rg),
        "between-state se² / actual = {rg}"
    );
    assert!(
        rn < 0.5,
        "naive se² / actual = {rn}: the test does not discriminate"
    );
}

/// `s` pseudo-random fields in [-amp, amp] from `seed` (xorshift).
fn seeded_starts(s: usize, n: usize, amp: f64, seed: u64) -> Array3<f64> {
    let mut z: u64 = 0x9E37_79B9_7F4A_7C15 ^ seed.wrapping_mul(0x2545_F491_4F6C_DD1D);
    Array3::from_shape_fn((s, n, n), |_| {
        z ^= z << 13;
        z ^= z >> 7;
        z ^= z << 17;
        amp * ((z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0)
    })
}

/// Welford chunks merged in order equal a direct two-pass mean and variance.
#[test]
fn accumulator_merge() {
    let xs: Vec<f64> = (0..37)
        .map(|i| ((i * 7919) % 101) as f64 * 0.37 - 3.0)
        .collect();
    let mut total = Acc::new(1);
    for chunk in xs.chunks(8) {
        let mut a = Acc::new(1);
        for (j, x) in chunk.iter().enumerate() {
            a.push(0, &[*x], j + 1);
            a.count += 1;
        }
        total.merge(&a);
    }
    let m = xs.iter().sum::<f64>() / 37.0;
    let q = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>();
    assert!((total.mean[0] - m).abs() < 1e-12 && (total.m2[0] - q).abs() < 1e-9);
    assert_eq!(total.count, 37);
}

#[test]
fn start_states_picks_round_robin() {
    let (m, t, n) = (3, 10, 4);
    let data = Array4::from_shape_fn((m, t, n, n), |(a, b, _, _)| (100 * a + b) as f64);
    let tr = Trajectory {
        data: data.into_dyn(),
        dt: 0.5,
        t0: 0.0,
        system: "test".into(),
    };
    // spacing 2 time units = 4 frames: frames 0, 4, 8 of each member (9 states)
    let s = start_states(&tr, 2.0, 7).unwrap();
    let got: Vec<f64> = (0..7).map(|i| s[[i, 1, 2]]).collect();
    assert_eq!(got, vec![0.0, 100.0, 200.0, 4.0, 104.0, 204.0, 8.0]);
    let e = start_states(&tr, 2.0, 10).unwrap_err().to_string();
    assert!(e.contains("only 9 start states"), "{e}");
    assert!(start_states(&tr, -1.0, 1).is_err());
    assert!(start_states(&tr, 1.0, 0).is_err());
}

#[test]
fn impulse_errors() {
    quiet();
    let sys = AcSystem::new(AcParams {
        n: 8,
        ..AcParams::allen_cahn()
    })
    .unwrap();
    let starts = random_starts(2, 8, 1.0);
    let d = ImpulseOpts::default();
    for bad in [
        ImpulseOpts {
            eps: 0.0,
            ..d.clone()
        },
        ImpulseOpts {
            eps: f64::NAN,
            ..d.clone()
        },
        ImpulseOpts {
            window: 0.01,
            ..d.clone()
        },
        ImpulseOpts {
            experiments: 0,
            ..d.clone()
        },
    ] {
        assert!(matches!(
            impulse_response(&sys, starts.view(), &bad),
            Err(Error::Invalid(_))
        ));
    }
    let wrong = random_starts(2, 6, 1.0);
    assert!(matches!(
        impulse_response(&sys, wrong.view(), &d),
        Err(Error::Shape(_))
    ));
    let blow = AcSystem::new(AcParams {
        n: 8,
        dt: 1.0,
        ..AcParams::allen_cahn()
    })
    .unwrap();
    let o = ImpulseOpts {
        window: 50.0,
        save_every: 1,
        experiments: 2,
        ..d.clone()
    };
    match impulse_response(&blow, starts.view(), &o) {
        Err(Error::BlowUp(m)) => assert!(m.contains("experiment") && m.contains("step"), "{m}"),
        other => panic!("expected BlowUp, got {:?}", other.map(|r| r.lags())),
    }
    assert!(serde_json::from_str::<ImpulseOpts>(r#"{"mode": "random_signs"}"#).is_ok());
    assert!(serde_json::from_str::<ImpulseOpts>(r#"{"mode": "pixels"}"#).is_err());
    assert!(serde_json::from_str::<ImpulseOpts>(r#"{"windw": 3}"#).is_err());
    assert!(ou_green_response(&AcParams::allen_cahn(), 1.0, 3).is_err());
}

/// Pilot (not a test): experiments needed for a 3 % relative standard error of the
/// Allen–Cahn N = 32 response over offsets (0..3, 0) and lags 0..50, per probe mode.
/// `cargo test --release pilot_ac32 -- --ignored --nocapture`
#[test]
#[ignore]
fn pilot_ac32() {
    let sys = AcSystem::new(AcParams::allen_cahn()).unwrap();
    let e: usize = std::env::var("PILOT_E")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let spin: f64 = std::env::var("PILOT_SPIN")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200.0);
    let t = std::time::Instant::now();
    let run = RunOpts {
        members: e,
        spinup: spin,
        duration: 1.0,
        save_every: 32,
        seed: 11,
        init_amp: 0.5,
    };
    let tr = simulate(&sys, &run, None).unwrap();
    eprintln!(
        "spin-up of {e} members × {spin} time units: {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let starts = start_states(&tr, 1.0, e).unwrap();
    let mut res = vec![];
    for mode in [ProbeMode::Pixel, ProbeMode::RandomSigns] {
        let o = ImpulseOpts {
            window: 50.0,
            experiments: e,
            mode,
            seed: 21,
            ..ImpulseOpts::default()
        };
        let t = std::time::Instant::now();
        let r = pool(1)
            .install(|| impulse_response(&sys, starts.view(), &o))
            .unwrap();
        let el = t.elapsed().as_secs_f64();
        let se = r.stderr.clone().unwrap();
        let (mut n2, mut s2) = (0.0, 0.0);
        for l in 0..=50 {
            for dx in 0..4 {
                n2 += r.values[[l, dx, 0]].powi(2);
                s2 += se[[l, dx, 0]].powi(2);
            }
        }
        let rel = (s2 / n2).sqrt();
        let need = (e as f64 * (rel / 0.03).powi(2)).ceil();
        eprintln!(
            "{mode:?}: {:.1} ms per experiment (1 thread, 2 copies × 1600 steps); \
             relative stderr {:.2} % with {e}; ≈ {need} experiments for 3 %",
            el / e as f64 * 1e3,
            rel * 100.0
        );
        for dx in 0..4 {
            let c: Vec<String> = [0, 1, 2, 5, 10, 20, 50]
                .iter()
                .map(|&l| format!("{:.3}±{:.3}", r.values[[l, dx, 0]], se[[l, dx, 0]]))
                .collect();
            eprintln!("  dx={dx} t=0,1,2,5,10,20,50: {}", c.join(" "));
        }
        res.push(r);
    }
}

/// Cost of one Allen–Cahn N = 32 impulse experiment (window 50, 1 thread), minimum of 5 runs
/// of 4 experiments. `cargo test --release bench_impulse_min -- --ignored --nocapture`
#[test]
#[ignore]
fn bench_impulse_min() {
    quiet();
    let sys = AcSystem::new(AcParams::allen_cahn()).unwrap();
    let starts = random_starts(4, 32, 1.0);
    for mode in [ProbeMode::Pixel, ProbeMode::RandomSigns] {
        let o = ImpulseOpts {
            experiments: 4,
            mode,
            ..ImpulseOpts::default()
        };
        let p = pool(1);
        let best = (0..5)
            .map(|_| {
                let t = std::time::Instant::now();
                p.install(|| impulse_response(&sys, starts.view(), &o))
                    .unwrap();
                t.elapsed().as_secs_f64() / 4.0
            })
            .fold(f64::INFINITY, f64::min);
        eprintln!("{mode:?}: {:.1} ms per experiment (1 thread)", best * 1e3);
    }
}
