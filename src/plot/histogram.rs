//! Density-normalised histograms, single or overlaid on shared bins, with an optional
//! Gaussian of the same mean and variance.
use super::legend;
use super::output::{check_size, render, Ctx, DrawResult, Paint};
use super::style::{self, colour, Sizes};
use crate::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Largest accepted number of bins.
pub const MAX_BINS: usize = 10_000;

/// Options for [`save_histogram`] and [`save_histograms`].
#[derive(Clone, Debug)]
pub struct HistOpts {
    /// Title above the plot (may be empty).
    pub title: String,
    /// Horizontal axis label (with units).
    pub xlabel: String,
    /// Number of equal-width bins spanning the data's range.
    pub bins: usize,
    /// Overlay the Gaussian with the data's sample mean and variance.
    pub gaussian_overlay: bool,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Legend name of the data set in [`save_histogram`] (unused by [`save_histograms`]).
    pub label: String,
}

impl Default for HistOpts {
    fn default() -> Self {
        HistOpts {
            title: String::new(),
            xlabel: "value".into(),
            bins: 40,
            gaussian_overlay: false,
            width: 1000,
            height: 700,
            label: "data".into(),
        }
    }
}

/// Saves a density histogram of `data` (bars integrate to 1), PNG or SVG by extension. The
/// legend shows n, mean and standard deviation; with `gaussian_overlay` the Gaussian of the
/// same mean and variance is drawn as a line.
pub fn save_histogram(path: &Path, data: &[f64], opts: &HistOpts) -> Result<()> {
    save_sets(path, &[(opts.label.as_str(), data)], opts)
}

/// Overlays several data sets `(label, values)` as semi-transparent histograms with step
/// outlines on shared bins (e.g. "samples" vs "data"); `opts.label` is not used.
pub fn save_histograms(path: &Path, sets: &[(String, Vec<f64>)], opts: &HistOpts) -> Result<()> {
    let sets: Vec<(&str, &[f64])> = sets
        .iter()
        .map(|(l, v)| (l.as_str(), v.as_slice()))
        .collect();
    save_sets(path, &sets, opts)
}

/// One data set's summary and binned density.
struct Binned {
    label: String,
    n: usize,
    mean: f64,
    var: f64,
    density: Vec<f64>,
}

fn save_sets(path: &Path, sets: &[(&str, &[f64])], opts: &HistOpts) -> Result<()> {
    super::font::ensure();
    let t = &opts.title;
    if sets.is_empty() {
        return Err(Error::invalid(format!(
            "histogram '{t}': no data sets; pass at least one"
        )));
    }
    if opts.bins == 0 || opts.bins > MAX_BINS {
        return Err(Error::invalid(format!(
            "histogram '{t}': bins = {} is out of range; pass 1 ≤ bins ≤ {MAX_BINS}",
            opts.bins
        )));
    }
    for (label, data) in sets {
        if data.is_empty() {
            return Err(Error::invalid(format!(
                "histogram '{t}': data set '{label}' is empty; pass at least one value"
            )));
        }
        let bad = data
            .iter()
            .enumerate()
            .find_map(|(i, v)| Some((i, v, style::bad_value(*v)?)));
        if let Some((i, v, why)) = bad {
            return Err(Error::invalid(format!(
                "histogram '{t}': data set '{label}': value [{i}] = {v} {why}"
            )));
        }
    }
    check_size(opts.width, opts.height)?;
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in sets.iter().flat_map(|s| s.1.iter()) {
        lo = lo.min(*v);
        hi = hi.max(*v);
    }
    (lo, hi) = style::span(lo, hi);
    let width = (hi - lo) / opts.bins as f64;
    let binned = sets
        .iter()
        .map(|(label, data)| bin(label, data, lo, width, opts.bins))
        .collect();
    render(
        path,
        opts.width,
        opts.height,
        &Hist {
            opts,
            lo,
            width,
            sets: binned,
        },
    )
}

