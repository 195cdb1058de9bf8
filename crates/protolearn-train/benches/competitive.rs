//! Criterion benchmarks of competitive-layer training on CPU: 20 full-batch epochs of VCL and DCL
//! on 500 standardised moons samples, k = 30, for 10 seeds batched as replicas and for the same
//! 10 seeds as a sequential loop (the alternative the batching replaces).
#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use protolearn_data::{MoonsConfig, Standardizer};
use protolearn_layers::competitive::{CompetitiveConfig, LayerKind};
use protolearn_layers::loss::QuantizationForm;
use protolearn_train::competitive::{fit_competitive, CompetitiveTrainConfig, TopologyTerm};
use protolearn_train::observer::Silent;
use protolearn_train::optim::{OptimizerConfig, OptimizerKind};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::Tensor;

const EPOCHS: usize = 20;
const SEEDS: [u64; 10] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

fn moons() -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut data = MoonsConfig { n_samples: 500, ..Default::default() }.generate(&mut rng).expect("moons");
    Standardizer::fit_transform(&mut data).expect("standardise");
    Tensor::from_slice(&data.features).view([1, 500, 2])
}

fn bench(c: &mut Criterion) {
    tch::set_num_threads(2);
    let x = moons();
    let train = CompetitiveTrainConfig {
        optimizer: OptimizerConfig { kind: OptimizerKind::Adam, lr: 0.001 },
        epochs: EPOCHS,
        lambda: 0.01,
        topology: TopologyTerm::EdgeNormSquared,
        quantization: QuantizationForm::L2Norm,
        keep_best: false,
    };
    let mut group = c.benchmark_group(format!("competitive_cpu_2threads_n500_k30_{EPOCHS}epochs"));
    group.sample_size(10);
    for (name, kind, bias) in [("vcl", LayerKind::Vcl, false), ("dcl", LayerKind::Dcl, true)] {
        let layer = CompetitiveConfig { kind, n_prototypes: 30, bias, ..Default::default() };
        group.bench_function(BenchmarkId::new(name, "10_seeds_batched"), |b| {
            b.iter(|| fit_competitive(&x, &SEEDS, &layer, &train, &mut Silent).expect("fit"))
        });
        group.bench_function(BenchmarkId::new(name, "10_seeds_sequential"), |b| {
            b.iter(|| {
                for seed in SEEDS {
                    fit_competitive(&x, &[seed], &layer, &train, &mut Silent).expect("fit");
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
