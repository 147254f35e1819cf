use super::*;
use crate::systems::linear_ou::LinearOu;
use crate::systems::observable::BuiltinObservable;
use crate::systems::perturbation::{ConstantPerturbation, LinearPerturbation};
use crate::systems::sde::{Method, SdeRunOpts};
use ndarray::{array, ArrayD};

/// ‖a − b‖₂ / ‖b‖₂ over all entries.
pub(crate) fn rel_err(a: &ArrayD<f64>, b: &ArrayD<f64>) -> f64 {
    let num: f64 = a.iter().zip(b.iter()).map(|(x, y)| (x - y) * (x - y)).sum();
    let den: f64 = b.iter().map(|y| y * y).sum();
    (num / den).sqrt()
}

/// ‖se‖₂ / ‖b‖₂: the relative size of the error bars.
fn rel_se(se: &ArrayD<f64>, b: &ArrayD<f64>) -> f64 {
    let num: f64 = se.iter().map(|x| x * x).sum();
    let den: f64 = b.iter().map(|y| y * y).sum();
    (num / den).sqrt()
}

/// Non-normal 2-D OU: A = [[−1, 2], [0, −1.5]], G = I. 16 members × 8000 time units, Heun
/// dt = 0.02 (stationary covariance bias O(dt²) ~ 4e-4), frames every 0.1. With 2000 time
/// units the jackknife gave ‖se‖/‖R‖ ≈ 2.1 % for u = e_j; 4× the data halves it to ≈ 1 %, so
/// the 3 % tolerance is ≈ 3 se.
fn data() -> &'static (LinearOu, Trajectory) {
    static DATA: std::sync::OnceLock<(LinearOu, Trajectory)> = std::sync::OnceLock::new();
    DATA.get_or_init(make_data)
}

fn make_data() -> (LinearOu, Trajectory) {
    crate::core::progress::set_quiet(true);
    let ou = LinearOu::new(array![[-1.0, 2.0], [0.0, -1.5]], Array2::eye(2)).unwrap();
    let starts = ou.sample_stationary(16, 11);
    let o = SdeRunOpts {
        dt: 0.02,
        duration: 8000.0,
        save_every: 5,
        seed: 3,
        method: Method::Heun,
        ..Default::default()
    };
    let traj = ou.sde().unwrap().simulate_from(starts.view(), &o).unwrap();
    (ou, traj)
}

fn obs_refs(o: &[BuiltinObservable]) -> Vec<&dyn Observable> {
    o.iter().map(|x| x as &dyn Observable).collect()
}

