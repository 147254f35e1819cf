//! The OU grid system (SPEC 3.1, λ = 0) has an exact response: the Green's function of
//! κΔ − U∂ₓ − γ. Every estimator is checked against it at a small scale.
use fdtlab::response::fdt_periodic::{gaussian_fdt_periodic, gfdt_periodic};
use fdtlab::response::metrics::rel_err;
use fdtlab::score::exact::ExactAcScore;
use fdtlab::systems::allen_cahn::{simulate, AcParams, AcSystem, RunOpts};
use fdtlab::systems::impulse::{impulse_response, start_states, ImpulseOpts, ProbeMode};
use fdtlab::systems::ou_green::ou_green_response;

fn offsets() -> Vec<Vec<usize>> {
    vec![vec![0, 0], vec![1, 0], vec![2, 0], vec![3, 0]]
}

/// ‖se‖₂ / ‖reference‖₂ over the compared curves and lags 0..=50.
fn noise_floor(r: &fdtlab::response::Response, truth: &fdtlab::response::Response) -> f64 {
    let (mut se2, mut v2) = (0.0, 0.0);
    for o in offsets() {
        let (_, se) = r.curve(&o).unwrap();
        let (v, _) = truth.curve(&o).unwrap();
        se2 += se[..51].iter().map(|x| x * x).sum::<f64>();
        v2 += v[..51].iter().map(|x| x * x).sum::<f64>();
    }
    (se2 / v2).sqrt()
}

#[test]
fn ou_estimators_match_the_analytic_response() {
    fdtlab::core::progress::set_quiet(true);
    let sys = AcSystem::new(AcParams::ou()).unwrap();
    let opts = RunOpts {
        members: 8,
        spinup: 300.0,
        duration: 300.0,
        save_every: 32,
        seed: 3,
        init_amp: 0.0,
    };
    let tr = simulate(&sys, &opts, None).unwrap();
    let truth = ou_green_response(sys.params(), tr.dt, 51).unwrap();
    let g = gaussian_fdt_periodic(&tr, 51).unwrap();
    let score = ExactAcScore::new(sys.clone());
    let raw = gfdt_periodic(&tr, &score, 51, false).unwrap();
    let norm = gfdt_periodic(&tr, &score, 51, true).unwrap();
    for r in [&g, &raw, &norm] {
        let e = rel_err(r, &truth, &offsets(), 50.0).unwrap();
        // Acceptance bound of the issue (3 %); the estimate's own error is ≈ 0.1 % here
        // (stderr printed by rel_err), so a 3 % miss would be a real bias, not noise.
        assert!(e.value < 0.03, "{}: rel_err {e}", r.name);
        // And the miss is consistent with sampling error: pure noise of the reported standard
        // errors gives rel_err ≈ ‖se‖₂/‖R‖₂ (the noise floor); allow 3× that plus 0.5 % for the
        // discretisation bias of the simulated chain against the continuous Green's function
        // (the stationary variance of the RK4/EM chain differs by ≈ 0.4 %).
        let floor = noise_floor(r, &truth);
        assert!(
            e.value < 0.005 + 3.0 * floor,
            "{}: rel_err {e}, noise floor {floor:.4}",
            r.name
        );
    }
    // The ensemble: for a linear system with common random numbers the central difference is
    // deterministic, so it equals the Green's function to the integrator's accuracy and its
    // reported error band contains the truth.
    let starts = start_states(&tr, 20.0, 8).unwrap();
    let ens = impulse_response(
        &sys,
        starts.view(),
        &ImpulseOpts {
            experiments: 8,
            mode: ProbeMode::Pixel,
            window: 50.0,
            ..ImpulseOpts::default()
        },
    )
    .unwrap();
    let e = rel_err(&ens, &truth, &offsets(), 50.0).unwrap();
    assert!(e.value < 1e-6, "ensemble vs analytic: {e}");
}
