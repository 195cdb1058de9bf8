//! Competitive layers trained end to end: duality (paper 000, Theorems 1 and 4), learning on
//! moons, reproducibility, batched replicas equal sequential runs, checkpoints.
#![allow(clippy::unwrap_used)]

use protolearn_data::{MoonsConfig, Standardizer};
use protolearn_layers::competitive::{CompetitiveConfig, CompetitiveLayer, DualInit, LayerKind};
use protolearn_layers::loss::{quantization_error, QuantizationForm};
use protolearn_layers::PrototypeLayer;
use protolearn_train::competitive::{fit_competitive, CompetitiveTrainConfig, TopologyTerm};
use protolearn_train::observer::Silent;
use protolearn_train::optim::{OptimizerConfig, OptimizerKind};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::{nn, nn::Module, Kind, Tensor};

fn moons(seed: u64) -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut data = MoonsConfig { n_samples: 200, noise: 0.1, ..Default::default() }.generate(&mut rng).unwrap();
    Standardizer::fit_transform(&mut data).unwrap();
    Tensor::from_slice(&data.features).view([1, 200, 2])
}

fn train_config(lr: f64, epochs: usize) -> CompetitiveTrainConfig {
    CompetitiveTrainConfig {
        optimizer: OptimizerConfig { kind: OptimizerKind::Adam, lr },
        epochs,
        lambda: 0.01,
        topology: TopologyTerm::EdgeNormSquared,
        quantization: QuantizationForm::L2Norm,
        keep_best: false,
    }
}

fn layer(kind: LayerKind) -> CompetitiveConfig {
    CompetitiveConfig { kind, n_prototypes: 10, ..Default::default() }
}

/// Data with orthonormal columns (`A^T A = I_d`): "samples uncorrelated with unit variance".
fn whitened(n: i64, d: i64) -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let values: Vec<f64> = (0..n * d).map(|_| rand::Rng::random_range(&mut rng, -1.0..1.0)).collect();
    let (q, _) = Tensor::linalg_qr(&Tensor::from_slice(&values).view([n, d]), "reduced");
    q.to_kind(Kind::Float)
}

/// A linear, bias-free DCL whose weights are set to `w2` `[n, k]`.
fn dcl_with_weights(x: &Tensor, w2: &Tensor) -> (nn::VarStore, CompetitiveLayer) {
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let k = w2.size()[1];
    let layer = CompetitiveConfig { kind: LayerKind::Dcl, n_prototypes: k, ..Default::default() }.build(&vs.root(), x, &[0]).unwrap();
    if let CompetitiveLayer::Dcl(dcl) = &layer {
        let mut w = dcl.weights()[0].shallow_clone();
        tch::no_grad(|| w.copy_(&w2.unsqueeze(0)));
    }
    (vs, layer)
}

#[test]
fn duality_theorems_1_and_4_hold_on_whitened_data() {
    // Theorem 1 / 4: with X X^T = I, the dual network whose weights are the base network's
    // outputs W2 = Y1^T = A P^T generates the base prototypes: Y2 = W2^T A = P A^T A = P.
    // Tolerance 1e-5: float32 products of unit-norm columns (errors ~1e-7 per term, n = 40).
    let a = whitened(40, 3);
    let x = a.unsqueeze(0);
    assert!(a.transpose(0, 1).matmul(&a).allclose(&Tensor::eye(3, (Kind::Float, tch::Device::Cpu)), 1e-5, 1e-5, false));
    let base = fit_competitive(&x, &[1], &layer(LayerKind::Vcl), &train_config(0.01, 30), &mut Silent).unwrap();
    let p = base.prototypes.squeeze_dim(0); // [k, d]
    let y1 = p.matmul(&a.transpose(0, 1)); // base outputs Y1 = W1 X, [k, n]
    let (_vs, dual) = dcl_with_weights(&x, &y1.transpose(0, 1));
    let y2 = dual.prototypes(&x).squeeze_dim(0);
    assert!(y2.allclose(&p, 1e-5, 1e-5, false), "max |Y2 - W1| = {}", (&y2 - &p).abs().max());
    // Same prototypes, same loss: the two layers are equivalent under the theorem's assumption.
    let q_base = quantization_error(&base.layer.forward(&x), QuantizationForm::Mean);
    let q_dual = quantization_error(&dual.forward(&x), QuantizationForm::Mean);
    assert!(q_base.allclose(&q_dual, 1e-5, 1e-5, false));

    // Without whitening the relation fails: the assumption is necessary, so the test can fail.
    let raw = &a * Tensor::from_slice(&[3.0f32, 0.5, 1.0]) + 0.7;
    let y1_raw = p.matmul(&raw.transpose(0, 1));
    let (_vs, dual_raw) = dcl_with_weights(&raw.unsqueeze(0), &y1_raw.transpose(0, 1));
    let y2_raw = dual_raw.prototypes(&raw.unsqueeze(0)).squeeze_dim(0);
    assert!((&y2_raw - &p).abs().max().double_value(&[]) > 0.1);
}

#[test]
fn quantization_error_decreases_on_moons_for_vcl_and_dcl() {
    let x = moons(3);
    for (kind, lr) in [(LayerKind::Vcl, 0.008), (LayerKind::Dcl, 0.0008)] {
        let run = fit_competitive(&x, &[7], &layer(kind), &train_config(lr, 150), &mut Silent).unwrap();
        let first = run.history[0].quantization[0];
        let last = run.history.last().unwrap().quantization[0];
        // Margin: a working optimiser removes far more than 20% of the initial error in 150 epochs.
        assert!(last < 0.8 * first, "{kind:?}: Q {first} -> {last}");
        assert!(run.history.iter().all(|t| t.loss[0].is_finite()));
    }
}

