//! Speed figures for the low-dimensional numerics (run explicitly:
//! `cargo test --release --test zoo_bench -- --ignored --nocapture`).
use fdtlab::score::kgmm::{Kgmm, KgmmOpts};
use fdtlab::score::Score;
use fdtlab::systems::linear_ou::LinearOu;
use fdtlab::systems::sde::{Method, SdeRunOpts};
use ndarray::Array2;
use std::time::Instant;

fn pool<T: Send>(n: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .unwrap()
        .install(f)
}

#[test]
#[ignore]
fn bench_linear_ou_em_and_kgmm() {
    fdtlab::core::progress::set_quiet(true);
    for d in [2usize, 10, 64] {
        // A = −I + small off-diagonal coupling, G = I.
        let a = Array2::from_shape_fn((d, d), |(i, j)| {
            if i == j {
                -1.0
            } else {
                0.1 * (((i * 7 + j * 13) % 11) as f64 / 11.0 - 0.5) / (d as f64).sqrt()
            }
        });
        let ou = LinearOu::new(a, Array2::eye(d)).unwrap();
        let sde = ou.sde().unwrap();
        let steps = (4e7 / (d as f64 * d as f64 + 20.0 * d as f64)).max(2e4) as usize;
        for (threads, members) in [(1usize, 1usize), (2, 2)] {
            let o = SdeRunOpts {
                members,
                dt: 0.01,
                duration: steps as f64 * 0.01,
                save_every: 100,
                method: Method::Em,
                ..Default::default()
            };
            let t = Instant::now();
            let tr = pool(threads, || sde.simulate(&o).unwrap());
            let el = t.elapsed().as_secs_f64();
            let ms = (members * steps) as f64;
            println!(
                "linear OU EM D = {d:2}, {threads} thread(s): {:.3e} member-steps/s ({:.0} ns per member-step per thread)",
                ms / el,
                el * 1e9 * threads as f64 / ms
            );
            assert!(tr.data.iter().all(|v| v.is_finite()));
        }
    }
    let ou = LinearOu::new(ndarray::array![[-1.0, 2.0], [0.0, -1.5]], Array2::eye(2)).unwrap();
    let x = ou.sample_stationary(100_000, 1);
    for (label, o) in [
        (
            "auto bandwidth (2 clusterings + 8 candidates)",
            KgmmOpts::default(),
        ),
        (
            "fixed bandwidth",
            KgmmOpts {
                bandwidth: Some(1.0),
                ..Default::default()
            },
        ),
    ] {
        let t = Instant::now();
        let g = Kgmm::fit(x.view(), &o).unwrap();
        println!(
            "KGMM fit 1e5 × 2-D, K = 128, {label}: {:.2} s (f = {})",
            t.elapsed().as_secs_f64(),
            g.bandwidth_factor()
        );
        let mut s = Array2::zeros(x.dim());
        let t = Instant::now();
        g.eval_batch(x.view(), s.view_mut()).unwrap();
        println!(
            "KGMM score eval 1e5 × 2-D, K = 128: {:.3} s",
            t.elapsed().as_secs_f64()
        );
    }
}
