//! Ctrl-C during training returns the best model so far, flagged, instead of an error. In its
//! own test binary because the Ctrl-C flag is process-global.
use fdtlab::core::rng::stream_rng;
use fdtlab::score::learned::{self, TrainOpts};
use fdtlab::score::Score;
use ndarray::{Array2, ArrayD, IxDyn};
use rand::RngExt;
use rand_distr::StandardNormal;
use std::time::Duration;

/// The Ctrl-C flag is process-global: the tests of this binary run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn ctrl_c_returns_best_model_so_far() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    fdtlab::core::progress::set_quiet(true);
    let mut rng = stream_rng(1, 0);
    let data = ArrayD::from_shape_fn(IxDyn(&[2000, 2]), |_| rng.sample::<f64, _>(StandardNormal));
    let opts = TrainOpts {
        hidden: 32,
        layers: 2,
        epochs: 1_000_000, // would run for hours: only Ctrl-C ends it
        batch: 64,
        lr: 1e-3,
        warmup: 10,
        ..TrainOpts::default()
    };
    let presser = std::thread::spawn(|| {
        std::thread::sleep(Duration::from_millis(400));
        fdtlab::core::interrupt::request();
    });
    let model = learned::train(data.view(), &opts, None).expect("interrupt is not an error");
    presser.join().unwrap();
    assert!(
        fdtlab::core::interrupt::requested(),
        "the flag stays set for the caller"
    );
    fdtlab::core::interrupt::clear();
    assert!(model.interrupted());
    let h = model.history();
    assert!(!h.is_empty() && h.len() < 1_000_000);
    assert!(h.last().unwrap().partial || h.iter().all(|e| !e.partial));
    // The kept model is one of the validated epochs, and it scores finite values.
    let best = model.meta().best_epoch.expect("a validated model");
    assert!(h.iter().any(|e| e.epoch == best && e.val_loss.is_some()));
    let x = Array2::from_shape_fn((10, 2), |(i, j)| (i as f64 - 5.0) * 0.3 + j as f64);
    let mut out = Array2::zeros((10, 2));
    model.score().eval_batch(x.view(), out.view_mut()).unwrap();
    assert!(out.iter().all(|v| v.is_finite()));
    // Training can resume from it.
    let more = TrainOpts { epochs: 1, ..opts };
    let resumed = learned::train(data.view(), &more, Some(model)).unwrap();
    assert!(!resumed.interrupted());
}

/// In a script, Ctrl-C during `train_score` returns the partial model and the script goes on
/// (it can save the model); a second Ctrl-C stops the script.
#[test]
fn ctrl_c_in_train_score_lets_the_script_save_then_a_second_one_stops_it() {
    use fdtlab::engine::EngineConfig;
    use fdtlab::repl::Session;
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    fdtlab::core::progress::set_quiet(true);
    let out = std::env::temp_dir().join("fdtlab-test-learned-interrupt");
    let _ = std::fs::remove_dir_all(&out);
    let mut s = Session::new(&EngineConfig {
        quick: true,
        out_dir: out.clone(),
        script_dir: None,
    });
    let presser = std::thread::spawn(|| {
        std::thread::sleep(Duration::from_millis(400));
        fdtlab::core::interrupt::request();
        // train_score clears the flag once it has returned the partial model; then press again.
        let t0 = std::time::Instant::now();
        while fdtlab::core::interrupt::requested() && t0.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(200));
        fdtlab::core::interrupt::request();
    });
    let r = s.eval_line(
        "let m = train_score(linspace(-2, 2, 2000).reshape([1000, 2]), \
         #{ hidden: 16, layers: 1, epochs: 1000000, warmup: 10 }); \
         save_model(out_path(\"partial\"), m); let n = 0; loop { n += 1; }",
    );
    presser.join().unwrap();
    let e = r.expect_err("the second Ctrl-C stops the script loop");
    assert!(e.contains("interrupted"), "{e}");
    fdtlab::core::interrupt::clear();
    assert!(out.join("partial").join("model.json").exists());
    assert_eq!(
        s.eval_line("m.interrupted").unwrap().as_deref(),
        Some("true")
    );
}
