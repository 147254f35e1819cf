//! The Stein-identity check of a score (SPEC §2): `−⟨x s(x)ᵀ⟩ = I` exactly for the true score
//! of the stationary density (integration by parts). The mean of x is removed first
//! (E s = 0, so only the variance changes).
//!
//! - Vector states: the full D×D matrix with standard errors and `max |M − I|`.
//! - Periodic N×N grids: the translation-averaged matrix `M(r) = −(1/N²) Σ_x ⟨θ(x + r) s(x)⟩`;
//!   reported are the pixel-averaged diagonal `M(0)` (→ 1), the largest off-diagonal
//!   `|M(r)|`, r ≠ 0 (→ 0), and their standard errors.
//!
//! At most `max_frames` frames are used, spread evenly over members and time. Standard errors:
//! delete-one jackknife over batches — groups of members when ≥ 8 members are used, otherwise
//! up to 32 contiguous runs of the selected frames (batch means; frames far apart in time).
use super::batching::jackknife;
use super::periodic::spectrum_to_real;
use crate::core::spectral::Spectral2d;
use crate::core::trajectory::Trajectory;
use crate::score::Score;
use crate::{Error, Result};
use ndarray::{Array2, ArrayD, Axis};
use num_complex::Complex64;
use std::fmt;

/// What the check found.
#[derive(Clone, Debug)]
pub enum SteinKind {
    /// Vector states.
    Vector {
        /// `−⟨(x − μ) sᵀ⟩` (D×D).
        matrix: Array2<f64>,
        /// Its standard errors.
        stderr: Array2<f64>,
        /// `max |matrix − I|`.
        max_dev: f64,
    },
    /// Periodic N×N grids.
    Grid {
        /// Grid size N.
        n: usize,
        /// Pixel-averaged diagonal `M(0)` (should be 1).
        diag: f64,
        /// Its standard error.
        diag_se: f64,
        /// Largest `|M(r)|`, r ≠ 0 (should be 0).
        max_offdiag: f64,
        /// The offset (dx, dy) where it occurs.
        offdiag_at: (usize, usize),
        /// Standard error of `M` at that offset.
        offdiag_se: f64,
    },
}

/// Result of [`stein_check`].
#[derive(Clone, Debug)]
pub struct SteinReport {
    /// Name of the score.
    pub score: String,
    /// Frames used.
    pub frames: usize,
    /// Batches used for the standard errors.
    pub batches: usize,
    /// The numbers.
    pub kind: SteinKind,
}

impl fmt::Display for SteinReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            SteinKind::Vector {
                matrix,
                stderr,
                max_dev,
            } => {
                writeln!(
                    f,
                    "Stein check of '{}' on {} frames ({} batches): −⟨x sᵀ⟩ should be I",
                    self.score, self.frames, self.batches
                )?;
                for (row, se) in matrix.outer_iter().zip(stderr.outer_iter()) {
                    let cells: Vec<String> = row
                        .iter()
                        .zip(se.iter())
                        .map(|(v, e)| format!("{v:8.4} ± {e:.4}"))
                        .collect();
                    writeln!(f, "  [{}]", cells.join(", "))?;
                }
                write!(f, "  max |M − I| = {max_dev:.4}")
            }
            SteinKind::Grid {
                n,
                diag,
                diag_se,
                max_offdiag,
                offdiag_at,
                offdiag_se,
            } => {
                writeln!(
                    f,
                    "Stein check of '{}' on {} frames of a {n}×{n} grid ({} batches):",
                    self.score, self.frames, self.batches
                )?;
                writeln!(
                    f,
                    "  pixel-averaged diagonal −⟨θ(x) s(x)⟩ = {diag:.4} ± {diag_se:.4} (should be 1)"
                )?;
                write!(
                    f,
                    "  largest |off-diagonal| (translation-averaged) = {max_offdiag:.4} ± {offdiag_se:.4} \
                     at offset ({}, {}) (should be 0)",
                    offdiag_at.0, offdiag_at.1
                )
            }
        }
    }
}

