//! Crate errors → Rhai errors, and Rhai errors → one readable message with `line:col`.
//!
//! Native functions return [`crate::Error`]; `?` converts it (via the `From` impl below) into
//! `EvalAltResult::ErrorRuntime(message, Position::NONE)`. Rhai fills in the call-site position
//! on the way out, and scripts can `try { .. } catch (e) { .. }` it. Ctrl-C
//! ([`crate::Error::Interrupted`]) becomes `ErrorTerminated` instead, which `catch` cannot
//! swallow, so an interrupted script really stops.
use crate::Error;
use rhai::{Dynamic, EvalAltResult, ParseError, Position};

/// Message used when Ctrl-C stops a script (by [`crate::core::interrupt`] polling or `on_progress`).
pub const INTERRUPTED: &str = "interrupted (Ctrl-C)";

/// A catchable Rhai runtime error carrying `msg`; Rhai adds the call-site position.
///
/// Use it in `#[rhai_fn(return_raw)]` functions: `return Err(rt(format!("...")))`.
pub fn rt(msg: impl std::fmt::Display) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(Dynamic::from(msg.to_string()), Position::NONE).into()
}

impl From<Error> for Box<EvalAltResult> {
    fn from(e: Error) -> Self {
        match e {
            Error::Interrupted(_) => {
                EvalAltResult::ErrorTerminated(Dynamic::from(e.to_string()), Position::NONE).into()
            }
            other => rt(other),
        }
    }
}

/// `r.map_err(rhai_err)` for `crate::Result` values when `?` cannot infer the conversion.
pub fn rhai_err(e: Error) -> Box<EvalAltResult> {
    e.into()
}

/// `"line:col"` (or `"?"` when the position is unknown), prefixed by `source:` when given.
fn place(source: Option<&str>, pos: Position) -> String {
    let at = match (pos.line(), pos.position()) {
        (Some(l), Some(c)) => format!("{l}:{c}"),
        (Some(l), None) => format!("{l}"),
        _ => "?".to_string(),
    };
    match source {
        Some(s) if !s.is_empty() => format!("{s}:{at}"),
        _ => at,
    }
}

/// The message of one error without Rhai's position suffix and without "Runtime error: ".
fn message(err: &EvalAltResult) -> String {
    match err {
        EvalAltResult::ErrorRuntime(d, _) | EvalAltResult::ErrorTerminated(d, _) => {
            if d.is_unit() {
                if matches!(err, EvalAltResult::ErrorTerminated(..)) {
                    INTERRUPTED.to_string()
                } else {
                    "runtime error (thrown without a value)".to_string()
                }
            } else {
                d.to_string()
            }
        }
        EvalAltResult::ErrorParsing(p, _) => p.to_string(),
        EvalAltResult::ErrorFunctionNotFound(sig, _) => super::explain::function_not_found(sig),
        EvalAltResult::ErrorIndexingType(t, _) => super::explain::indexing(t),
        EvalAltResult::ErrorDotExpr(t, _) if super::explain::unknown_property(t).is_some() => {
            super::explain::unknown_property(t).unwrap_or_default()
        }
        EvalAltResult::ErrorStackOverflow(_) => {
            "too many nested function calls (stack overflow); is a recursion missing its base case?"
                .to_string()
        }
        other => {
            let s = other.to_string();
            let suffix = format!(" ({})", other.position());
            match s.strip_suffix(&suffix) {
                Some(t) if !other.position().is_none() => t.to_string(),
                _ => s,
            }
        }
    }
}

/// Formats a Rhai evaluation error as `[source:]line:col: message`, followed by one
/// `  called from ...` line per script function / module on the way to the error.
/// `source` names the script file (`None` in the REPL).
pub fn format_error(err: &EvalAltResult, source: Option<&str>) -> String {
    let mut frames = Vec::new();
    let mut cur = err;
    let mut cur_source: Option<String> = source.map(str::to_string);
    loop {
        match cur {
            EvalAltResult::ErrorInFunctionCall(name, src, inner, pos) => {
                frames.push(format!(
                    "  in fn '{name}' called at {}",
                    place(cur_source.as_deref(), *pos)
                ));
                if !src.is_empty() {
                    cur_source = Some(src.clone());
                }
                cur = inner;
            }
            EvalAltResult::ErrorInModule(path, inner, pos) => {
                frames.push(format!(
                    "  in module '{path}' imported at {}",
                    place(cur_source.as_deref(), *pos)
                ));
                cur_source = Some(path.clone());
                cur = inner;
            }
            _ => break,
        }
    }
    let mut out = format!(
        "{}: {}",
        place(cur_source.as_deref(), cur.position()),
        message(cur)
    );
    for f in frames.iter().rev() {
        out.push('\n');
        out.push_str(f);
    }
    out
}

/// Formats a parse error as `[source:]line:col: message`.
pub fn format_parse_error(err: &ParseError, source: Option<&str>) -> String {
    format!("{}: {}", place(source, err.1), err.0)
}

/// True if the error (or the error it wraps) came from Ctrl-C.
pub fn is_interrupt(err: &EvalAltResult) -> bool {
    match err {
        EvalAltResult::ErrorTerminated(d, _) => !d.is::<ExitRequest>(),
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
        | EvalAltResult::ErrorInModule(_, inner, _) => is_interrupt(inner),
        _ => false,
    }
}

/// Token carried by `ErrorTerminated` when a script calls `exit(code)`: uncatchable, and the
/// REPL / `fdtlab run` turn it into the process exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitRequest(pub i32);

/// The error `exit(code)` raises.
pub fn exit_request(code: i32) -> Box<EvalAltResult> {
    EvalAltResult::ErrorTerminated(Dynamic::from(ExitRequest(code)), Position::NONE).into()
}

/// `Some(code)` if the error is an `exit(code)` request (possibly inside function calls).
pub fn exit_code(err: &EvalAltResult) -> Option<i32> {
    match err {
        EvalAltResult::ErrorTerminated(d, _) => d.read_lock::<ExitRequest>().map(|e| e.0),
        EvalAltResult::Exit(v, _) => Some(exit_status(v)),
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
        | EvalAltResult::ErrorInModule(_, inner, _) => exit_code(inner),
        _ => None,
    }
}

/// The process exit status for Rhai's built-in `exit(value)`: a whole number as the shell
/// sees it (`exit(-1)` → 255, like C), `()` → 0, anything else (`exit("a")`) → 1: never a
/// silent success for a value that is not 0.
fn exit_status(v: &Dynamic) -> i32 {
    if v.is_unit() {
        return 0;
    }
    let code = v.as_int().ok().or_else(|| {
        v.as_float()
            .ok()
            .filter(|f| f.fract() == 0.0 && f.abs() < 1e18)
            .map(|f| f as i64)
    });
    match code {
        Some(c) => status_of(c),
        None => 1,
    }
}

/// `code` as an exit status 0–255 (`rem_euclid(256)`, like the shell), with a non-zero code
/// that would wrap to 0 (256, -256) kept non-zero.
pub fn status_of(code: i64) -> i32 {
    match code.rem_euclid(256) as i32 {
        0 if code != 0 => 1,
        s => s,
    }
}
