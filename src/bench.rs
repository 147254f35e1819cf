//! `fdtlab bench`: speed figures, one `name: value unit` line each (scripts can parse them).
//! With `--numpy` the NumPy references of `../shared/bench` (or `$FDTLAB_BENCH_DIR`) run in the
//! same invocation and their ratios are printed, so both sides see the same machine load.
use crate::systems::allen_cahn::{bench_member_steps, AcParams};
use crate::systems::navier_stokes::{bench_ns_member_steps, NsParams};
use crate::{Error, Result};
use std::path::PathBuf;
use std::process::Command;

/// Seconds with 3 decimals, or 3 significant digits below 0.1 s (a quick run's timings would
/// otherwise print as 0.000).
fn secs(x: f64) -> String {
    if x >= 0.1 {
        format!("{x:.3}")
    } else {
        format!("{x:.2e}")
    }
}

/// Best of `reps` runs of `f` (higher is better), to filter out preemption by other processes.
fn best_of(reps: usize, mut f: impl FnMut() -> Result<f64>) -> Result<f64> {
    let mut best = f64::MIN;
    for _ in 0..reps {
        best = best.max(f()?);
    }
    Ok(best)
}

/// Lowest of `reps` timings (lower is better).
fn min_of(reps: usize, mut f: impl FnMut() -> Result<f64>) -> Result<f64> {
    let mut best = f64::MAX;
    for _ in 0..reps {
        best = best.min(f()?);
    }
    Ok(best)
}

/// Runs one NumPy reference script and returns the number following `marker` in its output.
fn numpy_figure(script: &str, args: &[&str], marker: &str) -> Result<f64> {
    numpy_figure_with(script, args, marker, None)
}

