//! Each class of bad input is a catchable Rhai runtime error that names the problem — never a
//! panic, never a silent NaN: wrong shapes, unknown option keys, negative dt, blow-up during a
//! run, missing files, refused configurations.
mod common;
use common::eval;

/// Runs `call` inside try/catch and returns the caught message.
fn caught(call: &str) -> String {
    let src = format!("let r = \"no error\"; try {{ {call}; }} catch (e) {{ r = `${{e}}`; }} r");
    let v = eval(&src).unwrap_or_else(|e| panic!("not catchable: {e}"));
    let msg = v.into_string().unwrap();
    assert_ne!(msg, "no error", "{call} should fail");
    msg
}

#[test]
fn wrong_shapes() {
    let m = caught("ou(#{ n: 8 }).drift(zeros([4, 4]))");
    assert!(m.contains("[4, 4]") && m.contains("[8, 8]"), "{m}");
    let m = caught("exact_score(ou(#{ n: 8 })).evaluate(zeros([5]))");
    assert!(m.contains("dimension 64"), "{m}");
    let m = caught("nd([1, 2]) + nd([1, 2, 3])");
    assert!(m.contains("[2]") && m.contains("[3]"), "{m}");
    let m = caught("trajectory(zeros([3, 4]), 1.0)");
    assert!(m.contains("members, frames"), "{m}");
}

#[test]
fn unknown_option_keys() {
    let m = caught("ou(#{ n: 8 }).simulate(#{ membrs: 2 })");
    assert!(m.contains("membrs") && m.contains("members"), "{m}");
    let m = caught("allen_cahn(#{ lamda: 1.0 })");
    assert!(m.contains("lamda"), "{m}");
    let m = caught("gfdt(trajectory(zeros([1, 10, 2]), 1.0), exact_score(ou()), #{ lag: 3 })");
    assert!(m.contains("lag"), "{m}");
}

#[test]
fn negative_or_zero_dt() {
    let m = caught("allen_cahn(#{ dt: -0.1 })");
    assert!(m.contains("dt") && m.contains("-0.1"), "{m}");
    let m = caught("trajectory(zeros([1, 10, 2]), 0)");
    assert!(m.contains("dt"), "{m}");
}

#[test]
fn blow_up_names_member_and_time() {
    let m = caught("allen_cahn(#{ n: 8, dt: 2.0 }).simulate(#{ members: 2, spinup: 0.0, duration: 200.0, save_every: 1 })");
    assert!(m.contains("member") && m.contains("dt"), "{m}");
}

#[test]
fn missing_files() {
    let m = caught("load_npy(\"/nonexistent/x.npy\")");
    assert!(m.contains("/nonexistent/x.npy"), "{m}");
    let m = caught("load_json(\"/nonexistent/x.json\")");
    assert!(m.contains("/nonexistent/x.json"), "{m}");
}

#[test]
fn refused_configurations() {
    // λ = 0 with γ = 0 has no stationary state (SPEC 3.1): refused with the fix.
    let m = caught("ou(#{ gamma: 0.0 })");
    assert!(m.contains("gamma"), "{m}");
    let m = caught("analytic_response(allen_cahn(#{ n: 8 }), #{ lags: 3 })");
    assert!(
        m.to_lowercase().contains("λ") || m.contains("lambda") || m.contains("linear"),
        "{m}"
    );
    let m = caught("plot_heatmap(\"x.txt\", zeros([2, 2]), #{})");
    assert!(m.contains("png") || m.contains("svg"), "{m}");
}

#[test]
fn error_carries_line_and_column() {
    let e = eval("let a = 1;\nlet sys = ou(#{ n: 8 });\nsys.simulate(#{ stpes: 3 });").unwrap_err();
    assert!(e.starts_with("3:"), "{e}");
    assert!(e.contains("stpes"), "{e}");
}

// ------------------------------------------------------------------ memory budget (issue 14.1)

