//! Ctrl-C during training returns the best model so far, flagged, instead of an error. In its
//! own test binary because the Ctrl-C flag is process-global.
use fdtlab::rng::stream_rng;
use fdtlab::score::learned::{self, TrainOpts};
use fdtlab::score::Score;
use ndarray::{Array2, ArrayD, IxDyn};
use rand::RngExt;
use rand_distr::StandardNormal;
use std::time::Duration;

#[test]
fn ctrl_c_returns_best_model_so_far() {
    fdtlab::progress::set_quiet(true);
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
        fdtlab::interrupt::request();
    });
    let model = learned::train(data.view(), &opts, None).expect("interrupt is not an error");
    presser.join().unwrap();
    assert!(
        fdtlab::interrupt::requested(),
        "the flag stays set for the caller"
    );
    fdtlab::interrupt::clear();
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
