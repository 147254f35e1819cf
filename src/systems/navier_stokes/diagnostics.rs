//! Diagnostics of Navier–Stokes trajectories: energy and enstrophy time series and the
//! isotropic energy spectrum.
//!
//! Energy is that of the *perturbation* velocity `u' = (∂ᵧψ, −∂ₓψ)`, `E = ½⟨|u'|²⟩ₓ`: the uniform
//! background flow `U` (kinetic energy `U²/2`, constant) is excluded. Enstrophy is
//! `Z = ½⟨ζ²⟩ₓ` (including the small mean-vorticity mode). Both are computed spectrally with the
//! solver's derivatives (Parseval), so they are exactly the invariants of the inviscid solver.
use super::system::NsSystem;
use crate::core::trajectory::Trajectory;
use crate::{Error, Result};
use ndarray::{Array2, Axis};
use num_complex::Complex64 as C64;
use rayon::prelude::*;

fn check_traj(sys: &NsSystem, traj: &Trajectory, who: &str) -> Result<()> {
    let from = traj.system.as_str();
    if !(from.starts_with(NsSystem::DESCRIBE_PREFIX)
        || from == crate::core::trajectory::USER_DATA
        || from.is_empty())
    {
        return Err(Error::invalid(format!(
            "{who}: this trajectory comes from '{from}', not from a Navier–Stokes system; the \
             Navier–Stokes diagnostics read its frames as vorticity fields, so pass a trajectory \
             of navier_stokes(..).simulate(..) (or your own vorticity data via trajectory(data, \
             dt))"
        )));
    }
    let n = sys.n();
    if traj.data.ndim() != 4 || traj.state_shape() != [n, n] {
        return Err(Error::shape(format!(
            "trajectory data has shape {:?}; the Navier–Stokes diagnostics need [members, \
             frames, {n}, {n}] (a trajectory of this system)",
            traj.data.shape()
        )));
    }
    Ok(())
}

/// Calls `f(member, frame, spectrum)` for every frame of member `m`, in order.
fn for_frames(sys: &NsSystem, traj: &Trajectory, m: usize, mut f: impl FnMut(usize, &[C64])) {
    let mut ws = sys.workspace();
    let mut z = sys.zero_spec();
    let mut field = vec![0.0; sys.n() * sys.n()];
    let member = traj.data.index_axis(Axis(0), m);
    for (t, frame) in member.axis_iter(Axis(0)).enumerate() {
        for (d, v) in field.iter_mut().zip(frame.iter()) {
            *d = *v;
        }
        sys.spectral().forward(&field, &mut z, &mut ws.sw);
        f(t, &z);
    }
}

/// Energy `½⟨|u'|²⟩` (perturbation velocity, background excluded) and enstrophy `½⟨ζ²⟩` of every
/// frame: two `[M, T]` arrays.
pub fn ns_energy_enstrophy(
    sys: &NsSystem,
    traj: &Trajectory,
) -> Result<(Array2<f64>, Array2<f64>)> {
    check_traj(sys, traj, "ns_energy")?;
    let (m, t) = (traj.members(), traj.frames());
    let rows: Vec<(Vec<f64>, Vec<f64>)> = (0..m)
        .into_par_iter()
        .map(|mi| {
            let (mut e, mut z) = (vec![0.0; t], vec![0.0; t]);
            for_frames(sys, traj, mi, |ti, spec| {
                let (a, b) = sys.energy_enstrophy_spec(spec);
                e[ti] = a;
                z[ti] = b;
            });
            (e, z)
        })
        .collect();
    let mut energy = Array2::zeros((m, t));
    let mut enstrophy = Array2::zeros((m, t));
    for (mi, (e, z)) in rows.into_iter().enumerate() {
        energy.row_mut(mi).assign(&ndarray::Array1::from(e));
        enstrophy.row_mut(mi).assign(&ndarray::Array1::from(z));
    }
    Ok((energy, enstrophy))
}

