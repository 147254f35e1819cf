//! Gaussian FDT (and the Gaussian-score GFDT) on 2/3-dealiased Navier–Stokes data, whose
//! covariance is singular in the truncated modes: the estimators use the pseudo-inverse
//! (response 0 there), consistent with the simulator, which projects every perturbation onto
//! the resolved modes.
use super::*;
use crate::response::fdt_periodic::MODE_RTOL;
use crate::response::{gaussian_fdt_periodic, gfdt_periodic};
use crate::score::gaussian::PeriodicGaussianScore;
use crate::score::Score;
use ndarray::{Array2, Ix4};
use num_complex::Complex64 as C64;

/// A short stationary-ish run at N = 16 (resolved |kx|, |ky| ≤ 5: 121 of 256 modes).
fn dealiased_run() -> (NsSystem, crate::trajectory::Trajectory) {
    crate::progress::set_quiet(true);
    let sys = NsSystem::new(NsParams {
        n: 16,
        ..NsParams::default()
    })
    .unwrap();
    let (traj, _) = simulate_ns_with_states(
        &sys,
        &NsRunOpts {
            members: 3,
            spinup: 4.0,
            duration: 6.0,
            save_every: 8,
            seed: 5,
            init_amp: 0.5,
        },
        None,
    )
    .unwrap();
    (sys, traj)
}

/// Forward FFT of every lag of a real response `[L, N, N]` → `[L, K]`.
fn to_spectrum(sys: &NsSystem, v: &ndarray::ArrayD<f64>) -> Array2<C64> {
    let sp = sys.spectral();
    let mut ws = sp.workspace();
    let l = v.shape()[0];
    let mut out = Array2::from_elem((l, sp.spec_len()), C64::new(0.0, 0.0));
    for (lag, mut row) in out.outer_iter_mut().enumerate() {
        let f: Vec<f64> = v
            .index_axis(ndarray::Axis(0), lag)
            .iter()
            .copied()
            .collect();
        sp.forward(&f, row.as_slice_mut().unwrap(), &mut ws);
    }
    out
}

#[test]
fn gaussian_fdt_on_dealiased_data_is_the_per_mode_ratio_on_resolved_modes() {
    let (sys, traj) = dealiased_run();
    let lags = 6;
    let g = gaussian_fdt_periodic(&traj, lags).unwrap();
    assert!(g.values.iter().all(|v| v.is_finite()));
    assert!(g.stderr.as_ref().unwrap().iter().all(|v| v.is_finite()));

    // Independent per-mode formula: Ĉ(k, τ) = mean over members and time pairs of
    // â(k, t+τ) conj(â(k, t)) (â: FFT of θ − μ), R̂ = Ĉ(k, τ)/Ĉ(k, 0) where the field has
    // variance, 0 elsewhere.
    let a = traj.data.view().into_dimensionality::<Ix4>().unwrap();
    let (m, t) = (a.shape()[0], a.shape()[1]);
    let sp = sys.spectral();
    let k = sp.spec_len();
    let mu = a.mean().unwrap();
    let mut ws = sp.workspace();
    let mut hats = vec![vec![C64::new(0.0, 0.0); k]; m * t];
    for mi in 0..m {
        for ti in 0..t {
            let f: Vec<f64> = a
                .slice(ndarray::s![mi, ti, .., ..])
                .iter()
                .map(|v| v - mu)
                .collect();
            sp.forward(&f, &mut hats[mi * t + ti], &mut ws);
        }
    }
    let mut c = Array2::from_elem((lags, k), C64::new(0.0, 0.0));
    for tau in 0..lags {
        for mi in 0..m {
            for ti in 0..t - tau {
                for q in 0..k {
                    c[[tau, q]] += hats[mi * t + ti + tau][q] * hats[mi * t + ti][q].conj();
                }
            }
        }
        // Each lag is divided by its number of pairs.
        let pairs = (m * (t - tau)) as f64;
        c.row_mut(tau).mapv_inplace(|v| v / pairs);
    }
    let cmax = c.row(0).iter().map(|v| v.norm()).fold(0.0, f64::max);
    let rhat = to_spectrum(&sys, &g.values);
    let kmax = sys.kmax() as f64;
    let mut resolved = 0;
    for q in 0..k {
        let in_box = sp.kx()[q].abs() <= kmax && sp.ky()[q].abs() <= kmax;
        // The truncated modes are rounding residue (≪ MODE_RTOL), the resolved ones are not.
        let rel = c[[0, q]].norm() / cmax;
        assert_eq!(
            rel > MODE_RTOL,
            in_box,
            "mode {q}: relative variance {rel:.3e}"
        );
        for tau in 0..lags {
            let got = rhat[[tau, q]];
            if in_box {
                let want = c[[tau, q]] / c[[0, q]];
                assert!(
                    (got - want).norm() < 1e-9,
                    "mode {q} lag {tau}: {got} vs {want}"
                );
            } else {
                assert!(got.norm() < 1e-12, "unresolved mode {q} lag {tau}: {got}");
            }
        }
        resolved += in_box as usize;
    }
    // Half spectrum (ky = 0..=8, all kx): resolved ky = 0..=5 times kx = −5..=5.
    assert_eq!(resolved, 6 * 11);

    // Lag 0 is the projection onto the resolved modes: P(dx, dy) = D(dx) D(dy) with the
    // Dirichlet kernel D(d) = (1/N) Σ_{|k|≤5} cos(2πkd/N); P(0, 0) = 121/256.
    let nn = 16.0;
    let dk = |d: usize| -> f64 {
        (-5i32..=5)
            .map(|kk| (std::f64::consts::TAU * kk as f64 * d as f64 / nn).cos())
            .sum::<f64>()
            / nn
    };
    for dx in 0..16 {
        for dy in 0..16 {
            let want = dk(dx) * dk(dy);
            let got = g.values[[0, dx, dy]];
            assert!(
                (got - want).abs() < 1e-12,
                "R(0) at ({dx},{dy}): {got} vs {want}"
            );
        }
    }
    assert!((g.values[[0, 0, 0]] - 121.0 / 256.0).abs() < 1e-12);
}

