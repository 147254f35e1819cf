//! Multi-panel line figures with shaded ±error bands, legends and a figure title.
use super::legend;
use super::output::{check_size, render, Ctx, DrawResult, Paint};
use super::style::{self, colour, Sizes};
use crate::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::HashMap;
use std::path::Path;

/// How a series' line is stroked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LineStyle {
    /// A continuous line.
    #[default]
    Solid,
    /// Long dashes.
    Dashed,
    /// Short dots.
    Dotted,
}

/// One curve: `y(x)`, optionally with a ±`err` band (same length, non-negative).
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend text; the same label gets the same colour in every panel.
    pub label: String,
    /// Abscissae.
    pub x: Vec<f64>,
    /// Ordinates, same length as `x`.
    pub y: Vec<f64>,
    /// Half-width of the shaded band around `y` (e.g. one standard error), if any.
    pub err: Option<Vec<f64>>,
    /// Stroke pattern.
    pub style: LineStyle,
    /// Draw a circle at every point.
    pub markers: bool,
}

impl Series {
    /// A solid line without band or markers.
    pub fn new(label: impl Into<String>, x: Vec<f64>, y: Vec<f64>) -> Self {
        Series {
            label: label.into(),
            x,
            y,
            err: None,
            style: LineStyle::Solid,
            markers: false,
        }
    }

    /// Adds a shaded ±`err` band.
    pub fn with_err(mut self, err: Vec<f64>) -> Self {
        self.err = Some(err);
        self
    }

    /// Sets the stroke pattern.
    pub fn style(mut self, style: LineStyle) -> Self {
        self.style = style;
        self
    }

    /// Turns point markers on or off.
    pub fn markers(mut self, on: bool) -> Self {
        self.markers = on;
        self
    }
}

/// One set of axes with a title, axis labels (include units in them) and its curves.
#[derive(Clone, Debug)]
pub struct Panel {
    /// Panel title (above the axes).
    pub title: String,
    /// Horizontal axis label, e.g. "lag t [time units]".
    pub xlabel: String,
    /// Vertical axis label.
    pub ylabel: String,
    /// The curves; at least one.
    pub series: Vec<Series>,
    /// Draw this panel's legend (default true). In a grid of panels with the same curves, show
    /// it in one panel so it does not hide the data of the others.
    pub legend: bool,
}

impl Panel {
    /// An empty panel; add curves with [`Panel::with_series`].
    pub fn new(
        title: impl Into<String>,
        xlabel: impl Into<String>,
        ylabel: impl Into<String>,
    ) -> Self {
        Panel {
            title: title.into(),
            xlabel: xlabel.into(),
            ylabel: ylabel.into(),
            series: Vec::new(),
            legend: true,
        }
    }

    /// Shows or hides this panel's legend.
    pub fn legend(mut self, on: bool) -> Self {
        self.legend = on;
        self
    }

    /// Adds a curve.
    pub fn with_series(mut self, s: Series) -> Self {
        self.series.push(s);
        self
    }
}

/// A grid of panels under a figure title.
#[derive(Clone, Debug)]
pub struct Figure {
    /// Title above the whole grid (may be empty).
    pub title: String,
    /// The panels, filled row by row.
    pub panels: Vec<Panel>,
    /// Number of grid columns; 0 picks ⌈√n⌉. Never more than the number of panels.
    pub cols: usize,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl Figure {
    /// An empty 1200×900 figure with 2 columns.
    pub fn new(title: impl Into<String>) -> Self {
        Figure {
            title: title.into(),
            panels: Vec::new(),
            cols: 2,
            width: 1200,
            height: 900,
        }
    }

    /// Adds a panel.
    pub fn with_panel(mut self, p: Panel) -> Self {
        self.panels.push(p);
        self
    }

    /// Sets the number of grid columns (0 = automatic).
    pub fn cols(mut self, cols: usize) -> Self {
        self.cols = cols;
        self
    }

    /// Sets the size in pixels.
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.width = width;
        self.height = height;
        self
    }

    /// (rows, cols) of the panel grid.
    fn grid(&self) -> (usize, usize) {
        let n = self.panels.len().max(1);
        let cols = if self.cols == 0 {
            (n as f64).sqrt().ceil() as usize
        } else {
            self.cols.min(n)
        };
        (n.div_ceil(cols), cols)
    }
}

/// Saves `fig` as PNG or SVG (by `path`'s extension). Validates every series first: lengths,
/// finite values, non-negative errors, labels; nothing is written on error.
pub fn save_lines(path: &Path, fig: &Figure) -> Result<()> {
    super::font::ensure();
    validate(fig)?;
    check_size(fig.width, fig.height)?;
    render(path, fig.width, fig.height, fig)
}

