//! Ctrl-C during a run of a system typed in Rhai stops it (the closure's own termination and
//! the integrator's poll both end the script; `catch` cannot swallow it). Own process: the
//! interrupt flag is global.
mod common;
use rhai::{Dynamic, EvalAltResult};
use std::time::{Duration, Instant};

#[test]
fn ctrl_c_stops_a_closure_system_run() {
    fdtlab::core::progress::set_quiet(true);
    let e = common::engine("closure-interrupt");
    let h = std::thread::spawn(|| {
        std::thread::sleep(Duration::from_millis(300));
        fdtlab::core::interrupt::request();
    });
    let t = Instant::now();
    // ≈ 10⁸ closure steps (minutes) if not interrupted; 10⁴ frames.
    let r = e.eval::<Dynamic>(
        "let r = 0; \
         try { sde(#{ drift: |x| -x, noise: 1.0, dim: 1 }).simulate(#{ duration: 1e6, save_every: 10000 }); } \
         catch (e) { r = 1; } r",
    );
    h.join().unwrap();
    fdtlab::core::interrupt::clear();
    let err = r.expect_err("the run should be interrupted");
    assert!(matches!(*err, EvalAltResult::ErrorTerminated(..)), "{err}");
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
}
