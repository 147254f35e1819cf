//! Rhai's lookup errors in a researcher's words: "Function not found: gfdt (&str |
//! ImmutableString | String, i64, i64)" becomes what `gfdt` takes (its signatures from the help
//! catalog), what it was given, and where to read more; a misspelt name gets "did you mean"; an
//! unknown property that is a method says to call it.
use super::help::catalog;
use super::options::edit_distance;
use std::sync::OnceLock;

/// Rhai's spelling of an argument type → the word a script user knows.
fn type_word(t: &str) -> String {
    let t = t.trim();
    if t.contains("ImmutableString") || t == "&str" || t == "String" {
        return "string".into();
    }
    match t {
        "i64" | "INT" => "int".into(),
        "f64" | "FLOAT" => "float".into(),
        "()" => "()".into(),
        "Fn" | "FnPtr" => "function".into(),
        "array" | "Array" => "array".into(),
        "map" | "Map" => "map".into(),
        other => other.rsplit("::").next().unwrap_or(other).to_string(),
    }
}

/// Splits Rhai's `name (t1, t2)` into the name and the argument words.
fn split_signature(sig: &str) -> (String, Vec<String>) {
    let (name, rest) = match sig.find(" (") {
        Some(i) => (&sig[..i], &sig[i + 2..]),
        None => return (sig.trim().to_string(), Vec::new()),
    };
    let inner = rest.strip_suffix(')').unwrap_or(rest);
    let args = if inner.trim().is_empty() {
        Vec::new()
    } else {
        inner.split(", ").map(type_word).collect()
    };
    (name.trim().to_string(), args)
}

/// Signatures of Rhai's own functions (print, len, push, …), by name.
fn builtin_names() -> &'static Vec<String> {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut v: Vec<String> = rhai::Engine::new()
            .gen_fn_signatures(true)
            .into_iter()
            .filter_map(|s| s.split('(').next().map(|n| n.trim().to_string()))
            .filter(|n| n.starts_with(|c: char| c.is_alphabetic()))
            .collect();
        v.sort();
        v.dedup();
        v
    })
}

/// Names close to `name` among fdtlab's functions and Rhai's built-ins (best first).
fn similar(name: &str) -> Vec<String> {
    let lower = name.to_lowercase();
    let mut names: Vec<String> = catalog().names();
    names.extend(builtin_names().iter().cloned());
    names.sort();
    names.dedup();
    let mut scored: Vec<(usize, String)> = names
        .into_iter()
        .filter_map(|n| {
            let d = edit_distance(&lower, &n.to_lowercase());
            (d <= 2.max(name.chars().count() / 3)).then_some((d, n))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(4).map(|(_, n)| n).collect()
}

/// The message for `ErrorFunctionNotFound(sig)`.
pub fn function_not_found(sig: &str) -> String {
    let (name, args) = split_signature(sig);
    let given = format!("({})", args.join(", "));
    let sigs: Vec<String> = catalog()
        .all()
        .filter(|(_, f)| f.name == name)
        .map(|(_, f)| f.signature.clone())
        .collect();
    if !sigs.is_empty() {
        let mut uniq: Vec<String> = Vec::new();
        for s in sigs {
            if !uniq.contains(&s) {
                uniq.push(s);
            }
        }
        return format!(
            "{name} cannot take {given}; it takes:\n    {}\n  help(\"{name}\") shows the details",
            uniq.join("\n    ")
        );
    }
    if builtin_names().contains(&name) {
        return format!(
            "Rhai's built-in {name} cannot take {given}; see https://rhai.rs/book/ for its forms"
        );
    }
    let close = similar(&name);
    if close.is_empty() {
        format!("no function {name} takes {given}; help() lists every fdtlab function")
    } else {
        format!(
            "no function {name} takes {given}. Did you mean {}?",
            close.join(", ")
        )
    }
}

/// The message for Rhai's "Unknown property 'p' - a getter is not registered for type 't'".
pub fn unknown_property(text: &str) -> Option<String> {
    let rest = text.strip_prefix("Unknown property '")?;
    let (prop, rest) = rest.split_once('\'')?;
    let ty = rest.rsplit_once("type '")?.1.trim_end_matches('\'');
    let is_method = catalog()
        .all()
        .any(|(_, f)| f.name == prop && !f.name.starts_with("get$"));
    if is_method {
        return Some(format!(
            "{ty} has no property '{prop}'; {prop} is a function: call it as x.{prop}()"
        ));
    }
    let props: Vec<String> = catalog()
        .all()
        .filter_map(|(_, f)| f.name.strip_prefix("get$").map(str::to_string))
        .filter(|p| edit_distance(prop, p) <= 2.max(prop.len() / 3))
        .collect();
    Some(if props.is_empty() {
        format!("{ty} has no property '{prop}'")
    } else {
        let mut props = props;
        props.sort();
        props.dedup();
        format!(
            "{ty} has no property '{prop}'. Did you mean {}?",
            props.join(", ")
        )
    })
}

/// The message for `ErrorIndexingType("ndarray [string]")`.
pub fn indexing(text: &str) -> String {
    match text.split_once(" [") {
        Some((ty, key)) => format!(
            "a {} cannot be indexed with a {}; use a whole number like x[0]",
            type_word(ty),
            type_word(key.trim_end_matches(']'))
        ),
        None => format!("{text} cannot be indexed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_types_list_the_signatures_in_script_words() {
        let m = function_not_found("gfdt (&str | ImmutableString | String, i64, i64)");
        assert!(m.contains("(string, int, int)"), "{m}");
        assert!(m.contains("gfdt(") && m.contains("help(\"gfdt\")"), "{m}");
        assert!(!m.contains("ImmutableString") && !m.contains("i64,"), "{m}");
    }

    #[test]
    fn misspelt_names_get_suggestions() {
        let m = function_not_found("gaussain_fdt (i64)");
        assert!(m.contains("Did you mean gaussian_fdt"), "{m}");
        let m = function_not_found("thinn (trajectory, i64)");
        assert!(m.contains("thin"), "{m}");
    }

    #[test]
    fn a_method_used_as_a_property_says_call_it() {
        let m = unknown_property(
            "Unknown property 'values' - a getter is not registered for type 'trajectory'",
        )
        .unwrap();
        assert!(m.contains("values()"), "{m}");
    }
}
