//! DDCL and DeepCluster on the trainer: the identity over whole runs, the frozen-encoder descent,
//! the variants, and clear errors for bad configurations.

use protolearn_data::tensor::Dataset;
use protolearn_data::{BlobCenters, BlobsConfig};
use protolearn_layers::autoencoder::{AutoencoderConfig, DenseConfig};
use protolearn_layers::ddcl::{DclInput, DdclConfig, FeatureNorm};
use protolearn_layers::precision::Precision;
use protolearn_layers::som::Schedule;
use protolearn_train::clustering::FeatureKMeans;
use protolearn_train::ddcl::{fit_ddcl, fit_frozen, DclStart, DdclTrainConfig, DdclVariant, FrozenConfig, FrozenLoss};
use protolearn_train::deepcluster::{fit_deepcluster, DeepClusterConfig, DeepClusterFeatures};
use protolearn_train::desom::{fit_autoencoder, AutoencoderTrainConfig};
use protolearn_train::observer::Silent;
use protolearn_train::optim::{OptimizerConfig, OptimizerKind};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::Device;

/// 4 labelled blobs of 100 samples in 12-D, centres in `[-5, 5]^12`, standard deviation 0.5.
fn blobs() -> Dataset {
    let cfg = BlobsConfig {
        n_samples: 400,
        n_features: 12,
        centers: BlobCenters::Random(4),
        cluster_std: 0.5,
        center_box: (-5.0, 5.0),
        shuffle: true,
    };
    Dataset::from_data(&cfg.generate(&mut ChaCha8Rng::seed_from_u64(3)).expect("blobs"), Device::Cpu).expect("dataset")
}

fn backbone() -> AutoencoderConfig {
    AutoencoderConfig::Dense(DenseConfig { input_dim: 12, hidden: vec![16], latent_dim: 3 })
}

fn model(input: DclInput) -> DdclConfig {
    DdclConfig {
        backbone: backbone(),
        n_prototypes: 4,
        hidden: vec![],
        bias: false,
        dcl_input: input,
        dcl_size: 50,
        feature_norm: FeatureNorm::None,
    }
}

fn train_config(variant: DdclVariant) -> DdclTrainConfig {
    DdclTrainConfig {
        optimizer: OptimizerConfig { kind: OptimizerKind::Adam, lr: 1e-3 },
        dcl_lr: Some(1e-4),
        batch_size: 50,
        epochs: 3,
        log_every: None,
        tau: Schedule { start: 1.0, end: 0.5, decay: Default::default() },
        reconstruction_weight: 1.0,
        running_momentum: 0.9,
        variant,
        dcl_init: DclStart::KMeans,
        scale_invariant: false,
        separation_weight: 0.0,
        kmeans: FeatureKMeans { n_init: 1, max_iter: 100, tol: 1e-4 },
        seed: 5,
        precision: Precision::Fp32,
    }
}

/// The autoencoder pretrained on `L_R` alone (the shared start of every variant).
fn pretrained(data: &Dataset) -> tch::nn::VarStore {
    let config = AutoencoderTrainConfig {
        optimizer: OptimizerConfig { kind: OptimizerKind::Adam, lr: 1e-3 },
        iterations: 400,
        batch_size: 50,
        log_every: 400,
        seed: 1,
    };
    fit_autoencoder(data, &backbone(), &config, &mut Silent).expect("pretraining").vs
}

#[test]
fn every_variant_records_each_epoch_with_no_identity_violation() {
    let data = blobs();
    let ae = pretrained(&data);
    for input in [DclInput::Batch, DclInput::Reference] {
        for variant in DdclVariant::ALL {
            let run = fit_ddcl(&data, Some(&data), &model(input), &train_config(variant), Some(&ae), &mut Silent).expect("trains");
            assert_eq!(run.history.len(), 3, "{variant:?}");
            for r in &run.history {
                assert_eq!((r.identity_violations, r.identity_checked), (0, 8), "{variant:?} {input:?} epoch {}", r.epoch);
                assert!(r.identity_max_error < 1e-9, "{}", r.identity_max_error);
                assert!(r.variance >= 0.0 && r.ols >= 0.0);
                // float32 means of the three terms: L_q = L_OLS + V to float32 rounding.
                assert!((r.quantization - r.ols - r.variance).abs() <= 1e-4 * r.quantization.max(1e-3), "{r:?}");
                assert!(r.acc.is_some() && r.nmi.is_some() && r.ari.is_some() && r.winners.is_some());
                let running = input == DclInput::Batch && variant != DdclVariant::KMeans;
                assert_eq!(r.running_acc.is_some(), running, "{variant:?} {input:?}");
            }
            assert_eq!(run.history.last().unwrap().tau, 0.5, "the temperature schedule ends at `end`");
        }
    }
}

#[test]
fn ddcl_separates_well_separated_blobs() {
    let data = blobs();
    let ae = pretrained(&data);
    let run = fit_ddcl(
        &data,
        Some(&data),
        &model(DclInput::Reference),
        &DdclTrainConfig { epochs: 10, ..train_config(DdclVariant::Ddcl) },
        Some(&ae),
        &mut Silent,
    )
    .expect("trains");
    let last = run.history.last().unwrap();
    assert!(last.acc.unwrap() > 0.9, "{last:?}");
    assert!(last.quantization < run.history[0].quantization, "L_q decreases");
    // Logging every 2 steps: 4 records per epoch, scores only at epoch ends.
    let fine = fit_ddcl(
        &data,
        Some(&data),
        &model(DclInput::Reference),
        &DdclTrainConfig { log_every: Some(2), ..train_config(DdclVariant::Ddcl) },
        Some(&ae),
        &mut Silent,
    )
    .expect("trains");
    assert_eq!(fine.history.len(), 12);
    assert_eq!(fine.history.iter().filter(|r| r.acc.is_some()).map(|r| r.epoch).collect::<Vec<_>>(), vec![1.0, 2.0, 3.0]);
    assert_eq!(fine.history.iter().map(|r| r.identity_checked).sum::<u64>(), 24);
}

