//! Running statistics shared by the perturbation ensembles: the mean of groups of experiments
//! and the standard error *between* groups, for experiments that are independent only group
//! by group (Navier–Stokes chains, experiments that reuse a start state).
//!
//! With group means `m_g` over `n_g` experiments, `w_g = n_g/E` and `G` groups, the mean is
//! `m = Σ_g w_g m_g` and its standard error `se² = G/(G−1) · Σ_g w_g² (m_g − m)²`. With one
//! experiment per group this is the usual `sd/√E`; with a single group no error bar can be
//! formed. The sums are taken about the first group's mean (shifted sums avoid cancellation)
//! and groups are added in a fixed order, so the result does not depend on the thread count.
//!
//! Also here: how far a standard error from few batches can be trusted ([`se_uncertainty`],
//! [`MIN_BATCHES`], the threshold of the "too few batches" warnings) and the warning for
//! ensembles with more experiments than distinct start states ([`reuse_warning`]).
//!
//! Ground layer: imports nothing from the rest of the crate.
use std::collections::HashMap;

/// `1/√(2(b − 1))`: the relative standard deviation of a standard error estimated from `b`
/// independent batches (or groups, chains). For Gaussian batch means `(b−1)s²/σ²` is χ² with
/// `b − 1` degrees of freedom, so `sd(s)/σ ≈ 1/√(2(b−1))` (±71 % at b = 2, ±27 % at b = 8,
/// ±13 % at b = 32). Infinite for `b < 2`.
pub fn se_uncertainty(b: usize) -> f64 {
    if b < 2 {
        f64::INFINITY
    } else {
        1.0 / (2.0 * (b as f64 - 1.0)).sqrt()
    }
}

/// Fewest independent batches (groups, chains) whose standard error is used without a
/// warning: at 8 the error bar itself is uncertain by ±27 % ([`se_uncertainty`]); below it
/// the uncertainty grows quickly (±35 % at 5, ±71 % at 2) and, the χ² distribution being
/// skewed, a small estimate is the more likely one (the findings' S1: 2 members gave error
/// bars 2.7× too small over 12 seeds; 8 members agreed with the real spread). Measured over
/// 40 seeds (`tests/bad_input.rs`, S1): sd(se)/mean(se) = 0.72 with 2 batches, 0.36 with 8.
pub const MIN_BATCHES: usize = 8;

/// The mean of one group of experiments, per element.
#[derive(Clone, Debug)]
pub struct GroupMean {
    /// Experiments in the group.
    pub count: usize,
    /// Their mean, per element.
    pub mean: Vec<f64>,
}

/// Across groups, in group order: the overall mean and the sums for the between-group
/// standard error, taken about the first group's mean `m₀`: with `d_g = m_g − m₀`,
/// `S1 = Σ w_g² d_g`, `S2 = Σ w_g² d_g²`, `W = Σ w_g²`.
pub struct BetweenGroups {
    experiments: f64,
    groups: usize,
    seen: f64,
    /// The running overall mean, per element.
    pub mean: Vec<f64>,
    shift: Vec<f64>,
    s1: Vec<f64>,
    s2: Vec<f64>,
    w: f64,
}

impl BetweenGroups {
    /// An empty accumulator for means of `len` elements over `experiments` experiments in all.
    pub fn new(len: usize, experiments: usize) -> Self {
        BetweenGroups {
            experiments: experiments as f64,
            groups: 0,
            seen: 0.0,
            mean: vec![0.0; len],
            shift: vec![0.0; len],
            s1: vec![0.0; len],
            s2: vec![0.0; len],
            w: 0.0,
        }
    }

    /// Groups added so far.
    pub fn groups(&self) -> usize {
        self.groups
    }

    /// Adds one group (callers add groups in a fixed order: the rounding depends on it).
    pub fn add(&mut self, c: &GroupMean) {
        let n = c.count as f64;
        if self.groups == 0 {
            self.shift.copy_from_slice(&c.mean);
        }
        self.groups += 1;
        self.seen += n;
        let (f, wc) = (n / self.seen, n / self.experiments);
        let w2 = wc * wc;
        self.w += w2;
        for i in 0..self.mean.len() {
            let x = c.mean[i];
            self.mean[i] += (x - self.mean[i]) * f;
            let d = x - self.shift[i];
            self.s1[i] += w2 * d;
            self.s2[i] += w2 * d * d;
        }
    }

    /// Between-group standard error of the mean, `√(G/(G−1) · Σ_g w_g²(m_g − m)²)`; None for
    /// a single group.
    pub fn stderr(&self) -> Option<Vec<f64>> {
        if self.groups < 2 {
            return None;
        }
        let k = self.groups as f64 / (self.groups as f64 - 1.0);
        Some(
            (0..self.mean.len())
                .map(|i| {
                    let db = self.mean[i] - self.shift[i];
                    let v = self.s2[i] - 2.0 * db * self.s1[i] + db * db * self.w;
                    (k * v).max(0.0).sqrt()
                })
                .collect(),
        )
    }
}

