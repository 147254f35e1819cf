//! How an ensemble run is cut into batches for error bars, and the delete-one jackknife.
//!
//! Rule ([`Batching::auto`]):
//! - **M ≥ 8 members**: batches are contiguous groups of whole members, B = min(M, 32)
//!   (one member per batch when M ≤ 32). Members are independent, so this is the clean case.
//! - **M < 8**: each member is cut into S equal time segments of `T/S` frames (the last
//!   `T mod S` frames are dropped), S = min(⌈32/M⌉, ⌊T / (10·L)⌋), so every segment is at
//!   least 10 × the number of lags L long and B = M·S ≤ 32 + M. Correlations are then
//!   computed within segments only (pairs straddling a boundary are lost, a fraction ≈ L/T_s
//!   ≤ 10 %), which is what makes the segments (nearly) independent batches.
//!   If S < 2 and M ≥ 2 the members are the batches; with one member and T < 20·L no
//!   error bar can be formed and the call fails with a message saying what to change.
//!
//! Too few batches: below [`crate::stats::MIN_BATCHES`] independent batches the error bar
//! is itself too uncertain to trust (±27 % at 8 batches, ±71 % at 2; see
//! [`crate::stats::se_uncertainty`]), and with 2 members × 200 frames × 51 lags (2 batches of
//! whole members) it came out 2.7× smaller than the real spread over seeds. The estimators
//! then print a warning ([`Batching::warn_if_few`]) with what to change; the numbers are not
//! altered.
//!
//! The standard error of an estimator f is the delete-one jackknife over batches:
//! `se = sqrt((B−1)/B · Σ_b (f_(b) − f̄)²)` with `f_(b)` the estimate with batch b left out
//! and `f̄` their mean. Batches are pooled by summing correlation sums and pair counts, so
//! unequal batch sizes are handled exactly.
use crate::{Error, Result};
use ndarray::{ArrayD, Zip};
use rayon::prelude::*;
use std::ops::Range;

/// Upper bound on the number of batches (more adds cost and memory, not accuracy).
pub const MAX_BATCHES: usize = 32;
/// Minimum segment length in units of the number of lags when cutting members in time.
pub const MIN_SEGMENT_LAGS: usize = 10;

/// A split of `[M, T, ...]` data into batches.
#[derive(Clone, Debug, PartialEq)]
pub enum Batching {
    /// Batch b holds the members in `groups[b]` (whole trajectories).
    Members(Vec<Range<usize>>),
    /// Every member cut into `segments` pieces of `seg_len` frames; batch `m·segments + s`
    /// is segment s of member m.
    Segments {
        /// Segments per member.
        segments: usize,
        /// Frames per segment.
        seg_len: usize,
    },
}

impl Batching {
    /// The default split for `members` trajectories of `frames` frames and `lags` lags
    /// (module docs give the rule).
    pub fn auto(members: usize, frames: usize, lags: usize) -> Result<Batching> {
        if members == 0 || frames == 0 {
            return Err(Error::invalid(format!(
                "empty trajectory ({members} members × {frames} frames); simulate some data first"
            )));
        }
        if members >= 8 {
            return Ok(Batching::member_groups(members, members.min(MAX_BATCHES)));
        }
        let s = MAX_BATCHES
            .div_ceil(members)
            .min(frames / (MIN_SEGMENT_LAGS * lags.max(1)));
        if s >= 2 {
            return Ok(Batching::Segments {
                segments: s,
                seg_len: frames / s,
            });
        }
        if members >= 2 {
            return Ok(Batching::member_groups(members, members));
        }
        Err(Error::invalid(format!(
            "one member of {frames} frames is too short for error bars with {lags} lags: it must split into \
             ≥ 2 segments of ≥ {MIN_SEGMENT_LAGS} × lags frames, i.e. frames ≥ {}; \
             simulate longer, use fewer lags, or use several members",
            2 * MIN_SEGMENT_LAGS * lags.max(1)
        )))
    }

