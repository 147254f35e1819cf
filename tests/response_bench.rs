//! Timing runs for the correlation engine and estimators (ignored by default; run with
//! `cargo test --release --test response_bench -- --ignored --nocapture`).

#[test]
#[ignore]
fn bench_xcorr_numpy_shapes() {
    let threads: usize = std::env::var("BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    for _ in 0..3 {
        let s = fdtlab::response::xcorr::bench_xcorr(16, 8192, 64, 256, threads).unwrap();
        println!("xcorr members=16 T=8192 d=64 lags=256 threads={threads}: {s:.3} s");
    }
}

#[test]
#[ignore]
fn fft_lengths() {
    use realfft::RealFftPlanner;
    for n in [
        8192usize, 8640, 8748, 9000, 9216, 10240, 10368, 16384, 2048, 2160, 2187, 2304,
    ] {
        let mut p = RealFftPlanner::<f64>::new();
        let f = p.plan_fft_forward(n);
        let mut x = vec![1.0; n];
        let mut y = f.make_output_vec();
        let mut s = f.make_scratch_vec();
        let t0 = std::time::Instant::now();
        for _ in 0..1000 {
            f.process_with_scratch(&mut x, &mut y, &mut s).unwrap();
        }
        println!("rfft {n}: {:.1} us", t0.elapsed().as_secs_f64() * 1e3);
    }
}

#[test]
#[ignore]
fn bench_gfdt_periodic_paper_shape() {
    fdtlab::core::progress::set_quiet(true);
    let env = |k: &str, d: usize| -> usize {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let (m, t, n, l, th) = (
        env("BENCH_MEMBERS", 16),
        env("BENCH_FRAMES", 2000),
        env("BENCH_N", 32),
        env("BENCH_LAGS", 51),
        env("BENCH_THREADS", 2),
    );
    let s = fdtlab::response::fdt_periodic::bench_gfdt_periodic(m, t, n, l, th).unwrap();
    println!(
        "gfdt_periodic [{m}, {t}, {n}, {n}] lags={l} threads={th}: {s:.3} s ({:.1} ms/member)",
        s / m as f64 * 1e3
    );
}
