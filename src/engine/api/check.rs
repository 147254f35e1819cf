//! Script API for checks: `assert`, `assert_eq`, `assert_close`, and `exit(code)`. Doc examples and test fixture
//! scripts use them; a failed check is a catchable runtime error at the call site.
use rhai::plugin::*;
use rhai::Module;

/// The `check` topic module.
pub fn module() -> Module {
    exported_module!(check_api)
}

#[fdtlab_macros::guarded]
#[export_module]
pub mod check_api {
    use crate::engine::array::{num_arg, shape_str, NdArray};
    use crate::engine::error::rt;
    use rhai::{Dynamic, EvalAltResult, NativeCallContext, FLOAT, INT};

    type Res<T> = Result<T, Box<EvalAltResult>>;

    /// Ends the script (or the REPL) with exit code 0. Not catchable by `try`.
    ///
    /// ```rhai,no_run
    /// if is_quick() { exit(); }
    /// ```
    #[rhai_fn(volatile, return_raw)]
    pub fn exit() -> Res<()> {
        Err(crate::engine::error::exit_request(0))
    }

    /// Ends the script (or the REPL) with exit `code` (0 = success; as the shell sees it, so
    /// `exit(-1)` gives 255 and a code that would wrap to 0 gives 1). Not catchable by `try`.
    ///
    /// ```rhai,no_run
    /// let ok = false;
    /// if !ok { exit(1); }
    /// ```
    #[rhai_fn(name = "exit", volatile, return_raw)]
    pub fn exit_code(code: INT) -> Res<()> {
        Err(crate::engine::error::exit_request(
            crate::engine::error::status_of(code),
        ))
    }

    /// Ends the script (or the REPL) for any other value: a whole float is the code, anything
    /// else (`exit("failed")`) is printed to stderr and ends with exit code 1 — never a silent
    /// success. Not catchable by `try`.
    ///
    /// ```rhai,no_run
    /// exit("calibration did not converge");
    /// ```
    #[rhai_fn(name = "exit", volatile, return_raw)]
    pub fn exit_value(value: Dynamic) -> Res<()> {
        let code = match value.as_float() {
            Ok(f) if f.fract() == 0.0 && f.abs() < 1e18 => {
                crate::engine::error::status_of(f as INT)
            }
            _ => {
                if !value.is_unit() {
                    eprintln!("exit: {value}");
                }
                i32::from(!value.is_unit())
            }
        };
        Err(crate::engine::error::exit_request(code))
    }

    /// Fails with "assertion failed" unless `cond` is true.
    ///
    /// ```rhai
    /// assert(1 + 1 == 2);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn assert(cond: bool) -> Res<()> {
        if cond {
            Ok(())
        } else {
            Err(rt("assertion failed"))
        }
    }

    /// Fails with `message` unless `cond` is true.
    ///
    /// ```rhai
    /// let n = 3;
    /// assert(n > 0, "n must be positive");
    /// ```
    #[rhai_fn(name = "assert", return_raw)]
    pub fn assert_msg(cond: bool, message: &str) -> Res<()> {
        if cond {
            Ok(())
        } else {
            Err(rt(format!("assertion failed: {message}")))
        }
    }

    /// Fails unless `a == b` (any types with `==`; ints and floats compare by value).
    ///
    /// ```rhai
    /// assert_eq([1, 2], [1, 2]);
    /// assert_eq(2, 2.0);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn assert_eq(ctx: NativeCallContext, a: Dynamic, b: Dynamic) -> Res<()> {
        let same = match (num_arg(&a, ""), num_arg(&b, "")) {
            (Ok(x), Ok(y)) if !(a.is_array() || b.is_array()) => x == y,
            _ => ctx.call_native_fn::<bool>("==", (a.clone(), b.clone()))?,
        };
        if same {
            Ok(())
        } else {
            Err(rt(format!(
                "assert_eq failed: left = {}, right = {}",
                super::show(&ctx, a),
                super::show(&ctx, b)
            )))
        }
    }

    /// Fails unless `|a - b| <= tol` for numbers, or element-wise for arrays of equal shape
    /// (ndarrays or nested arrays of numbers). The message names the worst element.
    ///
    /// ```rhai
    /// assert_close(0.1 + 0.2, 0.3, 1e-12);
    /// assert_close(nd([1, 2]), [1.0, 2.0 + 1e-9], 1e-6);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn assert_close(a: Dynamic, b: Dynamic, tol: Dynamic) -> Res<()> {
        let tol = num_arg(&tol, "assert_close: tol")?;
        let x = NdArray::from_dynamic(&a, "assert_close: a")?;
        let y = NdArray::from_dynamic(&b, "assert_close: b")?;
        if x.shape() != y.shape() {
            return Err(rt(format!(
                "assert_close failed: shapes {} and {} differ",
                shape_str(x.shape()),
                shape_str(y.shape())
            )));
        }
        let mut worst: Option<(usize, FLOAT, FLOAT, FLOAT)> = None;
        for (k, (&p, &q)) in x.0.iter().zip(y.0.iter()).enumerate() {
            let d = (p - q).abs();
            // Equal infinities and NaN vs NaN pass; any other NaN difference fails.
            let close = p == q || (p.is_nan() && q.is_nan()) || d <= tol;
            if !close && worst.is_none_or(|w| d > w.3 || d.is_nan()) {
                worst = Some((k, p, q, d));
            }
        }
        match worst {
            None => Ok(()),
            Some((k, p, q, d)) => {
                let at = if x.ndim() == 0 {
                    String::new()
                } else {
                    format!(" at flat index {k}")
                };
                Err(rt(format!(
                    "assert_close failed{at}: {p} vs {q} differ by {d:e} > tol {tol:e}"
                )))
            }
        }
    }
}

/// `to_debug` text of a value.
fn show(ctx: &rhai::NativeCallContext, v: rhai::Dynamic) -> String {
    ctx.call_native_fn::<rhai::ImmutableString>("to_debug", (v.clone(),))
        .map(|s| s.to_string())
        .unwrap_or_else(|_| v.to_string())
}
