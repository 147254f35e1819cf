//! Seeded k-means: k-means++ initialisation, then Lloyd iterations until the largest centre
//! shift falls below `tol` × (RMS spread of the data) or `max_iter` is reached.
//!
//! Deterministic for any thread count: assignments are per point, and cluster sums are
//! accumulated in fixed chunks of points and combined in chunk order. An empty cluster is
//! re-seeded at the point farthest from its centre.
use crate::core::rng::stream_rng;
use crate::{Error, Result};
use ndarray::{Array2, ArrayView2};
use rand::RngExt;
use rayon::prelude::*;

/// Per-chunk (cluster sums, counts, inertia, farthest point, its distance²).
type ChunkSums = (Vec<f64>, Vec<usize>, f64, usize, f64);

/// Points per parallel chunk (fixed, so sums do not depend on the thread count).
const CHUNK: usize = 2048;

/// Result of [`kmeans`].
#[derive(Clone, Debug)]
pub struct KMeans {
    /// Cluster centres `[K, D]`.
    pub centres: Array2<f64>,
    /// Cluster index of every point.
    pub labels: Vec<usize>,
    /// Points per cluster.
    pub counts: Vec<usize>,
    /// Σ |x − centre|² over all points.
    pub inertia: f64,
    /// Lloyd iterations performed.
    pub iterations: usize,
    /// True when the tolerance was reached before `max_iter`.
    pub converged: bool,
}

#[inline]
fn dist2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Nearest centre and its squared distance.
#[inline]
pub(crate) fn nearest(x: &[f64], centres: &[f64], d: usize) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (k, c) in centres.chunks_exact(d).enumerate() {
        let v = dist2(x, c);
        if v < best.1 {
            best = (k, v);
        }
    }
    best
}

/// Clusters the rows of `points` `[N, D]` into `k` clusters.
pub fn kmeans(
    points: ArrayView2<f64>,
    k: usize,
    max_iter: usize,
    tol: f64,
    seed: u64,
) -> Result<KMeans> {
    let (n, d) = points.dim();
    if k == 0 || n < k || d == 0 {
        return Err(Error::invalid(format!(
            "k-means: {n} points in dimension {d} for {k} clusters; pass at least as many \
             points as clusters (and clusters ≥ 1)"
        )));
    }
    if points.iter().any(|v| !v.is_finite()) {
        return Err(Error::invalid(
            "k-means: the data contain NaN or inf; clean them first",
        ));
    }
    if tol.is_nan() || tol < 0.0 {
        return Err(Error::invalid(format!("k-means: tol = {tol} must be ≥ 0")));
    }
    let x: Vec<f64> = points.iter().cloned().collect(); // row-major copy
    let rows = |i: usize| &x[i * d..(i + 1) * d];
    // RMS spread for the tolerance scale.
    let mean: Vec<f64> = (0..d)
        .map(|j| (0..n).map(|i| x[i * d + j]).sum::<f64>() / n as f64)
        .collect();
    let spread = ((0..n).map(|i| dist2(rows(i), &mean)).sum::<f64>() / n as f64).sqrt();
    let spread = if spread > 0.0 { spread } else { 1.0 };

    // k-means++.
    let mut rng = stream_rng(seed, 0);
    let mut c = Vec::with_capacity(k * d);
    let first = rng.random_range(0..n);
    c.extend_from_slice(rows(first));
    let mut md: Vec<f64> = (0..n).map(|i| dist2(rows(i), &c[..d])).collect();
    for kk in 1..k {
        let total: f64 = md.iter().sum();
        let pick = if total > 0.0 {
            let target = rng.random::<f64>() * total;
            let mut acc = 0.0;
            let mut idx = n - 1;
            for (i, v) in md.iter().enumerate() {
                acc += v;
                if acc > target {
                    idx = i;
                    break;
                }
            }
            idx
        } else {
            // All points coincide with centres: any point (duplicates are allowed).
            rng.random_range(0..n)
        };
        c.extend_from_slice(rows(pick));
        let newc = &c[kk * d..(kk + 1) * d];
        md.par_iter_mut().enumerate().for_each(|(i, m)| {
            let v = dist2(&x[i * d..(i + 1) * d], newc);
            if v < *m {
                *m = v;
            }
        });
        crate::core::interrupt::check("k-means++ initialisation")?;
    }

    // Lloyd.
    let mut labels = vec![0usize; n];
    let mut iterations = 0;
    let mut converged = false;
    let mut counts = vec![0usize; k];
    let mut inertia;
    loop {
        // Assign (parallel over fixed chunks), collecting per-chunk sums.
        let partial: Vec<ChunkSums> = labels
            .par_chunks_mut(CHUNK)
            .enumerate()
            .map(|(ci, lab)| {
                let mut sums = vec![0.0; k * d];
                let mut cnt = vec![0usize; k];
                let mut inert = 0.0;
                let (mut far_i, mut far_v) = (0usize, -1.0);
                for (o, l) in lab.iter_mut().enumerate() {
                    let i = ci * CHUNK + o;
                    let xi = &x[i * d..(i + 1) * d];
                    let (kk, v) = nearest(xi, &c, d);
                    *l = kk;
                    cnt[kk] += 1;
                    inert += v;
                    if v > far_v {
                        far_v = v;
                        far_i = i;
                    }
                    for (s, xv) in sums[kk * d..(kk + 1) * d].iter_mut().zip(xi) {
                        *s += xv;
                    }
                }
                (sums, cnt, inert, far_i, far_v)
            })
            .collect();
        let mut sums = vec![0.0; k * d];
        counts.iter_mut().for_each(|v| *v = 0);
        inertia = 0.0;
        let (mut far_i, mut far_v) = (0usize, -1.0);
        for (s, cnt, inert, fi, fv) in &partial {
            for (a, b) in sums.iter_mut().zip(s) {
                *a += b;
            }
            for (a, b) in counts.iter_mut().zip(cnt) {
                *a += b;
            }
            inertia += inert;
            if *fv > far_v {
                far_v = *fv;
                far_i = *fi;
            }
        }
        if iterations == max_iter {
            break;
        }
        // Update.
        let mut shift2: f64 = 0.0;
        for kk in 0..k {
            let new: Vec<f64> = if counts[kk] > 0 {
                sums[kk * d..(kk + 1) * d]
                    .iter()
                    .map(|s| s / counts[kk] as f64)
                    .collect()
            } else {
                rows(far_i).to_vec()
            };
            shift2 = shift2.max(dist2(&new, &c[kk * d..(kk + 1) * d]));
            c[kk * d..(kk + 1) * d].copy_from_slice(&new);
        }
        iterations += 1;
        crate::core::interrupt::check("k-means")?;
        if shift2.sqrt() <= tol * spread {
            converged = true;
            // One more assignment pass makes labels/counts match the final centres.
            continue_final(&x, d, &c, &mut labels, &mut counts, &mut inertia);
            break;
        }
    }
    Ok(KMeans {
        centres: Array2::from_shape_vec((k, d), c)
            .map_err(|e| Error::shape(format!("k-means: {e}")))?,
        labels,
        counts,
        inertia,
        iterations,
        converged,
    })
}

