use fdtlab::rng::stream_rng;
use fdtlab::score::learned::{self, Arch, TrainOpts};
use ndarray::{Array2, ArrayD, IxDyn};
use rand::RngExt;
fn main() {
    fdtlab::progress::set_quiet(true);
    let v = |x: f64| 2.0 * (x * x - 1.0f64).powi(2);
    let mut rng = stream_rng(31, 0);
    let data = ArrayD::from_shape_fn(IxDyn(&[4000, 1]), |_| loop {
        let x = -2.5 + 5.0 * rng.random::<f64>();
        if rng.random::<f64>() < (-v(x)).exp() { return x; }
    });
    let a: Vec<String> = std::env::args().collect();
    let epochs: usize = a.get(1).map(|s| s.parse().unwrap()).unwrap_or(60);
    let lr: f64 = a.get(2).map(|s| s.parse().unwrap()).unwrap_or(2e-3);
    let hidden: usize = a.get(3).map(|s| s.parse().unwrap()).unwrap_or(64);
    let anti: bool = a.get(4).map(|s| s == "1").unwrap_or(true);
    let opts = TrainOpts { arch: Arch::Mlp, hidden, layers: 2, epochs, batch: 128, lr, warmup: 100, ema: 0.99, antithetic: anti, val_frac: std::env::var("VF").map(|s| s.parse().unwrap()).unwrap_or(0.2), ..TrainOpts::default() };
    let t0 = std::time::Instant::now();
    let model = learned::train(data.view(), &opts, None).unwrap();
    println!("time {:?}", t0.elapsed());
    let m = model.meta();
    println!("mean {} scale {} smax {} best {:?}", m.mean, m.scale, m.sigma_max, m.best_epoch);
    for h in model.history().iter().step_by(5) { println!("{} {:.4} {:.4}", h.epoch, h.train_loss, h.val_loss.unwrap_or(0.0)); }
    let sc = model.score();
    let xs: Vec<f64> = (0..9).map(|i| -1.6 + 0.4 * i as f64).collect();
    let xa = Array2::from_shape_vec((9,1), xs.clone()).unwrap();
    for sig_std in [0.01, 0.03, 0.1, 0.3, 1.0] {
        let sig = sig_std * m.scale;
        let mut out = Array2::zeros((9,1));
        sc.eval_sigma(xa.view(), sig, out.view_mut()).unwrap();
        // exact smoothed score by quadrature
        let ex: Vec<f64> = xs.iter().map(|&x| {
            let (mut p, mut dp) = (0.0, 0.0);
            for j in 0..4001 { let u = -3.0 + 6.0 * j as f64 / 4000.0; let w = (-v(u)).exp() * (-(x-u).powi(2)/(2.0*sig*sig)).exp(); p += w; dp += w * (u - x) / (sig*sig); }
            dp / p }).collect();
        println!("σ={sig_std}:\n learned {:?}\n exact   {:?}", out.iter().map(|v| (v*100.0).round()/100.0).collect::<Vec<_>>(), ex.iter().map(|v| (v*100.0).round()/100.0).collect::<Vec<_>>());
    }
}