#[test]
fn same_seed_same_result_on_cpu() {
    let x = moons(4);
    let cfg = layer(LayerKind::Dcl);
    let a = fit_competitive(&x, &[11], &cfg, &train_config(0.0008, 20), &mut Silent).unwrap();
    let b = fit_competitive(&x, &[11], &cfg, &train_config(0.0008, 20), &mut Silent).unwrap();
    assert!(a.prototypes.equal(&b.prototypes));
    let c = fit_competitive(&x, &[12], &cfg, &train_config(0.0008, 20), &mut Silent).unwrap();
    assert!(!a.prototypes.equal(&c.prototypes), "another seed gives another run");
}

#[test]
fn batched_replicas_equal_sequential_runs() {
    // Tolerance 1e-4: batched matmuls may sum in another order (float32 rounding ~1e-6 per step,
    // amplified over 40 Adam steps on standardised data).
    let x1 = moons(5);
    let seeds = [1u64, 2, 3];
    for kind in [LayerKind::Vcl, LayerKind::Dcl] {
        let cfg = layer(kind);
        let train = train_config(0.005, 40);
        let batched = fit_competitive(&x1.repeat([3, 1, 1]), &seeds, &cfg, &train, &mut Silent).unwrap();
        for (r, &seed) in seeds.iter().enumerate() {
            let alone = fit_competitive(&x1, &[seed], &cfg, &train, &mut Silent).unwrap();
            let p = batched.prototypes.get(r as i64);
            assert!(p.allclose(&alone.prototypes.get(0), 1e-4, 1e-4, false), "{kind:?} replica {r}");
        }
    }
}

#[test]
fn keep_best_returns_the_lowest_loss_epoch() {
    let x = moons(6);
    let mut train = train_config(0.05, 60);
    train.keep_best = true;
    let run = fit_competitive(&x, &[1, 2], &layer(LayerKind::Vcl), &train, &mut Silent).unwrap();
    for r in 0..2 {
        let losses: Vec<f64> = run.history.iter().map(|t| t.loss[r]).collect();
        let best = losses.iter().enumerate().fold(0, |b, (i, &l)| if l < losses[b] { i } else { b });
        assert_eq!(run.kept_epoch[r], best);
    }
}

#[test]
fn differentiable_topology_term_shortens_edges() {
    let x = moons(8);
    let mut with_edges = train_config(0.008, 100);
    with_edges.topology = TopologyTerm::EdgeLength;
    with_edges.lambda = 0.5;
    let plain = fit_competitive(&x, &[3], &layer(LayerKind::Vcl), &train_config(0.008, 100), &mut Silent).unwrap();
    let short = fit_competitive(&x, &[3], &layer(LayerKind::Vcl), &with_edges, &mut Silent).unwrap();
    let edge_length = |run: &protolearn_train::competitive::CompetitiveRun| {
        let d = protolearn_layers::distance::squared_euclidean(&x, &run.prototypes);
        let e = protolearn_layers::loss::chl_adjacency(&d);
        protolearn_layers::loss::chl_edge_length(&run.prototypes, &e).double_value(&[0])
    };
    assert!(edge_length(&short) < edge_length(&plain), "{} vs {}", edge_length(&short), edge_length(&plain));
}

#[test]
fn checkpoint_round_trip_restores_the_prototypes() {
    let x = moons(9);
    let cfg = CompetitiveConfig {
        kind: LayerKind::Dcl,
        n_prototypes: 6,
        hidden: vec![4],
        bias: true,
        dual_init: DualInit::Glorot,
        ..Default::default()
    };
    let run = fit_competitive(&x, &[1], &cfg, &train_config(0.001, 10), &mut Silent).unwrap();
    let path = std::env::temp_dir().join(format!("protolearn-ckpt-{}.safetensors", std::process::id()));
    protolearn_train::checkpoint::save(&run.vs, &path).unwrap();
    let mut vs = nn::VarStore::new(tch::Device::Cpu);
    let fresh = cfg.build(&vs.root(), &x, &[99]).unwrap();
    assert!(!fresh.prototypes(&x).equal(&run.layer.prototypes(&x)));
    protolearn_train::checkpoint::load(&mut vs, &path).unwrap();
    assert!(fresh.prototypes(&x).equal(&run.layer.prototypes(&x)));
    std::fs::remove_file(&path).unwrap();
    assert!(protolearn_train::checkpoint::load(&mut vs, &path).is_err());
}

#[test]
fn invalid_training_configs_are_errors() {
    let x = moons(1);
    let mut bad = train_config(0.01, 0);
    assert!(fit_competitive(&x, &[1], &layer(LayerKind::Vcl), &bad, &mut Silent).is_err());
    bad = train_config(-1.0, 5);
    assert!(fit_competitive(&x, &[1], &layer(LayerKind::Vcl), &bad, &mut Silent).is_err());
    let two = x.repeat([2, 1, 1]);
    assert!(fit_competitive(&two, &[1, 2, 3], &layer(LayerKind::Vcl), &train_config(0.01, 5), &mut Silent).is_err(), "3 seeds, 2 replicas");
}

#[test]
fn training_config_round_trips_through_toml_and_rejects_unknown_fields() {
    let cfg = train_config(0.0008, 400);
    let text = toml::to_string(&cfg).unwrap();
    assert_eq!(toml::from_str::<CompetitiveTrainConfig>(&text).unwrap(), cfg);
    let typo = text.replace("keep_best", "keep_bets");
    assert!(toml::from_str::<CompetitiveTrainConfig>(&typo).is_err());
}