/// Isotropic energy spectrum averaged over all frames and members: returns `(k, E(k))` with
/// shells `k = 0, 1, …, ⌊n/√2⌉` (coefficient `k` goes to shell `round(|k|)`; shells above
/// n/2 are incomplete). `Σ_k E(k)` is the mean energy `½⟨|u'|²⟩`.
pub fn ns_energy_spectrum(sys: &NsSystem, traj: &Trajectory) -> Result<(Vec<f64>, Vec<f64>)> {
    check_traj(sys, traj, "ns_spectrum")?;
    let sp = sys.spectral();
    let n = sys.n();
    let shells = ((n as f64 / 2.0) * std::f64::consts::SQRT_2).round() as usize + 1;
    let shell: Vec<usize> = sp
        .k2()
        .iter()
        .map(|k2| k2.sqrt().round() as usize)
        .collect();
    let nn = (n * n) as f64;
    let norm = 0.5 / (nn * nn);
    let per_member: Vec<Vec<f64>> = (0..traj.members())
        .into_par_iter()
        .map(|mi| {
            let mut acc = vec![0.0; shells];
            for_frames(sys, traj, mi, |_, spec| {
                for (i, v) in spec.iter().enumerate() {
                    acc[shell[i]] += sp.weight(i) * sys.energy_weight(i) * v.norm_sqr() * norm;
                }
            });
            acc
        })
        .collect();
    let count = (traj.members() * traj.frames()) as f64;
    let mut e = vec![0.0; shells];
    for acc in &per_member {
        for (a, b) in e.iter_mut().zip(acc) {
            *a += b;
        }
    }
    e.iter_mut().for_each(|v| *v /= count);
    Ok(((0..shells).map(|s| s as f64).collect(), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systems::navier_stokes::NsParams;
    use ndarray::Array4;

    #[test]
    fn single_mode_energy_enstrophy_and_spectrum() {
        // ζ = A cos(3x + 4y): Z = A²/4, E = A²/(4|k|²) with |k| = 5, all energy in shell 5.
        let n = 16;
        let sys = NsSystem::new(NsParams {
            n,
            ..NsParams::default()
        })
        .unwrap();
        let h = std::f64::consts::TAU / n as f64;
        let mut data = Array4::zeros((2, 3, n, n));
        for ((m, t, ix, iy), v) in data.indexed_iter_mut() {
            let a = 1.0 + m as f64 + t as f64;
            *v = a * (3.0 * ix as f64 * h + 4.0 * iy as f64 * h).cos();
        }
        let traj = Trajectory {
            data: data.into_dyn(),
            dt: 1.0,
            t0: 0.0,
            system: sys.describe(),
        };
        let (e, z) = ns_energy_enstrophy(&sys, &traj).unwrap();
        assert_eq!(e.shape(), &[2, 3]);
        let mut mean_e = 0.0;
        for m in 0..2 {
            for t in 0..3 {
                let a: f64 = 1.0 + m as f64 + t as f64;
                assert!((z[[m, t]] - a * a / 4.0).abs() < 1e-12);
                assert!((e[[m, t]] - a * a / 100.0).abs() < 1e-12);
                mean_e += e[[m, t]] / 6.0;
            }
        }
        let frame: Vec<f64> = traj
            .data
            .slice(ndarray::s![1, 2, .., ..])
            .iter()
            .copied()
            .collect();
        let (e1, z1) = sys.energy_enstrophy(&frame).unwrap();
        assert!((e1 - e[[1, 2]]).abs() < 1e-12 && (z1 - z[[1, 2]]).abs() < 1e-12);
        assert!(sys.energy_enstrophy(&frame[1..]).is_err());
        let (k, spec) = ns_energy_spectrum(&sys, &traj).unwrap();
        assert_eq!(k.len(), spec.len());
        assert_eq!(k[5], 5.0);
        assert!((spec[5] - mean_e).abs() < 1e-12);
        assert!((spec.iter().sum::<f64>() - mean_e).abs() < 1e-12);
        // wrong shapes are refused
        let bad = Trajectory {
            data: ndarray::ArrayD::zeros(vec![1, 2, 8, 8]),
            dt: 1.0,
            t0: 0.0,
            system: String::new(),
        };
        assert!(ns_energy_enstrophy(&sys, &bad).is_err());
        assert!(ns_energy_spectrum(&sys, &bad).is_err());
    }
}
