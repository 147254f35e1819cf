//! The embedded font: DejaVu Sans (from the `dejavu` crate) registered with plotters' `ab_glyph`
//! text renderer, so figures render on a machine without any system fonts.
use plotters::style::{register_font, FontStyle};
use std::sync::Once;

/// The font family name every figure uses.
pub const FAMILY: &str = "sans-serif";

static REGISTER: Once = Once::new();

/// Registers DejaVu Sans (regular and bold) as `sans-serif`, once per process. Every plot
/// function calls this first; calling it again is free.
pub fn ensure() {
    REGISTER.call_once(|| {
        // The bytes are a valid TTF shipped inside the `dejavu` crate; a failure here would be
        // a packaging bug, and then text drawing reports `FontUnavailable` as an Err (no panic).
        let _ = register_font(FAMILY, FontStyle::Normal, dejavu::sans::regular());
        let _ = register_font(FAMILY, FontStyle::Bold, dejavu::sans::bold());
    });
}
