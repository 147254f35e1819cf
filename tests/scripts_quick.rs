//! Every experiment script runs to completion in `--quick` mode, as a user would run it
//! (`fdtlab run FILE --quick --out DIR`), and writes its figures.
use std::path::{Path, PathBuf};
use std::process::Command;

fn run_script(script: &Path) -> (PathBuf, String) {
    let stem = script.file_stem().unwrap().to_string_lossy().to_string();
    let out = std::env::temp_dir().join(format!("fdtlab-scripts-{}-{stem}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let res = Command::new(env!("CARGO_BIN_EXE_fdtlab"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "run",
            script.to_str().unwrap(),
            "--quick",
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .expect("run fdtlab");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
    );
    assert!(res.status.success(), "{} failed:\n{text}", script.display());
    (out, text)
}

#[test]
fn every_script_runs_in_quick_mode() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts");
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rhai"))
        .collect();
    scripts.sort();
    assert!(
        scripts.len() >= 3,
        "expected the experiment scripts, found {scripts:?}"
    );
    for s in &scripts {
        let (out, text) = run_script(s);
        let pngs = std::fs::read_dir(&out)
            .map(|d| {
                d.filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .path()
                        .extension()
                        .is_some_and(|x| x == "png")
                })
                .count()
            })
            .unwrap_or(0);
        assert!(
            pngs >= 1,
            "{} wrote no figure into {}:\n{text}",
            s.display(),
            out.display()
        );
    }
}

#[test]
fn quickstart_quick_reports_accurate_estimates() {
    let (out, text) = run_script(Path::new("scripts/quickstart.rhai"));
    assert!(out.join("response.png").exists());
    let rows: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("errors.json")).unwrap()).unwrap();
    // On the OU process the Gaussian FDT and the exact-score GFDT are both exact up to sampling
    // error; the acceptance bound is 3 % rel_err (quick mode measures ≈ 1 %).
    for row in rows.as_array().unwrap() {
        let e = row["rel_err"].as_f64().unwrap();
        assert!(e < 0.03, "{row} exceeds 3 %:\n{text}");
    }
}

#[test]
fn bench_quick_prints_parseable_lines() {
    let res = Command::new(env!("CARGO_BIN_EXE_fdtlab"))
        .args(["bench", "--quick"])
        .output()
        .unwrap();
    assert!(res.status.success());
    let text = String::from_utf8_lossy(&res.stdout);
    for name in [
        "allen_cahn_n32_threads1",
        "allen_cahn_n32_threads2",
        "xcorr_",
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} line in:\n{text}"));
        let value: f64 = line
            .split(": ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(value > 0.0);
    }
}

#[test]
fn navier_stokes_quick_writes_every_figure_and_finite_errors() {
    let (out, text) = run_script(Path::new("scripts/navier_stokes.rhai"));
    for f in [
        "response.png",
        "energy.png",
        "spectrum.png",
        "vorticity_1.png",
        "loss.png",
        "rel_err.csv",
        "responses.csv",
    ] {
        assert!(out.join(f).exists(), "no {f}:\n{text}");
    }
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let rows = s["errors"].as_array().unwrap();
    assert!(rows.len() >= 2, "{s}");
    for row in rows {
        let e = row["rel_err"].as_f64().unwrap();
        // Finite and not absurd even at quick size (the Gaussian FDT is ~10 % there); the
        // accuracy itself is measured at the default configuration, not in this smoke test.
        assert!(e.is_finite() && e < 2.0, "{row}:\n{text}");
    }
}
