//! Criterion benchmarks of the neighbourhood metrics (trustworthiness, continuity, SOMperf's
//! neighbourhood preservation): exact, `n^2` distances in the data space and in a 2-d embedding.
//!
//! Run with `cargo bench -p protolearn-metrics --bench neighbourhood -- --warm-up-time 1 --measurement-time 5`.
//! Ids carry the sizes and the rayon thread count (`RAYON_NUM_THREADS` fixes it). The embedding
//! is a SOM's: the integer grid position of a 10x10 map unit, so neighbourhoods tie heavily.

use std::hint::black_box;

use criterion::{criterion_main, Criterion};
use protolearn_metrics::{continuity, neighbourhood_preservation, neighbourhood_scores, trustworthiness, Matrix, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const N: usize = 10_000;
const D: usize = 64;
const K: usize = 10;
const MAP_SIDE: u32 = 10;

fn run(c: &mut Criterion) -> Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let data: Vec<f32> = (0..N * D).map(|_| rng.random_range(0.0..1.0)).collect();
    let grid: Vec<f32> = (0..N * 2).map(|_| rng.random_range(0..MAP_SIDE) as f32).collect();
    let x = Matrix::new(&data, N, D)?;
    let y = Matrix::new(&grid, N, 2)?;
    let threads = rayon::current_num_threads();
    let id = format!("n={N},d={D},e=2,k={K},threads={threads}");
    let mut g = c.benchmark_group("neighbourhood");
    g.sample_size(10);
    g.bench_function(format!("trustworthiness/{id}"), |b| b.iter(|| black_box(trustworthiness(x, y, K))));
    g.bench_function(format!("continuity/{id}"), |b| b.iter(|| black_box(continuity(x, y, K))));
    g.bench_function(format!("neighbourhood_preservation/{id}"), |b| b.iter(|| black_box(neighbourhood_preservation(x, y, K))));
    g.bench_function(format!("neighbourhood_scores/{id}"), |b| b.iter(|| black_box(neighbourhood_scores(x, y, K))));
    g.finish();
    Ok(())
}

fn neighbourhood(c: &mut Criterion) {
    if let Err(e) = run(c) {
        panic!("benchmark inputs are invalid: {e}");
    }
}

/// The generated group function is public; a private module keeps it out of the docs lint.
mod group {
    criterion::criterion_group!(benches, super::neighbourhood);
}

criterion_main!(group::benches);
