//! Issue "Crash-proof": a panic in a native call is a catchable error and the session goes on;
//! calls with a missing options map or whole floats for integers work; wrong calls are
//! explained in script words; `exit` never reports success for a failure.
mod common;
use fdtlab::engine::{new_engine, EngineConfig};
use fdtlab::repl::Session;
use rhai::plugin::*;

/// A test-only API module, guarded exactly like the real ones.
#[fdtlab_macros::guarded]
#[export_module]
mod boom_api {
    use rayon::prelude::*;
    use rhai::INT;

    /// Panics (test only).
    pub fn boom() -> INT {
        panic!("injected panic")
    }

    /// Panics inside a rayon worker (test only).
    pub fn boom_in_worker(n: INT) -> INT {
        (0..n.max(2))
            .into_par_iter()
            .map(|i| if i == 1 { panic!("worker panic") } else { i })
            .sum()
    }

    /// Returns `k` twice, to check the whole-float and options-less overloads (test only).
    pub fn twice(k: INT, opts: rhai::Map) -> INT {
        2 * k + opts.len() as INT
    }
}

fn session_with_boom() -> Session {
    let mut engine = new_engine(&EngineConfig {
        quick: true,
        out_dir: common::temp_dir("crash_proof"),
        script_dir: None,
    });
    engine.register_global_module(exported_module!(boom_api).into());
    Session::with_engine(engine)
}

