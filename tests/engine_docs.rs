//! Documentation is part of the API: every registered fdtlab function has a doc comment with
//! a ```rhai example, every example runs, and help() finds things. New bindings are held to
//! the same rules automatically.
mod common;
use fdtlab::engine::help::{catalog, engine_fn_docs};
use fdtlab::engine::stdlib::{compile_module, STDLIB};
use fdtlab::engine::{format_error, new_engine, EngineConfig};

/// `(is_no_run, code)` of every ```rhai block in a doc text.
fn examples(doc: &str) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    let mut cur: Option<(bool, String)> = None;
    for line in doc.lines() {
        let t = line.trim();
        match &mut cur {
            None if t.starts_with("```rhai") => {
                cur = Some((t.contains("no_run"), String::new()));
            }
            Some(_) if t == "```" => {
                out.extend(cur.take());
            }
            Some((_, code)) => {
                code.push_str(line);
                code.push('\n');
            }
            None => {}
        }
    }
    assert!(cur.is_none(), "unterminated ```rhai block in:\n{doc}");
    out
}

#[test]
fn every_registered_function_has_a_doc_with_an_example() {
    let engine = new_engine(&EngineConfig::default());
    let docs = engine_fn_docs(&engine);
    assert!(
        docs.len() > 50,
        "expected the fdtlab API, got {} functions",
        docs.len()
    );
    let mut missing = Vec::new();
    for f in &docs {
        if f.is_operator() {
            continue;
        }
        if f.doc.trim().is_empty() || examples(&f.doc).is_empty() {
            missing.push(f.signature.clone());
        }
    }
    assert!(
        missing.is_empty(),
        "functions without a /// doc comment containing a ```rhai example:\n  {}",
        missing.join("\n  ")
    );
}

#[test]
fn every_registered_function_belongs_to_a_help_topic() {
    let engine = new_engine(&EngineConfig::default());
    let cat = catalog();
    let mut orphans = Vec::new();
    for f in engine_fn_docs(&engine) {
        if !cat.all().any(|(_, g)| g.signature == f.signature) {
            orphans.push(f.signature);
        }
    }
    assert!(
        orphans.is_empty(),
        "registered outside api::TOPICS (help() cannot list them):\n  {}",
        orphans.join("\n  ")
    );
}

#[test]
fn stdlib_functions_have_docs_with_examples() {
    for (name, _) in STDLIB {
        let t = cat_topic(name);
        assert!(
            !t.summary.is_empty(),
            "stdlib '{name}' needs a //! module doc line"
        );
        for f in &t.fns {
            assert!(
                !examples(&f.doc).is_empty(),
                "{} has no ```rhai example",
                f.signature
            );
        }
    }
}

fn cat_topic(name: &str) -> &'static fdtlab::engine::help::TopicDoc {
    catalog().topics.iter().find(|t| t.name == name).unwrap()
}

#[test]
fn all_doc_examples_run() {
    let dir = common::temp_dir("doc_examples");
    let mut seen = std::collections::HashSet::new();
    let mut failures = Vec::new();
    let mut ran = 0;
    for (_, f) in catalog().all() {
        for (no_run, code) in examples(&f.doc) {
            if no_run || !seen.insert(code.clone()) {
                continue;
            }
            let engine = new_engine(&EngineConfig {
                quick: true,
                out_dir: dir.clone(),
                script_dir: Some(dir.clone()),
            });
            ran += 1;
            if let Err(e) = engine.run(&code) {
                failures.push(format!(
                    "{}:\n{}\n  -> {}",
                    f.signature,
                    code,
                    format_error(&e, None)
                ));
            }
        }
    }
    assert!(ran > 40, "only {ran} examples ran");
    assert!(
        failures.is_empty(),
        "failing doc examples:\n{}",
        failures.join("\n")
    );
}

#[test]
fn stdlib_compiles_and_imports_from_any_folder() {
    let engine = new_engine(&EngineConfig::default());
    for (name, src) in STDLIB {
        compile_module(&engine, name, src).unwrap_or_else(|e| panic!("{e}"));
    }
    // A script in some other folder imports the stdlib and a module next to it.
    let dir = common::temp_dir("stdlib_import");
    std::fs::write(dir.join("local.rhai"), "fn twice(x) { 2 * x }").unwrap();
    let engine = new_engine(&EngineConfig {
        quick: true,
        out_dir: dir.join("out"),
        script_dir: Some(dir.clone()),
    });
    let s = engine
        .eval::<String>(
            "import \"util\" as util;
             import \"local\" as local;
             util::fmt(local::twice(1.25), 3)",
        )
        .unwrap();
    assert_eq!(s, "2.500");
    let t = engine
        .eval::<String>(
            "import \"util\" as u;
             u::table([\"name\", \"value\"], [[\"dt\", 0.01], [\"steps\", 1000]])",
        )
        .unwrap();
    assert_eq!(
        t,
        "name   value\n-----  ------\ndt     0.0100\nsteps    1000\n"
    );
    let e = engine
        .eval::<String>("import \"nonexistent_mod\" as x; 1")
        .unwrap_err();
    assert!(format_error(&e, None).contains("nonexistent_mod"));
}

#[test]
fn util_fmt_cases() {
    let engine = new_engine(&EngineConfig::default());
    let f = |x: &str, d: i64| {
        engine
            .eval::<String>(&format!("import \"util\" as u; u::fmt({x}, {d})"))
            .unwrap()
    };
    assert_eq!(f("3.14159", 2), "3.14");
    assert_eq!(f("2.675", 2), "2.68"); // scaled magnitude rounds half away from zero
    assert_eq!(f("-0.004", 2), "0.00");
    assert_eq!(f("-1.5", 0), "-2");
    assert_eq!(f("0.05", 3), "0.050");
    assert_eq!(f("7", 1), "7.0");
    assert_eq!(f("1e20", 2), "1e20"); // too big for fixed point: plain to_string
    assert_eq!(f("0.0/0.0", 2), "NaN");
}

#[test]
fn help_overview_and_lookup() {
    let cat = catalog();
    let all = cat.overview();
    for needle in [
        "ndarray —",
        "io —",
        "check —",
        "zeros(shape)",
        "save_npy(path, array)",
        "util —",
        "import \"util\" as util;",
        "util::table(headers, rows)",
        "operators: ",
    ] {
        assert!(all.contains(needle), "overview lacks {needle:?}:\n{all}");
    }
    // One line per name, not per overload.
    assert_eq!(all.matches("  mean(").count(), 1, "{all}");

    let z = cat.lookup("zeros");
    assert!(z.starts_with("zeros(shape: ?) -> ndarray"), "{z}");
    assert!(
        z.contains("```rhai") && z.contains("let a = zeros([2, 3]);"),
        "{z}"
    );
    let m = cat.lookup("mean");
    assert!(
        m.contains("mean(a: ndarray) -> f64")
            && m.contains("mean(a: ndarray, axis: i64) -> ndarray"),
        "{m}"
    );
    assert!(cat.lookup("shape").contains("The shape as an array"));
    assert!(cat.lookup("util::fmt").contains("digits"));
    assert!(cat.lookup("ndarray").contains("linspace("));
    let s = cat.lookup("meen");
    assert!(s.contains("Did you mean") && s.contains("mean"), "{s}");
    let s = cat.lookup("save_npz");
    assert!(s.contains("save_npy"), "{s}");
    let s = cat.lookup("qqqqqqqq");
    assert!(s.contains("help() lists"), "{s}");
}
