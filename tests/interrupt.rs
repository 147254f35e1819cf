//! Ctrl-C simulation. The interrupt flag is process-global, so these tests live in their own
//! test binary and run one after another under a lock.
use fdtlab::engine::EngineConfig;
use fdtlab::repl::Session;
use std::sync::Mutex;

static SERIAL: Mutex<()> = Mutex::new(());

/// Runs `f` while another thread "presses Ctrl-C" after 50 ms (sets the flag, as the signal
/// handler does). `eval_line` clears the flag when it starts, so it must be set during the run.
fn with_ctrl_c<T>(f: impl FnOnce() -> T) -> T {
    let t = std::thread::spawn(|| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        fdtlab::core::interrupt::request();
    });
    let r = f();
    t.join().unwrap();
    r
}

fn session() -> Session {
    Session::new(&EngineConfig {
        quick: true,
        out_dir: std::env::temp_dir().join("fdtlab-test-interrupt"),
        script_dir: None,
    })
}

#[test]
fn ctrl_c_stops_a_script_loop_and_the_session_goes_on() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut s = session();
    s.eval_line("let n = 0;").unwrap();
    let e = with_ctrl_c(|| s.eval_line("loop { n += 1; }")).unwrap_err();
    assert!(e.starts_with("1:"), "{e}");
    assert!(e.contains("interrupted (Ctrl-C)"), "{e}");
    // try/catch cannot swallow it.
    let e = with_ctrl_c(|| {
        s.eval_line("let c = false; try { loop { n += 1; } } catch { c = true; } c")
    })
    .unwrap_err();
    assert!(e.contains("interrupted"), "{e}");
    // The next line clears the flag and works; state survived.
    assert_eq!(s.eval_line("n > 0").unwrap().as_deref(), Some("true"));
}

#[test]
fn a_flag_set_before_the_line_is_cleared() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut s = session();
    fdtlab::core::interrupt::request();
    // eval_line clears the flag first (a Ctrl-C at the prompt must not kill the next line).
    assert_eq!(
        s.eval_line("let s = 0; for i in 0..100000 { s += i; } s")
            .unwrap()
            .as_deref(),
        Some("4999950000")
    );
}

#[test]
fn native_check_inside_a_script_call_is_reported() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut engine = fdtlab::engine::new_engine(&EngineConfig::default());
    engine.register_fn("long_native", || -> Result<(), Box<rhai::EvalAltResult>> {
        fdtlab::core::interrupt::request();
        fdtlab::core::interrupt::check("long_native")?;
        Ok(())
    });
    let mut s = Session::with_engine(engine);
    let e = s.eval_line("\n  long_native()").unwrap_err();
    assert!(
        e.starts_with("2:3: interrupted (Ctrl-C) during long_native"),
        "{e}"
    );
    fdtlab::core::interrupt::clear();
}
