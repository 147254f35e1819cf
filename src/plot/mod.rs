//! Referee-quality figures (plotters) as PNG or SVG, chosen by the file extension.
//!
//! - [`save_lines`]: a grid of panels with curves, shaded ±error bands and legends.
//! - [`save_heatmap`]: a 2-D field (axis 0 = x, axis 1 = y upward) with a colour bar.
//! - [`save_histogram`] / [`save_histograms`]: density histograms, optional Gaussian overlay.
//!
//! Text uses DejaVu Sans embedded in the binary ([`font::ensure`]), so no system fonts are
//! needed. Inputs are validated before drawing (NaN/inf, lengths, sizes) and every file is
//! rendered in memory and written atomically: an error never leaves a partial file.
//! Legends sit in the upper-right corner when it is free of data, otherwise in another free
//! corner, raising the y range when that is what it takes ([`legend::plan`]).
//! No rhai here.
//!
//! ```no_run
//! use fdtlab::plot::{save_lines, Figure, LineStyle, Panel, Series};
//! let t: Vec<f64> = (0..50).map(|i| 0.1 * i as f64).collect();
//! let r: Vec<f64> = t.iter().map(|t| (-t).exp()).collect();
//! let fig = Figure::new("Response of mode 1").with_panel(
//!     Panel::new("k = 1", "lag t [time units]", "R(t)")
//!         .with_series(Series::new("exact", t.clone(), r.clone()))
//!         .with_series(Series::new("GFDT", t, r).with_err(vec![0.05; 50]).style(LineStyle::Dashed)),
//! );
//! save_lines("response.svg".as_ref(), &fig)?;
//! # Ok::<(), fdtlab::Error>(())
//! ```
pub mod font;
pub mod heatmap;
pub mod histogram;
pub mod legend;
pub mod lines;
pub mod output;
pub mod style;

#[cfg(test)]
mod tests;

pub use heatmap::{save_heatmap, HeatmapOpts};
pub use histogram::{save_histogram, save_histograms, HistOpts};
pub use lines::{save_lines, Figure, LineStyle, Panel, Series};
pub use output::Format;
