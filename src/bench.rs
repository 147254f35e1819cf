//! `fdtlab bench`: speed figures, one `name: value unit` line each.
