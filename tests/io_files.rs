//! Files from scripts: .npy (incl. files written in numpy's own format), JSON, CSV, out_path.
mod common;
use fdtlab::engine::{format_error, new_engine, EngineConfig};
use rhai::Dynamic;
use std::path::Path;

fn engine_at(dir: &Path, quick: bool) -> rhai::Engine {
    new_engine(&EngineConfig {
        quick,
        out_dir: dir.to_path_buf(),
        script_dir: None,
    })
}

fn run(dir: &Path, src: &str) -> Result<Dynamic, String> {
    engine_at(dir, true)
        .eval::<Dynamic>(src)
        .map_err(|e| format_error(&e, None))
}

/// A .npy file exactly as numpy writes it: magic, version 1.0, header dict padded with spaces
/// to a multiple of 64 bytes and ending in '\n', then little-endian data.
fn numpy_file(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut header = format!(
        "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
        if fortran { "True" } else { "False" }
    );
    let total = 10 + header.len() + 1;
    let pad = (64 - total % 64) % 64;
    header.push_str(&" ".repeat(pad));
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

#[test]
fn npy_round_trip() {
    let dir = common::temp_dir("npy_rt");
    let v = run(
        &dir,
        "let a = nd([[1.5, -2], [3, 1e-300]]);
         save_npy(out_path(\"a.npy\"), a);
         let b = load_npy(out_path(\"a.npy\"));
         assert(a == b);
         save_npy(out_path(\"t.npy\"), a.transpose());
         assert(load_npy(out_path(\"t.npy\")) == a.transpose());
         save_npy(out_path(\"s.npy\"), arange(10).slice(0, 2, 8).reshape([2, 3]));
         load_npy(out_path(\"s.npy\")).to_array()",
    )
    .unwrap();
    assert_eq!(format!("{v:?}"), "[[2.0, 3.0, 4.0], [5.0, 6.0, 7.0]]");
    // No temp files left behind by the atomic writes.
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
}

#[test]
fn loads_files_written_by_numpy() {
    let dir = common::temp_dir("npy_numpy");
    // float64, C order, shape (2, 2)
    let f64s: Vec<u8> = [1.0f64, 2.0, 3.0, 4.5]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    std::fs::write(
        dir.join("f8.npy"),
        numpy_file("<f8", false, "(2, 2)", &f64s),
    )
    .unwrap();
    // float32, shape (3,)
    let f32s: Vec<u8> = [0.5f32, -1.0, 2.0]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    std::fs::write(dir.join("f4.npy"), numpy_file("<f4", false, "(3,)", &f32s)).unwrap();
    // int64, Fortran order, shape (2, 3): memory holds columns.
    let i64s: Vec<u8> = [1i64, 4, 2, 5, 3, 6]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    std::fs::write(dir.join("i8.npy"), numpy_file("<i8", true, "(2, 3)", &i64s)).unwrap();
    let d = dir.display();
    let v = run(
        &dir,
        &format!(
            "assert_eq(load_npy(\"{d}/f8.npy\").to_array(), [[1.0, 2.0], [3.0, 4.5]]);
             assert_eq(load_npy(\"{d}/f4.npy\").to_array(), [0.5, -1.0, 2.0]);
             load_npy(\"{d}/i8.npy\").to_array()"
        ),
    )
    .unwrap();
    assert_eq!(format!("{v:?}"), "[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]");
}

#[test]
fn npy_errors_name_the_path() {
    let dir = common::temp_dir("npy_err");
    let e = run(&dir, "let x = 1;\nload_npy(\"/no/such/file.npy\")").unwrap_err();
    assert!(e.starts_with("2:1:"), "{e}");
    assert!(
        e.contains("/no/such/file.npy") && e.contains("no such file"),
        "{e}"
    );
    std::fs::write(dir.join("bad.npy"), b"not numpy").unwrap();
    let e = run(&dir, &format!("load_npy(\"{}/bad.npy\")", dir.display())).unwrap_err();
    assert!(e.contains("bad.npy") && e.contains(".npy"), "{e}");
}

#[test]
fn json_round_trip_and_nan() {
    let dir = common::temp_dir("json");
    let _ = run(
        &dir,
        "let p = out_path(\"r.json\");
         save_json(p, #{name: \"ou\", n: 3, dt: 0.5, xs: nd([1, 2]), nested: [#{a: ()}, true]});
         let r = load_json(p);
         assert_eq(r.name, \"ou\");
         assert_eq(r.n, 3);
         assert_eq(type_of(r.n), \"i64\");
         assert_eq(r.dt, 0.5);
         assert_eq(r.xs, [1.0, 2.0]);
         assert_eq(r.nested[1], true);",
    )
    .unwrap();
    let text = std::fs::read_to_string(dir.join("r.json")).unwrap();
    assert!(text.contains("\n  \"name\": \"ou\""), "pretty JSON: {text}");
    let e = run(
        &dir,
        "save_json(out_path(\"n.json\"), #{x: [1.0, 0.0 / 0.0]})",
    )
    .unwrap_err();
    assert!(e.contains("value.x[1]") && e.contains("NaN"), "{e}");
}

#[test]
fn csv_from_rows_and_ndarrays() {
    let dir = common::temp_dir("csv");
    let _ = run(
        &dir,
        "save_csv(out_path(\"a.csv\"), [\"lag\", \"C\"], [[0, 1.0], [1, 0.25]]);
         save_csv(out_path(\"b.csv\"), [\"x\", \"y\"], nd([[1, 2], [3, 4.5]]));
         save_csv(out_path(\"c.csv\"), [], [[\"a,b\", 1]]);",
    )
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("a.csv")).unwrap(),
        "lag,C\n0,1\n1,0.25\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("b.csv")).unwrap(),
        "x,y\n1,2\n3,4.5\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("c.csv")).unwrap(),
        "\"a,b\",1\n"
    );
    let e = run(&dir, "save_csv(out_path(\"d.csv\"), [\"a\"], [[1, 2]])").unwrap_err();
    assert!(
        e.contains("row 0 has 2 values") && e.contains("1 columns"),
        "{e}"
    );
}

#[test]
fn out_path_quick_and_timing_work_inside_functions() {
    let dir = common::temp_dir("outpath");
    let v = run(
        &dir,
        "fn where_to() { out_path(\"sub/dir/f.txt\") }
         fn quick() { is_quick() }
         let t = now();
         assert(seconds_since(t) >= 0.0);
         [where_to(), quick()]",
    )
    .unwrap();
    let arr = v.into_array().unwrap();
    let p = arr[0].clone().into_string().unwrap();
    assert_eq!(Path::new(&p), dir.join("sub/dir/f.txt"));
    assert!(dir.join("sub/dir").is_dir(), "out_path creates the folders");
    assert!(arr[1].as_bool().unwrap());
    let not_quick = engine_at(&dir, false).eval::<bool>("is_quick()").unwrap();
    assert!(!not_quick);
}