/// [`numpy_figure`] with an explicit interpreter (else `$FDTLAB_PYTHON` or `python3`).
fn numpy_figure_with(
    script: &str,
    args: &[&str],
    marker: &str,
    python: Option<&str>,
) -> Result<f64> {
    let dir = std::env::var("FDTLAB_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("../shared/bench"));
    let path = dir.join(script);
    let python = python
        .map(str::to_string)
        .or_else(|| std::env::var("FDTLAB_PYTHON").ok())
        .unwrap_or_else(|| "python3".into());
    let out = Command::new(&python)
        .arg(&path)
        .args(args)
        .output()
        .map_err(|e| Error::io(&path, format!("cannot run {python}: {e}")))?;
    if !out.status.success() {
        return Err(Error::io(
            &path,
            format!(
                "NumPy reference failed (is numpy installed for {python}? set FDTLAB_PYTHON): {}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            ),
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let after = text
        .split(marker)
        .nth(1)
        .ok_or_else(|| Error::io(&path, format!("no '{marker}' in its output: {text}")))?;
    after
        .split_whitespace()
        .next()
        .and_then(|w| w.parse::<f64>().ok())
        .ok_or_else(|| Error::io(&path, format!("cannot parse a number after '{marker}'")))
}

/// Steps per second of one member of a D-dimensional linear OU `dx = A x dt + dW`
/// (A = −I + 0.1 shift) integrated (Euler–Maruyama) as a Rhai closure system (drift
/// `|x| A.dot(x)`) and natively (`linear_ou`), `(closure, native)`; both single threaded.
pub fn sde_closure_vs_native(d: usize, steps: usize) -> Result<(f64, f64)> {
    let rows: Vec<String> = (0..d)
        .map(|i| {
            let r: Vec<String> = (0..d)
                .map(|j| {
                    let v = if i == j {
                        -1.0
                    } else if j == (i + 1) % d {
                        0.1
                    } else {
                        0.0
                    };
                    format!("{v:.1}")
                })
                .collect();
            format!("[{}]", r.join(", "))
        })
        .collect();
    let a = format!("[{}]", rows.join(", "));
    let dur = steps as f64 * 0.01;
    let src = format!(
        "let A = nd({a}); \
         let o = #{{ members: 1, duration: {dur}, dt: 0.01, save_every: 100 }}; \
         let c = sde(#{{ drift: |x| A.dot(x), noise: ones([{d}]) }}); \
         let n = linear_ou(#{{ A: A }}); \
         let t0 = now(); c.simulate(o); let tc = seconds_since(t0); \
         let t1 = now(); n.simulate(o); let tn = seconds_since(t1); \
         [tc, tn]"
    );
    let engine = crate::engine::new_engine(&Default::default());
    let v: rhai::Array = engine
        .eval(&src)
        .map_err(|e| Error::invalid(format!("bench script: {e}")))?;
    let t: Vec<f64> = v.iter().map(|x| x.as_float().unwrap_or(f64::NAN)).collect();
    Ok((steps as f64 / t[0], steps as f64 / t[1]))
}

/// Runs the benchmarks. `quick` uses tiny sizes (for tests); `numpy` adds the references.
pub fn run(quick: bool, numpy: bool) -> Result<()> {
    crate::core::progress::set_quiet(true);
    let reps = if quick { 1 } else { 3 };
    let ac = AcParams::allen_cahn();
    let (members, steps) = if quick { (4, 20) } else { (32, 400) };
    let mut ac_rate = [0.0; 2];
    for (i, threads) in [1usize, 2].into_iter().enumerate() {
        ac_rate[i] = best_of(reps, || bench_member_steps(&ac, members, steps, threads))?;
        println!(
            "allen_cahn_n32_threads{threads}: {:.0} member-steps/s",
            ac_rate[i]
        );
    }
    let ou = AcParams::ou();
    let r = best_of(reps, || bench_member_steps(&ou, members, steps * 4, 2))?;
    println!("ou_n32_threads2: {r:.0} member-steps/s");
    let ns = NsParams::default();
    let r = best_of(reps, || {
        bench_ns_member_steps(&ns, members / 2, steps / 2, 2)
    })?;
    println!("navier_stokes_n32_threads2: {r:.0} member-steps/s");
    let (m, t, d, l) = if quick {
        (2, 512, 8, 32)
    } else {
        (16, 8192, 64, 256)
    };
    let xc = min_of(reps, || crate::response::xcorr::bench_xcorr(m, t, d, l, 2))?;
    println!("xcorr_{m}x{t}x{d}x{l}: {} s", secs(xc));
    let (gm, gt) = if quick { (2, 64) } else { (16, 2000) };
    let g = min_of(reps, || {
        crate::response::fdt_periodic::bench_gfdt_periodic(gm, gt, 32, 51, 2)
    })?;
    println!("gfdt_periodic_{gm}x{gt}x32x32_lags51: {} s", secs(g));
    let steps = if quick { 2_000 } else { 200_000 };
    for d in [2usize, 8] {
        let (mut c, mut n) = (0.0f64, 0.0f64);
        for _ in 0..reps {
            let (ci, ni) = sde_closure_vs_native(d, steps)?;
            c = c.max(ci);
            n = n.max(ni);
        }
        println!("sde_closure_d{d}_threads1: {c:.0} steps/s");
        println!("sde_native_linear_ou_d{d}_threads1: {n:.0} steps/s");
        println!("ratio_native_vs_closure_d{d}: {:.0} x", n / c);
    }
    let dsm_mlp = if quick {
        best_of(reps, || {
            crate::score::learned::bench::bench_dsm_mlp_sized(16, 32, 64, 3)
        })?
    } else {
        best_of(reps, || crate::score::learned::bench::bench_dsm_mlp(2))?
    };
    println!("dsm_mlp64_threads2: {dsm_mlp:.0} samples/s");
    let conv = best_of(reps, || {
        crate::score::learned::bench::bench_dsm_conv_steps(2, if quick { 1 } else { 40 })
    })?;
    println!(
        "dsm_conv32_{}_threads2: {conv:.0} samples/s",
        crate::score::learned::bench::CONV_BENCH_TAG
    );
    if numpy {
        let np_ac = numpy_figure("ac_numpy.py", &["--threads", "2"], "lam=4000.0:")?;
        println!("numpy_allen_cahn_n32_threads2: {np_ac:.0} member-steps/s");
        println!(
            "ratio_allen_cahn_threads2_vs_numpy: {:.1} x",
            ac_rate[1] / np_ac
        );
        let args = [
            "--members",
            &m.to_string(),
            "--t",
            &t.to_string(),
            "--d",
            &d.to_string(),
            "--lags",
            &l.to_string(),
        ]
        .map(|s| s.to_string());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let np_xc = numpy_figure("xcorr_numpy.py", &args, &format!("lags={l}:"))?;
        println!("numpy_xcorr_{m}x{t}x{d}x{l}: {} s", secs(np_xc));
        println!("ratio_xcorr_vs_numpy: {:.1} x", np_xc / xc);
        // PyTorch is optional: a missing torch prints a note instead of failing the bench.
        let steps = if quick { "5" } else { "100" };
        let torch_args = ["--threads", "2", "--steps", steps];
        let py = std::env::var("FDTLAB_TORCH_PYTHON").ok();
        match numpy_figure_with("dsm_torch.py", &torch_args, "x3: ", py.as_deref()) {
            Ok(t) if !quick => {
                println!("torch_dsm_mlp64_threads2: {t:.0} samples/s");
                println!("ratio_dsm_mlp64_threads2_vs_torch: {:.2} x", dsm_mlp / t);
            }
            Ok(t) => println!("torch_dsm_mlp64_threads2: {t:.0} samples/s"),
            Err(e) => println!("torch_dsm_mlp64_threads2: skipped ({e}; set FDTLAB_TORCH_PYTHON)"),
        }
    }
    Ok(())
}