/// Selected (member, frame) pairs, member-major, and their batch boundaries.
fn select(m: usize, t: usize, max_frames: usize) -> (Vec<(usize, usize)>, Vec<usize>) {
    let members = m.min(max_frames);
    let per = (max_frames / members).clamp(1, t);
    let sel: Vec<(usize, usize)> = (0..members)
        .flat_map(|mi| (0..per).map(move |j| (mi, j * t / per)))
        .collect();
    // Batch starts: member groups when ≥ 8 members, else equal contiguous chunks.
    let nb = if members >= 8 {
        members.min(super::batching::MAX_BATCHES)
    } else {
        sel.len().min(super::batching::MAX_BATCHES)
    };
    let starts = if members >= 8 {
        (0..nb).map(|b| (b * members / nb) * per).collect()
    } else {
        (0..nb).map(|b| b * sel.len() / nb).collect()
    };
    (sel, starts)
}

fn batch_ranges(starts: &[usize], len: usize) -> Vec<std::ops::Range<usize>> {
    starts
        .iter()
        .enumerate()
        .map(|(i, &s)| s..starts.get(i + 1).copied().unwrap_or(len))
        .collect()
}

/// Runs the Stein check of `score` on at most `max_frames` frames of `traj` (module docs).
pub fn stein_check(traj: &Trajectory, score: &dyn Score, max_frames: usize) -> Result<SteinReport> {
    let (m, t, d) = (traj.members(), traj.frames(), traj.state_dim());
    if traj.data.ndim() < 3 || m == 0 || t == 0 || d == 0 {
        return Err(Error::shape(format!(
            "stein needs a trajectory [members, frames, ...state], got {:?}",
            traj.data.shape()
        )));
    }
    if max_frames < 2 {
        return Err(Error::invalid(format!(
            "stein: max_frames = {max_frames}; use at least 2 (typically 1000–10000)"
        )));
    }
    if score.dim() != d {
        return Err(Error::shape(format!(
            "score '{}' has dimension {} but the state has {d} values",
            score.name(),
            score.dim()
        )));
    }
    let (sel, starts) = select(m, t, max_frames);
    if sel.len() < 2 {
        return Err(Error::invalid(
            "stein needs at least 2 frames (the trajectory has 1)",
        ));
    }
    // The selected frames, their scores and the centred frames; for vector states also one
    // D×D sum per batch (the grid kind keeps one spectrum per batch, far less).
    let nb = starts.len();
    crate::budget::Request::new("stein")
        .buffer(
            "the selected frames",
            &[("", 3), ("frames", sel.len()), ("values", d)],
            8,
        )
        .buffer("the batch sums", &[("batches", nb), ("", d), ("", d)], 8)
        .fix("use a smaller max_frames, or data with fewer components")
        .check()?;
    let flat = traj
        .data
        .to_shape((m, t, d))
        .map_err(|e| Error::shape(format!("trajectory data: {e}")))?;
    let mut x = Array2::<f64>::zeros((sel.len(), d));
    for (i, &(mi, ti)) in sel.iter().enumerate() {
        x.row_mut(i).assign(&flat.slice(ndarray::s![mi, ti, ..]));
    }
    if let Some(((i, c), v)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(Error::invalid(format!(
            "trajectory has a non-finite value {v} at member {}, frame {}, component {c}",
            sel[i].0, sel[i].1
        )));
    }
    let mut s = Array2::<f64>::zeros((sel.len(), d));
    for c0 in (0..sel.len()).step_by(1024) {
        let c1 = (c0 + 1024).min(sel.len());
        score.eval_batch(
            x.slice(ndarray::s![c0..c1, ..]),
            s.slice_mut(ndarray::s![c0..c1, ..]),
        )?;
    }
    if let Some(((i, c), v)) = s.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(Error::BlowUp(format!(
            "score '{}' returned {v} at member {}, frame {}, component {c}",
            score.name(),
            sel[i].0,
            sel[i].1
        )));
    }
    let ranges = batch_ranges(&starts, sel.len());
    if ranges.len() < crate::stats::MIN_BATCHES {
        crate::warn::warn(super::batching::few_batches_message(
            "stein",
            ranges.len(),
            &format!("{} frames", sel.len()),
            &format!(
                "use ≥ {} frames (max_frames) from a longer trajectory",
                crate::stats::MIN_BATCHES
            ),
        ));
    }
    let shape = traj.state_shape().to_vec();
    let grid = shape.len() == 2 && shape[0] == shape[1] && Spectral2d::new(shape[0]).is_ok();
    let kind = if grid {
        grid_kind(&x, &s, shape[0], &ranges)?
    } else {
        vector_kind(&x, &s, &ranges)?
    };
    Ok(SteinReport {
        score: score.name(),
        frames: sel.len(),
        batches: ranges.len(),
        kind,
    })
}

