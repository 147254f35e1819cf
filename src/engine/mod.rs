//! The only bridge between the numerics and Rhai.