fn validate(fig: &Figure) -> Result<()> {
    if fig.panels.is_empty() {
        return Err(Error::invalid(format!(
            "figure '{}' has no panels; add at least one Panel",
            fig.title
        )));
    }
    for p in &fig.panels {
        if p.series.is_empty() {
            return Err(Error::invalid(format!(
                "panel '{}' has no series; add at least one Series",
                p.title
            )));
        }
        for (k, s) in p.series.iter().enumerate() {
            validate_series(s, k, &p.title)?;
        }
    }
    Ok(())
}

fn validate_series(s: &Series, k: usize, panel: &str) -> Result<()> {
    let name = format!("series '{}' in panel '{}'", s.label, panel);
    if s.label.trim().is_empty() {
        return Err(Error::invalid(format!(
            "series #{k} in panel '{panel}' has an empty label; give every series a label (it appears in the legend)"
        )));
    }
    if s.x.is_empty() {
        return Err(Error::invalid(format!(
            "{name} has no points; pass non-empty x and y"
        )));
    }
    if s.x.len() != s.y.len() {
        return Err(Error::shape(format!(
            "{name}: x has {} points but y has {}; pass equal lengths",
            s.x.len(),
            s.y.len()
        )));
    }
    let arrays: [(&str, Option<&Vec<f64>>); 3] = [
        ("x", Some(&s.x)),
        ("y", Some(&s.y)),
        ("err", s.err.as_ref()),
    ];
    for (what, v) in arrays {
        let Some(v) = v else { continue };
        if v.len() != s.x.len() {
            return Err(Error::shape(format!(
                "{name}: {what} has {} points but x has {}; pass equal lengths",
                v.len(),
                s.x.len()
            )));
        }
        if let Some((i, why)) = v
            .iter()
            .enumerate()
            .find_map(|(i, a)| Some((i, style::bad_value(*a)?)))
        {
            return Err(Error::invalid(format!(
                "{name}: {what}[{i}] = {} {why}",
                v[i]
            )));
        }
        if what == "err" {
            if let Some(i) = v.iter().position(|a| *a < 0.0) {
                return Err(Error::invalid(format!(
                    "{name}: err[{i}] = {} is negative; pass error half-widths ≥ 0",
                    v[i]
                )));
            }
        }
    }
    Ok(())
}

/// Data extent of a panel (bands included), padded by 5 %.
fn panel_ranges(p: &Panel) -> ((f64, f64), (f64, f64)) {
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for s in &p.series {
        for (i, (&x, &y)) in s.x.iter().zip(&s.y).enumerate() {
            let e = s.err.as_ref().map_or(0.0, |e| e[i]);
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y - e);
            y1 = y1.max(y + e);
        }
    }
    (style::padded(x0, x1, 0.05), style::padded(y0, y1, 0.05))
}

impl Paint for Figure {
    fn paint<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<()> {
        let sz = Sizes::for_figure(self.width, self.height);
        let body = style::titled(root, &self.title, &sz)?;
        // One colour per distinct label, in order of first appearance across the figure.
        let mut colours: HashMap<&str, RGBColor> = HashMap::new();
        for s in self.panels.iter().flat_map(|p| &p.series) {
            let n = colours.len();
            colours.entry(s.label.as_str()).or_insert_with(|| colour(n));
        }
        let cells = body.split_evenly(self.grid());
        for (p, cell) in self.panels.iter().zip(&cells) {
            paint_panel(cell, p, &colours, &sz)?;
        }
        Ok(())
    }
}