/// A refusal by the memory budget: it says the size asked for, the budget and how to raise it.
fn over_budget(call: &str) -> String {
    let m = caught(call);
    assert!(
        m.contains("memory budget") && m.contains("set_memory_budget"),
        "{call}: not a memory-budget refusal: {m}"
    );
    assert!(!m.contains("usize") && !m.contains("u64"), "{m}");
    m
}

#[test]
fn huge_members_are_refused_not_a_panic() {
    // F33: the old check multiplied members × D in wrapping arithmetic and passed.
    let m = over_budget(
        "linear_ou(#{ A: [[-1.0, 0.0, 0.0, 0.0], [0.0, -1.0, 0.0, 0.0], [0.0, 0.0, -1.0, 0.0], \
         [0.0, 0.0, 0.0, -1.0]] }).simulate(#{ members: 4611686018427387904, duration: 1.0 })",
    );
    assert!(m.contains("4611686018427387904 members"), "{m}");
    assert!(m.contains("more than 16 EiB"), "{m}");
    // F35.
    let m = over_budget(
        "navier_stokes(#{ n: 16 }).simulate(#{ members: 2305843009213693952, spinup: 0.5, \
         duration: 0.25, save_every: 4 })",
    );
    assert!(m.contains("2305843009213693952 members"), "{m}");
    // Grid OU members.
    let m = over_budget("ou(#{ n: 32 }).simulate(#{ members: 100000000, duration: 200.0 })");
    assert!(
        m.contains("100000000 members × 200 frames × 32 × 32 × 8 bytes"),
        "{m}"
    );
}

#[test]
fn huge_sample_counts_are_refused() {
    // F34 (capacity-overflow panic), G01 (256 TB abort), I01 (409.6 GB, ran until killed).
    let m = over_budget(
        "let m = train_score(linspace(-1, 1, 200).reshape([200, 1]), #{ hidden: 8, epochs: 1 }); \
         sample_score(m, #{ samples: 4611686018427387904, steps: 2 })",
    );
    assert!(m.starts_with("sample_score:"), "{m}");
    assert!(m.contains("4611686018427387904 samples"), "{m}");
    let m = over_budget(
        "let x = reshape(sin(arange(200 * 64) * 0.37), [200, 64]); \
         let m = train_score(x, #{ hidden: 8, layers: 1, epochs: 1, warmup: 0 }); \
         sample_score(m, #{ samples: 1000000000000, steps: 2 })",
    );
    assert!(m.contains("1000000000000 samples × 64 values"), "{m}");
    let m = over_budget(
        "let x = reshape(sin(arange(200 * 1024) * 0.37), [200, 1024]); \
         let m = train_score(x, #{ hidden: 8, layers: 1, epochs: 1, warmup: 0 }); \
         sample_score(m, #{ samples: 100000000, steps: 2 })",
    );
    assert!(m.contains("100000000 samples × 1024 values"), "{m}");
}

#[test]
fn huge_arrays_lags_grids_and_networks_are_refused() {
    let m = over_budget("zeros([1000000, 1000000])");
    assert!(m.contains("7.3 TiB (1000000 × 1000000 × 8 bytes)"), "{m}");
    over_budget("ones([4611686018427387904, 4])");
    over_budget("linspace(0, 1, 4611686018427387904)");
    over_budget("arange(0, 1e300, 1)");
    // Broadcasting and products can ask for far more than their inputs.
    over_budget("zeros([1, 1000000]) + zeros([1000000, 1])");
    over_budget("zeros([1000000, 1]).matmul(zeros([1, 1000000]))");
    // Lags.
    let m = over_budget(
        "analytic_response(linear_ou(#{ A: [[-1.0, 0.0], [0.0, -1.0]] }), \
         #{ lags: 4611686018427387904, dt: 0.1 })",
    );
    assert!(m.contains("4611686018427387904 lags"), "{m}");
    over_budget("analytic_response(ou(#{ n: 64 }), #{ lags: 100000000000 })");
    // Grid side (the fixed limit n ≤ 1024 is gone: memory decides).
    let m = over_budget("ou(#{ n: 1000000 })");
    assert!(m.contains("1000000×1000000 grid"), "{m}");
    over_budget("navier_stokes(#{ n: 4611686018427387904 })");
    // A network far too large to train.
    over_budget(
        "train_score(linspace(-1, 1, 200).reshape([200, 1]), #{ hidden: 100000000, epochs: 1 })",
    );
    // A closure SDE whose dimension cannot be held.
    over_budget("sde(#{ drift: |x| x, noise: 1.0, dim: 4611686018427387904 })");
}