fn bin(label: &str, data: &[f64], lo: f64, width: f64, bins: usize) -> Binned {
    let n = data.len();
    let mean = data.iter().map(|v| v / n as f64).sum::<f64>();
    // Unbiased sample variance; 0 for a single value.
    let var = if n > 1 {
        data.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64
    } else {
        0.0
    };
    let mut counts = vec![0usize; bins];
    for v in data {
        let k = (((v - lo) / width).floor().max(0.0) as usize).min(bins - 1);
        counts[k] += 1;
    }
    let density = counts
        .iter()
        .map(|&c| c as f64 / (n as f64 * width))
        .collect();
    Binned {
        label: label.to_string(),
        n,
        mean,
        var,
        density,
    }
}

/// Gaussian density with mean `m` and variance `v` > 0.
fn gauss(x: f64, m: f64, v: f64) -> f64 {
    (-(x - m).powi(2) / (2.0 * v)).exp() / (2.0 * std::f64::consts::PI * v).sqrt()
}

/// A number with about 3 significant digits.
fn num(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.2e}")
    } else {
        let d = (2 - a.log10().floor() as i32).clamp(0, 5) as usize;
        format!("{v:.d$}")
    }
}

struct Hist<'a> {
    opts: &'a HistOpts,
    lo: f64,
    width: f64,
    sets: Vec<Binned>,
}

impl Hist<'_> {
    /// Left edge of bin `k`.
    fn edge(&self, k: usize) -> f64 {
        self.lo + k as f64 * self.width
    }

    /// Whether set `b` gets a Gaussian overlay (requested, variance finite and > 0).
    fn overlay(&self, b: &Binned) -> bool {
        self.opts.gaussian_overlay && b.var.is_finite() && b.var > 0.0
    }

    /// Legend entries: data sets first, then their Gaussians.
    fn labels(&self) -> Vec<String> {
        let single = self.sets.len() == 1;
        let data = self.sets.iter().map(|b| {
            format!(
                "{} (n = {}, mean = {}, std = {})",
                b.label,
                b.n,
                num(b.mean),
                num(b.var.sqrt())
            )
        });
        let gauss = self.sets.iter().filter(|b| self.overlay(b)).map(|b| {
            if single {
                "Gaussian (same mean, variance)".to_string()
            } else {
                format!("{}: Gaussian (same mean, variance)", b.label)
            }
        });
        data.chain(gauss).collect()
    }

    /// Points covering the filled bars and the overlay curves, for legend placement.
    fn outline(&self, curves: &[Vec<(f64, f64)>]) -> Vec<(f64, f64)> {
        let mut pts = Vec::new();
        for b in &self.sets {
            for (k, &d) in b.density.iter().enumerate() {
                for q in 0..=8 {
                    let x = self.edge(k) + self.width * q as f64 / 8.0;
                    pts.extend((0..=8).map(|r| (x, d * r as f64 / 8.0)));
                }
            }
        }
        pts.extend(curves.iter().flatten());
        pts
    }
}

