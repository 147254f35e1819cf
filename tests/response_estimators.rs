//! Estimators against processes with exact answers (fixed seeds, small sizes).
//!
//! Tolerances. Each estimator reports a delete-one jackknife standard error `se` from B = 16
//! batches. The jackknife se is itself uncertain by ≈ 1/√(2(B − 1)) ≈ 18 %. Per entry we
//! require `|est − exact| ≤ 5 se + 1e-9` (the floor covers lag 0 of normalised estimators,
//! which are exact by construction and have se = 0): for n ≈ 100–700 entries per check, a
//! family-wise false-failure rate of ~1 % needs a per-entry two-sided p ≈ 1e-5, i.e. 4.4 σ,
//! and 5 se ≥ 4.1 σ even when the se is underestimated by one standard deviation (18 %).
//! In addition the mean of z² = ((est − exact)/se)² must be O(1) — loosely within [0.3, 3]
//! because neighbouring lags are strongly correlated (≈ 10 independent values per check, so
//! the mean of z² has sd ≈ 0.45) — which catches a badly mis-sized se in either direction.
use fdtlab::core::spectral::Spectral2d;
use fdtlab::core::trajectory::Trajectory;
use fdtlab::response::synthetic::{Ar1Field, LinearOu};
use fdtlab::response::{self, Response};
use fdtlab::score::gaussian::GaussianScore;
use fdtlab::score::Score;
use ndarray::{array, Array4, ArrayD, Axis, Ix4};
use num_complex::Complex64;

fn ou() -> LinearOu {
    // Non-symmetric, stable drift (eigenvalues −1 ± i), correlated noise.
    LinearOu::new(
        array![[-1.0, 2.0], [-0.5, -1.0]],
        array![[1.0, 0.0], [0.3, 0.8]],
    )
    .unwrap()
}

/// (max |z|, mean z²) of est against exact over entries with se > 0; panics with context if
/// an entry exceeds 5 se + 1e-9.
fn check_within_se(est: &Response, exact: &ArrayD<f64>, what: &str) -> (f64, f64) {
    let se = est.stderr.as_ref().expect("estimators report stderr");
    assert_eq!(est.values.shape(), exact.shape(), "{what}");
    let (mut zmax, mut z2, mut n) = (0.0f64, 0.0, 0usize);
    for ((i, v), (x, s)) in est.values.indexed_iter().zip(exact.iter().zip(se.iter())) {
        let err = (v - x).abs();
        assert!(
            err <= 5.0 * s + 1e-9,
            "{what}: entry {i:?}: estimate {v} vs exact {x}, se {s}"
        );
        if *s > 0.0 {
            let z = err / s;
            zmax = zmax.max(z);
            z2 += z * z;
            n += 1;
        }
    }
    let mz2 = z2 / n.max(1) as f64;
    assert!((0.3..3.0).contains(&mz2), "{what}: mean z² = {mz2}");
    (zmax, mz2)
}

#[test]
fn vector_ou_fdt_and_gfdt_match_exp_at() {
    fdtlab::core::progress::set_quiet(true);
    let ou = ou();
    let (dt, lags) = (0.1, 30);
    let traj = ou.simulate(16, 5000, dt, 1).unwrap();
    let exact = ou.exact_response(lags, dt).unwrap().values;
    let score = ou.exact_score().unwrap();

    let g = response::gaussian_fdt_vec(&traj, lags).unwrap();
    assert_eq!(g.name, "Gaussian FDT");
    assert!(g.normalized);
    let s1 = check_within_se(&g, &exact, "Gaussian FDT");

    let raw = response::gfdt_vec(&traj, &score, lags, false).unwrap();
    assert_eq!(raw.name, "GFDT (Gaussian score)");
    assert!(!raw.normalized);
    let s2 = check_within_se(&raw, &exact, "GFDT raw");

    let nor = response::gfdt_vec(&traj, &score, lags, true).unwrap();
    let s3 = check_within_se(&nor, &exact, "GFDT normalised");
    eprintln!("vector OU (max|z|, mean z²): gauss {s1:?} raw {s2:?} norm {s3:?}");

    // A fitted Gaussian score gives (almost) the Gaussian FDT when normalised.
    let fitted = GaussianScore::fit_trajectory(&traj).unwrap();
    let nf = response::gfdt_vec(&traj, &fitted, lags, true).unwrap();
    let d = (&nf.values - &g.values).mapv(f64::abs);
    assert!(
        d.iter().all(|v| *v < 1e-8),
        "fitted-score GFDT ≠ Gaussian FDT"
    );
}

