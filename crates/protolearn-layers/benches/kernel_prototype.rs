//! Criterion benchmarks of the kernel-prototype convolution (paper 003, Sec. 6.2) on CPU with 2
//! threads: its distance stack by two convolutions, against the plain convolution of the same
//! shape (the cost it is compared with) and against the explicit formulation on unfolded
//! patches (`im2col`, then the distance kernel), forward only and forward + backward.
//! Input `[32, 16, 28, 28]`, 32 kernel-prototypes `3x3`, stride 1, padding 1; uniform random
//! values from a seeded ChaCha8Rng.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{criterion_group, criterion_main, Criterion};
use protolearn_layers::distance::squared_euclidean;
use protolearn_layers::kernel_prototype::{KernelActivation, KernelPrototypeConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{nn, Device, Kind, Tensor};

const SHAPE: [i64; 4] = [32, 16, 28, 28];
const KERNELS: i64 = 32;

fn input() -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let values: Vec<f32> = (0..SHAPE.iter().product::<i64>()).map(|_| rng.random::<f32>()).collect();
    Tensor::from_slice(&values).view(SHAPE)
}

fn bench_kernel_prototype(c: &mut Criterion) {
    tch::set_num_threads(2);
    let x = input();
    let vs = nn::VarStore::new(Device::Cpu);
    let config = KernelPrototypeConfig {
        in_channels: SHAPE[1],
        prototypes: KERNELS,
        kernel: [3, 3],
        stride: [1, 1],
        padding: [1, 1],
        dilation: [1, 1],
        groups: 1,
        bias: false,
        activation: KernelActivation::None,
        hard: false,
    };
    let layer = config.build(&vs.root(), &mut ChaCha8Rng::seed_from_u64(2)).expect("layer");
    let kernels = layer.kernels.shallow_clone();
    let unfolded = |x: &Tensor| {
        let cols = x.im2col([3, 3], [1, 1], [1, 1], [1, 1]).transpose(1, 2); // [n, 784, 144]
        squared_euclidean(&cols, &kernels.reshape([KERNELS, -1])).transpose(1, 2).reshape([SHAPE[0], KERNELS, SHAPE[2], SHAPE[3]])
    };
    let plain = |x: &Tensor| x.conv2d(&kernels, None::<Tensor>, [1, 1], [1, 1], [1, 1], 1);
    let mut group = c.benchmark_group("kernel_prototype_cpu_2threads_32x16x28x28_k32_3x3");
    group.bench_function("forward/kernel_prototype", |b| b.iter(|| tch::no_grad(|| layer.distances(&x).expect("distances"))));
    group.bench_function("forward/plain_conv", |b| b.iter(|| tch::no_grad(|| plain(&x))));
    group.bench_function("forward/unfold", |b| b.iter(|| tch::no_grad(|| unfolded(&x))));
    group.bench_function("forward_backward/kernel_prototype", |b| {
        b.iter(|| layer.distances(&x).expect("distances").sum(Kind::Float).backward())
    });
    group.bench_function("forward_backward/plain_conv", |b| b.iter(|| plain(&x).sum(Kind::Float).backward()));
    group.bench_function("forward_backward/unfold", |b| b.iter(|| unfolded(&x).sum(Kind::Float).backward()));
    group.finish();
}

criterion_group!(benches, bench_kernel_prototype);
criterion_main!(benches);