impl Paint for Hist<'_> {
    fn paint<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<()> {
        let o = self.opts;
        let sz = Sizes::for_figure(o.width, o.height);
        let body = style::titled(root, &o.title, &sz)?;
        let nb = o.bins;
        let (x0, x1) = style::padded(self.edge(0), self.edge(nb), 0.05);
        let curves: Vec<Vec<(f64, f64)>> = self
            .sets
            .iter()
            .filter(|b| self.overlay(b))
            .map(|b| {
                (0..=400)
                    .map(|k| {
                        let x = x0 + (x1 - x0) * k as f64 / 400.0;
                        (x, gauss(x, b.mean, b.var))
                    })
                    .collect()
            })
            .collect();
        let top = self
            .sets
            .iter()
            .flat_map(|b| b.density.iter())
            .chain(curves.iter().flatten().map(|p| &p.1))
            .fold(0.0f64, |m, &v| m.max(v));
        let y1 = if top > 0.0 { top * 1.05 } else { 1.0 };
        // Legend placement (may raise the top of the y range to clear the data).
        let (m, mr, xl) = (sz.px(12.0), sz.px(24.0), sz.px(54.0));
        let labels = self.labels();
        let (aw, ah) = body.dim_in_pixel();
        let yl0 = style::y_label_area(&body, 0.0, y1, style::YTICKS, &sz);
        let plot_px = (
            aw.saturating_sub(yl0 + m + mr).max(1) as f64,
            ah.saturating_sub(xl + 2 * m).max(1) as f64,
        );
        let (bw, bh) = legend::box_px(&body, &labels, &sz);
        let plan = legend::plan(
            &self.outline(&curves),
            (x0, x1),
            (0.0, y1),
            (bw / plot_px.0, bh / plot_px.1),
        );
        let y1 = plan.y1;
        let mut chart = ChartBuilder::on(&body)
            .margin(m)
            .margin_right(mr)
            .x_label_area_size(xl)
            .y_label_area_size(style::y_label_area(&body, 0.0, y1, style::YTICKS, &sz))
            .build_cartesian_2d(x0..x1, 0.0..y1)
            .ctx("axes")?;
        let (fx, fy) = (
            style::tick_formatter(x0, x1, style::XTICKS),
            style::tick_formatter(0.0, y1, style::YTICKS),
        );
        chart
            .configure_mesh()
            .x_desc(&o.xlabel)
            .y_desc("probability density")
            .axis_desc_style(style::text(sz.label))
            .label_style(style::text(sz.tick))
            .x_labels(style::XTICKS)
            .y_labels(style::YTICKS)
            .x_label_formatter(&fx)
            .y_label_formatter(&fy)
            .bold_line_style(style::grid())
            .light_line_style(TRANSPARENT)
            .draw()
            .ctx("axes")?;
        let single = self.sets.len() == 1;
        let alpha = if single { 0.45 } else { 0.25 };
        let (lw, sw) = (sz.line, sz.px(legend::SWATCH) as i32);
        let mut labels = labels.into_iter();
        for (i, b) in self.sets.iter().enumerate() {
            let c = colour(i);
            chart
                .draw_series(b.density.iter().enumerate().map(|(k, &d)| {
                    Rectangle::new(
                        [(self.edge(k), 0.0), (self.edge(k + 1), d)],
                        c.mix(alpha).filled(),
                    )
                }))
                .ctx("bars")?;
            let mut step = vec![(self.edge(0), 0.0)];
            for (k, &d) in b.density.iter().enumerate() {
                step.extend([(self.edge(k), d), (self.edge(k + 1), d)]);
            }
            step.push((self.edge(nb), 0.0));
            let h = (sz.legend * 0.4) as i32;
            chart
                .draw_series(LineSeries::new(step, c.stroke_width(lw)))
                .ctx("bars")?
                .label(labels.next().unwrap_or_default())
                .legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + Rectangle::new([(0, -h), (sw, h)], c.mix(alpha).filled())
                        + Rectangle::new([(0, -h), (sw, h)], c.stroke_width(lw))
                });
        }
        let overlaid = self
            .sets
            .iter()
            .enumerate()
            .filter(|(_, b)| self.overlay(b));
        for ((i, _), pts) in overlaid.zip(curves) {
            let c = if single { BLACK } else { colour(i) };
            let st = c.stroke_width(lw);
            let anno = if single {
                chart.draw_series(LineSeries::new(pts, st))
            } else {
                chart.draw_series(DashedLineSeries::new(pts, sz.px(10.0), sz.px(6.0), st))
            }
            .ctx("Gaussian overlay")?;
            let (a, bb) = if single {
                (sw, sw)
            } else {
                (sw * 2 / 5, sw * 3 / 5)
            };
            anno.label(labels.next().unwrap_or_default())
                .legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (a, 0)], st)
                        + PathElement::new(vec![(bb, 0), (sw, 0)], st)
                });
        }
        legend::draw(&mut chart, plan.pos, &sz)
    }
}
