//! Option maps (`#{dt: 0.01, steps: 1000}`) → typed Rust structs, plus Dynamic ↔ JSON.
//!
//! ```ignore
//! #[derive(serde::Deserialize)]
//! #[serde(deny_unknown_fields, default)]
//! struct SimOpts { dt: f64, steps: usize, seed: u64 }
//! impl Default for SimOpts { fn default() -> Self { SimOpts { dt: 0.01, steps: 1000, seed: 1 } } }
//!
//! #[rhai_fn(return_raw)]
//! pub fn simulate(opts: rhai::Map) -> Result<Trajectory, Box<EvalAltResult>> {
//!     let o: SimOpts = parse_opts(opts, "simulate")?;
//!     ...
//! }
//! ```
//!
//! Values go through JSON, so integers are accepted where a float is expected (`dt: 1`), a
//! unit `()` is `None` for `Option` fields, and `ndarray` values become nested arrays (fit
//! for `Vec<f64>` / `Vec<Vec<f64>>` fields). Handle-type values (functions, models, ...) must be
//! taken out of the map first, e.g. with [`take`].
use super::array::NdArray;
use super::error::rt;
use rhai::{Array, Dynamic, EvalAltResult, Map};
use serde::de::{self, DeserializeOwned, Visitor};
use serde_json::Value;

/// Deserialises an option map into `T` (a struct with `#[serde(deny_unknown_fields, default)]`).
///
/// Errors (catchable Rhai runtime errors) name the function `what`, the key, and either the
/// valid keys (unknown key, with a "did you mean" suggestion) or the expected type.
pub fn parse_opts<T: DeserializeOwned>(map: Map, what: &str) -> Result<T, Box<EvalAltResult>> {
    let fields = field_names::<T>();
    if let Some(fields) = fields {
        for key in map.keys() {
            if !fields.contains(&key.as_str()) {
                let hint = closest(key, fields.iter().copied())
                    .map(|s| format!(" (did you mean '{s}'?)"))
                    .unwrap_or_default();
                return Err(rt(format!(
                    "{what}: unknown option '{key}'{hint}; valid options are: {}",
                    fields.join(", ")
                )));
            }
        }
    }
    let mut obj = serde_json::Map::new();
    for (k, v) in &map {
        let j = dynamic_to_json(v, k).map_err(|e| rt(format!("{what}: option {e}")))?;
        obj.insert(k.to_string(), j);
    }
    match serde_json::from_value::<T>(Value::Object(obj.clone())) {
        Ok(t) => Ok(t),
        Err(e) => {
            // Find the offending key: with `#[serde(default)]` every single-key map parses
            // unless that key's value has the wrong type or range.
            for (k, v) in &obj {
                let mut one = serde_json::Map::new();
                one.insert(k.clone(), v.clone());
                if let Err(e1) = serde_json::from_value::<T>(Value::Object(one)) {
                    return Err(rt(format!(
                        "{what}: option '{k}' {}",
                        explain_serde(&e1.to_string())
                    )));
                }
            }
            Err(rt(format!(
                "{what}: bad options: {}",
                explain_serde(&e.to_string())
            )))
        }
    }
}

/// Checks the keys of a map read by hand (nested maps such as plot panels and series, or
/// options holding closures): an unknown key is an error naming it, a "did you mean"
/// suggestion and the valid keys, like [`parse_opts`]. `what` names the place
/// ("plot_lines: panel 0").
pub fn check_keys(map: &Map, valid: &[&str], what: &str) -> Result<(), Box<EvalAltResult>> {
    for key in map.keys() {
        if !valid.contains(&key.as_str()) {
            let hint = closest(key, valid.iter().copied())
                .map(|s| format!(" (did you mean '{s}'?)"))
                .unwrap_or_default();
            return Err(rt(format!(
                "{what}: unknown key '{key}'{hint}; valid keys are: {}",
                valid.join(", ")
            )));
        }
    }
    Ok(())
}

/// Removes `key` from `map` and casts it to `T` (for handle-type options such as function
/// pointers or models that cannot go through [`parse_opts`]). `Ok(None)` if absent.
pub fn take<T: Clone + 'static>(
    map: &mut Map,
    key: &str,
    what: &str,
) -> Result<Option<T>, Box<EvalAltResult>> {
    match map.remove(key) {
        None => Ok(None),
        Some(v) if v.is_unit() => Ok(None),
        Some(v) => {
            let tn = super::handles::script_type(&v);
            v.try_cast::<T>().map(Some).ok_or_else(|| {
                rt(format!(
                    "{what}: option '{key}' has the wrong type: expected {}, got {tn}",
                    short_type_name::<T>()
                ))
            })
        }
    }
}

fn short_type_name<T>() -> String {
    let full = std::any::type_name::<T>();
    match full.rsplit("::").next().unwrap_or(full) {
        "FnPtr" => "a function (Fn(\"name\") or a closure |x| ...)".into(),
        _ => super::handles::script_type_name(full),
    }
}