#[test]
fn vector_ou_stderr_matches_spread_over_repetitions() {
    fdtlab::core::progress::set_quiet(true);
    let ou = ou();
    let (dt, lags, reps) = (0.1, 20, 8);
    let score = ou.exact_score().unwrap();
    let mut vals = Vec::new();
    let mut ses = Vec::new();
    for r in 0..reps {
        let traj = ou.simulate(16, 2000, dt, 100 + r).unwrap();
        let e = response::gfdt_vec(&traj, &score, lags, false).unwrap();
        vals.push(e.values);
        ses.push(e.stderr.unwrap());
    }
    // Per entry: sample sd over 8 repetitions vs the mean reported se; compare RMS over all
    // entries. sd from 8 values is uncertain by ~27 % per entry, ~10 % pooled: allow 0.6–1.6.
    let n = vals[0].len();
    let (mut sd2, mut se2) = (0.0, 0.0);
    for i in 0..n {
        let v: Vec<f64> = vals.iter().map(|a| a.as_slice().unwrap()[i]).collect();
        let m = v.iter().sum::<f64>() / reps as f64;
        sd2 += v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (reps as f64 - 1.0);
        se2 += ses
            .iter()
            .map(|s| s.as_slice().unwrap()[i].powi(2))
            .sum::<f64>()
            / reps as f64;
    }
    let ratio = (sd2 / se2).sqrt();
    eprintln!("spread / reported se = {ratio:.3}");
    assert!((0.6..1.6).contains(&ratio), "spread/se = {ratio}");
}

#[test]
fn segments_batching_on_one_member() {
    // M = 1: error bars come from time segments; the estimate still matches e^{At}.
    fdtlab::core::progress::set_quiet(true);
    let ou = ou();
    let (dt, lags) = (0.1, 20);
    let traj = ou.simulate(1, 40000, dt, 5).unwrap();
    let exact = ou.exact_response(lags, dt).unwrap().values;
    let g = response::gaussian_fdt_vec(&traj, lags).unwrap();
    // 32 segments of 1250 frames (≥ 10 × 20 lags); B = 32, so the 5 se bound is conservative.
    check_within_se(&g, &exact, "Gaussian FDT, one member");
}

#[test]
fn stein_identity_on_ou() {
    fdtlab::core::progress::set_quiet(true);
    let ou = ou();
    let traj = ou.simulate(16, 3000, 0.1, 2).unwrap();
    let score = ou.exact_score().unwrap();
    let rep = response::stein_check(&traj, &score, 20000).unwrap();
    eprintln!("{rep}");
    match &rep.kind {
        response::stein::SteinKind::Vector { matrix, stderr, .. } => {
            // 4 entries, B = 16 batches: 4 se is ≥ 3.3 σ even with an 18 % low se.
            for ((i, j), v) in matrix.indexed_iter() {
                let target = if i == j { 1.0 } else { 0.0 };
                assert!(
                    (v - target).abs() <= 4.0 * stderr[[i, j]],
                    "M[{i},{j}] = {v} ± {}",
                    stderr[[i, j]]
                );
            }
        }
        _ => panic!("vector report expected"),
    }
    assert!(rep.to_string().contains("max |M − I|"));
}