#[test]
fn rhai_built_ins_that_allocate_a_given_size_are_checked() {
    // The built-ins allocate first: `pad` panicked (capacity overflow), `blob` aborted, a
    // string `pad` grew until memory ran out.
    over_budget("let a = []; a.pad(4611686018427387904, 0)");
    over_budget("let a = []; a.pad(1000000000000, [1, 2, 3])");
    over_budget("blob(4611686018427387904)");
    over_budget("let b = blob(1); b.pad(4611686018427387904, 0)");
    over_budget("let s = \"ab\"; s.pad(4611686018427387904, 'x')");
    over_budget("let s = \"ab\"; s.pad(4611686018427387904, \"xy\")");
    let m = caught("let s = \"ab\"; s.pad(10, \"\")");
    assert!(m.contains("padding string is empty"), "{m}");
    // Same behaviour as the built-ins for normal sizes.
    let v = eval(
        "let a = [1]; a.pad(3, 0); let s = \"ab\"; s.pad(5, \"xy\"); let b = blob(2, 258); \
         b.pad(3, 9); `${a} ${s} ${b.len()} ${b[0]} ${b[2]}`",
    )
    .unwrap();
    assert_eq!(v.into_string().unwrap(), "[1, 0, 0] abxyx 3 2 9");
}

#[test]
fn many_experiments_times_lags_are_refused() {
    // Every experiment's record is kept for the standard error: experiments × lags.
    let m = over_budget(
        "let s = linear_ou(#{ A: [[-1.0]] }); \
         impulse_ensemble(s, [1.0], obs_x(0), zeros([100000, 1]), \
         #{ window: 1000000.0, dt: 0.01, save_every: 1 })",
    );
    assert!(m.contains("100000 experiments × 100000001 lags"), "{m}");
}

#[test]
fn a_corrupt_npy_header_is_refused_before_allocating() {
    // A valid header claiming 10¹² float64 values followed by 16 bytes of data.
    let dir = std::env::temp_dir().join(format!("fdtlab-npy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("huge.npy");
    let dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }";
    let mut header = dict.to_string();
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&[0u8; 16]);
    std::fs::write(&path, &bytes).unwrap();
    let m = caught(&format!("load_npy(\"{}\")", path.display()));
    assert!(
        m.contains("(1000000, 1000000)") || m.contains("[1000000, 1000000]"),
        "{m}"
    );
    assert!(m.contains("truncated or corrupt"), "{m}");
}

