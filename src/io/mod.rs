//! File formats fdtlab reads and writes (atomic writes are on the ground floor:
//! [`crate::core::atomic`]).