/// Final assignment after convergence (labels, counts and inertia for the final centres).
fn continue_final(
    x: &[f64],
    d: usize,
    c: &[f64],
    labels: &mut [usize],
    counts: &mut [usize],
    inertia: &mut f64,
) {
    let parts: Vec<f64> = labels
        .par_chunks_mut(CHUNK)
        .enumerate()
        .map(|(ci, lab)| {
            let mut inert = 0.0;
            for (o, l) in lab.iter_mut().enumerate() {
                let i = ci * CHUNK + o;
                let (kk, v) = nearest(&x[i * d..(i + 1) * d], c, d);
                *l = kk;
                inert += v;
            }
            inert
        })
        .collect();
    *inertia = parts.iter().sum();
    counts.iter_mut().for_each(|v| *v = 0);
    for &l in labels.iter() {
        counts[l] += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separated_blobs_are_found_and_thread_independent() {
        // Three tight blobs: k-means++ + Lloyd must recover their means.
        let mut rng = stream_rng(1, 0);
        let centres = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]];
        let pts = Array2::from_shape_fn((3000, 2), |(i, j)| {
            centres[i % 3][j] + 0.1 * (rng.random::<f64>() - 0.5)
        });
        let run = |t| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap()
                .install(|| kmeans(pts.view(), 3, 100, 1e-8, 5).unwrap())
        };
        let (a, b) = (run(1), run(2));
        assert_eq!(a.labels, b.labels);
        assert!(a
            .centres
            .iter()
            .zip(b.centres.iter())
            .all(|(p, q)| p.to_bits() == q.to_bits()));
        assert!(a.converged);
        assert_eq!(a.counts.iter().sum::<usize>(), 3000);
        for c in centres {
            let best = (0..3)
                .map(|k| dist2(&c, a.centres.row(k).as_slice().unwrap()))
                .fold(f64::INFINITY, f64::min);
            assert!(best < 1e-3);
        }
        assert!(kmeans(pts.view(), 0, 10, 1e-6, 0).is_err());
        assert!(kmeans(pts.slice(ndarray::s![..2, ..]), 3, 10, 1e-6, 0).is_err());
    }
}
