//! Script API for files and run settings: `.npy`, JSON, CSV, `out_path`, `is_quick`, timing,
//! and `warnings()`.
//! Every write is atomic ([`crate::core::atomic`]).
use rhai::plugin::*;
use rhai::Module;

/// The `io` topic module.
pub fn module() -> Module {
    exported_module!(io_api)
}

/// Reads an `.npy` file as f64, converting f32 / integer / bool files.
pub fn read_npy_any(path: &std::path::Path) -> crate::Result<ndarray::ArrayD<f64>> {
    use crate::Error;
    use ndarray::ArrayD;
    use ndarray_npy::{ReadNpyError, ReadNpyExt};
    let open_err = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::io(
                path,
                "no such file; check the path (relative paths start at the current folder)",
            )
        } else {
            Error::io(path, e)
        }
    };
    let size = std::fs::metadata(path).map_err(open_err)?.len();
    let what = format!("load_npy {}", path.display());
    crate::budget::check(
        &what,
        "the file",
        &[("bytes", usize::try_from(size).unwrap_or(usize::MAX))],
        1,
        "load a smaller file",
    )?;
    let bytes = std::fs::read(path).map_err(open_err)?;
    let fail = |e: ReadNpyError| Error::io(path, format!("not a readable .npy file: {e}"));
    // The reader allocates the array the header describes before reading the data: check
    // that the file holds that many values (at least one byte each) and that the array, as
    // read and as f64, fits the memory budget.
    let mut reader = &bytes[..];
    if let Ok(h) = ndarray_npy::npy::header::Header::from_reader(&mut reader) {
        let values = h
            .shape
            .iter()
            .try_fold(1usize, |a, &n| a.checked_mul(n))
            .unwrap_or(usize::MAX);
        if values > reader.len() {
            return Err(Error::io(
                path,
                format!(
                    "its header describes an array of shape {:?} ({values} values) but the \
                     file holds only {} bytes of data; the file is truncated or corrupt",
                    h.shape,
                    reader.len()
                ),
            ));
        }
        crate::budget::Request::new(&what)
            .buffer("the file", &[("bytes", bytes.len())], 1)
            .buffer("the array", &[("", 2), ("values", values)], 8)
            .fix("load a smaller file")
            .check()?;
    }
    macro_rules! try_as {
        ($t:ty) => {
            match ArrayD::<$t>::read_npy(&bytes[..]) {
                Ok(a) => return Ok(a.mapv(|x| x as f64)),
                Err(ReadNpyError::WrongDescriptor(_)) => {}
                Err(e) => return Err(fail(e)),
            }
        };
    }
    try_as!(f64);
    try_as!(f32);
    try_as!(i64);
    try_as!(i32);
    try_as!(i16);
    try_as!(i8);
    try_as!(u64);
    try_as!(u32);
    try_as!(u16);
    try_as!(u8);
    match ArrayD::<bool>::read_npy(&bytes[..]) {
        Ok(a) => Ok(a.mapv(|x| if x { 1.0 } else { 0.0 })),
        Err(e) => Err(Error::io(
            path,
            format!("unsupported .npy element type ({e}); save it as float64 or an integer type"),
        )),
    }
}

/// Seconds since the first call (monotonic clock); the origin of `now()`.
pub fn clock() -> f64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_secs_f64()
}

#[fdtlab_macros::guarded]
#[export_module]
pub mod io_api {
    use crate::core::atomic::{write_atomic, write_bytes};
    use crate::engine::array::NdArray;
    use crate::engine::options::{dynamic_to_json, json_to_dynamic};
    use crate::engine::{config, error::rt};
    use crate::Error;
    use ndarray_npy::WriteNpyExt;
    use rhai::{Array, Dynamic, EvalAltResult, NativeCallContext, FLOAT};
    use std::path::Path;

    type Res<T> = Result<T, Box<EvalAltResult>>;