#[test]
fn gfdt_exact_score_constant_and_linear_perturbations_on_ou() {
    let (ou, traj) = data();
    let opts = GfdtOpts {
        window: 4.0,
        ..Default::default()
    };
    let lags = 41;
    // (1) u = e_j, A = x_i: R_ij(t) = (e^{At})_ij. Tolerance 3 % (relative L2 over lags 0..4
    // and all (i, j)), ≈ 3 se (see `data`).
    let comps = [
        BuiltinObservable::Component(0),
        BuiltinObservable::Component(1),
    ];
    let exact = ou.exact_response(0.1, lags).unwrap();
    for (label, gauss) in [("exact", false), ("Gaussian", true)] {
        let mut est = ArrayD::zeros(exact.values.raw_dim());
        let mut se = ArrayD::zeros(exact.values.raw_dim());
        for j in 0..2 {
            let u = ConstantPerturbation::unit(2, j).unwrap();
            let r = if gauss {
                gfdt_general_gaussian(traj, &u, &obs_refs(&comps), &opts).unwrap()
            } else {
                gfdt_general(traj, ou, &u, &obs_refs(&comps), &opts).unwrap()
            };
            assert_eq!(r.values.shape(), &[lags, 2]);
            for l in 0..lags {
                for i in 0..2 {
                    est[[l, i, j]] = r.values[[l, i]];
                    se[[l, i, j]] = r.stderr.as_ref().unwrap()[[l, i]];
                }
            }
        }
        let (e, s) = (rel_err(&est, &exact.values), rel_se(&se, &exact.values));
        eprintln!("OU u = e_j, {label} score: rel err {e:.4}, rel se {s:.4}");
        assert!(e < 0.03, "{label}: {e}");
        assert!(s < 0.015 && e < 4.0 * s, "{label}: err {e} vs se {s}");
    }
    // (2) u = x (a change of damping). ⟨x⟩ does not respond (x → −x symmetry), so observe the
    // second moments A = x_i x_j, whose exact impulse response is
    // e^{At} (MC + CMᵀ) e^{Aᵀt} with M = I (LinearOu::second_moment_response). Tolerance 5 %.
    let u = LinearPerturbation::identity(2).unwrap();
    let prods = [
        BuiltinObservable::Product(0, 0),
        BuiltinObservable::Product(0, 1),
        BuiltinObservable::Product(1, 1),
    ];
    let ex2 = ou
        .second_moment_response(&Array2::eye(2), 0.1, lags)
        .unwrap();
    let r = gfdt_general(traj, ou, &u, &obs_refs(&prods), &opts).unwrap();
    let exv = ArrayD::from_shape_fn(r.values.raw_dim(), |ix| {
        let (i, j) = [(0, 0), (0, 1), (1, 1)][ix[1]];
        ex2.values[[ix[0], i, j]]
    });
    let (e, s) = (
        rel_err(&r.values, &exv),
        rel_se(r.stderr.as_ref().unwrap(), &exv),
    );
    eprintln!("OU u = x, A = x_i x_j: rel err {e:.4}, rel se {s:.4}");
    assert!(e < 0.05, "{e}");
    assert!(e < 4.0 * s);
    // The mean does not respond to u = x: |R| within 4 se at every lag.
    let r1 = gfdt_general(traj, ou, &u, &obs_refs(&comps), &opts).unwrap();
    let se1 = r1.stderr.as_ref().unwrap();
    let z = r1
        .values
        .iter()
        .zip(se1.iter())
        .map(|(v, s)| (v / s).abs())
        .fold(0.0, f64::max);
    eprintln!("OU u = x, A = x_i: max |R|/se = {z:.2}");
    assert!(z < 4.5);
}

#[test]
fn step_option_and_segments() {
    // Few members → jackknife over time segments; step = trapezoid of the impulse estimate.
    let (ou, traj) = data();
    let two = Trajectory {
        data: traj
            .data
            .slice(ndarray::s![0..2, .., ..])
            .to_owned()
            .into_dyn(),
        ..traj.clone()
    };
    let comps = [
        BuiltinObservable::Component(0),
        BuiltinObservable::Component(1),
    ];
    let u = ConstantPerturbation::unit(2, 1).unwrap();
    let o = GfdtOpts {
        window: 3.0,
        ..Default::default()
    };
    let r = gfdt_general(&two, ou, &u, &obs_refs(&comps), &o).unwrap();
    let s = gfdt_general(
        &two,
        ou,
        &u,
        &obs_refs(&comps),
        &GfdtOpts { step: true, ..o },
    )
    .unwrap();
    let st = crate::response::step::step_from_impulse(&r).unwrap();
    assert!(s
        .values
        .iter()
        .zip(st.values.iter())
        .all(|(a, b)| (a - b).abs() < 1e-12));
    // Jackknife step error ≤ the fully correlated bound of step_from_impulse.
    let (js, bs) = (s.stderr.unwrap(), st.stderr.unwrap());
    assert!(js
        .iter()
        .zip(bs.iter())
        .all(|(a, b)| *a <= b * (1.0 + 1e-9)));
    // Segment jackknife se is the right size: 2 of 16 members → √8 times the 16-member se.
    let full = gfdt_general(traj, ou, &u, &obs_refs(&comps), &o).unwrap();
    let ratio = rel_se(r.stderr.as_ref().unwrap(), &r.values)
        / rel_se(full.stderr.as_ref().unwrap(), &full.values);
    eprintln!("segment/member jackknife se ratio {ratio:.2} (expected ≈ 2.83)");
    assert!(ratio > 1.8 && ratio < 4.5);
}
