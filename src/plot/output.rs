//! Rendering a figure to PNG or SVG bytes in memory, then one atomic write: a failed or
//! interrupted plot never leaves a partial file behind.
use crate::core::atomic::write_bytes;
use crate::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Smallest and largest accepted figure side, in pixels.
pub const MIN_SIDE: u32 = 200;
/// Largest accepted figure side, in pixels (keeps the in-memory RGB buffer below ~200 MB).
pub const MAX_SIDE: u32 = 8000;

/// The output format, chosen by the file extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Raster `.png`.
    Png,
    /// Vector `.svg`.
    Svg,
}

impl Format {
    /// The format for `path`'s extension (case-insensitive `png` or `svg`).
    pub fn of(path: &Path) -> Result<Format> {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("png") => Ok(Format::Png),
            Some("svg") => Ok(Format::Svg),
            Some(other) => Err(Error::invalid(format!(
                "cannot plot to '{}': extension '.{other}' is not supported; use a path ending in .png or .svg",
                path.display()
            ))),
            None => Err(Error::invalid(format!(
                "cannot plot to '{}': no file extension; use a path ending in .png or .svg",
                path.display()
            ))),
        }
    }
}

/// Checks a requested figure size.
pub fn check_size(width: u32, height: u32) -> Result<()> {
    for (name, v) in [("width", width), ("height", height)] {
        if !(MIN_SIDE..=MAX_SIDE).contains(&v) {
            return Err(Error::invalid(format!(
                "figure {name} = {v} px is out of range; pass {MIN_SIDE} ≤ {name} ≤ {MAX_SIDE}"
            )));
        }
    }
    Ok(())
}

/// Something that can draw itself on any plotters backend. Inputs are validated before
/// painting, so a paint error is a drawing failure (font, backend), reported as text.
pub(crate) trait Paint {
    /// Draws the whole figure on `root`.
    fn paint<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<()>;
}

/// The result of a drawing step: the error is a human-readable message.
pub(crate) type DrawResult<T> = std::result::Result<T, String>;

/// Attaches "while drawing X" context to plotters errors.
pub(crate) trait Ctx<T> {
    /// Maps the error to a message naming the drawing step.
    fn ctx(self, what: &str) -> DrawResult<T>;
}

impl<T, E: std::fmt::Display> Ctx<T> for std::result::Result<T, E> {
    fn ctx(self, what: &str) -> DrawResult<T> {
        self.map_err(|e| format!("drawing the {what} failed: {e}"))
    }
}

/// Renders `fig` at `width`×`height` and writes it atomically to `path` (format by extension).
pub(crate) fn render(path: &Path, width: u32, height: u32, fig: &impl Paint) -> Result<()> {
    let format = Format::of(path)?;
    check_size(width, height)?;
    super::font::ensure();
    let bytes = match format {
        Format::Png => png_bytes(width, height, fig),
        Format::Svg => svg_bytes(width, height, fig),
    }
    .map_err(|msg| Error::io(path, format!("could not render the figure: {msg}")))?;
    write_bytes(path, &bytes)
}

fn png_bytes(width: u32, height: u32, fig: &impl Paint) -> DrawResult<Vec<u8>> {
    let mut rgb = vec![255u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        root.fill(&WHITE).ctx("background")?;
        fig.paint(&root)?;
        root.present().ctx("bitmap")?;
    }
    let mut out = Vec::new();
    use image::ImageEncoder;
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(&rgb, width, height, image::ColorType::Rgb8)
        .ctx("PNG encoding")?;
    Ok(out)
}

fn svg_bytes(width: u32, height: u32, fig: &impl Paint) -> DrawResult<Vec<u8>> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).ctx("background")?;
        fig.paint(&root)?;
        root.present().ctx("SVG document")?;
    }
    Ok(svg.into_bytes())
}