    /// Saves an ndarray (or nested array of numbers) as a float64 `.npy` file (numpy's format).
    ///
    /// ```rhai
    /// let p = out_path("a.npy");
    /// save_npy(p, nd([[1, 2], [3, 4]]));
    /// assert_eq(load_npy(p).shape, [2, 2]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn save_npy(path: &str, array: Dynamic) -> Res<()> {
        let a = NdArray::from_dynamic(&array, "save_npy")?;
        write_atomic(Path::new(path), |w| {
            a.0.write_npy(w).map_err(|e| e.to_string())
        })?;
        Ok(())
    }

    /// Loads a `.npy` file as an ndarray of f64 (float32, integer and bool files are converted).
    ///
    /// ```rhai
    /// let p = out_path("b.npy");
    /// save_npy(p, arange(3));
    /// assert_eq(load_npy(p).to_array(), [0.0, 1.0, 2.0]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn load_npy(path: &str) -> Res<NdArray> {
        Ok(NdArray::from_array(super::read_npy_any(Path::new(path))?))
    }

    /// Saves any data value (numbers, strings, arrays, maps, ndarrays) as pretty JSON.
    /// NaN and infinity are errors (JSON cannot hold them).
    ///
    /// ```rhai
    /// let p = out_path("r.json");
    /// save_json(p, #{name: "ou", dt: 0.01, lags: [0, 1, 2]});
    /// assert_eq(load_json(p).lags, [0, 1, 2]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn save_json(path: &str, value: Dynamic) -> Res<()> {
        let j = dynamic_to_json(&value, "value").map_err(|e| {
            let why = if e.contains("finite") {
                " (a JSON file cannot hold NaN or infinity)"
            } else {
                ""
            };
            rt(format!("save_json: {e}{why}"))
        })?;
        let mut text = serde_json::to_string_pretty(&j).map_err(|e| Error::io(path, e))?;
        text.push('\n');
        write_bytes(Path::new(path), text.as_bytes())?;
        Ok(())
    }

    /// Loads a JSON file: objects become maps, integers `i64`, other numbers `f64`.
    ///
    /// ```rhai
    /// let p = out_path("x.json");
    /// save_json(p, [1, 2.5]);
    /// assert_eq(load_json(p), [1, 2.5]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn load_json(path: &str) -> Res<Dynamic> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::io(path, format!("invalid JSON: {e}")))?;
        Ok(json_to_dynamic(&v))
    }

    /// Saves a CSV file: `header` is an array of column names (may be empty), `rows` an array of
    /// rows (arrays of numbers/strings) or an ndarray (2-D: one row per row; 1-D: one column).
    ///
    /// ```rhai
    /// let p = out_path("t.csv");
    /// save_csv(p, ["lag", "C"], [[0, 1.0], [1, 0.5]]);
    /// save_csv(p, ["x", "y"], nd([[0, 1], [1, 2]]));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn save_csv(path: &str, header: Array, rows: Dynamic) -> Res<()> {
        let cell = |d: &Dynamic| -> String {
            if let Ok(x) = d.as_float() {
                format!("{x}")
            } else {
                let s = d.to_string();
                if s.contains([',', '"', '\n']) {
                    format!("\"{}\"", s.replace('"', "\"\""))
                } else {
                    s
                }
            }
        };
        let mut out = String::new();
        if !header.is_empty() {
            out.push_str(&header.iter().map(cell).collect::<Vec<_>>().join(","));
            out.push('\n');
        }
        let ncol = header.len();
        let check = |k: usize, n: usize| -> Res<()> {
            if ncol > 0 && n != ncol {
                return Err(rt(format!(
                    "save_csv: row {k} has {n} values but the header has {ncol} columns"
                )));
            }
            Ok(())
        };
        if let Some(a) = rows.read_lock::<NdArray>() {
            match a.ndim() {
                1 => {
                    check(0, 1)?;
                    for x in a.0.iter() {
                        out.push_str(&format!("{x}\n"));
                    }
                }
                2 => {
                    for (k, row) in a.0.outer_iter().enumerate() {
                        check(k, row.len())?;
                        let cells: Vec<String> = row.iter().map(|x| format!("{x}")).collect();
                        out.push_str(&cells.join(","));
                        out.push('\n');
                    }
                }
                n => {
                    return Err(rt(format!(
                        "save_csv: an ndarray with {n} axes cannot be a table; use 1-D or 2-D (reshape it)"
                    )))
                }
            }
        } else if let Some(list) = rows.read_lock::<Array>() {
            for (k, row) in list.iter().enumerate() {
                let cells: Vec<String> = if let Some(r) = row.read_lock::<Array>() {
                    r.iter().map(cell).collect()
                } else if let Some(r) = row.read_lock::<NdArray>() {
                    r.0.iter().map(|x| format!("{x}")).collect()
                } else {
                    vec![cell(row)]
                };
                check(k, cells.len())?;
                out.push_str(&cells.join(","));
                out.push('\n');
            }
        } else {
            return Err(rt(format!(
                "save_csv: rows must be an array of rows or an ndarray, got {}",
                crate::engine::handles::script_type(&rows)
            )));
        }
        write_bytes(Path::new(path), out.as_bytes())?;
        Ok(())
    }

    /// `name` inside the run's output folder (`--out DIR`, default `out/<script name>`; `out/repl`
    /// in the REPL). Creates the folders. Use it for every file a script writes.
    ///
    /// ```rhai
    /// let p = out_path("fig/c.png");
    /// assert(p.ends_with("c.png"));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn out_path(ctx: NativeCallContext, name: &str) -> Res<String> {
        let cfg = config(&ctx);
        let p = cfg.out_dir.join(name);
        let dir = if name.is_empty() || name.ends_with('/') {
            p.clone()
        } else {
            p.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        Ok(p.to_string_lossy().into_owned())
    }

    /// `true` when run with `--quick` (scripts should then use small sizes so tests stay fast).
    ///
    /// ```rhai
    /// let steps = if is_quick() { 100 } else { 100000 };
    /// ```
    pub fn is_quick(ctx: NativeCallContext) -> bool {
        config(&ctx).quick
    }

    /// Seconds on a monotonic clock; subtract two readings or use `seconds_since`.
    ///
    /// ```rhai
    /// let t = now();
    /// let s = 0; for i in 0..1000 { s += i; }
    /// assert(seconds_since(t) >= 0.0);
    /// ```
    pub fn now() -> FLOAT {
        super::clock()
    }

    /// The warnings printed since the previous call, oldest first, as an array of strings
    /// (at most the last 256). A warning is printed (`warning: ...` on stderr) when a result
    /// is computed but would mislead without a word: start states reused by more experiments,
    /// error bars from too few batches, a training run that diverged. Use it to check or log
    /// them from a script; each call returns only the new ones.
    ///
    /// ```rhai
    /// let sys = ou(#{ n: 8 });
    /// let tr = sys.simulate(#{ members: 2, spinup: 5.0, duration: 20.0 });
    /// warnings(); // forget earlier ones
    /// impulse_response(sys, start_states(tr, 5.0, 2), #{ experiments: 4, window: 2.0 });
    /// let w = warnings();
    /// assert(w.some(|m| m.contains("4 experiments from only 2 start states")));
    /// ```
    pub fn warnings() -> Array {
        crate::warn::take_warnings()
            .into_iter()
            .map(Dynamic::from)
            .collect()
    }

    /// Seconds elapsed since the reading `t` of `now()`.
    ///
    /// ```rhai
    /// let t = now();
    /// print(`took ${seconds_since(t)} s`);
    /// ```
    pub fn seconds_since(t: FLOAT) -> FLOAT {
        super::clock() - t
    }
}