fn vector_kind(
    x: &Array2<f64>,
    s: &Array2<f64>,
    ranges: &[std::ops::Range<usize>],
) -> Result<SteinKind> {
    let d = x.ncols();
    let mu = x.mean_axis(Axis(0)).expect("non-empty");
    let xc = x - &mu;
    let sums: Vec<Array2<f64>> = ranges
        .iter()
        .map(|r| {
            let xr = xc.slice(ndarray::s![r.clone(), ..]);
            let sr = s.slice(ndarray::s![r.clone(), ..]);
            xr.t().dot(&sr)
        })
        .collect();
    let (mat, se) = jackknife(ranges.len(), |leave| {
        let mut tot = Array2::<f64>::zeros((d, d));
        let mut n = 0usize;
        for (b, (sm, r)) in sums.iter().zip(ranges).enumerate() {
            if Some(b) != leave {
                tot += sm;
                n += r.len();
            }
        }
        Ok((tot / -(n as f64)).into_dyn())
    })?;
    let to2 = |a: ArrayD<f64>| a.into_dimensionality::<ndarray::Ix2>().expect("2-D");
    let (matrix, stderr) = (to2(mat), to2(se));
    let max_dev = matrix
        .indexed_iter()
        .map(|((i, j), v)| (v - if i == j { 1.0 } else { 0.0 }).abs())
        .fold(0.0, f64::max);
    Ok(SteinKind::Vector {
        matrix,
        stderr,
        max_dev,
    })
}

fn grid_kind(
    x: &Array2<f64>,
    s: &Array2<f64>,
    n: usize,
    ranges: &[std::ops::Range<usize>],
) -> Result<SteinKind> {
    let sp = Spectral2d::new(n)?;
    let k = sp.spec_len();
    let mu = x.mean().unwrap_or(0.0);
    let shift = mu * (n * n) as f64;
    let mut ws = sp.workspace();
    let (mut xa, mut sa) = (
        vec![Complex64::new(0.0, 0.0); k],
        vec![Complex64::new(0.0, 0.0); k],
    );
    let (mut bx, mut bs) = (vec![0.0; n * n], vec![0.0; n * n]);
    let n2 = (n * n) as f64;
    let mut sums = Vec::with_capacity(ranges.len());
    for r in ranges {
        let mut p = ndarray::Array2::<Complex64>::zeros((1, k));
        for i in r.clone() {
            bx.iter_mut().zip(x.row(i)).for_each(|(d, v)| *d = *v);
            bs.iter_mut().zip(s.row(i)).for_each(|(d, v)| *d = *v);
            sp.forward(&bx, &mut xa, &mut ws);
            sp.forward(&bs, &mut sa, &mut ws);
            xa[0].re -= shift;
            p.row_mut(0)
                .iter_mut()
                .zip(xa.iter().zip(&sa))
                .for_each(|(p, (a, b))| *p += a * b.conj() / n2);
        }
        sums.push(p);
    }
    let (mat, se) = jackknife(ranges.len(), |leave| {
        let mut tot = ndarray::Array2::<Complex64>::zeros((1, k));
        let mut cnt = 0usize;
        for (b, (p, r)) in sums.iter().zip(ranges).enumerate() {
            if Some(b) != leave {
                tot += p;
                cnt += r.len();
            }
        }
        let spec = tot.mapv(|v| -v / cnt as f64);
        Ok(spectrum_to_real(&sp, spec.view())
            .index_axis_move(Axis(0), 0)
            .into_dyn())
    })?;
    let diag = mat[[0, 0]];
    let diag_se = se[[0, 0]];
    let (mut best, mut at) = (0.0, (0, 0));
    for ((dx, dy), v) in mat
        .view()
        .into_dimensionality::<ndarray::Ix2>()
        .expect("2-D")
        .indexed_iter()
    {
        if (dx, dy) != (0, 0) && v.abs() > best {
            best = v.abs();
            at = (dx, dy);
        }
    }
    Ok(SteinKind::Grid {
        n,
        diag,
        diag_se,
        max_offdiag: best,
        offdiag_at: at,
        offdiag_se: se[[at.0, at.1]],
    })
}