#[test]
fn an_injected_panic_leaves_the_session_usable_with_its_variables() {
    let mut s = session_with_boom();
    s.eval_line("let x = 41; let tr = linear_ou(#{ A: [[-1.0]] }).simulate(#{ members: 2, duration: 2.0 });")
        .unwrap();
    let err = s.eval_line("boom()").unwrap_err();
    assert!(
        err.starts_with("1:1: internal error in boom: injected panic"),
        "{err}"
    );
    assert!(err.contains("please report"), "{err}");
    let err = s.eval_line("let y = 1;\nboom_in_worker(8)").unwrap_err();
    assert!(
        err.starts_with("2:1: internal error in boom_in_worker: worker panic"),
        "{err}"
    );
    assert_eq!(s.eval_line("x + 1").unwrap().as_deref(), Some("42"));
    assert_eq!(s.eval_line("tr.members").unwrap().as_deref(), Some("2"));
    // A script's catch sees it like any runtime error and goes on.
    let out = s
        .eval_line(r#"let m = ""; try { boom(); } catch (e) { m = e; } m"#)
        .unwrap()
        .unwrap();
    assert!(out.contains("internal error in boom"), "{out}");
}

#[test]
fn options_map_can_be_left_out_and_whole_floats_are_integers() {
    let mut s = session_with_boom();
    assert_eq!(s.eval_line("twice(3)").unwrap().as_deref(), Some("6"));
    assert_eq!(s.eval_line("twice(3.0)").unwrap().as_deref(), Some("6"));
    assert_eq!(
        s.eval_line("twice(3.0, #{ a: 1 })").unwrap().as_deref(),
        Some("7")
    );
    let err = s.eval_line("twice(2.5)").unwrap_err();
    assert!(err.contains("argument 'k' must be a whole number"), "{err}");
    // The real API: the findings' cases K02–K04, H07–H10.
    s.eval_line(
        "let sys = linear_ou(#{ A: [[-1.0]] }); let tr = sys.simulate(#{ members: 2, duration: 20.0 });",
    )
    .unwrap();
    for line in [
        "gfdt(tr, exact_score(sys)).lags",
        "gaussian_fdt(tr).lags",
        "sys.simulate().members",
        "start_states(tr, 1.0, 4.0).shape[0]",
        "frame(tr, 0, 1.0).shape[0]",
        "arange(3)[1.0]",
        "tr.thin(2.0).frames",
    ] {
        assert!(s.eval_line(line).is_ok(), "{line}: {:?}", s.eval_line(line));
    }
}

#[test]
fn wrong_calls_are_explained_in_script_words() {
    let mut s = session_with_boom();
    let err = s.eval_line(r#"gfdt("abc", 1, 2)"#).unwrap_err();
    assert!(err.contains("gfdt cannot take (string, int, int)"), "{err}");
    assert!(
        err.contains("it takes:") && err.contains("help(\"gfdt\")"),
        "{err}"
    );
    for leak in ["ImmutableString", "&str", "i64", "Function not found"] {
        assert!(!err.contains(leak), "{leak} in {err}");
    }
    let err = s.eval_line("gaussain_fdt(1)").unwrap_err();
    assert!(err.contains("Did you mean gaussian_fdt"), "{err}");
    s.eval_line("let tr = linear_ou(#{ A: [[-1.0]] }).simulate(#{ members: 2, duration: 2.0 });")
        .unwrap();
    let err = s.eval_line("tr.thinn(2)").unwrap_err();
    assert!(
        err.contains("Did you mean") && err.contains("thin"),
        "{err}"
    );
    let err = s.eval_line("tr.values").unwrap_err();
    assert!(
        err.contains("tr.values()") || err.contains("x.values()"),
        "{err}"
    );
    // B37: simulate on a trajectory names what simulate takes.
    let err = s.eval_line("tr.simulate(#{})").unwrap_err();
    assert!(
        err.contains("simulate cannot take (trajectory, map)"),
        "{err}"
    );
    assert!(err.contains("sys"), "{err}");
    let err = s.eval_line("help(123)").unwrap_err();
    assert!(
        err.contains("help cannot take (int)") && err.contains("help(name"),
        "{err}"
    );
}

#[test]
fn exit_never_reports_success_for_a_failure() {
    for (line, code) in [
        ("exit(-1)", 255),
        ("exit(3)", 3),
        ("exit(256)", 1),
        ("exit(\"a\")", 1),
        ("exit(0)", 0),
        ("exit()", 0),
    ] {
        let mut s = session_with_boom();
        assert_eq!(s.eval_line(line).unwrap(), None, "{line}");
        assert_eq!(s.exit_code(), Some(code), "{line}");
    }
}

/// `(name, [param types], generated)` of every function the engine registers outside Rhai's
/// own packages.
fn registered() -> Vec<(String, Vec<String>, bool)> {
    let engine = new_engine(&EngineConfig::default());
    let json: serde_json::Value =
        serde_json::from_str(&engine.gen_fn_metadata_to_json(false).unwrap()).unwrap();
    json["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let types = f["params"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| p["type"].as_str().unwrap_or("?").replace("&mut ", ""))
                .collect();
            let doc = f["docComments"][0].as_str().unwrap_or("");
            let generated = doc.contains(fdtlab::engine::guard::GENERATED_DOC);
            (f["name"].as_str().unwrap().to_string(), types, generated)
        })
        .collect()
}

#[test]
fn no_overload_is_registered_twice_and_every_options_map_is_optional() {
    let fns = registered();
    let mut seen = std::collections::HashSet::new();
    let dups: Vec<String> = fns
        .iter()
        .filter(|(n, t, _)| !seen.insert((n.clone(), t.clone())))
        .map(|(n, t, _)| format!("{n}({})", t.join(", ")))
        .collect();
    assert!(
        dups.is_empty(),
        "registered twice (one shadows the other): {dups:?}"
    );
    let missing: Vec<String> = fns
        .iter()
        .filter(|(_, t, generated)| !generated && t.last().is_some_and(|l| l.ends_with("Map")))
        .filter(|(n, t, _)| {
            !fns.iter()
                .any(|(m, u, _)| m == n && u.as_slice() == &t[..t.len() - 1])
        })
        .map(|(n, t, _)| format!("{n}({})", t.join(", ")))
        .collect();
    assert!(
        missing.is_empty(),
        "functions with an options map but no overload without it: {missing:?}"
    );
}
