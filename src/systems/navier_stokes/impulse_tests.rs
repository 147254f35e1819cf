//! Tests of the impulse ensemble.
use super::impulse::*;
use super::*;
use num_complex::Complex64 as C64;

fn quiet() {
    crate::core::progress::set_quiet(true);
}

/// Unforced system on n = 16 with dissipation and background flow (linear around ζ = 0).
fn linear_sys() -> NsSystem {
    NsSystem::new(NsParams {
        n: 16,
        dt: 1.0 / 32.0,
        hypo: 0.05,
        hyper: 1e-3,
        forcing_amp: Some(0.0),
        ..NsParams::default()
    })
    .unwrap()
}

fn zero_start(sys: &NsSystem) -> NsState {
    let mut s = random_ns_state(sys, 0, 0, 0.0);
    s.zeta.iter_mut().for_each(|v| *v = 0.0);
    s
}

fn rk4_amp(z: C64) -> C64 {
    1.0 + z * (1.0 + z * (0.5 + z * (1.0 / 6.0 + z / 24.0)))
}

#[test]
fn linear_response_around_rest_is_the_propagator() {
    // Around ζ = 0 without forcing, the central difference removes the even (quadratic)
    // self-interaction exactly, so Δ = R(Ldt)^steps · Pδ + O(ε²) (ε = 1e-3 → ~1e-6 relative).
    quiet();
    let sys = linear_sys();
    let start = zero_start(&sys);
    let opts = NsImpulseOpts {
        eps: 1e-3,
        window: 5,
        save_every: 4,
        experiments: 2,
        mode: ImpulseMode::Pixel,
        seed: 1,
        pixel: [3, 5],
    };
    let r = impulse_ns(&sys, &[start.clone(), start], &opts).unwrap();
    assert_eq!(r.values.shape(), &[5, 16, 16]);
    assert!((r.dt - 4.0 / 32.0).abs() < 1e-15);
    let n = 16;
    let sp = sys.spectral();
    let mut ws = sp.workspace();
    let p = sys.params();
    for lag in 0..5 {
        // expected: unit impulse at the origin (offset coordinates), projected, propagated
        let mut spec = vec![C64::new(0.0, 0.0); sp.spec_len()];
        for (i, v) in spec.iter_mut().enumerate() {
            let (ix, jy) = (i % n, i / n);
            let kx = if ix <= n / 2 {
                ix as i64
            } else {
                ix as i64 - n as i64
            };
            if !super::forcing::in_box(n, kx, jy as i64) {
                continue;
            }
            let k2 = sp.k2()[i];
            let lam = if k2 == 0.0 {
                C64::new(-1.0, 0.0)
            } else {
                C64::new(
                    -p.hypo / (k2 * k2) - p.hyper * k2 * k2,
                    -p.background_u * sp.kx()[i],
                )
            };
            *v = rk4_amp(lam * p.dt).powu((lag * 4) as u32);
        }
        let mut want = vec![0.0; n * n];
        sp.inverse(&spec, &mut want, &mut ws);
        let got = r.values.index_axis(ndarray::Axis(0), lag);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-6, "lag {lag}: {g} vs {w}");
        }
        if lag == 0 {
            // the projection kernel: (2·5 + 1)²/16² at the pixel itself
            assert!((got[[0, 0]] - 121.0 / 256.0).abs() < 1e-12);
        }
    }
    // identical experiments: zero standard error
    let se = r.stderr.unwrap();
    assert!(se.iter().all(|v| *v < 1e-9));
}

#[test]
fn random_signs_agree_with_pixel_within_stderr() {
    // Linear case: E[R_e(r, t)] = (pixel response)(r, t). 96 experiments, each on its own
    // chain (so the standard error is sd/√96), 5-sigma per point (3 lags × 256 offsets;
    // two-sided 5σ tail 6e-7 per point).
    quiet();
    let sys = linear_sys();
    let start = zero_start(&sys);
    let base = NsImpulseOpts {
        eps: 1e-3,
        window: 3,
        save_every: 4,
        experiments: 96,
        mode: ImpulseMode::RandomSigns,
        seed: 2,
        pixel: [0, 0],
    };
    let starts = vec![start.clone(); 96];
    let rs = impulse_ns(&sys, &starts, &base).unwrap();
    let px = impulse_ns(
        &sys,
        &[start],
        &NsImpulseOpts {
            mode: ImpulseMode::Pixel,
            experiments: 1,
            ..base
        },
    )
    .unwrap();
    assert!(px.stderr.is_none());
    let se = rs.stderr.unwrap();
    let mut worst: f64 = 0.0;
    for ((a, b), s) in rs.values.iter().zip(px.values.iter()).zip(se.iter()) {
        assert!(*s > 0.0);
        worst = worst.max((a - b).abs() / s);
    }
    assert!(worst < 5.0, "worst deviation {worst} sigma");
}

