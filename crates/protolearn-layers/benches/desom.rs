//! Criterion benchmarks of the DESOM hot paths on CPU with 2 threads: one training step (the
//! paper's dense autoencoder 784-500-500-2000-10, an 8x8 map, batch 256, Adam) and the
//! best-matching-unit search of 60,000 latent codes (d = 10) against 64 prototypes, libtorch
//! against the rayon implementation of protolearn-metrics (the obvious alternative).
//! Inputs are uniform random values from a seeded ChaCha8Rng: no dataset is needed.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{criterion_group, criterion_main, Criterion};
use protolearn_layers::autoencoder::AutoencoderConfig;
use protolearn_layers::desom::DesomConfig;
use protolearn_layers::distance::squared_euclidean;
use protolearn_layers::som::{Neighbourhood, SomConfig, SomInit};
use protolearn_metrics::{best_matching_units, Boundary, Grid, Lattice, Matrix};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Tensor};

fn uniform(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.random::<f32>()).collect()
}

fn bench_step(c: &mut Criterion) {
    let batch = Tensor::from_slice(&uniform(256 * 784, 1)).view([256, 784]);
    let vs = nn::VarStore::new(Device::Cpu);
    let config = DesomConfig {
        autoencoder: AutoencoderConfig::default(),
        som: SomConfig {
            grid: Grid::new(8, 8, Lattice::Rectangular, Boundary::Bounded).expect("grid"),
            init: SomInit::DataSamples,
            neighbourhood: Neighbourhood::Gaussian,
            map_distance: Default::default(),
        },
        gamma: 1e-3,
    };
    let desom = config.build(&vs.root(), &batch, 0).expect("DESOM");
    let mut opt = nn::Adam::default().build(&vs, 1e-3).expect("Adam");
    c.bench_function("desom_step_cpu_2threads_ae784-500-500-2000-10_map8x8_batch256", |b| {
        b.iter(|| {
            let loss = desom.loss(&batch, 4.0).expect("loss");
            opt.backward_step(&loss.total);
        })
    });
}

fn bench_bmu(c: &mut Criterion) {
    let (n, k, d) = (60_000usize, 64usize, 10usize);
    let codes = uniform(n * d, 2);
    let protos = uniform(k * d, 3);
    let x = Tensor::from_slice(&codes).view([n as i64, d as i64]);
    let w = Tensor::from_slice(&protos).view([k as i64, d as i64]);
    let mut group = c.benchmark_group("bmu_cpu_2threads_n60000_k64_d10");
    group.bench_function("libtorch_matmul_argmin", |b| b.iter(|| squared_euclidean(&x, &w).argmin(-1, false)));
    group.bench_function("metrics_rayon_two_best", |b| {
        b.iter(|| {
            best_matching_units(Matrix::new(&codes, n, d).expect("codes"), Matrix::new(&protos, k, d).expect("prototypes")).expect("bmus")
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    tch::set_num_threads(2);
    bench_step(c);
    bench_bmu(c);
}

criterion_group!(desom_benches, benches);
criterion_main!(desom_benches);
