//! The exact score of the Allen–Cahn / OU system (SPEC 3.1):
//! `s(θ) = (2/N²)[f(θ) + Q⁻¹(κΔ − γ)θ]`, evaluated spectrally by [`AcSystem::exact_score`].
use super::Score;
use crate::systems::allen_cahn::AcSystem;
use crate::{Error, Result};
use ndarray::{ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;

/// The analytic score of an [`AcSystem`] as a [`Score`] on flattened N×N states
/// (D = N², row-major, x = axis 0). Exact for the OU case; for Allen–Cahn exact up to the
/// spectral discretisation of the quartic part of log ρ.
#[derive(Clone)]
pub struct ExactAcScore {
    sys: AcSystem,
}

impl ExactAcScore {
    /// The exact score of `sys`.
    pub fn new(sys: AcSystem) -> Self {
        ExactAcScore { sys }
    }
    /// The system it belongs to.
    pub fn system(&self) -> &AcSystem {
        &self.sys
    }
}

impl Score for ExactAcScore {
    fn dim(&self) -> usize {
        self.sys.n() * self.sys.n()
    }

    fn state_shape(&self) -> Vec<usize> {
        vec![self.sys.n(), self.sys.n()]
    }

    fn name(&self) -> String {
        "exact score".into()
    }

    /// Rows in parallel (rayon), one workspace per worker.
    fn eval_batch(&self, x: ArrayView2<f64>, mut out: ArrayViewMut2<f64>) -> Result<()> {
        let d = self.dim();
        if x.ncols() != d || out.dim() != x.dim() {
            return Err(Error::shape(format!(
                "exact score of the {n}×{n} system needs x and out of shape [B, {d}], got \
                 {:?} and {:?}",
                x.shape(),
                out.shape(),
                n = self.sys.n()
            )));
        }
        if let Some(((b, j), v)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::invalid(format!(
                "state {b} has {v} at flat index {j}; the score needs finite states"
            )));
        }
        x.axis_iter(Axis(0))
            .into_par_iter()
            .zip(out.axis_iter_mut(Axis(0)).into_par_iter())
            .try_for_each_init(
                || (self.sys.workspace(), vec![0.0; d], vec![0.0; d]),
                |(ws, xin, sout), (xr, mut orow)| -> Result<()> {
                    for (a, b) in xin.iter_mut().zip(xr.iter()) {
                        *a = *b;
                    }
                    self.sys.exact_score(xin, sout, ws)?;
                    for (a, b) in orow.iter_mut().zip(sout.iter()) {
                        *a = *b;
                    }
                    Ok(())
                },
            )
    }
}
