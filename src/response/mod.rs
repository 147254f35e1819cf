//! Linear response estimators and the correlation engine.
//!
//! - [`xcorr`]: all-pairs time cross-correlation of vector data (FFT, real GEMMs).
//! - [`periodic`]: translation-invariant space–time correlation on periodic grids.
//! - [`batching`]: batches (members or time segments) and the delete-one jackknife.
//! - [`fdt_vec`], [`fdt_periodic`]: Gaussian FDT and GFDT estimators with error bars.
//! - [`stein`]: the Stein-identity check `−⟨x sᵀ⟩ = I` of a score.
//! - [`metrics`]: relative L2 error between responses.
//! - [`synthetic`]: processes with exact answers.

pub mod batching;
pub mod fdt_periodic;
pub mod fdt_vec;
pub mod metrics;
pub mod periodic;
pub mod stein;
pub mod synthetic;
pub mod xcorr;

pub use fdt_periodic::{gaussian_fdt_periodic, gfdt_periodic};
pub use fdt_vec::{gaussian_fdt_vec, gfdt_vec};
pub use metrics::{rel_err, RelErr};
pub use stein::{stein_check, SteinReport};

pub use crate::core::response::Response;

pub mod general;
mod lagged_sums;
pub mod sde_ensemble;
pub mod step;

/// Default curves to compare or plot when none are given: `[k, 0, …, 0]` for
/// `k = 0..min(4, n)` with `n` the smallest first trailing size of the responses, so they fit
/// every one — on a grid the first four offsets downstream of the kicked pixel (the paper's
/// figure), for a vector system the response of x₀..x₃ to a kick of x₀, for observables the
/// first four. Empty when the responses have no trailing axes or different ranks.
pub fn default_curves(rs: &[&Response]) -> Vec<Vec<usize>> {
    let Some(rank) = rs.first().map(|r| r.tail().len()) else {
        return Vec::new();
    };
    if rank == 0 || rs.iter().any(|r| r.tail().len() != rank) {
        return Vec::new();
    }
    let n = rs.iter().map(|r| r.tail()[0]).min().unwrap_or(0).min(4);
    (0..n)
        .map(|k| {
            let mut idx = vec![0; rank];
            idx[0] = k;
            idx
        })
        .collect()
}

/// Whether a trailing shape can be the offsets of a periodic N×N grid (N even, ≥ 4, as every
/// grid system requires). `[D, D]` with D odd or below 4 is certainly a vector system; an even
/// D ≥ 4 cannot be told apart from a grid by shape alone.
pub fn grid_like(tail: &[usize]) -> bool {
    tail.len() == 2 && tail[0] == tail[1] && tail[0] >= 4 && tail[0].is_multiple_of(2)
}

/// A short label for the curve `idx` of responses with trailing shape `tail`: on a grid
/// "(1,1) → (1+dx,1+dy)" (1-based pixels, the kick at (1,1)); for a vector system
/// "x[j] → x[i]" (the response of x_i to a kick of x_j, 0-based like script indices); for
/// observables "A[k]".
pub fn curve_label(tail: &[usize], idx: &[usize]) -> String {
    let list = |v: &[usize], base: usize| {
        v.iter()
            .map(|i| (i + base).to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    if grid_like(tail) {
        format!("(1,1) → ({})", list(idx, 1))
    } else if idx.len() == 2 {
        format!("x[{}] → x[{}]", idx[1], idx[0])
    } else if idx.len() == 1 {
        format!("A[{}]", idx[0])
    } else {
        format!("[{}]", list(idx, 0))
    }
}

#[cfg(test)]
mod curve_tests {
    use super::*;

    fn resp(tail: &[usize]) -> Response {
        let mut sh = vec![3];
        sh.extend_from_slice(tail);
        Response {
            name: "r".into(),
            dt: 1.0,
            values: ndarray::ArrayD::zeros(ndarray::IxDyn(&sh)),
            stderr: None,
            normalized: false,
        }
    }

    #[test]
    fn defaults_fit_every_response() {
        let (g, v1, v2, o) = (resp(&[8, 8]), resp(&[1, 1]), resp(&[2, 2]), resp(&[3]));
        assert_eq!(default_curves(&[&g]).len(), 4);
        assert_eq!(default_curves(&[&v1]), vec![vec![0, 0]]);
        assert_eq!(default_curves(&[&g, &v2]), vec![vec![0, 0], vec![1, 0]]);
        assert_eq!(default_curves(&[&o]), vec![vec![0], vec![1], vec![2]]);
        assert!(default_curves(&[&g, &o]).is_empty());
        for r in [&g, &v1, &v2, &o] {
            for c in default_curves(&[r]) {
                assert!(r.curve(&c).is_some());
            }
        }
    }

    #[test]
    fn labels_by_geometry() {
        assert_eq!(curve_label(&[8, 8], &[1, 0]), "(1,1) → (2,1)");
        assert_eq!(curve_label(&[2, 2], &[0, 1]), "x[1] → x[0]");
        assert_eq!(curve_label(&[3], &[2]), "A[2]");
    }
}
