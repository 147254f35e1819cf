//! Input checks shared by every layer: parameters that must reject NaN, non-finite data
//! (naming member, frame and component or pixel), grid shapes.
use crate::{Error, Result};
use ndarray::{ArrayView3, ArrayView4};
use rayon::prelude::*;

/// `x > bound`, false for NaN: parameter checks that must also reject NaN.
pub fn is_above(x: f64, bound: f64) -> bool {
    x > bound
}

/// Errors on the first NaN/inf of a `[M, T, D]` array, naming member, frame and channel.
pub fn check_finite3(x: &ArrayView3<f64>, what: &str) -> Result<()> {
    let bad = x
        .outer_iter()
        .into_par_iter()
        .enumerate()
        .find_map_first(|(m, xm)| {
            xm.indexed_iter()
                .find(|(_, v)| !v.is_finite())
                .map(|((t, c), v)| (m, t, c, *v))
        });
    match bad {
        Some((m, t, c, v)) => Err(Error::invalid(format!(
            "{what} has a non-finite value {v} at member {m}, frame {t}, component {c}; \
             fix or drop that member"
        ))),
        None => Ok(()),
    }
}

/// Checks the a-field and returns (M, T, N).
pub fn grid_dims(a: &ArrayView4<f64>) -> Result<(usize, usize, usize)> {
    let (m, t, nx, ny) = a.dim();
    if nx != ny {
        return Err(Error::shape(format!(
            "periodic correlation needs square N×N frames, got {nx}×{ny}"
        )));
    }
    if m == 0 || t == 0 {
        return Err(Error::invalid(format!(
            "empty grid trajectory ({m} members × {t} frames)"
        )));
    }
    Ok((m, t, nx))
}

/// Errors on the first NaN/inf of a `[M, T, N, N]` field, naming member, frame and pixel.
pub fn check_finite_grid(a: &ArrayView4<f64>) -> Result<()> {
    let bad = a
        .outer_iter()
        .into_par_iter()
        .enumerate()
        .find_map_first(|(m, am)| {
            am.indexed_iter()
                .find(|(_, v)| !v.is_finite())
                .map(|((t, x, y), v)| (m, t, x, y, *v))
        });
    match bad {
        Some((m, t, x, y, v)) => Err(Error::invalid(format!(
            "trajectory has a non-finite value {v} at member {m}, frame {t}, pixel ({x}, {y}); \
             the run blew up there — rerun with a smaller dt or drop that member"
        ))),
        None => Ok(()),
    }
}
