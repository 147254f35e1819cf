//! Legends: size estimate, placement that avoids the data, and the common look (white
//! semi-transparent box with a thin border).
use super::style::{text, Sizes};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Width of a legend swatch (line sample) in pixels at scale 1.
pub const SWATCH: f64 = 28.0;
/// Inner margin of the legend box in pixels at scale 1.
const MARGIN: f64 = 10.0;

/// Legend box size in pixels for `labels`, measured with the legend font on `area`.
pub fn box_px<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    labels: &[String],
    sz: &Sizes,
) -> (f64, f64) {
    let style = text(sz.legend);
    let widest = labels
        .iter()
        .map(|l| area.estimate_text_size(l, &style).map_or(0, |s| s.0))
        .max()
        .unwrap_or(0) as f64;
    let m = sz.px(MARGIN) as f64;
    // plotters insets the box by 5 px from the plot edge; lines are ~1.25 font sizes apart.
    let w = widest + sz.px(SWATCH + 10.0) as f64 + 2.0 * m + 8.0;
    let h = labels.len() as f64 * 1.25 * sz.legend + 2.0 * m + 8.0;
    (w, h)
}

/// A legend corner inside the plot area.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Corner {
    /// Top right.
    UpperRight,
    /// Top left.
    UpperLeft,
    /// Bottom right.
    LowerRight,
    /// Bottom left.
    LowerLeft,
}

impl Corner {
    /// The plotters position for this corner.
    pub fn position(self) -> SeriesLabelPosition {
        match self {
            Corner::UpperRight => SeriesLabelPosition::UpperRight,
            Corner::UpperLeft => SeriesLabelPosition::UpperLeft,
            Corner::LowerRight => SeriesLabelPosition::LowerRight,
            Corner::LowerLeft => SeriesLabelPosition::LowerLeft,
        }
    }
}

/// Where the legend goes and the (possibly raised) top of the y range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plan {
    /// Legend corner.
    pub pos: Corner,
    /// Top of the y axis; above the data's top when room was made for the legend.
    pub y1: f64,
}

/// Places a legend of `frac` = (width, height) as fractions of the plot area over the data
/// points `pts` (data coordinates) on axes `[x0, x1] × [y0, y1]`. In order of preference: an
/// empty upper corner (right, then left); an upper corner after raising the y range by at most
/// 25 %; an empty lower corner; an upper corner after raising the y range by at most 2×; the
/// corner covering the fewest points.
pub fn plan(
    pts: &[(f64, f64)],
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
    frac: (f64, f64),
) -> Plan {
    use Corner::*;
    let (w, h) = (frac.0.min(1.0), frac.1.min(1.0));
    let norm: Vec<(f64, f64)> = pts
        .iter()
        .map(|(x, y)| ((x - x0) / (x1 - x0), (y - y0) / (y1 - y0)))
        .collect();
    let xspan = |pos: Corner| match pos {
        UpperLeft | LowerLeft => (0.0, w),
        _ => (1.0 - w, 1.0),
    };
    let count = |pos: Corner| {
        let (xa, xb) = xspan(pos);
        let (ya, yb) = match pos {
            UpperLeft | UpperRight => (1.0 - h, 1.0),
            _ => (0.0, h),
        };
        norm.iter()
            .filter(|(x, y)| *x >= xa && *x <= xb && *y >= ya && *y <= yb)
            .count()
    };
    // Factor by which the y range must grow so the points under an upper legend stay below it.
    let raise = |pos: Corner| {
        let (xa, xb) = xspan(pos);
        let top = norm
            .iter()
            .filter(|(x, _)| *x >= xa && *x <= xb)
            .fold(0.0f64, |m, p| m.max(p.1));
        (top / (1.0 - h - 0.03).max(0.05)).max(1.0)
    };
    let keep = |pos| Plan { pos, y1 };
    let raised = |pos, k: f64| Plan {
        pos,
        y1: y0 + (y1 - y0) * k,
    };
    for pos in [UpperRight, UpperLeft] {
        if count(pos) == 0 {
            return keep(pos);
        }
    }
    let (kr, kl) = (raise(UpperRight), raise(UpperLeft));
    let (best_up, k) = if kl < kr {
        (UpperLeft, kl)
    } else {
        (UpperRight, kr)
    };
    if k <= 1.25 {
        return raised(best_up, k);
    }
    for pos in [LowerRight, LowerLeft] {
        if count(pos) == 0 {
            return keep(pos);
        }
    }
    if k <= 2.0 {
        return raised(best_up, k);
    }
    let pos = [UpperRight, UpperLeft, LowerRight, LowerLeft]
        .into_iter()
        .min_by_key(|&p| count(p))
        .unwrap_or(UpperRight);
    keep(pos)
}

/// Draws the series labels at `pos` with the common look.
pub fn draw<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    pos: Corner,
    sz: &Sizes,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .position(pos.position())
        .margin(sz.px(MARGIN))
        .legend_area_size(sz.px(SWATCH + 10.0))
        .label_font(text(sz.legend))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.6))
        .draw()
        .map_err(|e| format!("drawing the legend failed: {e}"))
}
