//! The architecture, checked file by file (DESIGN.md): arrows point down only —
//! core → systems → score → response → plot → io → engine → front ends — and the numerics
//! never name Rhai. `../shared/tools/layers.py` checks cycles between top-level folders; this
//! test sees every file, so a single `use crate::response::…` in `systems/` fails it.
use std::path::{Path, PathBuf};

/// The layer of a path under `src/` (top-level file or folder name), lowest first.
fn rank(top: &str) -> Option<usize> {
    const LAYERS: &[&[&str]] = &[
        &["core", "budget", "warn", "stats"],
        &["systems"],
        &["score"],
        &["response"],
        &["plot"],
        &["io"],
        &["engine"],
        &["repl", "bench", "fuzz", "main", "lib", "macros"],
    ];
    LAYERS.iter().position(|l| l.contains(&top))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The non-test code of a file, without comments (tests may reach across layers).
fn code(src: &str) -> String {
    let src = match src.find("#[cfg(test)]") {
        Some(i) => &src[..i],
        None => src,
    };
    src.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Top-level modules named by `crate::X` paths in `code`.
fn crate_refs(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let tail = &rest[i + 7..];
        let name: String = tail
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        // `crate::Error` / `crate::Result` are the ground floor's, re-exported at the root.
        if name.starts_with(|c: char| c.is_ascii_lowercase()) {
            out.push(name);
        }
        rest = tail;
    }
    out
}

#[test]
fn no_file_imports_from_a_layer_above_its_own_and_numerics_never_name_rhai() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut bad = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if f.file_name().unwrap().to_string_lossy().contains("test") {
            continue;
        }
        let Some(own) = rank(&top) else {
            bad.push(format!(
                "{}: top-level module '{top}' has no layer in this test",
                rel.display()
            ));
            continue;
        };
        let text = code(&std::fs::read_to_string(f).unwrap());
        for r in crate_refs(&text) {
            match rank(&r) {
                Some(k) if k > own => bad.push(format!(
                    "{}: uses crate::{r} (a layer above {top})",
                    rel.display()
                )),
                None if r != "core" => bad.push(format!(
                    "{}: crate::{r} has no layer in this test",
                    rel.display()
                )),
                _ => {}
            }
        }
        let numerics = rank(&top).is_some_and(|k| k < rank("engine").unwrap());
        if numerics && (text.contains("rhai::") || text.contains("use rhai")) {
            bad.push(format!("{}: numerics must not name rhai", rel.display()));
        }
    }
    assert!(
        bad.is_empty(),
        "layering violations:\n  {}",
        bad.join("\n  ")
    );
    assert!(
        files.len() > 50,
        "expected the whole crate, found {} files",
        files.len()
    );
}