    /// `b` contiguous groups of whole members, sizes differing by at most one.
    pub fn member_groups(members: usize, b: usize) -> Batching {
        let b = b.clamp(1, members.max(1));
        Batching::Members(
            (0..b)
                .map(|i| (i * members / b)..((i + 1) * members / b))
                .collect(),
        )
    }

    /// Number of batches for `members` members.
    pub fn batches(&self, members: usize) -> usize {
        match self {
            Batching::Members(g) => g.len(),
            Batching::Segments { segments, .. } => members * segments,
        }
    }

    /// Frames per correlation run (a whole member, or one segment).
    pub fn run_len(&self, frames: usize) -> usize {
        match self {
            Batching::Members(_) => frames,
            Batching::Segments { seg_len, .. } => *seg_len,
        }
    }

    /// The runs of one member as (frame range, batch index).
    pub fn runs_of(&self, member: usize, frames: usize) -> Vec<(Range<usize>, usize)> {
        match self {
            Batching::Members(g) => {
                let b = g.iter().position(|r| r.contains(&member)).unwrap_or(0);
                vec![(0..frames, b)]
            }
            Batching::Segments { segments, seg_len } => (0..*segments)
                .map(|s| (s * seg_len..(s + 1) * seg_len, member * segments + s))
                .collect(),
        }
    }

    /// Checks the split against the data it is applied to.
    pub fn validate(&self, members: usize, frames: usize, lags: usize) -> Result<()> {
        let ok = match self {
            Batching::Members(g) => {
                let mut next = 0;
                let contiguous = g.iter().all(|r| {
                    let ok = r.start == next && r.end > r.start;
                    next = r.end;
                    ok
                });
                contiguous && next == members && g.len() >= 2
            }
            Batching::Segments { segments, seg_len } => {
                members * segments >= 2 && segments * seg_len <= frames && *seg_len > 0
            }
        };
        if !ok {
            return Err(Error::invalid(format!(
                "batching {self:?} does not fit {members} members × {frames} frames \
                 (need ≥ 2 non-empty batches covering all members); use Batching::auto"
            )));
        }
        if lags > self.run_len(frames) {
            return Err(Error::invalid(format!(
                "{lags} lags do not fit runs of {} frames; use fewer lags",
                self.run_len(frames)
            )));
        }
        Ok(())
    }

    /// Warns (see [`crate::warn`]) when the error bars of `who` rest on fewer than
    /// [`crate::stats::MIN_BATCHES`] batches, saying how many and what would give more: with
    /// M < 8 members, segments of ≥ 10 × lags frames, so each member needs
    /// `10 · lags · ⌈8/M⌉` frames; or 8 members.
    pub fn warn_if_few(&self, who: &str, members: usize, frames: usize, lags: usize) {
        let b = self.batches(members);
        if b >= crate::stats::MIN_BATCHES {
            return;
        }
        crate::warn::warn(few_batches_message(
            who,
            b,
            &self.describe(members),
            &format!(
                "simulate ≥ {} members, or members of ≥ {} frames (now {frames}) so that each \
                 splits into time segments of ≥ {MIN_SEGMENT_LAGS} × lags, or use fewer lags \
                 (now {lags})",
                crate::stats::MIN_BATCHES,
                MIN_SEGMENT_LAGS * lags.max(1) * crate::stats::MIN_BATCHES.div_ceil(members.max(1))
            ),
        ));
    }

    /// One-line description for reports.
    pub fn describe(&self, members: usize) -> String {
        match self {
            Batching::Members(g) => format!("{} batches of whole members (of {members})", g.len()),
            Batching::Segments { segments, seg_len } => format!(
                "{} batches: {members} member(s) × {segments} segments of {seg_len} frames",
                members * segments
            ),
        }
    }
}

