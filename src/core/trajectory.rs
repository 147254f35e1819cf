//! A stored ensemble run: `data` has shape `[members, frames, ...state]` (for grids
//! `[M, T, N, N]`, axis 2 = x, axis 3 = y), frames `dt` time units apart.
use ndarray::ArrayD;

/// [`Trajectory::system`] of data wrapped by the user (`trajectory(data, dt)`): its origin is
/// unknown, so checks that a trajectory comes from a given system accept it.
pub const USER_DATA: &str = "user data";

#[derive(Clone, Debug)]
pub struct Trajectory {
    /// `[members, frames, ...state shape]`.
    pub data: ArrayD<f64>,
    /// Time between stored frames (physical time units) = integrator dt × save_every.
    pub dt: f64,
    /// Physical time of frame 0 (after spin-up).
    pub t0: f64,
    /// Short description of the system that produced it (for titles and metadata).
    pub system: String,
}

impl Trajectory {
    pub fn members(&self) -> usize {
        self.data.shape()[0]
    }
    pub fn frames(&self) -> usize {
        self.data.shape()[1]
    }
    /// Shape of one state (e.g. `[N, N]`).
    pub fn state_shape(&self) -> &[usize] {
        &self.data.shape()[2..]
    }
    /// Number of scalars in one state.
    pub fn state_dim(&self) -> usize {
        self.state_shape().iter().product()
    }
}