#[test]
fn impulse_is_bit_identical_for_any_thread_count() {
    quiet();
    let sys = NsSystem::new(NsParams {
        n: 16,
        ..NsParams::default()
    })
    .unwrap();
    let (_, starts) = simulate_ns_with_states(
        &sys,
        &NsRunOpts {
            members: 3,
            spinup: 2.0,
            duration: 0.0625,
            save_every: 8,
            seed: 5,
            init_amp: 2.0,
        },
        None,
    )
    .unwrap();
    for mode in [ImpulseMode::Pixel, ImpulseMode::RandomSigns] {
        // 7 experiments on 3 chains: chains carry controls over several windows.
        let opts = NsImpulseOpts {
            eps: 1.0 / 64.0,
            window: 6,
            save_every: 2,
            experiments: 7,
            mode,
            seed: 9,
            pixel: [1, 1],
        };
        let run = |t: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap()
                .install(|| impulse_ns(&sys, &starts, &opts).unwrap())
        };
        let (a, b) = (run(1), run(2));
        assert_eq!(a.values, b.values);
        assert_eq!(a.stderr, b.stderr);
        assert!(a.values.iter().all(|v| v.is_finite()));
        assert_eq!(a.name, "ensemble");
    }
}

#[test]
fn bad_impulse_options_are_refused() {
    quiet();
    let sys = linear_sys();
    let s = zero_start(&sys);
    let ok = NsImpulseOpts {
        window: 2,
        experiments: 1,
        ..NsImpulseOpts::default()
    };
    assert!(impulse_ns(&sys, &[], &ok).is_err());
    for o in [
        NsImpulseOpts {
            eps: 0.0,
            ..ok.clone()
        },
        NsImpulseOpts {
            eps: f64::NAN,
            ..ok.clone()
        },
        NsImpulseOpts {
            window: 0,
            ..ok.clone()
        },
        NsImpulseOpts {
            save_every: 0,
            ..ok.clone()
        },
        NsImpulseOpts {
            experiments: 0,
            ..ok.clone()
        },
        NsImpulseOpts {
            pixel: [16, 0],
            ..ok.clone()
        },
    ] {
        assert!(
            impulse_ns(&sys, std::slice::from_ref(&s), &o).is_err(),
            "{o:?}"
        );
    }
    let o: NsImpulseOpts =
        serde_json::from_str(r#"{"mode": "random_signs", "window": 3}"#).unwrap();
    assert_eq!(o.mode, ImpulseMode::RandomSigns);
    assert!(serde_json::from_str::<NsImpulseOpts>(r#"{"mode": "pixels"}"#).is_err());
    assert!(serde_json::from_str::<NsImpulseOpts>(r#"{"lags": 3}"#).is_err());
}

/// Manual look at the stationary response: `cargo test --release --lib ns_response_look --
/// --ignored --nocapture`.
#[test]
#[ignore]
fn ns_response_look() {
    quiet();
    let sys = NsSystem::new(NsParams::default()).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    pool.install(|| {
        let (_, starts) = simulate_ns_with_states(
            &sys,
            &NsRunOpts {
                members: 2,
                spinup: 200.0,
                duration: 1.0,
                save_every: 128,
                seed: 3,
                init_amp: 0.5,
            },
            None,
        )
        .unwrap();
        for mode in [ImpulseMode::Pixel, ImpulseMode::RandomSigns] {
            let r = impulse_ns(
                &sys,
                &starts,
                &NsImpulseOpts {
                    window: 257,
                    save_every: 2,
                    experiments: 16,
                    mode,
                    seed: 1,
                    ..Default::default()
                },
            )
            .unwrap();
            let se = r.stderr.as_ref().unwrap();
            eprintln!("{mode:?}");
            for lag in [0usize, 8, 16, 32, 64, 128, 256] {
                let mut line = format!("t={:5.2}:", lag as f64 * r.dt);
                for dx in 0..4 {
                    line += &format!(
                        "  ({dx},0) {:+.4}±{:.4}",
                        r.values[[lag, dx, 0]],
                        se[[lag, dx, 0]]
                    );
                }
                eprintln!("{line}");
            }
        }
    });
}
