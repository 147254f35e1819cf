//! Ctrl-C during a long SDE run returns `Error::Interrupted` (own process: the flag is global).
use fdtlab::systems::reduced_climate::ReducedClimate;
use fdtlab::systems::sde::SdeRunOpts;
use fdtlab::Error;

#[test]
fn interrupt_stops_a_long_run() {
    fdtlab::core::progress::set_quiet(true);
    fdtlab::core::interrupt::request();
    let o = SdeRunOpts {
        members: 4,
        duration: 1e7,
        save_every: 1000,
        ..Default::default()
    };
    let e = ReducedClimate::default()
        .sde()
        .unwrap()
        .simulate(&o)
        .unwrap_err();
    assert!(matches!(e, Error::Interrupted(_)), "{e}");
    fdtlab::core::interrupt::clear();
}
