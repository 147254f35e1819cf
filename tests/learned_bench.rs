//! DSM training throughput (ignored by default; run with
//! `cargo test --release --test learned_bench -- --ignored --nocapture`).
//! mimalloc is the global allocator here, as it should be in the binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[test]
#[ignore]
fn dsm_training_throughput() {
    fdtlab::core::progress::set_quiet(true);
    // FDTLAB_BENCH = "mlp" or "conv" runs one of them; FDTLAB_THREADS = "2" one thread count.
    let which = std::env::var("FDTLAB_BENCH").unwrap_or_default();
    let threads: Vec<usize> = match std::env::var("FDTLAB_THREADS") {
        Ok(t) => vec![t.parse().unwrap()],
        Err(_) => vec![1, 2],
    };
    for t in threads {
        if which != "conv" {
            let mlp = fdtlab::score::learned::bench::bench_dsm_mlp(t).unwrap();
            println!("dsm mlp 64-256x3 batch 1024, {t} thread(s): {mlp:.0} samples/s");
        }
        if which != "mlp" {
            let conv = fdtlab::score::learned::bench::bench_dsm_conv(t).unwrap();
            println!("dsm conv 32x32 (default net) batch 128, {t} thread(s): {conv:.0} samples/s");
            let ev = fdtlab::score::learned::bench::bench_score_conv(t).unwrap();
            println!("learned score eval conv 32x32, {t} thread(s): {ev:.0} states/s");
        }
    }
}
