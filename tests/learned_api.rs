//! The `learned` script API end to end: train a small MLP score on 1-D Gaussian samples from a
//! script, save, load, compare the loaded score with the original, and catch load errors.
//! Run in release: `cargo test --release --test learned_api`.
mod common;
use fdtlab::core::rng::stream_rng;
use fdtlab::engine::{format_error, NdArray};
use ndarray::{ArrayD, IxDyn};
use rand::RngExt;
use rand_distr::StandardNormal;
use rhai::{Dynamic, Map, Scope};

/// μ and σ of the 1-D Gaussian training data.
const MU: f64 = 0.5;
const SIGMA: f64 = 1.5;

/// `n` seeded samples of N(MU, SIGMA²) as an ndarray `[n, 1]`.
fn gaussian_samples(n: usize) -> NdArray {
    let mut rng = stream_rng(7, 0);
    let v: Vec<f64> = (0..n)
        .map(|_| MU + SIGMA * rng.sample::<f64, _>(StandardNormal))
        .collect();
    NdArray::from_array(ArrayD::from_shape_vec(IxDyn(&[n, 1]), v).unwrap())
}

fn run(name: &str, script: &str, x: NdArray) -> Result<Dynamic, String> {
    fdtlab::core::progress::set_quiet(true);
    let engine = common::engine(name);
    let mut scope = Scope::new();
    scope.push("x", x);
    engine
        .eval_with_scope::<Dynamic>(&mut scope, script)
        .map_err(|e| format_error(&e, None))
}

fn vals(m: &Map, key: &str) -> Vec<f64> {
    m[key]
        .clone()
        .try_cast::<NdArray>()
        .unwrap_or_else(|| panic!("{key} is not an ndarray"))
        .0
        .iter()
        .copied()
        .collect()
}

#[test]
fn train_save_load_roundtrip_from_a_script() {
    let script = r#"
        let m = train_score(x, #{ hidden: 16, layers: 2, epochs: 30, lr: 2e-3, warmup: 50,
                                  ema: 0.99, seed: 3 });
        assert_eq(m.history.len, 30);
        assert_eq(m.interrupted, false);
        assert_eq(m.state_shape, [1]);
        let dir = out_path("model");
        save_model(dir, m);
        let back = load_model(dir);
        assert_eq(back.params, m.params);
        assert_eq(back.history.len, 30);
        let p = nd([[-2.5], [-1.0], [0.5], [2.0], [3.5]]);
        #{ a: m.score.evaluate(p), b: back.score.evaluate(p), p: p }
    "#;
    let out = run("learned_api_roundtrip", script, gaussian_samples(2000))
        .unwrap_or_else(|e| panic!("script failed: {e}"));
    let m = out.try_cast::<Map>().expect("a map");
    let (a, b, p) = (vals(&m, "a"), vals(&m, "b"), vals(&m, "p"));
    // The saved scoring weights are the f32 tensors themselves: the loaded score is bit-equal.
    assert_eq!(a, b, "loaded score differs from the trained one");
    // Qualitative shape of the learned score of N(μ, σ²): s(x) = −(x − μ)/σ² points towards
    // the mean at μ ± 2σ-ish points (-2.5 and 3.5 are exactly μ ∓ 2σ). A sign check only: the
    // tiny quick network is not an accuracy test (tests/learned.rs covers accuracy).
    assert!(a[0] > 0.0 && a[4] < 0.0, "score {a:?} at {p:?}");
    assert!(a.iter().all(|v| v.is_finite()));
}

#[test]
fn load_errors_are_catchable_and_name_the_file() {
    // Missing folder.
    let script = r#"
        let msg = "";
        try { load_model(out_path("no such model")); } catch (e) { msg = `${e}`; }
        msg
    "#;
    let msg = run("learned_api_missing", script, gaussian_samples(10))
        .unwrap()
        .into_string()
        .unwrap();
    assert!(
        msg.contains("no such model") && msg.contains("model.json"),
        "{msg}"
    );

    // Corrupt model description.
    let script = r#"
        let dir = out_path("corrupt");
        save_json(dir + "/model.json", "garbage");
        let msg = "";
        try { load_model(dir); } catch (e) { msg = `${e}`; }
        msg
    "#;
    let msg = run("learned_api_corrupt", script, gaussian_samples(10))
        .unwrap()
        .into_string()
        .unwrap();
    assert!(
        msg.contains("corrupt") && msg.contains("model.json"),
        "{msg}"
    );
}

#[test]
fn options_are_checked() {
    let e = run(
        "learned_api_opts",
        "train_score(x, #{ hiden: 8 })",
        gaussian_samples(10),
    )
    .unwrap_err();
    assert!(e.contains("hiden") && e.contains("hidden"), "{e}");
    let e = run(
        "learned_api_resume",
        "train_score(x, #{ resume: 3 })",
        gaussian_samples(10),
    )
    .unwrap_err();
    assert!(e.contains("resume") && e.contains("model"), "{e}");
    let e = run(
        "learned_api_spec",
        "radial_spectrum(zeros([4, 4]))",
        gaussian_samples(10),
    )
    .unwrap_err();
    assert!(e.contains("[S, N, N]"), "{e}");
}

#[test]
fn trains_on_a_trajectory_of_grids() {
    // Every frame of every member is a sample: [members * frames, N, N].
    let script = r#"
        let tr = ou(#{ n: 4 }).simulate(#{ members: 2, spinup: 1.0, duration: 5.0 });
        let m = train_score(tr, #{ arch: "conv", channels: 4, layers: 2, kernel: 3, emb: 4,
                                   epochs: 1, warmup: 0 });
        assert_eq(m.state_shape, [4, 4]);
        assert_eq(m.score.dim, 16);
        let e = radial_spectrum(sample_score(m, #{ samples: 8, steps: 5 }));
        assert_eq(e.shape, [3]);
        // Starting the sampler below σ_max works; a start outside (σ_min, σ_max] is an error.
        let s = sample_score(m, #{ samples: 8, steps: 5, sigma_start: 0.5 });
        assert_eq(s.shape, [8, 4, 4]);
        let msg = "";
        try { sample_score(m, #{ samples: 8, steps: 5, sigma_start: 1e9 }); } catch (err) { msg = `${err}`; }
        assert(msg.contains("sigma_start"), msg);
        // Same samples in the same order as the flattened data: the same model, bit for bit.
        let flat = tr.data.reshape([tr.members * tr.frames, 4, 4]);
        let m2 = train_score(flat, #{ arch: "conv", channels: 4, layers: 2, kernel: 3, emb: 4,
                                      epochs: 1, warmup: 0 });
        let p = flat.slice(0, 0, 3);
        assert_eq(m.score.evaluate(p), m2.score.evaluate(p));
        tr.members * tr.frames
    "#;
    let n = run("learned_api_traj", script, gaussian_samples(10))
        .unwrap_or_else(|e| panic!("script failed: {e}"));
    assert!(n.as_int().unwrap() > 1);
}
