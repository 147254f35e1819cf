//! Ctrl-C during a long correlation returns `Err(Interrupted)` (own test binary: the flag is
//! process-wide and would disturb concurrently running tests).
use fdtlab::response::synthetic::{Ar1Field, LinearOu};
use fdtlab::Error;

#[test]
fn interrupted_runs_return_err() {
    fdtlab::core::progress::set_quiet(true);
    let grid = Ar1Field::default_for(8).simulate(8, 100, 1).unwrap();
    let ou = LinearOu::new(ndarray::array![[-1.0]], ndarray::array![[1.0]]).unwrap();
    let vec = ou.simulate(8, 100, 0.1, 1).unwrap();
    fdtlab::core::interrupt::request();
    let e = fdtlab::response::gaussian_fdt_periodic(&grid, 5).unwrap_err();
    assert!(matches!(e, Error::Interrupted(_)), "{e}");
    let e = fdtlab::response::gaussian_fdt_vec(&vec, 5).unwrap_err();
    assert!(matches!(e, Error::Interrupted(_)), "{e}");
    fdtlab::core::interrupt::clear();
    assert!(fdtlab::response::gaussian_fdt_vec(&vec, 5).is_ok());
}
