//! Option maps → structs: unknown keys, wrong types, integer-for-float.
mod common;
use fdtlab::engine::options::{field_names, parse_opts, take};
use fdtlab::engine::{format_error, NdArray};
use rhai::{Dynamic, Engine, FnPtr, Map};
use serde::Deserialize;

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
struct SimOpts {
    dt: f64,
    steps: usize,
    seed: u64,
    name: String,
    x0: Vec<f64>,
    tmax: Option<f64>,
}

impl Default for SimOpts {
    fn default() -> Self {
        SimOpts {
            dt: 0.01,
            steps: 100,
            seed: 1,
            name: "ou".into(),
            x0: vec![],
            tmax: None,
        }
    }
}

fn map(src: &str) -> Map {
    Engine::new().eval::<Map>(src).unwrap()
}

fn parse(src: &str) -> Result<SimOpts, String> {
    parse_opts::<SimOpts>(map(src), "simulate").map_err(|e| format_error(&e, None))
}

#[test]
fn defaults_and_values() {
    assert_eq!(parse("#{}").unwrap(), SimOpts::default());
    let o = parse("#{dt: 0.5, steps: 10, name: \"x\", x0: [1, 2.5], tmax: 3}").unwrap();
    assert_eq!(o.dt, 0.5);
    assert_eq!(o.steps, 10);
    assert_eq!(o.name, "x");
    assert_eq!(o.x0, vec![1.0, 2.5]);
    assert_eq!(o.tmax, Some(3.0));
    assert_eq!(parse("#{tmax: ()}").unwrap().tmax, None);
}

#[test]
fn integers_are_accepted_for_floats() {
    assert_eq!(parse("#{dt: 1}").unwrap().dt, 1.0);
    // Rhai's own serde rejects this, which is why parse_opts goes through JSON.
    let m: Dynamic = map("#{dt: 1}").into();
    assert!(rhai::serde::from_dynamic::<SimOpts>(&m).is_err());
}

#[test]
fn ndarray_values_become_lists() {
    let mut m = Map::new();
    m.insert(
        "x0".into(),
        Dynamic::from(NdArray::from_shape_vec(&[2], vec![1.0, 2.0]).unwrap()),
    );
    let o: SimOpts = parse_opts(m, "simulate").unwrap();
    assert_eq!(o.x0, vec![1.0, 2.0]);
}

#[test]
fn unknown_key_names_key_function_and_valid_keys() {
    let e = parse("#{stpes: 10}").unwrap_err();
    assert!(e.contains("simulate"), "{e}");
    assert!(e.contains("'stpes'"), "{e}");
    assert!(e.contains("did you mean 'steps'"), "{e}");
    assert!(e.contains("dt, steps, seed, name, x0, tmax"), "{e}");
}

#[test]
fn wrong_type_names_key_and_expected_type() {
    let e = parse("#{dt: 0.1, steps: \"many\"}").unwrap_err();
    assert!(e.contains("option 'steps'"), "{e}");
    // serde's Rust type names are translated ("usize" would mean nothing to a researcher).
    assert!(e.contains("expected a whole number ≥ 0"), "{e}");
    assert!(!e.contains("usize"), "{e}");
    let e = parse("#{dt: \"fast\"}").unwrap_err();
    assert!(
        e.contains("option 'dt'") && e.contains("expected a number") && !e.contains("f64"),
        "{e}"
    );
    let e = parse("#{steps: -5}").unwrap_err();
    assert!(e.contains("option 'steps'") && e.contains("-5"), "{e}");
    let e = parse("#{steps: 2.5}").unwrap_err();
    assert!(e.contains("option 'steps'") && e.contains("2.5"), "{e}");
    let e = parse("#{x0: [1, \"a\"]}").unwrap_err();
    assert!(e.contains("option 'x0'"), "{e}");
}

#[test]
fn nan_and_handles_are_rejected_with_the_key() {
    let mut m = Map::new();
    m.insert("dt".into(), Dynamic::from_float(f64::NAN));
    let e = format_error(&parse_opts::<SimOpts>(m, "simulate").unwrap_err(), None);
    assert!(e.contains("'dt'") && e.contains("NaN"), "{e}");
    let mut m = Map::new();
    m.insert("name".into(), Dynamic::from(FnPtr::new("f").unwrap()));
    let e = format_error(&parse_opts::<SimOpts>(m, "simulate").unwrap_err(), None);
    assert!(e.contains("'name'") && e.contains("a function"), "{e}");
}

#[test]
fn take_removes_handles_first() {
    let mut m = map("#{dt: 0.2}");
    m.insert("drift".into(), Dynamic::from(FnPtr::new("f").unwrap()));
    let f: Option<FnPtr> = take(&mut m, "drift", "simulate").unwrap();
    assert_eq!(f.unwrap().fn_name(), "f");
    assert_eq!(parse_opts::<SimOpts>(m, "simulate").unwrap().dt, 0.2);
    let mut m = map("#{drift: 3}");
    let e = take::<FnPtr>(&mut m, "drift", "simulate").unwrap_err();
    let e = format_error(&e, None);
    assert!(e.contains("'drift'") && e.contains("function"), "{e}");
}

#[test]
fn field_names_of_a_struct() {
    assert_eq!(
        field_names::<SimOpts>().unwrap(),
        &["dt", "steps", "seed", "name", "x0", "tmax"]
    );
}

#[test]
fn errors_from_a_script_carry_the_call_position() {
    // A native function using parse_opts, called from a script.
    let mut e = common::engine("opts_pos");
    e.register_fn(
        "simulate",
        |m: Map| -> Result<f64, Box<rhai::EvalAltResult>> {
            Ok(parse_opts::<SimOpts>(m, "simulate")?.dt)
        },
    );
    let err = e
        .eval::<f64>("let x = 1;\nlet y = simulate(#{stpes: 3});")
        .unwrap_err();
    let msg = format_error(&err, None);
    assert!(
        msg.starts_with("2:9: simulate: unknown option 'stpes'"),
        "{msg}"
    );
    // And it is catchable.
    let v = e
        .eval::<String>("let r = \"\"; try { simulate(#{dt: \"x\"}); } catch (e) { r = e; } r")
        .unwrap();
    assert!(v.contains("option 'dt'"), "{v}");
}