#[test]
fn periodic_field_estimators_match_exact_response() {
    fdtlab::core::progress::set_quiet(true);
    let f = Ar1Field::default_for(8);
    let lags = 10;
    let traj = f.simulate(16, 1000, 11).unwrap();
    let exact = f.exact_response(lags).unwrap().values;
    let score = f.exact_score().unwrap();

    let g = response::gaussian_fdt_periodic(&traj, lags).unwrap();
    assert_eq!(g.values.shape(), &[lags, 8, 8]);
    let s1 = check_within_se(&g, &exact, "periodic Gaussian FDT");
    let raw = response::gfdt_periodic(&traj, &score, lags, false).unwrap();
    assert_eq!(raw.name, "GFDT (Gaussian score)");
    let s2 = check_within_se(&raw, &exact, "periodic GFDT raw");
    let nor = response::gfdt_periodic(&traj, &score, lags, true).unwrap();
    assert!(nor.normalized);
    let s3 = check_within_se(&nor, &exact, "periodic GFDT normalised");
    eprintln!("periodic (max|z|, mean z²): gauss {s1:?} raw {s2:?} norm {s3:?}");

    // Advection in +x moves the response downstream: at lag 2, offset (1, 0) beats (n−1, 0).
    let r2 = g.values.index_axis(Axis(0), 2);
    assert!(r2[[1, 0]] > r2[[7, 0]]);

    // Stein check on the grid with the exact score.
    let rep = response::stein_check(&traj, &score, 4000).unwrap();
    eprintln!("{rep}");
    match rep.kind {
        response::stein::SteinKind::Grid {
            diag,
            diag_se,
            max_offdiag,
            offdiag_se,
            ..
        } => {
            assert!((diag - 1.0).abs() <= 4.0 * diag_se, "{diag} ± {diag_se}");
            // The largest of 63 off-diagonal |M(r)|: allow 5 se.
            assert!(max_offdiag <= 5.0 * offdiag_se + 1e-12);
        }
        _ => panic!("grid report expected"),
    }
}

fn grid_traj(data: Array4<f64>) -> Trajectory {
    Trajectory {
        data: data.into_dyn(),
        dt: 1.0,
        t0: 0.0,
        system: "test".into(),
    }
}

