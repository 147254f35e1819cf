//! Heatmaps of a 2-D field with a colour bar: viridis (sequential) or blue–white–red
//! (diverging, symmetric about 0). Field axis 0 is x (horizontal), axis 1 is y (upward).
use super::output::{check_size, render, Ctx, DrawResult, Paint};
use super::style::{self, Sizes};
use crate::{Error, Result};
use ndarray::ArrayView2;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// Options for [`save_heatmap`].
#[derive(Clone, Debug)]
pub struct HeatmapOpts {
    /// Title above the plot (may be empty).
    pub title: String,
    /// Horizontal axis label (field axis 0).
    pub xlabel: String,
    /// Vertical axis label (field axis 1).
    pub ylabel: String,
    /// Colour-bar label, e.g. "u (dimensionless)".
    pub cbar_label: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Blue–white–red map symmetric about 0 (for signed fields such as responses).
    pub diverging: bool,
}

impl Default for HeatmapOpts {
    fn default() -> Self {
        HeatmapOpts {
            title: String::new(),
            xlabel: "x (grid index)".into(),
            ylabel: "y (grid index)".into(),
            cbar_label: "value".into(),
            width: 1000,
            height: 850,
            diverging: false,
        }
    }
}

/// ColorBrewer RdBu (11 classes), reversed so negative is blue and positive red.
const BWR: [(u8, u8, u8); 11] = [
    (5, 48, 97),
    (33, 102, 172),
    (67, 147, 195),
    (146, 197, 222),
    (209, 229, 240),
    (247, 247, 247),
    (253, 219, 199),
    (244, 165, 130),
    (214, 96, 77),
    (178, 24, 43),
    (103, 0, 31),
];

/// Colour of `t` ∈ [0, 1] on the blue–white–red map (t = 0.5 is white).
fn bwr(t: f64) -> RGBColor {
    let s = t.clamp(0.0, 1.0) * (BWR.len() - 1) as f64;
    let i = (s.floor() as usize).min(BWR.len() - 2);
    let f = s - i as f64;
    let (a, b) = (BWR[i], BWR[i + 1]);
    let mix = |p: u8, q: u8| (p as f64 + f * (q as f64 - p as f64)).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Saves `field` (shape [nx, ny]) as a heatmap with a colour bar, PNG or SVG by extension.
/// Cells are square unless the field's aspect ratio exceeds 4:1.
pub fn save_heatmap(path: &Path, field: ArrayView2<f64>, opts: &HeatmapOpts) -> Result<()> {
    super::font::ensure();
    let (nx, ny) = field.dim();
    if nx == 0 || ny == 0 {
        return Err(Error::invalid(format!(
            "heatmap '{}': field has shape [{nx}, {ny}]; pass a non-empty 2-D field",
            opts.title
        )));
    }
    let bad = field
        .indexed_iter()
        .find_map(|(ij, v)| Some((ij, v, style::bad_value(*v)?)));
    if let Some(((i, j), v, why)) = bad {
        return Err(Error::invalid(format!(
            "heatmap '{}': field[{i}, {j}] = {v} {why}",
            opts.title
        )));
    }
    check_size(opts.width, opts.height)?;
    let (mut lo, mut hi) = field
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    if opts.diverging {
        let m = lo.abs().max(hi.abs());
        let m = if m >= 1e-280 { m } else { 1.0 };
        (lo, hi) = (-m, m);
    } else {
        (lo, hi) = style::span(lo, hi);
    }
    render(
        path,
        opts.width,
        opts.height,
        &Heatmap {
            field,
            opts,
            lo,
            hi,
        },
    )
}

struct Heatmap<'a> {
    field: ArrayView2<'a, f64>,
    opts: &'a HeatmapOpts,
    lo: f64,
    hi: f64,
}

impl Heatmap<'_> {
    fn colour(&self, v: f64) -> RGBColor {
        let t = (v - self.lo) / (self.hi - self.lo);
        if self.opts.diverging {
            bwr(t)
        } else {
            ViridisRGB::get_color(t.clamp(0.0, 1.0))
        }
    }
}

