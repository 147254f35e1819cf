//! Each class of bad input is a catchable Rhai runtime error that names the problem — never a
//! panic, never a silent NaN: wrong shapes, unknown option keys, negative dt, blow-up during a
//! run, missing files, refused configurations.
mod common;
use common::eval;

/// Runs `call` inside try/catch and returns the caught message.
fn caught(call: &str) -> String {
    let src = format!("let r = \"no error\"; try {{ {call}; }} catch (e) {{ r = `${{e}}`; }} r");
    let v = eval(&src).unwrap_or_else(|e| panic!("not catchable: {e}"));
    let msg = v.into_string().unwrap();
    assert_ne!(msg, "no error", "{call} should fail");
    msg
}

#[test]
fn wrong_shapes() {
    let m = caught("ou(#{ n: 8 }).drift(zeros([4, 4]))");
    assert!(m.contains("[4, 4]") && m.contains("[8, 8]"), "{m}");
    let m = caught("exact_score(ou(#{ n: 8 })).evaluate(zeros([5]))");
    assert!(m.contains("dimension 64"), "{m}");
    let m = caught("nd([1, 2]) + nd([1, 2, 3])");
    assert!(m.contains("[2]") && m.contains("[3]"), "{m}");
    let m = caught("trajectory(zeros([3, 4]), 1.0)");
    assert!(m.contains("members, frames"), "{m}");
}

#[test]
fn unknown_option_keys() {
    let m = caught("ou(#{ n: 8 }).simulate(#{ membrs: 2 })");
    assert!(m.contains("membrs") && m.contains("members"), "{m}");
    let m = caught("allen_cahn(#{ lamda: 1.0 })");
    assert!(m.contains("lamda"), "{m}");
    let m = caught("gfdt(trajectory(zeros([1, 10, 2]), 1.0), exact_score(ou()), #{ lag: 3 })");
    assert!(m.contains("lag"), "{m}");
}

#[test]
fn negative_or_zero_dt() {
    let m = caught("allen_cahn(#{ dt: -0.1 })");
    assert!(m.contains("dt") && m.contains("-0.1"), "{m}");
    let m = caught("trajectory(zeros([1, 10, 2]), 0)");
    assert!(m.contains("dt"), "{m}");
}

#[test]
fn blow_up_names_member_and_time() {
    let m = caught("allen_cahn(#{ n: 8, dt: 2.0 }).simulate(#{ members: 2, spinup: 0.0, duration: 200.0, save_every: 1 })");
    assert!(m.contains("member") && m.contains("dt"), "{m}");
}

#[test]
fn missing_files() {
    let m = caught("load_npy(\"/nonexistent/x.npy\")");
    assert!(m.contains("/nonexistent/x.npy"), "{m}");
    let m = caught("load_json(\"/nonexistent/x.json\")");
    assert!(m.contains("/nonexistent/x.json"), "{m}");
}

#[test]
fn refused_configurations() {
    // λ = 0 with γ = 0 has no stationary state (SPEC 3.1): refused with the fix.
    let m = caught("ou(#{ gamma: 0.0 })");
    assert!(m.contains("gamma"), "{m}");
    let m = caught("analytic_response(allen_cahn(#{ n: 8 }), #{ lags: 3 })");
    assert!(
        m.to_lowercase().contains("λ") || m.contains("lambda") || m.contains("linear"),
        "{m}"
    );
    let m = caught("plot_heatmap(\"x.txt\", zeros([2, 2]), #{})");
    assert!(m.contains("png") || m.contains("svg"), "{m}");
}

#[test]
fn error_carries_line_and_column() {
    let e = eval("let a = 1;\nlet sys = ou(#{ n: 8 });\nsys.simulate(#{ stpes: 3 });").unwrap_err();
    assert!(e.starts_with("3:"), "{e}");
    assert!(e.contains("stpes"), "{e}");
}
