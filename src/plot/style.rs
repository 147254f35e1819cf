//! Shared look: colour-blind-friendly palette, font sizes scaled with the figure, tick-label
//! formatting, padded axis ranges and legend placement.
use super::font::FAMILY;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

/// Most tick labels on a horizontal axis of line plots and histograms.
pub const XTICKS: usize = 7;
/// Most tick labels on a vertical axis of line plots and histograms.
pub const YTICKS: usize = 8;

/// Okabe–Ito colours (yellow dropped: unreadable on white) plus tab10 brown; cycled.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
    RGBColor(140, 86, 75),   // brown
];

/// The `i`-th palette colour (cycling).
pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Font sizes and stroke widths in pixels, scaled from the 1200×900 reference figure
/// (title 22 px, axis labels 16 px).
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// Figure title.
    pub title: f64,
    /// Panel title.
    pub panel_title: f64,
    /// Axis descriptions.
    pub label: f64,
    /// Tick labels.
    pub tick: f64,
    /// Legend text.
    pub legend: f64,
    /// Data line width.
    pub line: u32,
    /// Marker radius.
    pub marker: u32,
    /// Scale factor relative to 1200×900.
    pub scale: f64,
}

impl Sizes {
    /// Sizes for a figure of `width`×`height` pixels.
    pub fn for_figure(width: u32, height: u32) -> Sizes {
        // Grow with the figure area; never shrink below the reference sizes unless the figure
        // is small (shorter side < 600 px), so single-panel figures keep readable text.
        let (w, h) = (width as f64, height as f64);
        let by_area = (w * h / (1200.0 * 900.0)).sqrt();
        let small = (w.min(h) / 600.0).min(1.0);
        let s = by_area.max(small).clamp(0.4, 4.0);
        Sizes {
            // plotters' size is not the em: the PNG renderer scales glyphs to size = ascent −
            // descent (≈ 1.16 em for DejaVu Sans), SVG writes font-size = size / 1.24. These give
            // an em of ≈ 22 px (title) and ≈ 16 px (axis labels) at 1200×900.
            title: 26.5 * s,
            panel_title: 22.0 * s,
            label: 19.5 * s,
            tick: 17.0 * s,
            legend: 17.0 * s,
            line: (2.0 * s).round().max(1.0) as u32,
            marker: (3.5 * s).round().max(2.0) as u32,
            scale: s,
        }
    }

    /// A pixel length scaled like the fonts.
    pub fn px(&self, v: f64) -> u32 {
        (v * self.scale).round().max(1.0) as u32
    }
}

/// A regular text style of `size` pixels.
pub fn text(size: f64) -> TextStyle<'static> {
    (FAMILY, size).into_font().color(&BLACK)
}

/// A bold text style of `size` pixels.
pub fn bold(size: f64) -> TextStyle<'static> {
    // `FontDesc::style` keeps the regular glyphs; the style must be given at construction.
    (FAMILY, size, FontStyle::Bold).into_font().color(&BLACK)
}

/// Light grey grid lines.
pub fn grid() -> ShapeStyle {
    RGBColor(0, 0, 0).mix(0.12).stroke_width(1)
}

/// Largest data magnitude a figure accepts (axis arithmetic stays finite with room to spare).
pub const MAX_ABS: f64 = 1e300;

/// Why `v` cannot be plotted, if it cannot: not finite, or larger than [`MAX_ABS`].
pub fn bad_value(v: f64) -> Option<&'static str> {
    if !v.is_finite() {
        Some("is not finite; remove or replace non-finite values before plotting")
    } else if v.abs() > MAX_ABS {
        Some("is too large to plot (|value| > 1e300); rescale the data")
    } else {
        None
    }
}

/// `[lo, hi]` made drawable: a range too narrow to label (zero width, below 1e-9 of its
/// magnitude, or below 1e-280 in absolute terms) is widened to ±10 % of its centre, or ±1
/// around a centre that is (numerically) zero.
pub fn span(lo: f64, hi: f64) -> (f64, f64) {
    let scale = lo.abs().max(hi.abs());
    if hi > lo && hi - lo > 1e-9 * scale && hi - lo >= 1e-280 {
        return (lo, hi);
    }
    let mid = 0.5 * lo + 0.5 * hi;
    let half = if mid.abs() < 1e-280 {
        1.0
    } else {
        0.1 * mid.abs()
    };
    (mid - half, mid + half)
}

/// [`span`] of `[lo, hi]`, padded by `frac` of its width on both sides.
pub fn padded(lo: f64, hi: f64, frac: f64) -> (f64, f64) {
    let (lo, hi) = span(lo, hi);
    let pad = frac * (hi - lo);
    (lo - pad, hi + pad)
}

/// The tick positions plotters draws for `[lo, hi]` with at most `n` labels.
pub fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    use plotters::coord::ranged1d::Ranged;
    use plotters::coord::types::RangedCoordf64;
    RangedCoordf64::from(lo..hi).key_points(n)
}

/// A tick-label formatter for an axis spanning `[lo, hi]` with at most `n` ticks. Labels get
/// the decimals of the actual tick spacing (steps are 1, 2 or 5 × 10^k), so they are exact and
/// uniform; magnitudes ≥ 1e5 or < 1e-3 use scientific notation ("1.5e-6").
pub fn tick_formatter(lo: f64, hi: f64, n: usize) -> impl Fn(&f64) -> String {
    let kp = ticks(lo, hi, n);
    let step = match kp.as_slice() {
        [a, b, ..] => (b - a).abs(),
        _ => (hi - lo).abs(),
    };
    let step = if step > 0.0 { step } else { 1.0 };
    let big = kp.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let big = if big > 0.0 {
        big
    } else {
        lo.abs().max(hi.abs())
    };
    let step_exp = (step.log10() + 1e-9).floor() as i32;
    let sci = big >= 1e5 || (big > 0.0 && big < 1e-3);
    move |v: &f64| {
        let v = *v;
        if v.abs() < step * 1e-6 {
            return "0".to_string();
        }
        if sci {
            let e = (v.abs().log10() + 1e-9).floor() as i32;
            let d = (e - step_exp).clamp(0, 8) as usize;
            format!("{:.d$}e{e}", v / 10f64.powi(e))
        } else {
            let d = (-step_exp).clamp(0, 10) as usize;
            format!("{v:.d$}")
        }
    }
}

/// Width in pixels of a vertical axis' label area: widest tick label, tick mark, rotated
/// axis description and gaps.
pub fn y_label_area<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lo: f64,
    hi: f64,
    n: usize,
    sz: &Sizes,
) -> u32 {
    let fmt = tick_formatter(lo, hi, n);
    let style = text(sz.tick);
    let widest = ticks(lo, hi, n)
        .iter()
        .map(|v| area.estimate_text_size(&fmt(v), &style).map_or(0, |s| s.0))
        .max()
        .unwrap_or(0);
    widest + sz.px(5.0 + 10.0 + 12.0) + (1.25 * sz.label) as u32
}

/// Draws `title` (bold, centred) at the top of `root` and returns the area below it; an empty
/// title returns `root` unchanged.
pub fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    sz: &Sizes,
) -> Result<DrawingArea<DB, Shift>, String> {
    if title.trim().is_empty() {
        return Ok(root.clone());
    }
    let gap = sz.px(8.0) as i32;
    root.margin(gap, 0, 0, 0)
        .titled(title, bold(sz.title))
        .map(|a| a.margin(gap / 2, 0, 0, 0))
        .map_err(|e| format!("drawing the title failed: {e}"))
}
