//! Seeded, named random number generators. Every ensemble member / experiment gets its own
//! stream derived from (seed, stream index), so results are bit-identical whatever the number
//! of threads. PCG64 is stable across rand versions (unlike `StdRng`).
use rand_pcg::Pcg64;

pub type Rng = Pcg64;

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The generator for `stream` (member or experiment index) of a run seeded with `seed`.
pub fn stream_rng(seed: u64, stream: u64) -> Rng {
    let a = splitmix64(seed ^ 0x5EED_F00D);
    let b = splitmix64(a ^ stream.wrapping_mul(0xA24B_AED4_963E_E407));
    let state = ((a as u128) << 64) | b as u128;
    let inc = ((splitmix64(b) as u128) << 64) | (stream as u128);
    Pcg64::new(state, inc | 1)
}
