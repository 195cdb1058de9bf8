//! Criterion benchmarks of the prototype kernels on CPU with 2 threads, at Fashion-MNIST's size
//! (60,000 x 784 uniform random values from a seeded ChaCha8Rng: no dataset needed): the
//! k-means assignment (one `addmm` with cached row norms, against the full distance matrix it
//! replaced), one Lloyd step (assignment, member sums, centroid update and the shift; a fit
//! steps it on protolearn-train's trainer) and one batch-SOM update (paper 002, Algorithm 2) on an 8x8 map.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{criterion_group, criterion_main, Criterion};
use protolearn_layers::distance::{nearest_rows, squared_euclidean, squared_norms};
use protolearn_layers::kmeans::KMeansConfig;
use protolearn_layers::som::{BatchSom, Neighbourhood, Schedule, SomConfig, SomInit};
use protolearn_layers::UpdateRule;
use protolearn_metrics::{Boundary, Grid, Lattice};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{nn, Device, Tensor};

fn uniform(rows: i64, cols: i64, seed: u64) -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let values: Vec<f32> = (0..rows * cols).map(|_| rng.random::<f32>()).collect();
    Tensor::from_slice(&values).view([rows, cols])
}

fn bench_kmeans(c: &mut Criterion) {
    let x = uniform(60_000, 784, 1);
    let centroids = uniform(64, 784, 2);
    let x_sq = squared_norms(&x);
    let mut group = c.benchmark_group("kmeans_assign_cpu_2threads_n60000_d784_k64");
    group.sample_size(20);
    group.bench_function("addmm_cached_norms", |b| b.iter(|| nearest_rows(&x, &x_sq, &centroids)));
    group.bench_function("full_distance_matrix", |b| b.iter(|| squared_euclidean(&x, &centroids).min_dim(1, false)));
    group.finish();
    let runs = KMeansConfig { k: 64, n_init: 1, max_iter: 1, tol: 0.0, seed: 0 }.runs_from(&x, &centroids).expect("runs");
    let mut group = c.benchmark_group("kmeans_lloyd_step_cpu_2threads_n60000_d784_k64");
    group.sample_size(20);
    group.bench_function("one_step_from_random_centroids", |b| b.iter(|| runs.lloyd(0).expect("run").step().expect("step")));
    group.finish();
}

fn bench_batch_som(c: &mut Criterion) {
    let x = uniform(60_000, 784, 3);
    let vs = nn::VarStore::new(Device::Cpu);
    let grid = Grid::new(8, 8, Lattice::Rectangular, Boundary::Bounded).expect("grid");
    let layer = SomConfig { grid, init: SomInit::DataSamples, neighbourhood: Neighbourhood::Gaussian, map_distance: Default::default() }
        .build(&vs.root(), &x, 0)
        .expect("SOM");
    let rule = BatchSom { temperature: Schedule::paper_temperature(&grid) };
    let mut group = c.benchmark_group("batch_som_update_cpu_2threads_n60000_d784");
    group.sample_size(20);
    group.bench_function("map8x8", |b| b.iter(|| rule.update(&layer, &x, None, 5, 10).expect("update")));
    group.finish();
}

fn benches(c: &mut Criterion) {
    tch::set_num_threads(2);
    bench_kmeans(c);
    bench_batch_som(c);
}

criterion_group!(kernel_benches, benches);
criterion_main!(kernel_benches);
