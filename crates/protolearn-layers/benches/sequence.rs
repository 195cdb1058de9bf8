//! Criterion benchmarks of one DESOM training step with the sequence backbones of paper 004,
//! Sec. 4 on CPU: the LSTM autoencoder (one layer of 32, conditional decoder) and the temporal
//! convolutional autoencoder (filters 16-32-32, pool 4), code 8, a 4x4 map, batch 32, Adam, on
//! univariate series of 60 and 150 steps (Synthetic Control, GunPoint), with 1 and 2 libtorch
//! threads (small per-step matrix products may not gain from a second thread).
//! Inputs are uniform random values from a seeded ChaCha8Rng: no dataset is needed.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{criterion_group, criterion_main, Criterion};
use protolearn_layers::autoencoder::{AutoencoderConfig, LstmConfig, TemporalConfig};
use protolearn_layers::desom::DesomConfig;
use protolearn_layers::som::{Neighbourhood, SomConfig, SomInit};
use protolearn_metrics::{Boundary, Grid, Lattice};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Duration;
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Tensor};

const BATCH: i64 = 32;

fn series(steps: i64) -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(steps as u64);
    let values: Vec<f32> = (0..BATCH * steps).map(|_| rng.random::<f32>()).collect();
    Tensor::from_slice(&values).view([BATCH, steps, 1])
}

fn backbones(steps: i64) -> [(&'static str, AutoencoderConfig); 2] {
    [
        (
            "lstm32_conditional",
            AutoencoderConfig::Lstm(LstmConfig { steps, features: 1, hidden: vec![32], latent_dim: 8, conditional: true }),
        ),
        (
            "tcn16-32-32_pool4",
            AutoencoderConfig::Temporal(TemporalConfig {
                steps,
                features: 1,
                filters: vec![16, 32, 32],
                kernel_size: 3,
                pool: 4,
                latent_dim: 8,
            }),
        ),
    ]
}

fn benches(c: &mut Criterion) {
    let grid = Grid::new(4, 4, Lattice::Rectangular, Boundary::Bounded).expect("grid");
    let mut group = c.benchmark_group("sequence_desom_step_cpu_batch32_map4x4");
    group.measurement_time(Duration::from_secs(4)).sample_size(20);
    for steps in [60, 150] {
        let x = series(steps);
        for (name, autoencoder) in backbones(steps) {
            let vs = nn::VarStore::new(Device::Cpu);
            let som =
                SomConfig { grid, init: SomInit::DataSamples, neighbourhood: Neighbourhood::Gaussian, map_distance: Default::default() };
            let desom = DesomConfig { autoencoder, som, gamma: 1e-3 }.build(&vs.root(), &x, 0).expect("DESOM");
            let mut opt = nn::Adam::default().build(&vs, 1e-3).expect("Adam");
            for threads in [1, 2] {
                tch::set_num_threads(threads);
                group.bench_function(format!("{name}_T{steps}_{threads}threads"), |b| {
                    b.iter(|| {
                        let loss = desom.loss(&x, 2.0).expect("loss");
                        opt.backward_step(&loss.total);
                    })
                });
            }
        }
    }
    group.finish();
}

criterion_group!(sequence_benches, benches);
criterion_main!(sequence_benches);
