//! The `fdtlab` binary: `run` exit codes and error text, --help, --version, bench.
mod common;
use std::process::Command;

fn fdtlab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fdtlab"))
}

#[test]
fn run_succeeds_and_writes_into_the_out_dir() {
    let dir = common::temp_dir("cli_ok");
    let script = dir.join("hello.rhai");
    std::fs::write(
        &script,
        "import \"helper\" as h;\nprint(`quick=${is_quick()}`);\nsave_json(out_path(\"r.json\"), h::answer());\n",
    )
    .unwrap();
    std::fs::write(dir.join("helper.rhai"), "fn answer() { 42 }").unwrap();
    let out = dir.join("results");
    let o = fdtlab()
        .args([
            "run",
            script.to_str().unwrap(),
            "--quick",
            "--out",
            out.to_str().unwrap(),
        ])
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "stderr: {stderr}");
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "quick=true");
    assert_eq!(
        std::fs::read_to_string(out.join("r.json")).unwrap().trim(),
        "42"
    );
}

#[test]
fn default_out_dir_is_out_slash_stem() {
    let dir = common::temp_dir("cli_default_out");
    std::fs::write(dir.join("exp1.rhai"), "save_json(out_path(\"x.json\"), 1);").unwrap();
    let o = fdtlab()
        .args(["run", "exp1.rhai"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(dir.join("out/exp1/x.json").is_file());
}

#[test]
fn run_error_prints_file_line_col_and_exits_1() {
    let dir = common::temp_dir("cli_err");
    let script = dir.join("bad.rhai");
    std::fs::write(
        &script,
        "let a = ones([2]);\nlet b = a + ones([3]);\nprint(\"not reached\");\n",
    )
    .unwrap();
    let o = fdtlab()
        .args(["run", script.to_str().unwrap()])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    let expect = format!("{}:2:11: shape mismatch: [2] + [3]", script.display());
    assert!(stderr.starts_with(&expect), "{stderr}");
    assert!(!String::from_utf8_lossy(&o.stdout).contains("not reached"));
}

#[test]
fn parse_error_and_missing_file() {
    let dir = common::temp_dir("cli_parse");
    let script = dir.join("syntax.rhai");
    std::fs::write(&script, "let x = 1;\nlet = 2;\n").unwrap();
    let o = fdtlab()
        .args(["run", script.to_str().unwrap()])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.starts_with(&format!("{}:2:", script.display())),
        "{stderr}"
    );
    let o = fdtlab().args(["run", "/no/such.rhai"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/no/such.rhai"));
}

#[test]
fn exit_code_from_script() {
    let dir = common::temp_dir("cli_exit");
    std::fs::write(
        dir.join("e.rhai"),
        "fn f() { exit(3); }\nf();\nprint(\"no\");",
    )
    .unwrap();
    let o = fdtlab()
        .args(["run", "e.rhai"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert!(o.stdout.is_empty());
}

#[test]
fn help_version_bench_and_usage_errors() {
    let o = fdtlab().arg("--help").output().unwrap();
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("fdtlab run FILE.rhai"));
    let o = fdtlab().arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("fdtlab {}", env!("CARGO_PKG_VERSION"))
    );
    let o = fdtlab().arg("bench").output().unwrap();
    assert!(o.status.success());
    let o = fdtlab().arg("--frobnicate").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown option '--frobnicate'"));
}
