//! Criterion benchmarks of every metric at MNIST scale: 70,000 samples x 64 prototypes (8x8 map) x 10 dimensions.
//!
//! Run with `cargo bench -p protolearn-metrics -- --warm-up-time 1 --measurement-time 3`.
//! Ids carry the sizes and the rayon thread count (`RAYON_NUM_THREADS` fixes it).

use std::hint::black_box;

use criterion::{criterion_main, Criterion};
use protolearn_metrics::{
    adjusted_rand_index, best_matching_units, class_scatter_index, clustering_accuracy, combined_error, competitive_hebbian, distortion,
    normalized_mutual_info, prototype_sharpness_ratio, purity, quantization_error, topographic_error, topographic_product, welch_t_test,
    Boundary, Contingency, Grid, ImageShape, Kernel, Lattice, Matrix, NmiAverage, Result, Sharpness,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const N: usize = 70_000;
const ROWS: usize = 8;
const COLS: usize = 8;
const K: usize = ROWS * COLS;
const D: usize = 10;
const CLASSES: i64 = 10;

fn run(c: &mut Criterion) -> Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let data: Vec<f32> = (0..N * D).map(|_| rng.random_range(0.0..1.0)).collect();
    let protos: Vec<f32> = (0..K * D).map(|_| rng.random_range(0.0..1.0)).collect();
    let labels: Vec<i64> = (0..N).map(|_| rng.random_range(0..CLASSES)).collect();
    let x = Matrix::new(&data, N, D)?;
    let m = Matrix::new(&protos, K, D)?;
    let grid = Grid::new(ROWS, COLS, Lattice::Rectangular, Boundary::Bounded)?;
    let units: Vec<usize> = best_matching_units(x, m)?.iter().map(|b| b.first.unit).collect();
    let table = Contingency::new(&labels, &units)?;
    let image = ImageShape { height: 2, width: 5 };
    let kernel = Kernel::Gaussian { temperature: 1.0 };
    let scores: Vec<f64> = (0..10).map(|i| 0.8 + 0.01 * f64::from(i)).collect();

    let threads = rayon::current_num_threads();
    let mut g = c.benchmark_group(format!("n{N}_k{K}_d{D}_threads{threads}"));
    g.sample_size(10);
    g.bench_function("best_matching_units", |b| b.iter(|| black_box(best_matching_units(x, m))));
    g.bench_function("quantization_error", |b| b.iter(|| black_box(quantization_error(x, m))));
    g.bench_function("distortion_gaussian", |b| b.iter(|| black_box(distortion(x, m, &grid, kernel))));
    g.bench_function("topographic_error", |b| b.iter(|| black_box(topographic_error(x, m, &grid))));
    g.bench_function("combined_error", |b| b.iter(|| black_box(combined_error(x, m, &grid))));
    g.bench_function("topographic_product_k64", |b| b.iter(|| black_box(topographic_product(m, &grid))));
    g.bench_function("prototype_sharpness_ratio_2x5", |b| {
        b.iter(|| black_box(prototype_sharpness_ratio(x, m, image, Sharpness::MeanGradientNorm)))
    });
    g.bench_function("class_scatter_index", |b| b.iter(|| black_box(class_scatter_index(&labels, &units, &grid))));
    g.bench_function("competitive_hebbian_graph", |b| {
        b.iter(|| {
            competitive_hebbian(x, m).map(|t| black_box((t.frobenius_norm(), t.n_valid(), t.pruning_mask(), t.connected_components())))
        })
    });
    g.bench_function("contingency_c10", |b| b.iter(|| black_box(Contingency::new(&labels, &units))));
    g.bench_function("purity", |b| b.iter(|| black_box(purity(&table))));
    g.bench_function("nmi_arithmetic", |b| b.iter(|| black_box(normalized_mutual_info(&table, NmiAverage::Arithmetic))));
    g.bench_function("adjusted_rand_index", |b| b.iter(|| black_box(adjusted_rand_index(&table))));
    g.bench_function("clustering_accuracy_hungarian", |b| b.iter(|| black_box(clustering_accuracy(&table))));
    g.bench_function("welch_t_test_10v10", |b| b.iter(|| black_box(welch_t_test(&scores, &scores[1..]))));
    g.finish();
    Ok(())
}

fn metrics(c: &mut Criterion) {
    if let Err(e) = run(c) {
        panic!("benchmark inputs are invalid: {e}");
    }
}

/// The generated group function is public; a private module keeps it out of the docs lint.
mod group {
    criterion::criterion_group!(benches, super::metrics);
}

criterion_main!(group::benches);