#[test]
fn degenerate_inputs_are_errors() {
    fdtlab::core::progress::set_quiet(true);
    let f = Ar1Field::default_for(8);
    let good = f.simulate(8, 100, 1).unwrap();
    let score = f.exact_score().unwrap();
    // Constant data.
    let c = grid_traj(Array4::from_elem((8, 100, 8, 8), 2.0));
    let e = response::gaussian_fdt_periodic(&c, 5)
        .unwrap_err()
        .to_string();
    assert!(e.contains("constant"), "{e}");
    // One mode removed from every frame.
    let mut filt = good.data.clone().into_dimensionality::<Ix4>().unwrap();
    let sp = Spectral2d::new(8).unwrap();
    let mut ws = sp.workspace();
    let mut spec = vec![Complex64::new(0.0, 0.0); sp.spec_len()];
    let mut buf = vec![0.0; 64];
    for mut m in filt.outer_iter_mut() {
        for mut fr in m.outer_iter_mut() {
            let s = fr.as_slice_mut().unwrap();
            sp.forward(s, &mut spec, &mut ws);
            spec[1] = Complex64::new(0.0, 0.0); // (kx, ky) = (1, 0)
            spec[7] = Complex64::new(0.0, 0.0); // (−1, 0), its conjugate
            sp.inverse(&spec, &mut buf, &mut ws);
            s.copy_from_slice(&buf);
        }
    }
    // A mode without variance (e.g. removed by dealiasing) is unresolved: the estimator uses
    // the pseudo-inverse of C(0), so the response is finite and has no (1, 0) component.
    let r = response::gaussian_fdt_periodic(&grid_traj(filt), 5).unwrap();
    assert!(r.values.iter().all(|v| v.is_finite()));
    for lag in 0..5 {
        let v: Vec<f64> = r
            .values
            .index_axis(ndarray::Axis(0), lag)
            .iter()
            .copied()
            .collect();
        sp.forward(&v, &mut spec, &mut ws);
        let norm: f64 = spec.iter().map(|c| c.norm()).fold(0.0, f64::max);
        assert!(spec[1].norm() <= 1e-9 * norm && spec[7].norm() <= 1e-9 * norm);
    }
    // lags ≥ T, lags = 0.
    assert!(response::gaussian_fdt_periodic(&good, 100).is_err());
    assert!(response::gaussian_fdt_periodic(&good, 0).is_err());
    assert!(response::gfdt_periodic(&good, &score, 100, false).is_err());
    // One short member: no error bars possible.
    let short = f.simulate(1, 50, 1).unwrap();
    let e = response::gaussian_fdt_periodic(&short, 5)
        .unwrap_err()
        .to_string();
    assert!(e.contains("too short"), "{e}");
    // NaN: named member and frame.
    let mut bad = good.clone();
    bad.data[[3, 42, 1, 2]] = f64::NAN;
    let e = response::gaussian_fdt_periodic(&bad, 5)
        .unwrap_err()
        .to_string();
    assert!(e.contains("member 3") && e.contains("frame 42"), "{e}");
    let e = response::gfdt_periodic(&bad, &score, 5, true)
        .unwrap_err()
        .to_string();
    assert!(e.contains("member 3"), "{e}");
    // Score of the wrong size.
    let small = Ar1Field::default_for(4).exact_score().unwrap();
    let e = response::gfdt_periodic(&good, &small, 5, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("dimension 16"), "{e}");
    // Vector estimators on a grid-shaped score mismatch, NaN, constant component.
    let ou = ou();
    let v = ou.simulate(8, 200, 0.1, 1).unwrap();
    assert!(response::gfdt_vec(&v, &small, 5, false).is_err());
    let mut vb = v.clone();
    vb.data[[2, 17, 1]] = f64::INFINITY;
    let e = response::gaussian_fdt_vec(&vb, 5).unwrap_err().to_string();
    assert!(e.contains("member 2") && e.contains("frame 17"), "{e}");
    let mut vc = v.clone();
    vc.data.index_axis_mut(Axis(2), 1).fill(0.5);
    let e = response::gaussian_fdt_vec(&vc, 5).unwrap_err().to_string();
    assert!(e.contains("component 1"), "{e}");
    assert!(response::gaussian_fdt_vec(&v, 200).is_err());
    // A score returning NaN.
    struct NanScore;
    impl Score for NanScore {
        fn dim(&self) -> usize {
            2
        }
        fn name(&self) -> String {
            "nan".into()
        }
        fn eval_batch(
            &self,
            _x: ndarray::ArrayView2<f64>,
            mut out: ndarray::ArrayViewMut2<f64>,
        ) -> fdtlab::Result<()> {
            out.fill(f64::NAN);
            Ok(())
        }
    }
    let e = response::gfdt_vec(&v, &NanScore, 5, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("member 0") && e.contains("frame 0"), "{e}");
    assert!(response::stein_check(&v, &NanScore, 100).is_err());
    assert!(response::stein_check(&v, &score, 100).is_err());
    // Normalised GFDT with a score that is zero: S(0) singular.
    struct Zero;
    impl Score for Zero {
        fn dim(&self) -> usize {
            2
        }
        fn name(&self) -> String {
            "zero".into()
        }
        fn eval_batch(
            &self,
            _x: ndarray::ArrayView2<f64>,
            mut out: ndarray::ArrayViewMut2<f64>,
        ) -> fdtlab::Result<()> {
            out.fill(0.0);
            Ok(())
        }
    }
    assert!(response::gfdt_vec(&v, &Zero, 5, true).is_err());
    assert!(response::gfdt_vec(&v, &Zero, 5, false).is_ok());
}
