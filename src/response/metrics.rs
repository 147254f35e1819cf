//! Accuracy metric (SPEC §2): `err(R̂) = ‖R̂ − R_ref‖₂ / ‖R_ref‖₂` over chosen curves (indices
//! into the trailing axes, e.g. offsets `[dx, dy]` or `[i, j]`) and the lags with `t ≤ tmax`.
//!
//! Its standard error is propagated by a fixed-seed Monte-Carlo: [`REL_ERR_DRAWS`] draws in
//! which every value of both responses is perturbed by an independent Gaussian with that
//! value's standard error (zero where a response has none); the standard deviation of the
//! metric over the draws is reported. (This treats the errors of different lags as
//! independent, which they are not exactly; it is a size indication, not a confidence
//! interval.)
use crate::core::checks::is_above;
use crate::core::response::Response;
use crate::{Error, Result};
use rand::RngExt;
use rand_distr::StandardNormal;
use std::fmt;

/// Monte-Carlo draws for the standard error of [`rel_err`].
pub const REL_ERR_DRAWS: usize = 200;

/// Relative L2 error with its standard error.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RelErr {
    /// `‖R̂ − R_ref‖₂ / ‖R_ref‖₂`.
    pub value: f64,
    /// Its standard error (module docs).
    pub stderr: f64,
}

impl fmt::Display for RelErr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.4} ± {:.4}", self.value, self.stderr)
    }
}

