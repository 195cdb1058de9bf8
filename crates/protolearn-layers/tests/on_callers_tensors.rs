//! Layers built on the caller's tensors (`SomConfig::layer_on`, `Dcl::on_weights`,
//! `KernelPrototypeConfig::layer_on`): the same forward as the layers that own their variables,
//! gradients that reach the caller's tensors, and shape errors that name what was expected.

use protolearn_layers::competitive::Dcl;
use protolearn_layers::kernel_prototype::{KernelActivation, KernelPrototypeConfig};
use protolearn_layers::som::{som_distortion, SomConfig, SomInit};
use protolearn_metrics::{Boundary, Grid, Lattice};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

fn grads(loss: &Tensor, of: &[&Tensor]) -> Vec<Tensor> {
    Tensor::run_backward(&[loss], of, false, false)
}

#[test]
fn som_layer_on_a_callers_tensor_equals_the_built_layer_and_trains_it() {
    tch::manual_seed(0);
    let config = SomConfig {
        grid: Grid::new(2, 3, Lattice::Hexagonal, Boundary::Bounded).expect("a valid grid"),
        init: SomInit::default(),
        neighbourhood: Default::default(),
        map_distance: Default::default(),
    };
    let x = Tensor::randn([10, 4], (Kind::Float, Device::Cpu));
    let prototypes = Tensor::randn([6, 4], (Kind::Float, Device::Cpu)).set_requires_grad(true);
    let vs = nn::VarStore::new(Device::Cpu);
    let built = config.build_from(&vs.root(), &prototypes.detach()).expect("a built layer");
    let shared = config.layer_on(&prototypes).expect("a layer on the tensor");
    assert!(shared.forward(&x).equal(&built.forward(&x)));
    let bmus = shared.bmus(&x).expect("bmus");
    assert!(shared.neighbourhood_weights(&bmus, 1.5).expect("weights").equal(&built.neighbourhood_weights(&bmus, 1.5).expect("weights")));
    let loss = som_distortion(&shared.forward(&x), &shared.neighbourhood_weights(&bmus, 1.5).expect("weights"));
    let [g] = grads(&loss, &[&prototypes]).try_into().expect("one gradient");
    assert!(g.abs().sum(Kind::Float).double_value(&[]) > 0.0, "the caller's tensor gets a gradient");
    assert!(config.layer_on(&Tensor::zeros([5, 4], (Kind::Float, Device::Cpu))).is_err(), "5 prototypes for a 6-unit grid");
}

#[test]
fn dcl_on_weights_is_tanh_layers_on_x_transposed() {
    tch::manual_seed(1);
    let x = Tensor::randn([6, 2], (Kind::Double, Device::Cpu)).set_requires_grad(true);
    let w1 = Tensor::randn([6, 4], (Kind::Double, Device::Cpu)).set_requires_grad(true);
    let b1 = Tensor::randn([4], (Kind::Double, Device::Cpu));
    let w2 = Tensor::randn([4, 3], (Kind::Double, Device::Cpu)).set_requires_grad(true);
    let dcl = Dcl::on_weights(&[(w1.shallow_clone(), Some(b1.shallow_clone())), (w2.shallow_clone(), None)], true).expect("a DCL");
    let p = dcl.prototypes_of(&x).expect("prototypes");
    let expected = (x.tr().matmul(&w1) + &b1).tanh().matmul(&w2).tr(); // [3, 2]
    assert!(p.allclose(&expected, 1e-12, 1e-12, false));
    let g = grads(&p.sum(Kind::Double), &[&x, &w1, &w2]);
    assert!(g.iter().all(|g| g.abs().sum(Kind::Double).double_value(&[]) > 0.0), "gradients reach x and every weight");
    assert!(Dcl::on_weights(&[(w1.shallow_clone(), None), (Tensor::zeros([5, 3], (Kind::Double, Device::Cpu)), None)], true).is_err());
    assert!(Dcl::on_weights(&[], false).is_err());
    assert!(dcl.prototypes_of(&Tensor::zeros([7, 2], (Kind::Double, Device::Cpu))).is_err(), "7 samples for a 6-input DCL");
}

#[test]
fn kernel_prototype_layer_on_callers_kernels_equals_the_built_layer() {
    let config = KernelPrototypeConfig {
        in_channels: 2,
        prototypes: 4,
        kernel: [3, 3],
        stride: [1, 1],
        padding: [1, 1],
        dilation: [1, 1],
        groups: 1,
        bias: true,
        activation: KernelActivation::Sigmoid { sigma: 2.0 },
        hard: false,
    };
    let vs = nn::VarStore::new(Device::Cpu);
    let built = config.build(&vs.root(), &mut ChaCha8Rng::seed_from_u64(2)).expect("a built layer");
    let kernels = built.kernels.detach().copy().set_requires_grad(true);
    let radius = built.radius.as_ref().expect("a bias").detach().copy().set_requires_grad(true);
    let shared = config.layer_on(&kernels, Some(&radius)).expect("a layer on the tensors");
    let x = Tensor::randn([2, 2, 5, 5], (Kind::Float, Device::Cpu));
    let out = shared.output(&x).expect("output");
    assert!(out.equal(&built.output(&x).expect("output")));
    let g = grads(&out.sum(Kind::Float), &[&kernels, &radius]);
    assert!(g.iter().all(|g| g.abs().sum(Kind::Float).double_value(&[]) > 0.0));
    assert!(config.layer_on(&kernels, None).is_err(), "a bias config without radii");
    assert!(config.layer_on(&kernels.narrow(0, 0, 3), Some(&radius)).is_err(), "3 kernels for 4 prototypes");
}
