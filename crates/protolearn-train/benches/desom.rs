//! Criterion benchmark of DESOM training through the trainer on CPU with 2 threads: 50
//! iterations of the paper's model (dense autoencoder 784-500-500-2000-10, 8x8 map, batch 256,
//! Adam, one log point, no evaluation set) on 2,048 uniform random samples from a seeded
//! ChaCha8Rng (no dataset needed). It measures the step and the trainer's overhead together, so
//! it is the before/after check for changes to the training loop. The seeds group trains 3 seeds
//! of the same run, one after another (`fit_desom` per seed) and as one batched program
//! (`fit_desom_seeds`). The floor group times what no optimizer or trainer can remove: the
//! autoencoder's forward pass, reconstruction loss and backward pass alone, 50 times on one batch
//! of 256 (the dense float32 GEMMs that PyTorch runs through the same libtorch).
#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{criterion_group, criterion_main, Criterion};
use protolearn_data::tensor::Dataset;
use protolearn_layers::autoencoder::AutoencoderConfig;
use protolearn_layers::desom::DesomConfig;
use protolearn_layers::som::Schedule;
use protolearn_layers::som::{Neighbourhood, SomConfig, SomInit};
use protolearn_metrics::{Boundary, Grid, Lattice};
use protolearn_train::desom::{fit_desom, DesomObjective, DesomTrainConfig};
use protolearn_train::desom_seeds::fit_desom_seeds;
use protolearn_train::observer::Silent;
use protolearn_train::trainer::{Batching, PhaseConfig, Trainer};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::nn::{self, OptimizerConfig};
use tch::Tensor;

/// Iterations per measured run.
const ITERATIONS: usize = 50;

/// Two threads, 2,048 uniform samples of 784 values and the paper's DESOM on an 8x8 map.
fn setup() -> (Dataset, Grid, DesomConfig) {
    tch::set_num_threads(2);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let values: Vec<f32> = (0..2048 * 784).map(|_| rng.random::<f32>()).collect();
    let data = Dataset::new(Tensor::from_slice(&values).view([2048, 784]), None).expect("dataset");
    let grid = Grid::new(8, 8, Lattice::Rectangular, Boundary::Bounded).expect("grid");
    let model = DesomConfig {
        autoencoder: AutoencoderConfig::default(),
        som: SomConfig { grid, init: SomInit::DataSamples, neighbourhood: Neighbourhood::Gaussian, map_distance: Default::default() },
        gamma: 1e-3,
    };
    (data, grid, model)
}

fn bench_fit(c: &mut Criterion) {
    let (data, grid, model) = setup();
    let config = DesomTrainConfig { log_every: ITERATIONS, ..DesomTrainConfig::paper(&grid, ITERATIONS, 0) };
    let mut group = c.benchmark_group("desom_fit_cpu_2threads");
    group.sample_size(10);
    group.bench_function("ae784-500-500-2000-10_map8x8_batch256_50it", |b| {
        b.iter(|| fit_desom(&data, None, &model, &config, &mut Silent).expect("fit"))
    });
    group.finish();
}

/// The same 50 iterations on the trainer with libtorch's own Adam (`tch::nn::Adam`) instead of
/// protolearn's `TensorOptimizer` (whose Adam is one fused pass on CPU): what the fusion saves.
fn bench_libtorch_adam(c: &mut Criterion) {
    let (data, grid, model) = setup();
    let mut group = c.benchmark_group("desom_trainer_libtorch_adam_cpu_2threads");
    group.sample_size(10);
    group.bench_function("ae784-500-500-2000-10_map8x8_batch256_50it", |b| {
        b.iter(|| {
            let vs = nn::VarStore::new(tch::Device::Cpu);
            let desom = model.build(&vs.root(), &data.x, 0).expect("DESOM");
            let mut opt = nn::Adam::default().build(&vs, 1e-3).expect("Adam");
            let mut objective = DesomObjective { model: &desom, temperature: Schedule::paper_temperature(&grid), update_interval: 1 };
            let mut trainer = Trainer::new(&data, Batching::Random { batch_size: 256 }, 0).expect("trainer");
            let phase = PhaseConfig::new("joint", ITERATIONS, ITERATIONS);
            trainer.minimise(&phase, &mut objective, &mut opt, &vs, &mut [], &mut Silent).expect("fit")
        })
    });
    group.finish();
}

/// Seeds of the 50-iteration run: a loop of single runs against one batched program.
fn bench_seeds(c: &mut Criterion) {
    let (data, grid, model) = setup();
    let config = DesomTrainConfig { log_every: ITERATIONS, ..DesomTrainConfig::paper(&grid, ITERATIONS, 0) };
    let seeds = [0u64, 1, 2];
    let mut group = c.benchmark_group("desom_seeds_cpu_2threads");
    group.sample_size(10);
    group.bench_function("3seeds_loop_ae784-500-500-2000-10_map8x8_batch256_50it", |b| {
        b.iter(|| seeds.map(|seed| fit_desom(&data, None, &model, &DesomTrainConfig { seed, ..config.clone() }, &mut Silent).expect("fit")))
    });
    group.bench_function("3seeds_batched_ae784-500-500-2000-10_map8x8_batch256_50it", |b| {
        b.iter(|| fit_desom_seeds(&data, None, &model, &config, &seeds, &mut Silent).expect("fit"))
    });
    group.finish();
}

/// Forward, `L_R` and backward of the autoencoder, 50 times on one batch: no SOM term, no
/// optimizer step, no batch sampling; the lower bound of a DESOM iteration on this machine.
fn bench_floor(c: &mut Criterion) {
    let (data, _, model) = setup();
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let desom = model.build(&vs.root(), &data.x, 0).expect("DESOM");
    let batch = data.x.narrow(0, 0, 256);
    let mut group = c.benchmark_group("desom_floor_cpu_2threads");
    group.sample_size(10);
    group.bench_function("ae784-500-500-2000-10_forward_backward_batch256_50it", |b| {
        b.iter(|| {
            for _ in 0..ITERATIONS {
                vs.trainable_variables().iter_mut().for_each(Tensor::zero_grad);
                desom.reconstruction_loss(&batch).expect("loss").backward();
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_fit, bench_libtorch_adam, bench_seeds, bench_floor);
criterion_main!(benches);
