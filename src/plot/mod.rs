//! Figures (plotters) with an embedded font. No rhai here.