/// Rewrites serde's "invalid type: string \"a\", expected f64" as "has the wrong type: expected
/// f64, got string \"a\"".
fn explain_serde(msg: &str) -> String {
    if let Some(rest) = msg.strip_prefix("invalid type: ") {
        if let Some((got, exp)) = rest.split_once(", expected ") {
            return format!(
                "has the wrong type: expected {}, got {}",
                user_words(exp),
                user_value(got)
            );
        }
    }
    if let Some(rest) = msg.strip_prefix("invalid value: ") {
        if let Some((got, exp)) = rest.split_once(", expected ") {
            return format!(
                "has an invalid value: expected {}, got {}",
                user_words(exp),
                user_value(got)
            );
        }
    }
    user_words(msg)
}

/// serde's Rust type names in an "expected …" phrase, in a researcher's words ("usize" → "a
/// whole number ≥ 0"); other words unchanged.
fn user_words(s: &str) -> String {
    let word = |w: &str| match w {
        "usize" | "u64" | "u32" | "u16" | "u8" => Some("a whole number ≥ 0"),
        "i64" | "i32" | "i16" | "i8" => Some("an integer"),
        "f64" | "f32" => Some("a number"),
        _ => None,
    };
    s.split(' ')
        .map(|w| {
            let core = w.trim_end_matches([',', ';', ')']);
            match word(core) {
                Some(u) => format!("{u}{}", &w[core.len()..]),
                None => w.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
        .replace("a sequence", "an array")
}

/// serde's description of the value found ("floating point `2.5`", "integer `-1`") as the
/// value itself.
fn user_value(got: &str) -> String {
    for p in ["floating point ", "integer "] {
        if let Some(v) = got.strip_prefix(p) {
            return v.trim_matches('`').to_string();
        }
    }
    got.to_string()
}

/// The field names of struct `T`, found by asking its `Deserialize` impl (`None` if `T` is not
/// a plain struct, e.g. a map type).
pub fn field_names<T: DeserializeOwned>() -> Option<&'static [&'static str]> {
    struct Probe(Option<&'static [&'static str]>);
    #[derive(Debug)]
    struct Stop;
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("stop")
        }
    }
    impl std::error::Error for Stop {}
    impl de::Error for Stop {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Stop
        }
    }
    impl<'de> de::Deserializer<'de> for &mut Probe {
        type Error = Stop;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            self.0 = Some(fields);
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut p = Probe(None);
    let _ = T::deserialize(&mut p);
    p.0
}

/// Levenshtein distance (for "did you mean" suggestions).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidate closest to `key` if it is close enough to be a plausible typo.
pub fn closest<'a>(key: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| {
            // A case slip ('g' for 'G') is the closest match of all.
            let d = if key.eq_ignore_ascii_case(c) {
                0
            } else {
                edit_distance(key, c)
            };
            (d, c)
        })
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Converts a script value to JSON. `path` names the value in errors (e.g. `"dt"`, `"x[3]"`).
/// NaN/inf and non-data values (functions, custom handles other than `ndarray`) are errors.
pub fn dynamic_to_json(v: &Dynamic, path: &str) -> Result<Value, String> {
    if v.is_unit() {
        return Ok(Value::Null);
    }
    if let Ok(b) = v.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Ok(i) = v.as_int() {
        return Ok(Value::from(i));
    }
    if let Ok(x) = v.as_float() {
        return serde_json::Number::from_f64(x)
            .map(Value::Number)
            .ok_or_else(|| format!("'{path}' is {x}; give a finite number"));
    }
    if let Ok(c) = v.as_char() {
        return Ok(Value::String(c.to_string()));
    }
    if let Some(s) = v.read_lock::<rhai::ImmutableString>() {
        return Ok(Value::String(s.to_string()));
    }
    if let Some(arr) = v.read_lock::<Array>() {
        return arr
            .iter()
            .enumerate()
            .map(|(i, x)| dynamic_to_json(x, &format!("{path}[{i}]")))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    if let Some(map) = v.read_lock::<Map>() {
        let mut obj = serde_json::Map::new();
        for (k, x) in map.iter() {
            obj.insert(k.to_string(), dynamic_to_json(x, &format!("{path}.{k}"))?);
        }
        return Ok(Value::Object(obj));
    }
    if let Some(a) = v.read_lock::<NdArray>() {
        return dynamic_to_json(&a.to_dynamic_nested(), path);
    }
    Err(format!(
        "'{path}' is {}, which cannot be converted to data (numbers, strings, arrays, maps, ndarrays)",
        crate::engine::handles::script_type(v)
    ))
}

/// Converts JSON to a script value: integers stay `i64`, other numbers become `f64`.
pub fn json_to_dynamic(v: &Value) -> Dynamic {
    match v {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => Dynamic::from_bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Dynamic::from_int(i),
            None => Dynamic::from_float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Dynamic::from(s.clone()),
        Value::Array(a) => Dynamic::from_array(a.iter().map(json_to_dynamic).collect()),
        Value::Object(o) => Dynamic::from_map(
            o.iter()
                .map(|(k, x)| (k.as_str().into(), json_to_dynamic(x)))
                .collect(),
        ),
    }
}