/// The warning for error bars of `who` from only `batches` batches (`how`: how the data were
/// split; `fix`: what to change).
pub fn few_batches_message(who: &str, batches: usize, how: &str, fix: &str) -> String {
    format!(
        "{who}: the error bars come from only {batches} independent batches ({how}), so they \
         are themselves uncertain by about ±{:.0} % and more often too small than too large; \
         for reliable error bars {fix}",
        100.0 * crate::stats::se_uncertainty(batches)
    )
}

/// Delete-one jackknife: `estimate(None)` is the full estimate, `estimate(Some(b))` the one
/// with batch b left out. Returns (full estimate, standard error); see the module docs.
pub fn jackknife<F>(batches: usize, estimate: F) -> Result<(ArrayD<f64>, ArrayD<f64>)>
where
    F: Fn(Option<usize>) -> Result<ArrayD<f64>> + Sync,
{
    if batches < 2 {
        return Err(Error::invalid(format!(
            "the jackknife needs at least 2 batches, got {batches}"
        )));
    }
    let full = estimate(None)?;
    // Held at once: every leave-one-out replicate, their mean, the sum of squares and the
    // standard error, plus the working copies of the replicates being computed (about two
    // per thread).
    let copies = batches
        .saturating_add(3)
        .saturating_add(2 * rayon::current_num_threads());
    crate::budget::Request::new("error bars")
        .buffer(
            "the jackknife replicates",
            &[("copies", copies), ("values", full.len())],
            8,
        )
        .fix("use fewer lags")
        .check()?;
    let loo: Vec<ArrayD<f64>> = (0..batches)
        .into_par_iter()
        .map(|b| estimate(Some(b)))
        .collect::<Result<_>>()?;
    let bf = batches as f64;
    let mut mean = ArrayD::<f64>::zeros(full.raw_dim());
    for f in &loo {
        mean += f;
    }
    mean /= bf;
    let mut ss = ArrayD::<f64>::zeros(full.raw_dim());
    for f in &loo {
        Zip::from(&mut ss)
            .and(f)
            .and(&mean)
            .for_each(|s, &v, &m| *s += (v - m) * (v - m));
    }
    let se = ss.mapv(|v| ((bf - 1.0) / bf * v).sqrt());
    Ok((full, se))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_rule() {
        assert_eq!(Batching::auto(128, 100, 10).unwrap().batches(128), 32);
        assert_eq!(Batching::auto(10, 100, 10).unwrap().batches(10), 10);
        // 2 members, 2000 frames, 20 lags: S = min(16, 10) = 10.
        let b = Batching::auto(2, 2000, 20).unwrap();
        assert_eq!(
            b,
            Batching::Segments {
                segments: 10,
                seg_len: 200
            }
        );
        assert_eq!(b.runs_of(1, 2000)[3], (600..800, 13));
        // 3 short members: members are the batches.
        assert_eq!(Batching::auto(3, 50, 10).unwrap().batches(3), 3);
        assert!(Batching::auto(1, 100, 10).is_err());
        assert!(Batching::auto(0, 100, 10).is_err());
        let g = Batching::member_groups(10, 3);
        assert_eq!(g, Batching::Members(vec![0..3, 3..6, 6..10]));
        assert!(g.validate(10, 5, 5).is_ok());
        assert!(g.validate(11, 5, 5).is_err());
    }

    #[test]
    fn jackknife_of_a_mean_is_the_standard_error() {
        // For the sample mean the jackknife se equals s/√B exactly.
        let x = [1.0, 3.0, 2.0, 7.0, 4.0];
        let b = x.len();
        let (m, se) = jackknife(b, |leave| {
            let v: Vec<f64> = (0..b).filter(|&i| Some(i) != leave).map(|i| x[i]).collect();
            Ok(ndarray::arr0(v.iter().sum::<f64>() / v.len() as f64).into_dyn())
        })
        .unwrap();
        let mean = x.iter().sum::<f64>() / b as f64;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (b as f64 - 1.0);
        assert!((m.sum() - mean).abs() < 1e-15);
        assert!((se.sum() - (var / b as f64).sqrt()).abs() < 1e-14);
    }
}