#[test]
fn frozen_encoder_loss_decreases_monotonically_for_a_small_rate() {
    let data = blobs();
    let z = data.x.narrow(0, 0, 50);
    let sgd = |lr| FrozenConfig {
        optimizer: OptimizerConfig { kind: OptimizerKind::Sgd, lr },
        steps: 200,
        tau: 1.0,
        loss: FrozenLoss::Quantization,
        seed: 0,
    };
    let descent = fit_frozen(&z, &model(DclInput::Reference), &sgd(1e-5)).expect("descends").descent;
    assert_eq!(descent.losses.len(), 201);
    assert_eq!(descent.increases, 0, "{:?}", &descent.losses[..10]);
    assert!(descent.losses[200] < 0.9 * descent.losses[0], "it moves: {} -> {}", descent.losses[0], descent.losses[200]);
    // A rate far too large overshoots.
    assert_eq!(descent.diverged_at, None);
    let wild =
        fit_frozen(&z, &model(DclInput::Reference), &FrozenConfig { steps: 50, ..sgd(10.0) }).expect("a divergence is a result").descent;
    assert!(wild.increases > 0 || wild.diverged_at.is_some(), "{wild:?}");
}

#[test]
fn bad_configurations_are_clear_errors() {
    let data = blobs();
    let cases: [(DdclConfig, DdclTrainConfig, &str); 5] = [
        (DdclConfig { n_prototypes: 0, ..model(DclInput::Reference) }, train_config(DdclVariant::Ddcl), "n_prototypes"),
        (
            model(DclInput::Reference),
            DdclTrainConfig { tau: Schedule { start: 0.0, end: 0.0, decay: Default::default() }, ..train_config(DdclVariant::Ddcl) },
            "tau",
        ),
        (model(DclInput::Reference), DdclTrainConfig { batch_size: 3, ..train_config(DdclVariant::Ddcl) }, "batch_size"),
        (model(DclInput::Batch), DdclTrainConfig { batch_size: 40, ..train_config(DdclVariant::Ddcl) }, "batch_size"),
        (DdclConfig { dcl_size: 3, ..model(DclInput::Reference) }, train_config(DdclVariant::Ddcl), "dcl_size"),
    ];
    for (m, t, field) in cases {
        let err = fit_ddcl(&data, None, &m, &t, None, &mut Silent).expect_err(field).to_string();
        assert!(err.contains(field), "{field}: {err}");
    }
}

#[test]
fn deepcluster_trains_on_pseudo_labels() {
    let data = blobs();
    let config = DeepClusterConfig {
        optimizer: OptimizerConfig { kind: OptimizerKind::Adam, lr: 1e-3 },
        batch_size: 50,
        epochs: 3,
        k: 4,
        reconstruction_weight: 0.0,
        features: DeepClusterFeatures::PcaWhitenL2,
        kmeans: FeatureKMeans { n_init: 1, max_iter: 100, tol: 1e-4 },
        seed: 2,
    };
    let run = fit_deepcluster(&data, Some(&data), &backbone(), &config, None, &mut Silent).expect("trains");
    assert_eq!(run.history.len(), 3);
    let last = run.history.last().unwrap();
    assert!(last.cross_entropy.is_finite() && last.acc.is_some() && last.head_acc.is_some(), "{last:?}");
    assert!(fit_deepcluster(&data, None, &backbone(), &DeepClusterConfig { k: 1, ..config }, None, &mut Silent).is_err());
}

#[test]
fn ddcl_trains_in_bf16_mixed_precision_with_float32_weights() {
    let data = blobs();
    let ae = pretrained(&data);
    let fit = |precision| {
        let config = DdclTrainConfig { epochs: 10, precision, ..train_config(DdclVariant::Ddcl) };
        fit_ddcl(&data, Some(&data), &model(DclInput::Reference), &config, Some(&ae), &mut Silent).expect("trains")
    };
    let (full, mixed) = (fit(Precision::Fp32), fit(Precision::Bf16));
    let (a, b) = (full.history.last().unwrap(), mixed.history.last().unwrap());
    assert!(b.acc.unwrap() > 0.9, "bf16 separates the blobs as float32 does: {b:?}");
    assert!(b.loss.is_finite() && b.loss != a.loss, "the backbone's products ran in bfloat16: {} vs {}", b.loss, a.loss);
    // bfloat16 keeps 8 significant bits per product: the final loss within 10% of float32's.
    assert!((b.loss - a.loss).abs() <= 0.1 * a.loss.abs(), "{} vs {}", b.loss, a.loss);
    assert_eq!(b.identity_violations, 0, "the identity holds on the float32 features");
    // Every variable but the k-means seed stream's position (an int64 counter) is float32.
    let weights = mixed.vs.variables().into_iter().filter(|(name, _)| name != "ddcl_state.kmeans_word_pos").collect::<Vec<_>>();
    assert!(weights.len() > 2 && weights.iter().all(|(_, v)| v.kind() == tch::Kind::Float), "float32 weights");
}