impl Paint for Heatmap<'_> {
    fn paint<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<()> {
        let o = self.opts;
        let sz = Sizes::for_figure(o.width, o.height);
        let body = style::titled(root, &o.title, &sz)?;
        let (nx, ny) = self.field.dim();
        let (bw, bh) = body.dim_in_pixel();
        let (m, xl) = (sz.px(12.0), sz.px(54.0));
        let yl = style::y_label_area(&body, -0.5, ny as f64 - 0.5, 6, &sz);
        let cb = self.bar_width(&body, &sz);
        // Plot-area size with square cells (aspect clamped to [1/4, 4]) inside what is left.
        let avail_w = bw.saturating_sub(cb + yl + 2 * m).max(10) as f64;
        let avail_h = bh.saturating_sub(xl + 2 * m).max(10) as f64;
        let aspect = (nx as f64 / ny as f64).clamp(0.25, 4.0);
        let (pw, ph) = if avail_w > aspect * avail_h {
            (aspect * avail_h, avail_h)
        } else {
            (avail_w, avail_w / aspect)
        };
        let (pw, ph) = (pw.floor() as u32, ph.floor() as u32);
        let used_w = yl + pw + 2 * m + cb;
        let left = (bw.saturating_sub(used_w) / 2) as i32;
        let top = (bh.saturating_sub(ph + xl + 2 * m) / 2) as i32;
        let main = body
            .clone()
            .shrink((left, top), (yl + pw + 2 * m, ph + xl + 2 * m));
        let bar = body.shrink(
            (left + (yl + pw + 2 * m) as i32, top),
            (cb, ph + xl + 2 * m),
        );

        let mut chart = ChartBuilder::on(&main)
            .margin(m)
            .x_label_area_size(xl)
            .y_label_area_size(yl)
            .build_cartesian_2d(-0.5..nx as f64 - 0.5, -0.5..ny as f64 - 0.5)
            .ctx("axes")?;
        let (fx, fy) = (
            style::tick_formatter(-0.5, nx as f64 - 0.5, 6),
            style::tick_formatter(-0.5, ny as f64 - 0.5, 6),
        );
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(&o.xlabel)
            .y_desc(&o.ylabel)
            .axis_desc_style(style::text(sz.label))
            .label_style(style::text(sz.tick))
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&fx)
            .y_label_formatter(&fy)
            .draw()
            .ctx("axes")?;
        chart
            .draw_series(self.field.indexed_iter().map(|((i, j), &v)| {
                // Cell (i, j) is centred on the integer grid index.
                let (x, y) = (i as f64 - 0.5, j as f64 - 0.5);
                Rectangle::new([(x, y), (x + 1.0, y + 1.0)], self.colour(v).filled())
            }))
            .ctx("field")?;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(-0.5, -0.5), (nx as f64 - 0.5, ny as f64 - 0.5)],
                BLACK.stroke_width(1),
            )))
            .ctx("frame")?;
        self.paint_bar(&bar, m, ph, &sz)
    }
}

impl Heatmap<'_> {
    /// Colour-bar geometry at scale 1: gap to the plot, bar width, tick length, label gap.
    const BAR: (f64, f64, f64, f64) = (16.0, 26.0, 6.0, 6.0);

    /// Total width of the colour-bar column: gap, bar, ticks, widest label, rotated title.
    fn bar_width<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, sz: &Sizes) -> u32 {
        let fmt = style::tick_formatter(self.lo, self.hi, 7);
        let widest = style::ticks(self.lo, self.hi, 7)
            .iter()
            .map(|v| {
                area.estimate_text_size(&fmt(v), &style::text(sz.tick))
                    .map_or(0, |s| s.0)
            })
            .max()
            .unwrap_or(0);
        let (gap, bar, tick, lgap) = Self::BAR;
        sz.px(gap + bar + tick + lgap) + widest + sz.px(14.0) + (1.3 * sz.label) as u32
    }

    /// The colour bar, drawn in pixel coordinates of `area`: 256 bands between lo (bottom)
    /// and hi (top) spanning rows [top, top + h), ticks and labels, and the rotated title.
    fn paint_bar<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        top: u32,
        h: u32,
        sz: &Sizes,
    ) -> DrawResult<()> {
        let (lo, hi) = (self.lo, self.hi);
        let (gap, bar, tick, lgap) = Self::BAR;
        let (x0, x1) = (sz.px(gap) as i32, sz.px(gap + bar) as i32);
        let (top, h) = (top as i32, h.max(1) as i32);
        let y_of = |v: f64| top + ((hi - v) / (hi - lo) * h as f64).round() as i32;
        const N: i32 = 256;
        for k in 0..N {
            let (ya, yb) = (top + h - (k + 1) * h / N, top + h - k * h / N);
            let v = lo + (k as f64 + 0.5) / N as f64 * (hi - lo);
            area.draw(&Rectangle::new(
                [(x0, ya), (x1, yb)],
                self.colour(v).filled(),
            ))
            .ctx("colour bar")?;
        }
        area.draw(&Rectangle::new(
            [(x0, top), (x1, top + h)],
            BLACK.stroke_width(1),
        ))
        .ctx("colour bar")?;
        let fmt = style::tick_formatter(lo, hi, 7);
        let label_style = style::text(sz.tick).pos(Pos::new(HPos::Left, VPos::Center));
        let tx = x1 + sz.px(tick) as i32;
        let mut right = tx;
        for v in style::ticks(lo, hi, 7) {
            let y = y_of(v);
            area.draw(&PathElement::new(
                vec![(x1, y), (tx, y)],
                BLACK.stroke_width(1),
            ))
            .ctx("colour bar ticks")?;
            let s = fmt(&v);
            area.draw_text(&s, &label_style, (tx + sz.px(lgap) as i32, y))
                .ctx("colour bar labels")?;
            let w = area
                .estimate_text_size(&s, &style::text(sz.tick))
                .map_or(0, |s| s.0);
            right = right.max(tx + sz.px(lgap) as i32 + w as i32);
        }
        if !self.opts.cbar_label.trim().is_empty() {
            let title = style::text(sz.label)
                .transform(FontTransform::Rotate90)
                .pos(Pos::new(HPos::Center, VPos::Center));
            let x = right + sz.px(12.0) as i32 + (0.6 * sz.label) as i32;
            area.draw_text(&self.opts.cbar_label, &title, (x, top + h / 2))
                .ctx("colour bar label")?;
        }
        Ok(())
    }
}