/// Labels equal rows alike: `ids[i]` is the index (in order of first appearance) of the first
/// row bit-for-bit equal to row `i`; also returns the number of distinct rows.
pub fn distinct_rows<R: IntoIterator<Item = f64>>(
    rows: impl Iterator<Item = R>,
) -> (Vec<usize>, usize) {
    let mut seen: HashMap<Vec<u64>, usize> = HashMap::new();
    let ids: Vec<usize> = rows
        .map(|r| {
            let key: Vec<u64> = r.into_iter().map(f64::to_bits).collect();
            let next = seen.len();
            *seen.entry(key).or_insert(next)
        })
        .collect();
    (ids, seen.len())
}

/// The warning for `experiments` experiments on `stored` start states of which `distinct`
/// are distinct (`distinct < experiments`): the numbers, the between-state standard error
/// that is reported instead, and what to change. Shared by the grid and vector-SDE ensembles.
pub fn reuse_warning(what: &str, experiments: usize, stored: usize, distinct: usize) -> String {
    let states = if distinct < stored.min(experiments) {
        format!("{distinct} distinct start states ({stored} given, some repeated)")
    } else {
        format!("{distinct} start states")
    };
    let se = if distinct < 2 {
        "no standard error can be formed from one start state".to_string()
    } else {
        let unsure = if distinct < MIN_BATCHES {
            format!(
                ", itself uncertain by about ±{:.0} %",
                100.0 * se_uncertainty(distinct)
            )
        } else {
            String::new()
        };
        format!(
            "the standard error is computed between the {distinct} start states (not over the \
             {experiments} experiments as if they were independent){unsure}"
        )
    };
    format!(
        "{what}: {experiments} experiments from only {states}: experiments from the same state \
         are not independent, so {se}; for independent experiments pass ≥ {experiments} start \
         states (start_states(tr, spacing, {experiments}) from more members or a longer \
         duration), or run at most {distinct} experiments"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total_of(groups: &[Vec<f64>]) -> BetweenGroups {
        let e: usize = groups.iter().map(|c| c.len()).sum();
        let mut t = BetweenGroups::new(1, e);
        for c in groups {
            let mean = c.iter().sum::<f64>() / c.len() as f64;
            t.add(&GroupMean {
                count: c.len(),
                mean: vec![mean],
            });
        }
        t
    }

    #[test]
    fn between_group_stderr() {
        // One experiment per group: the usual sd/√E.
        let x = [1.0, 2.5, -0.5, 4.0, 3.0];
        let t = total_of(&x.iter().map(|v| vec![*v]).collect::<Vec<_>>());
        let m = x.iter().sum::<f64>() / 5.0;
        let sd2 = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / 4.0;
        assert!((t.mean[0] - m).abs() < 1e-14);
        assert!((t.stderr().unwrap()[0] - (sd2 / 5.0).sqrt()).abs() < 1e-14);
        // Unequal groups: mean over all experiments, se² = G/(G−1) Σ w_g² (m_g − m)².
        let groups = vec![vec![1.0, 2.0, 3.0], vec![10.0], vec![4.0, 6.0]];
        let t = total_of(&groups);
        let m = 26.0 / 6.0;
        let want: f64 = 1.5
            * [(3.0, 2.0), (1.0, 10.0), (2.0, 5.0)]
                .iter()
                .map(|(n, mc): &(f64, f64)| (n / 6.0).powi(2) * (mc - m).powi(2))
                .sum::<f64>();
        assert!((t.mean[0] - m).abs() < 1e-14);
        assert!((t.stderr().unwrap()[0] - want.sqrt()).abs() < 1e-14);
        // One group: no error estimate.
        assert!(total_of(&[vec![1.0, 2.0]]).stderr().is_none());
    }

    #[test]
    fn distinct_rows_by_first_appearance() {
        let rows = [[1.0, 2.0], [3.0, 4.0], [1.0, 2.0], [5.0, 6.0], [3.0, 4.0]];
        let (ids, n) = distinct_rows(rows.iter().map(|r| r.iter().copied()));
        assert_eq!(ids, vec![0, 1, 0, 2, 1]);
        assert_eq!(n, 3);
    }

    #[test]
    fn uncertainty_of_a_standard_error() {
        assert!((se_uncertainty(2) - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-15);
        assert!((se_uncertainty(8) - 0.2673).abs() < 1e-4);
        assert!(se_uncertainty(1).is_infinite());
    }
}