fn paint_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &Panel,
    colours: &HashMap<&str, RGBColor>,
    sz: &Sizes,
) -> DrawResult<()> {
    let ((x0, x1), (y0, y1)) = panel_ranges(p);
    let (m, mr, xl) = (sz.px(10.0), sz.px(22.0), sz.px(54.0));
    let caption = if p.title.trim().is_empty() {
        0
    } else {
        area.estimate_text_size(&p.title, &style::text(sz.panel_title))
            .map_or(0, |s| s.1)
            + 10
    };
    let (aw, ah) = area.dim_in_pixel();
    let yl0 = style::y_label_area(area, y0, y1, style::YTICKS, sz);
    let plot_px = (
        aw.saturating_sub(yl0 + m + mr).max(1) as f64,
        ah.saturating_sub(xl + 2 * m + caption).max(1) as f64,
    );
    let (bw, bh) = if p.legend {
        let labels: Vec<String> = p.series.iter().map(|s| s.label.clone()).collect();
        legend::box_px(area, &labels, sz)
    } else {
        (0.0, 0.0)
    };
    let plan = legend::plan(
        &outline(p),
        (x0, x1),
        (y0, y1),
        (bw / plot_px.0, bh / plot_px.1),
    );
    let y1 = plan.y1;
    let mut b = ChartBuilder::on(area);
    if caption > 0 {
        b.caption(&p.title, style::text(sz.panel_title));
    }
    let mut chart = b
        .margin(m)
        .margin_right(mr)
        .x_label_area_size(xl)
        .y_label_area_size(style::y_label_area(area, y0, y1, style::YTICKS, sz))
        .build_cartesian_2d(x0..x1, y0..y1)
        .ctx("axes")?;
    let (fx, fy) = (
        style::tick_formatter(x0, x1, style::XTICKS),
        style::tick_formatter(y0, y1, style::YTICKS),
    );
    chart
        .configure_mesh()
        .x_desc(&p.xlabel)
        .y_desc(&p.ylabel)
        .axis_desc_style(style::text(sz.label))
        .label_style(style::text(sz.tick))
        .x_labels(style::XTICKS)
        .y_labels(style::YTICKS)
        .x_label_formatter(&fx)
        .y_label_formatter(&fy)
        .bold_line_style(style::grid())
        .light_line_style(TRANSPARENT)
        .axis_style(BLACK.stroke_width(1))
        .draw()
        .ctx("axes")?;
    if y0 < 0.0 && y1 > 0.0 {
        chart
            .draw_series(LineSeries::new(
                [(x0, 0.0), (x1, 0.0)],
                BLACK.mix(0.45).stroke_width(1),
            ))
            .ctx("zero line")?;
    }
    // Bands under all lines.
    for s in &p.series {
        if let Some(err) = &s.err {
            let c = colours[s.label.as_str()];
            let upper =
                s.x.iter()
                    .zip(&s.y)
                    .zip(err)
                    .map(|((&x, &y), &e)| (x, y + e));
            let lower =
                s.x.iter()
                    .zip(&s.y)
                    .zip(err)
                    .rev()
                    .map(|((&x, &y), &e)| (x, y - e));
            let poly: Vec<(f64, f64)> = upper.chain(lower).collect();
            chart
                .draw_series(std::iter::once(Polygon::new(poly, c.mix(0.22).filled())))
                .ctx("error band")?;
        }
    }
    let lw = sz.line;
    for s in &p.series {
        let c = colours[s.label.as_str()];
        let st = c.stroke_width(lw);
        let pts: Vec<(f64, f64)> = s.x.iter().copied().zip(s.y.iter().copied()).collect();
        let anno = match s.style {
            LineStyle::Solid => chart.draw_series(LineSeries::new(pts.clone(), st)),
            LineStyle::Dashed => chart.draw_series(DashedLineSeries::new(
                pts.clone(),
                sz.px(10.0),
                sz.px(6.0),
                st,
            )),
            LineStyle::Dotted => chart.draw_series(DashedLineSeries::new(
                pts.clone(),
                sz.px(2.0),
                sz.px(4.0),
                st,
            )),
        }
        .ctx("series line")?;
        let (dash, mark, r) = (s.style, s.markers, sz.marker as i32);
        let sw = sz.px(legend::SWATCH) as i32;
        if p.legend {
            anno.label(&s.label).legend(move |(x, y)| {
                let segs = legend_segments(dash, sw);
                let mc = if mark {
                    c.filled()
                } else {
                    TRANSPARENT.filled()
                };
                EmptyElement::at((x, y))
                    + PathElement::new(vec![(segs[0].0, 0), (segs[0].1, 0)], st)
                    + PathElement::new(vec![(segs[1].0, 0), (segs[1].1, 0)], st)
                    + PathElement::new(vec![(segs[2].0, 0), (segs[2].1, 0)], st)
                    + Circle::new((sw / 2, 0), r, mc)
            });
        }
        if s.markers {
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, sz.marker, c.filled())))
                .ctx("markers")?;
        }
    }
    if p.legend {
        legend::draw(&mut chart, plan.pos, sz)?;
    }
    Ok(())
}

/// Three line segments (start, end) in pixels for the legend swatch of a stroke pattern.
fn legend_segments(style: LineStyle, w: i32) -> [(i32, i32); 3] {
    match style {
        LineStyle::Solid => [(0, w), (0, w), (0, w)],
        LineStyle::Dashed => [(0, w * 2 / 5), (w * 3 / 5, w), (0, w * 2 / 5)],
        LineStyle::Dotted => [(0, w / 6), (w * 5 / 12, w * 7 / 12), (w * 5 / 6, w)],
    }
}

/// Points along every curve and band edge (8 per segment, at most ~2000 segments per
/// series), in data coordinates, for legend placement.
fn outline(p: &Panel) -> Vec<(f64, f64)> {
    let mut pts = Vec::new();
    for s in &p.series {
        let n = s.x.len();
        let step = (n / 2000).max(1);
        let at = |i: usize, k: f64| {
            let e = s.err.as_ref().map_or(0.0, |e| e[i]);
            (s.x[i], s.y[i] + k * e)
        };
        let idx: Vec<usize> = (0..n).step_by(step).chain(std::iter::once(n - 1)).collect();
        for w in idx.windows(2) {
            for k in [-1.0, 0.0, 1.0] {
                let (a, b) = (at(w[0], k), at(w[1], k));
                pts.extend((0..8).map(|q| {
                    let t = q as f64 / 8.0;
                    (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1))
                }));
            }
        }
        pts.extend([-1.0, 0.0, 1.0].map(|k| at(n - 1, k)));
    }
    pts
}
