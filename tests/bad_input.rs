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

// ---------------------------------------------------------------------------------------------
// Nothing silent (issue 14, point 3): a warning, or an error, where a result would mislead.
// Warnings are printed and recorded; `warnings()` returns those the calling thread has not seen
// yet. Tests run in parallel threads and each thread sees every warning, so each test matches
// its own warning by content.

/// Evaluates `src` and returns (its value as a string, the warnings it raised on this thread).
fn with_warnings(src: &str) -> (String, Vec<String>) {
    fdtlab::core::progress::set_quiet(true);
    let _ = fdtlab::warn::take_warnings();
    let v = eval(src).unwrap_or_else(|e| panic!("script failed: {e}\n{src}"));
    (v.to_string(), fdtlab::warn::take_warnings())
}

fn has(ws: &[String], parts: &[&str]) -> bool {
    ws.iter().any(|w| parts.iter().all(|p| w.contains(p)))
}

#[test]
fn warnings_fn_returns_new_warnings_once() {
    let src = r#"
        let sys = ou(#{ n: 8 });
        let tr = sys.simulate(#{ members: 2, spinup: 5.0, duration: 20.0 });
        warnings();
        impulse_response(sys, start_states(tr, 5.0, 2), #{ experiments: 3, window: 2.0 });
        let w = warnings();
        let again = warnings();
        [w.some(|m| m.contains("3 experiments from only 2 start states")),
         again.some(|m| m.contains("3 experiments from only 2 start states"))]
    "#;
    let (v, _) = with_warnings(src);
    assert_eq!(v, "[true, false]");
}

/// C28: more experiments than start states. Grid ensembles reuse starts cyclically; the
/// warning gives the numbers and the fix, and the standard error is the between-state one
/// (see `systems::impulse` tests for its value and calibration). Vector-SDE ensembles with
/// repeated rows and Navier–Stokes ensembles chained on few members warn too; with enough
/// independent starts nothing is said.
#[test]
fn c28_reused_start_states_warn() {
    let (v, w) = with_warnings(
        "let sys = ou(#{ n: 8 }); let tr = sys.simulate(#{ members: 2, spinup: 5.0, duration: 20.0 });
         let r = impulse_response(sys, start_states(tr, 5.0, 4), #{ experiments: 100, window: 5.0 });
         r.stderr.shape",
    );
    assert_eq!(v, "[6, 8, 8]");
    assert!(
        has(
            &w,
            &[
                "impulse_response: 100 experiments from only 4 start states",
                "computed between the 4 start states",
                "±41 %",
                "start_states(tr, spacing, 100)",
                "at most 4 experiments"
            ]
        ),
        "{w:?}"
    );
    let (_, w) = with_warnings(
        "let sys = linear_ou(#{ A: [[-1.0]] });
         impulse_ensemble(sys, [1.0], obs_x(0), nd([[0.5], [1.0], [0.5], [1.0], [0.5]]), #{ window: 0.5 })",
    );
    assert!(
        has(
            &w,
            &["impulse_ensemble: 5 experiments from only 2 distinct start states (5 given, some repeated)"]
        ),
        "{w:?}"
    );
    let (_, w) = with_warnings(
        "let ns = navier_stokes(#{ n: 16 });
         let tr = ns.simulate(#{ members: 2, spinup: 0.5, duration: 0.1, save_every: 4 });
         ns_impulse_response(ns, tr, #{ experiments: 4, window: 4 })",
    );
    assert!(
        has(
            &w,
            &[
                "ns_impulse_response: 4 experiments run on only 2 chain(s)",
                "simulate more members"
            ]
        ),
        "{w:?}"
    );
    // Independent starts, one per experiment: no warning about this call.
    let (_, w) = with_warnings(
        "let sys = ou(#{ n: 8 }); let tr = sys.simulate(#{ members: 2, spinup: 5.0, duration: 20.0 });
         impulse_response(sys, start_states(tr, 5.0, 4), #{ experiments: 4, window: 1.0 })",
    );
    assert!(!has(&w, &["4 experiments from only"]), "{w:?}");
}

/// S1: error bars from too few batches. 2 members × 201 frames with 51 lags leave the
/// jackknife 2 batches (whole members): the warning says the error bar is itself uncertain by
/// about ±71 % (1/√(2(B−1))). Checked over 40 seeds on `gaussian_fdt(..).curve([0, 1])` at
/// lag 30: the relative spread sd(se)/mean(se) of the reported standard errors is ≈ 0.76 for
/// B = 2 (|Z|-distributed; measured 0.72) against ≈ 0.27 for χ with 7 degrees of freedom with
/// 8 members (measured 0.36); from 40 seeds each is uncertain by about ±12 % of itself, so
/// the split at 0.55 / 0.5 separates them. With 8 members there is no warning.
#[test]
fn s1_error_bars_from_few_batches_warn() {
    let spread = |members: usize| {
        format!(
            r#"
        let sys = linear_ou(#{{ A: [[-1.0, 0.5], [0.0, -1.0]] }});
        let vals = []; let ses = [];
        for seed in 0..40 {{
            let tr = sys.simulate(#{{ members: {members}, duration: 20.0, seed: seed }});
            let c = gaussian_fdt(tr, #{{ lags: 51 }}).curve([0, 1]);
            vals.push(c.value[30]); ses.push(c.stderr[30]);
        }}
        let v = nd(vals); let s = nd(ses);
        let sd = |a| (((a - a.mean()) * (a - a.mean())).sum() / 39.0).sqrt();
        [sd.call(s) / s.mean(), s.mean() / sd.call(v)]
    "#
        )
    };
    let (v2, w) = with_warnings(&spread(2));
    let (v8, w8) = with_warnings(&spread(8));
    eprintln!("S1: [sd(se)/mean(se), mean(se)/sd(estimate)]: 2 members {v2}, 8 members {v8}");
    let first = |v: &str| -> f64 {
        v.trim_matches(['[', ']'])
            .split(',')
            .next()
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    assert!(first(&v2) > 0.55, "2 members: {v2}");
    assert!(first(&v8) < 0.5, "8 members: {v8}");
    assert!(
        has(
            &w,
            &[
                "gaussian_fdt: the error bars come from only 2 independent batches",
                "±71 %",
                "simulate ≥ 8 members"
            ]
        ),
        "{w:?}"
    );
    assert!(
        !has(&w8, &["gaussian_fdt: the error bars come from only"]),
        "{w8:?}"
    );
    let (_, w) = with_warnings(
        "let s = linear_ou(#{ A: [[-1.0]] }); let tr = s.simulate(#{ members: 2, duration: 20.0, seed: 3 });
         gfdt_general(tr, exact_score(s), [1.0], obs_x(0), #{ window: 1.0, blocks: 4 })",
    );
    assert!(
        has(
            &w,
            &[
                "the error bars come from only 4 independent batches",
                "blocks ≥ 8"
            ]
        ),
        "{w:?}"
    );
}

/// E12: a diverged training run (lr 1000) warns with the numbers and returns the best model
/// it has; a run whose last epochs got worse warns and keeps the better epoch; a run that never
/// beat a network outputting zero says so.
#[test]
fn e12_diverged_training_warns_and_keeps_the_best_model() {
    use fdtlab::score::learned::{train, TrainOpts};
    fdtlab::core::progress::set_quiet(true);
    let x = ndarray::Array1::linspace(-1.0, 1.0, 2000)
        .into_shape_with_order((2000, 1))
        .unwrap()
        .into_dyn();
    let _ = fdtlab::warn::take_warnings();
    let best_is_min = |m: &fdtlab::score::learned::LearnedModel| {
        let h = m.history();
        let min = h
            .iter()
            .filter_map(|e| e.val_loss)
            .fold(f64::INFINITY, f64::min);
        let best = m.meta().best_val.unwrap();
        assert_eq!(best, min, "the kept model is the lowest validation loss");
        m.meta().best_epoch.unwrap()
    };
    let o = TrainOpts {
        hidden: 16,
        epochs: 3,
        lr: 1000.0,
        warmup: 0,
        ..TrainOpts::default()
    };
    let m = train(x.view(), &o, None).unwrap();
    let e = best_is_min(&m);
    let w = fdtlab::warn::take_warnings();
    assert!(
        has(
            &w,
            &[
                "train_score: the loss exploded",
                "no epoch beat a network that outputs zero",
                &format!("the model returned is the selected one (epoch {e})"),
                "lr = 1000"
            ]
        ),
        "{w:?}"
    );
    let o = TrainOpts {
        hidden: 16,
        epochs: 10,
        lr: 0.05,
        ..TrainOpts::default()
    };
    let m = train(x.view(), &o, None).unwrap();
    let e = best_is_min(&m);
    assert!(e < 9, "the best epoch is not the last here");
    let w = fdtlab::warn::take_warnings();
    assert!(
        has(
            &w,
            &[
                "the last epoch (9) has validation loss",
                "far above",
                &format!("selected epoch {e}")
            ]
        ),
        "{w:?}"
    );
    let o = TrainOpts {
        hidden: 16,
        epochs: 1,
        ..TrainOpts::default()
    };
    train(x.view(), &o, None).unwrap();
    let w = fdtlab::warn::take_warnings();
    assert!(
        has(
            &w,
            &["no epoch beat a network that outputs zero", "train longer"]
        ),
        "{w:?}"
    );
}

/// J21: a learned score refuses a batch that is not made of its states (like exact scores).
#[test]
fn j21_learned_score_refuses_wrong_shapes() {
    let m = caught(
        "let m = train_score(linspace(-1, 1, 200).reshape([200, 1]), #{ hidden: 8, epochs: 1 });
         m.score.evaluate(zeros([3, 2]))",
    );
    assert!(
        m.contains("states of shape [1]") && m.contains("[B, 1]") && m.contains("[3, 2]"),
        "{m}"
    );
    let v = eval(
        "let m = train_score(linspace(-1, 1, 200).reshape([200, 1]), #{ hidden: 8, epochs: 1 });
         [m.score.evaluate(zeros([3, 1])).shape, m.score.evaluate(zeros([1])).shape]",
    )
    .unwrap();
    assert_eq!(v.to_string(), "[[3, 1], [1]]");
    let m = caught("exact_score(linear_ou(#{ A: [[-1.0]] })).evaluate(zeros([3, 2]))");
    assert!(m.contains("[3, 2]"), "{m}");
}

/// J27: Navier–Stokes diagnostics refuse a trajectory of another system (same grid size).
#[test]
fn j27_ns_diagnostics_refuse_other_systems() {
    for f in ["ns_energy", "ns_spectrum"] {
        let m = caught(&format!(
            "let ns = navier_stokes(#{{ n: 8 }});
             let tr = ou(#{{ n: 8 }}).simulate(#{{ members: 1, spinup: 1.0, duration: 4.0 }});
             {f}(ns, tr)"
        ));
        assert!(
            m.contains(f) && m.contains("OU") && m.contains("not from a Navier–Stokes system"),
            "{m}"
        );
    }
    // Its own runs and the user's own data are accepted.
    common::check(
        "let ns = navier_stokes(#{ n: 8 });
         ns_energy(ns, ns.simulate(#{ members: 1, spinup: 0.1, duration: 0.1, save_every: 4 }));
         ns_energy(ns, trajectory(zeros([1, 2, 8, 8]), 0.1))",
    );
}

/// E22 / E38: unknown keys in plot panels and series are errors with "did you mean".
#[test]
fn e22_e38_unknown_plot_keys() {
    let series = "series: [#{ label: \"a\", x: [1, 2, 3], y: [1.0, 10.0, 100.0] }]";
    let m = caught(&format!(
        "plot_lines(out_path(\"b4.png\"), #{{ panels: [#{{ xlable: \"t\", {series} }}] }})"
    ));
    assert!(
        m.contains("panel 0") && m.contains("'xlable'") && m.contains("did you mean 'xlabel'"),
        "{m}"
    );
    let m = caught(&format!(
        "plot_lines(out_path(\"b16.png\"), #{{ panels: [#{{ ylog: true, {series} }}] }})"
    ));
    assert!(m.contains("'ylog'") && m.contains("valid keys are"), "{m}");
    let m = caught(
        "plot_lines(out_path(\"b17.png\"), #{ panels: [#{ series: [#{ lable: \"a\", x: [1], y: [1.0] }] }] })",
    );
    assert!(
        m.contains("series 0") && m.contains("did you mean 'label'"),
        "{m}"
    );
    let m = caught("plot_responses(out_path(\"r.png\"), [], #{ tmx: 3.0 })");
    assert!(m.contains("did you mean 'tmax'"), "{m}");
    let m = caught("plot_heatmap(out_path(\"h.png\"), zeros([2, 2]), #{ titel: \"x\" })");
    assert!(m.contains("did you mean 'title'"), "{m}");
    let m = caught("sde(#{ drift: |x| -x, nosie: 1.0 })");
    assert!(m.contains("did you mean 'noise'"), "{m}");
    let m = caught("linear_ou(#{ A: [[-1.0]], g: [[1.0]] })");
    assert!(m.contains("did you mean 'G'"), "{m}");
}

// ---------------------------------------------------------------------------------------------
// Messages a researcher understands (issue 14, point 4: the specific cases of the findings).

#[test]
fn a07_reshape_with_two_minus_ones() {
    let m = caught("reshape(arange(6), [-1, -1])");
    assert!(m.contains("only one -1 allowed"), "{m}");
}

#[test]
fn b41_nan_option_names_the_option_not_json() {
    let m = caught("ou(#{n: 8}).simulate(#{ members: 1, duration: 0.0/0.0 })");
    assert!(
        m.contains("option 'duration' is NaN; give a finite number") && !m.contains("JSON"),
        "{m}"
    );
}

/// C19: comparing a grid response with a vector one says so, naming estimate and reference.
#[test]
fn c19_rel_err_of_different_systems() {
    let m = caught(
        "let a = analytic_response(ou(#{ n: 8 }), #{ lags: 5 });
         let b = analytic_response(linear_ou(#{ A: [[-1.0, 0.0],[0.0,-1.0]] }), #{ lags: 5 });
         rel_err(a, b, #{ tmax: 4.0 })",
    );
    assert!(
        m.contains("the estimate 'analytic'")
            && m.contains("the reference 'analytic'")
            && m.contains("[8, 8]")
            && m.contains("[2, 2]")
            && m.contains("different systems"),
        "{m}"
    );
}

/// C23 / E32 / S2: default curves fit vector responses with D < 4; an offset that does not fit
/// says which would; vector panels get component labels.
#[test]
fn c23_e32_s2_default_curves_fit() {
    // Its own engine and out folder: `eval`'s shared folder is re-created by parallel tests.
    let v = common::engine("c23")
        .eval::<rhai::Dynamic>(
            "let a = analytic_response(linear_ou(#{ A: [[-1.0]] }), #{ lags: 5, dt: 0.1 });
             plot_responses(out_path(\"e32.png\"), [a], #{});
             save_responses(out_path(\"e32.csv\"), [a], #{});
             rel_err(a, a, #{ tmax: 0.4 }).value",
        )
        .unwrap();
    assert_eq!(v.as_float().unwrap(), 0.0);
    let m = caught(
        "let a = analytic_response(linear_ou(#{ A: [[-1.0]] }), #{ lags: 5, dt: 0.1 });
         rel_err(a, a, #{ tmax: 0.4, offsets: [[1, 0]] })",
    );
    assert!(
        m.contains("[1, 0]") && m.contains("e.g. offsets: [[0, 0]]"),
        "{m}"
    );
    assert_eq!(
        fdtlab::response::curve_label(&[2, 2], &[0, 1]),
        "x[1] → x[0]"
    );
    assert_eq!(
        fdtlab::response::curve_label(&[32, 32], &[1, 0]),
        "(1,1) → (2,1)"
    );
}

/// D22 / D24: a model file whose tensor list was edited names the first differing tensor
/// (not "40 tensors expected, 40 listed"); `load_model` takes the folder or its model.json and
/// says "pass the model folder" for another file.
#[test]
fn d22_d24_model_files() {
    let dir = common::temp_dir("d22");
    let d = dir.to_str().unwrap();
    common::check(&format!(
        "let m = train_score(linspace(-1, 1, 200).reshape([200, 1]), #{{ hidden: 8, epochs: 1 }});
         save_model(\"{d}/good\", m); save_model(\"{d}/bad\", m);"
    ));
    let meta = dir.join("bad/model.json");
    let mut j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&meta).unwrap()).unwrap();
    j["tensors"][1]["shape"] = serde_json::json!([7, 7]);
    std::fs::write(&meta, serde_json::to_string(&j).unwrap()).unwrap();
    let m = caught(&format!("load_model(\"{d}/bad\")"));
    assert!(
        m.contains("tensor 1 is listed as")
            && m.contains("[7, 7]")
            && !m.contains("tensors expected"),
        "{m}"
    );
    let v = eval(&format!("load_model(\"{d}/good/model.json\").params")).unwrap();
    assert!(v.as_int().unwrap() > 0);
    let m = caught(&format!("load_model(\"{d}/good/weights.safetensors\")"));
    assert!(m.contains("pass the model folder"), "{m}");
}

#[test]
fn d34_save_npy_of_a_trajectory_points_to_its_data() {
    let m = caught(
        "let tr = linear_ou(#{ A: [[-1.0]] }).simulate(#{ duration: 1.0 }); save_npy(out_path(\"tr.npy\"), tr)",
    );
    assert!(
        m.contains("got a trajectory") && m.contains("tr.data") && !m.contains("fdtlab::"),
        "{m}"
    );
}

#[test]
fn f06_index_into_an_empty_array() {
    let m = caught("arange(0)[0]");
    assert!(
        m.contains("index 0 is out of range for an empty array") && !m.contains("-0.."),
        "{m}"
    );
}

/// F10 / F11 / F12: `trajectory()` refuses empty data at construction, saying which axis.
#[test]
fn f10_f11_f12_empty_trajectories_refused() {
    for (shape, what) in [
        ("[0, 10, 3]", "no members"),
        ("[2, 0, 3]", "no frames"),
        ("[2, 10, 0]", "states with no values"),
    ] {
        let m = caught(&format!("trajectory(zeros({shape}), 0.1)"));
        assert!(m.contains(what) && m.contains(shape), "{m}");
    }
}

#[test]
fn f14_f15_messages_name_what_the_user_passed() {
    let m = caught("linear_ou(#{ A: [[]] })");
    assert!(m.contains("A is 1×0") && !m.contains("G is"), "{m}");
    let m = caught("sde(#{ drift: |x| [], noise: [] }).simulate(#{ duration: 1.0 })");
    assert!(
        m.contains("noise")
            && m.contains("D = 0")
            && m.contains("drift closure")
            && !m.contains("linear drift"),
        "{m}"
    );
}

#[test]
fn f29_help_of_the_empty_string() {
    let t = fdtlab::engine::help::catalog().suggest("");
    assert!(t.contains("help()") && !t.contains("Did you mean"), "{t}");
}

/// The sweep: no Rust type paths, `usize`/`u64`/`i64`/`f64` type names or "JSON" in messages
/// that are not about JSON files, and no internal function names.
#[test]
fn messages_use_script_words() {
    let calls = [
        "save_npy(out_path(\"x.npy\"), ou(#{ n: 8 }))",
        "ou(#{ n: 8 }).simulate(#{ members: \"many\" })",
        "ou(#{ n: 8 }).simulate(#{ members: 2.5 })",
        "ou(#{ n: 8 }).simulate(#{ duration: \"long\" })",
        "ou(#{ n: 8 }).simulate(#{ duration: 1.0 / 0.0 })",
        "reshape(arange(4), ou(#{ n: 8 }))",
        "sde(#{ drift: |x| -x, noise: 1.0, dim: 1.5 })",
        "sde(#{ drift: |x| -x, noise: 1.0, dim: 1, name: 3 })",
        "plot_responses(out_path(\"r.png\"), [1], #{})",
        "gaussian_fdt(trajectory(zeros([1, 3, 2]), 1.0), #{ lags: 5 })",
        "start_states(linear_ou(#{ A: [[-1.0]] }).simulate(#{ duration: 1.0 }), 0.5, 1000)",
        "stein(trajectory(zeros([1, 1, 2]), 1.0), exact_score(linear_ou(#{ A: [[-1.0, 0.0], [0.0, -1.0]] })))",
    ];
    for c in calls {
        let m = caught(c);
        for bad in [
            "fdtlab::",
            "Handle",
            "usize",
            "u64",
            "i64",
            "f64",
            "JSON",
            "ImmutableString",
            "_vec",
            "_periodic",
            "starts_from_trajectory",
            "stein_check",
        ] {
            assert!(!m.contains(bad), "{c}: '{bad}' in: {m}");
        }
    }
}