/// Runs `script` with `fdtlab run` (a separate process: the budget is process-wide) and the
/// environment `env`; returns (success, stdout, stderr).
fn run_with(script: &str, env: &[(&str, &str)], args: &[&str]) -> (bool, String, String) {
    let dir = common::temp_dir(&format!("budget-{:x}", fnv(script)));
    let file = dir.join("budget.rhai");
    std::fs::write(&file, script).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_fdtlab"));
    cmd.arg("run").arg(&file).args(args).current_dir(&dir);
    cmd.env_remove("FDTLAB_MEMORY_BUDGET");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

/// A moderate OU run (64 members × 200 frames × 32² values = 100 MiB), far over 1 MiB.
const MODERATE: &str = "ou(#{ n: 32 }).simulate(#{ members: 64, duration: 200.0 })";
/// A small OU run (2 members × 4 frames × 8², plus per-thread buffers), well under 1 MiB.
const SMALL: &str = "ou(#{ n: 8 }).simulate(#{ members: 2, spinup: 1.0, duration: 4.0 })";

#[test]
fn a_lowered_budget_refuses_moderate_requests_and_allows_small_ones() {
    let script = format!(
        "let b = memory_budget();\n\
         assert_eq(b.bytes, 1048576);\n\
         let r = \"no error\";\n\
         try {{ {MODERATE}; }} catch (e) {{ r = e; }}\n\
         print(r);\n\
         let t = {SMALL};\n\
         assert_eq(t.frames, 4);\n\
         print(`small ok, source ${{b.source}}`);\n"
    );
    // From the environment, from the command line and from the script itself.
    let runs = [
        run_with(&script, &[("FDTLAB_MEMORY_BUDGET", "1 MiB")], &[]),
        run_with(&script, &[], &["--memory-budget", "1MiB"]),
        run_with(
            &format!("set_memory_budget(\"1 MiB\");\n{script}"),
            &[],
            &[],
        ),
        // The flag wins over the variable.
        run_with(
            &script,
            &[("FDTLAB_MEMORY_BUDGET", "64 GiB")],
            &["--memory-budget=1048576"],
        ),
    ];
    for ((ok, out, err), source) in runs.iter().zip(["env", "set", "set", "set"]) {
        assert!(ok, "stdout: {out}\nstderr: {err}");
        let refusal = out.lines().next().unwrap_or("");
        assert!(
            refusal.starts_with("simulate: the trajectory (64 members × 200 frames × 32 × 32 × 8 bytes = 100.0 MiB)"),
            "{refusal}"
        );
        assert!(
            refusal.contains("over the memory budget of 1.0 MiB"),
            "{refusal}"
        );
        assert!(
            refusal.contains(
                "raise the budget: set_memory_budget(\"1 GiB\") or FDTLAB_MEMORY_BUDGET=1GiB"
            ),
            "{refusal}"
        );
        assert!(out.contains(&format!("small ok, source {source}")), "{out}");
    }
}

#[test]
fn a_request_just_under_a_lowered_budget_runs() {
    // 64 MiB budget: ones of exactly 64 MiB is allocated and written (every page touched);
    // one more value is refused; the session goes on.
    let script = "let a = ones([8388608]);\n\
                  assert_eq(a.sum(), 8388608.0);\n\
                  let r = \"no error\";\n\
                  try { ones([8388609]); } catch (e) { r = e; }\n\
                  assert(\"over the memory budget of 64.0 MiB\" in r);\n\
                  set_memory_budget(\"auto\");\n\
                  assert_eq(memory_budget().source, \"env\");\n\
                  print(\"done\");\n";
    let (ok, out, err) = run_with(script, &[("FDTLAB_MEMORY_BUDGET", "64MiB")], &[]);
    assert!(ok, "stdout: {out}\nstderr: {err}");
    assert_eq!(out.trim(), "done");
}

#[test]
fn a_bad_budget_is_reported_at_start() {
    let (ok, _, err) = run_with("print(1);", &[("FDTLAB_MEMORY_BUDGET", "lots")], &[]);
    assert!(!ok);
    assert!(
        err.contains("FDTLAB_MEMORY_BUDGET") && err.contains("not a size"),
        "{err}"
    );
    let (ok, _, err) = run_with("print(1);", &[], &["--memory-budget", "-3 GiB"]);
    assert!(!ok);
    assert!(err.contains("--memory-budget"), "{err}");
    let m = caught("set_memory_budget(\"lots\")");
    assert!(m.contains("not a size"), "{m}");
    let m = caught("set_memory_budget(-1)");
    assert!(m.contains("not a positive size"), "{m}");
}