/// `‖est − reference‖₂ / ‖reference‖₂` over the curves `idx` and lags `t ≤ tmax` (module docs).
/// Errors: different dt (naming both), too few lags, a bad index, a zero reference.
pub fn rel_err(
    est: &Response,
    reference: &Response,
    idx: &[Vec<usize>],
    tmax: f64,
) -> Result<RelErr> {
    if est.tail() != reference.tail() {
        return Err(Error::shape(format!(
            "rel_err: the estimate '{}' has values of shape {:?} per lag but the reference '{}' \
             has {:?}: they are responses of different systems (e.g. a grid and a vector \
             system, or systems of different size); compare responses of the same system",
            est.name,
            est.tail(),
            reference.name,
            reference.tail()
        )));
    }
    let (de, dr) = (est.dt, reference.dt);
    if !is_above(de, 0.0) || !is_above(dr, 0.0) || (de - dr).abs() > 1e-9 * de.max(dr) {
        return Err(Error::invalid(format!(
            "rel_err: the estimate '{}' has dt = {de} but the reference '{}' has dt = {dr}; compare responses on the same time grid",
            est.name, reference.name
        )));
    }
    if tmax.is_nan() || tmax < 0.0 || !tmax.is_finite() {
        return Err(Error::invalid(format!(
            "rel_err: tmax = {tmax} must be a finite time ≥ 0"
        )));
    }
    let nl = (tmax / de + 1e-9).floor() as usize + 1;
    for r in [est, reference] {
        if r.lags() < nl {
            return Err(Error::invalid(format!(
                "rel_err: '{}' has {} lags (t ≤ {}) but tmax = {tmax} needs {nl}; \
                 lower tmax or compute more lags",
                r.name,
                r.lags(),
                (r.lags().max(1) - 1) as f64 * r.dt
            )));
        }
    }
    if idx.is_empty() {
        return Err(Error::invalid(
            "rel_err: no curves given; pass e.g. [[0, 0], [1, 0]]",
        ));
    }
    let mut e = Vec::new();
    let mut se_e = Vec::new();
    let mut r = Vec::new();
    let mut se_r = Vec::new();
    for i in idx {
        let get = |resp: &Response| {
            resp.curve(i).ok_or_else(|| {
                Error::invalid(format!(
                    "rel_err: offset {i:?} does not fit '{}' (values of shape {:?} per lag); pass \
                     offsets that index it, e.g. offsets: {:?}",
                    resp.name,
                    resp.tail(),
                    super::default_curves(&[resp])
                ))
            })
        };
        let (ve, ee) = get(est)?;
        let (vr, er) = get(reference)?;
        e.extend_from_slice(&ve[..nl]);
        se_e.extend_from_slice(&ee[..nl]);
        r.extend_from_slice(&vr[..nl]);
        se_r.extend_from_slice(&er[..nl]);
    }
    if let Some(v) = e.iter().chain(&r).find(|v| !v.is_finite()) {
        return Err(Error::invalid(format!(
            "rel_err: a response value is {v}; the estimate or reference is broken"
        )));
    }
    let metric = |e: &[f64], r: &[f64]| -> f64 {
        let num: f64 = e.iter().zip(r).map(|(a, b)| (a - b) * (a - b)).sum();
        let den: f64 = r.iter().map(|b| b * b).sum();
        (num / den).sqrt()
    };
    let den: f64 = r.iter().map(|b| b * b).sum();
    if !is_above(den, 0.0) {
        return Err(Error::invalid(format!(
            "rel_err: the reference '{}' is zero on the chosen curves and lags; pick other curves",
            reference.name
        )));
    }
    let value = metric(&e, &r);
    let stderr = if se_e.iter().chain(&se_r).all(|s| *s == 0.0) {
        0.0
    } else {
        let mut rng = crate::core::rng::stream_rng(0x005E_1E77, 0);
        let (mut pe, mut pr) = (e.clone(), r.clone());
        let draws: Vec<f64> = (0..REL_ERR_DRAWS)
            .map(|_| {
                for (p, (v, s)) in pe.iter_mut().zip(e.iter().zip(&se_e)) {
                    *p = v + s * rng.sample::<f64, _>(StandardNormal);
                }
                for (p, (v, s)) in pr.iter_mut().zip(r.iter().zip(&se_r)) {
                    *p = v + s * rng.sample::<f64, _>(StandardNormal);
                }
                metric(&pe, &pr)
            })
            .collect();
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        (draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (draws.len() - 1) as f64).sqrt()
    };
    Ok(RelErr { value, stderr })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array3;

    fn resp(name: &str, dt: f64, v: Array3<f64>, se: Option<Array3<f64>>) -> Response {
        Response {
            name: name.into(),
            dt,
            values: v.into_dyn(),
            stderr: se.map(|s| s.into_dyn()),
            normalized: false,
        }
    }

    #[test]
    fn known_answer() {
        // Reference: curve [0,0] = (1, 1, 1, 1), curve [1,0] = (0, 2, 0, 0) over 4 lags.
        let mut r = Array3::<f64>::zeros((6, 2, 2));
        for l in 0..6 {
            r[[l, 0, 0]] = 1.0;
        }
        r[[1, 1, 0]] = 2.0;
        let mut e = r.clone();
        e[[0, 0, 0]] = 2.0; // +1
        e[[3, 1, 0]] = 2.0; // +2
        e[[5, 0, 0]] = 100.0; // beyond tmax: ignored
        e[[2, 1, 1]] = 100.0; // not a chosen curve: ignored
        let est = resp("est", 0.5, e, None);
        let rf = resp("ref", 0.5, r, None);
        let idx = vec![vec![0, 0], vec![1, 0]];
        let v = rel_err(&est, &rf, &idx, 1.5).unwrap(); // lags 0..=3
                                                        // ‖diff‖² = 1 + 4 = 5, ‖ref‖² = 4 + 4 = 8.
        assert!((v.value - (5.0f64 / 8.0).sqrt()).abs() < 1e-15);
        assert_eq!(v.stderr, 0.0);
        assert_eq!(rel_err(&rf, &rf, &idx, 2.5).unwrap().value, 0.0);
    }

    #[test]
    fn stderr_by_monte_carlo() {
        // One curve, ref = 1 at 100 lags, est = 1 + 0.1 with se 0.01 everywhere:
        // value = 0.1; perturbations give sd ≈ 0.01 (the metric is ~ mean of the diffs).
        let r = Array3::<f64>::from_elem((100, 1, 1), 1.0);
        let e = Array3::<f64>::from_elem((100, 1, 1), 1.1);
        let se = Array3::<f64>::from_elem((100, 1, 1), 0.01);
        let est = resp("est", 1.0, e, Some(se));
        let rf = resp("ref", 1.0, r, None);
        let v = rel_err(&est, &rf, &[vec![0, 0]], 99.0).unwrap();
        assert!((v.value - 0.1).abs() < 1e-12);
        // sd of mean-like quantity: 0.01/√100 = 0.001 (the metric is an RMS of 0.1 + noise).
        assert!(v.stderr > 0.0005 && v.stderr < 0.002, "{}", v.stderr);
    }

    #[test]
    fn errors() {
        let a = resp("a", 1.0, Array3::from_elem((5, 2, 2), 1.0), None);
        let b = resp("b", 0.5, Array3::from_elem((5, 2, 2), 1.0), None);
        let e = rel_err(&a, &b, &[vec![0, 0]], 1.0).unwrap_err().to_string();
        assert!(
            e.contains("'a'") && e.contains("'b'") && e.contains("0.5"),
            "{e}"
        );
        assert!(rel_err(&a, &a, &[vec![0, 0]], 5.0).is_err()); // needs 6 lags
        assert!(rel_err(&a, &a, &[vec![2, 0]], 1.0).is_err()); // bad index
        assert!(rel_err(&a, &a, &[vec![0]], 1.0).is_err()); // wrong rank
        assert!(rel_err(&a, &a, &[], 1.0).is_err());
        let z = resp("z", 1.0, Array3::zeros((5, 2, 2)), None);
        assert!(rel_err(&a, &z, &[vec![0, 0]], 1.0).is_err());
    }
}
