//! Shared helpers for the engine tests.
#![allow(dead_code)]
use fdtlab::engine::{format_error, new_engine, EngineConfig};
use rhai::{Dynamic, Engine};
use std::path::PathBuf;

/// A fresh temp folder unique to this test (removed at the start, kept for inspection).
pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fdtlab-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// An engine writing under a temp out dir, in quick mode.
pub fn engine(name: &str) -> Engine {
    new_engine(&EngineConfig {
        quick: true,
        out_dir: temp_dir(name),
        script_dir: None,
    })
}

/// Evaluates `src`; the error is formatted as `line:col: message`.
pub fn eval(src: &str) -> Result<Dynamic, String> {
    let e = engine("eval");
    e.eval::<Dynamic>(src)
        .map_err(|err| format_error(&err, None))
}

/// Evaluates and expects success.
pub fn ok(src: &str) -> Dynamic {
    eval(src).unwrap_or_else(|e| panic!("script failed: {e}\n--- script ---\n{src}"))
}

/// Runs statements and expects success.
pub fn check(src: &str) {
    let _ = ok(src);
}

/// Evaluates and expects an error; returns its message.
pub fn err(src: &str) -> String {
    match eval(src) {
        Ok(v) => panic!("expected an error, got {v:?}\n--- script ---\n{src}"),
        Err(e) => e,
    }
}