#[test]
fn gaussian_score_gfdt_equals_gaussian_fdt_on_dealiased_data() {
    // The fitted periodic Gaussian score uses the pseudo-inverse (ŝ = 0 on modes without
    // variance); its normalised GFDT S(t)S(0)⁺ with S(t) = C(t)C(0)⁺ is C(t)C(0)⁺, the
    // Gaussian FDT, up to rounding (the k = 0 variance normalisation cancels in the ratio).
    let (sys, traj) = dealiased_run();
    let score = PeriodicGaussianScore::fit(&traj).unwrap();
    let g = gaussian_fdt_periodic(&traj, 5).unwrap();
    let s = gfdt_periodic(&traj, &score, 5, true).unwrap();
    let scale = g.values.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    for (a, b) in g.values.iter().zip(s.values.iter()) {
        assert!((a - b).abs() < 1e-9 * scale, "{a} vs {b}");
    }
    // The raw GFDT is finite too, and 0 on the unresolved modes.
    let raw = gfdt_periodic(&traj, &score, 5, false).unwrap();
    assert!(raw.values.iter().all(|v| v.is_finite()));
    let rh = to_spectrum(&sys, &raw.values);
    let kmax = sys.kmax() as f64;
    let sp = sys.spectral();
    for q in 0..sp.spec_len() {
        if sp.kx()[q].abs() > kmax || sp.ky()[q].abs() > kmax {
            assert!(rh.column(q).iter().all(|v| v.norm() < 1e-12));
        }
    }
    // The score itself has no component in the unresolved modes.
    let x = traj
        .data
        .slice(ndarray::s![0, 0..2, .., ..])
        .to_shape((2, 256))
        .unwrap()
        .to_owned();
    let mut out = Array2::zeros((2, 256));
    score.eval_batch(x.view(), out.view_mut()).unwrap();
    let mut ws = sp.workspace();
    let mut sh = vec![C64::new(0.0, 0.0); sp.spec_len()];
    sp.forward(out.row(0).as_slice().unwrap(), &mut sh, &mut ws);
    let smax = sh.iter().map(|v| v.norm()).fold(0.0, f64::max);
    for (q, v) in sh.iter().enumerate() {
        if sp.kx()[q].abs() > kmax || sp.ky()[q].abs() > kmax {
            assert!(v.norm() < 1e-12 * smax, "score in unresolved mode {q}: {v}");
        }
    }
}
