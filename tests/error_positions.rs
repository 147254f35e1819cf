//! Native errors become catchable runtime errors whose call-site position reaches the message.
mod common;
use common::{engine, err};
use fdtlab::engine::error::{format_error, is_interrupt};
use fdtlab::Error;

#[test]
fn native_error_gets_the_call_site_position() {
    let e = err("let a = 1;\nlet b = 2;\n  let z = zeros([2, 3]) + ones([3, 2]);");
    assert!(
        e.starts_with("3:25: shape mismatch: [2, 3] + [3, 2]"),
        "{e}"
    );
    let e = err("let x = nd([1, 2]);\nx.get([7])");
    assert!(e.starts_with("2:3: get (axis 0): index 7"), "{e}");
}

#[test]
fn error_inside_a_script_function_shows_the_call_chain() {
    let e = err("fn inner(a) {\n  a.mean(5)\n}\nfn outer() { inner(ones([2])) }\nouter()");
    let lines: Vec<&str> = e.lines().collect();
    assert!(lines[0].starts_with("2:5: mean: axis 5"), "{e}");
    assert!(lines[1].contains("in fn 'inner' called at 4:14"), "{e}");
    assert!(lines[2].contains("in fn 'outer' called at 5:1"), "{e}");
}

#[test]
fn native_errors_are_catchable() {
    let v = engine("catch")
        .eval::<String>(
            "let msg = \"\";
             try { let z = zeros([2]) + zeros([3]); } catch (e) { msg = e; }
             msg",
        )
        .unwrap();
    assert!(v.starts_with("shape mismatch: [2] + [3]"), "{v}");
}

#[test]
fn crate_errors_convert() {
    let mut e = engine("convert");
    e.register_fn(
        "fail_invalid",
        || -> Result<(), Box<rhai::EvalAltResult>> {
            Err(Error::invalid("dt = -0.1 must be positive; pass dt > 0").into())
        },
    );
    e.register_fn(
        "fail_interrupt",
        || -> Result<(), Box<rhai::EvalAltResult>> {
            Err(Error::Interrupted("simulate".into()).into())
        },
    );
    let r = e.run("let a = 0;\n   fail_invalid();").unwrap_err();
    assert_eq!(
        format_error(&r, Some("s.rhai")),
        "s.rhai:2:4: dt = -0.1 must be positive; pass dt > 0"
    );
    // Ctrl-C inside native code cannot be swallowed by try/catch.
    let r = e
        .run("let caught = false; try { fail_interrupt(); } catch { caught = true; }")
        .unwrap_err();
    assert!(is_interrupt(&r));
    assert!(format_error(&r, None).contains("interrupted (Ctrl-C) during simulate"));
}

#[test]
fn deep_recursion_is_an_error_not_a_crash() {
    // Run on a thread with a main-thread-sized stack, as the binary does.
    let h = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(|| {
            let e = err("fn f(n) { if n == 0 { 0 } else { 1 + f(n - 1) } }\nf(100000)");
            assert!(
                e.starts_with("2:1:") && e.contains("too many nested function calls"),
                "{e}"
            );
            // 200 levels are fine.
            common::check("fn f(n) { if n == 0 { 0 } else { 1 + f(n - 1) } }\nf(200)");
        })
        .unwrap();
    h.join().unwrap();
}
