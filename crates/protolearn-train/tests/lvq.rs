//! Prototype heads of paper 003 on the trainer: every loss and dissimilarity reaches a high
//! accuracy on separable blobs in seconds, LVQ1 / LVQ2.1 as rules, GMLVQ's relevances find the
//! informative feature, neural gas revives far prototypes, and bad configurations are clear errors.

use protolearn_data::tensor::Dataset;
use protolearn_data::{BlobCenters, BlobsConfig};
use protolearn_layers::lvq::reject::{reject_outcome, relative_similarity, RejectCosts, RejectOutcome};
use protolearn_layers::lvq::{Activation, DissimilarityConfig, Lvq1, Lvq21, LvqConfig, LvqLoss, Transfer};
use protolearn_layers::som::Schedule;
use protolearn_train::lvq::{fit_lvq, fit_lvq_rule, HeadInit, LvqTrainConfig, RuleSchedule};
use protolearn_train::observer::Silent;
use protolearn_train::optim::{OptimizerConfig, OptimizerKind};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Device, Kind, Tensor};

/// 3 labelled blobs of 100 samples in 5-D, centres in `[-5, 5]^5`, standard deviation 0.7.
fn blobs(seed: u64) -> Dataset {
    let cfg = BlobsConfig {
        n_samples: 300,
        n_features: 5,
        centers: BlobCenters::Random(3),
        cluster_std: 0.7,
        center_box: (-5.0, 5.0),
        shuffle: true,
    };
    Dataset::from_data(&cfg.generate(&mut ChaCha8Rng::seed_from_u64(seed)).expect("blobs"), Device::Cpu).expect("dataset")
}

fn train_config() -> LvqTrainConfig {
    LvqTrainConfig::new(OptimizerConfig { kind: OptimizerKind::Adam, lr: 0.02 }, 30, 15, 1)
}

fn accuracy(run: &protolearn_train::lvq::LvqRun) -> f64 {
    protolearn_train::classifier::ClassifierRecord::final_test_accuracy(&run.history).expect("test accuracy")
}

#[test]
fn classifier_records_are_typed_and_name_a_missing_evaluation() {
    use protolearn_train::classifier::ClassifierRecord;
    let data = blobs(1);
    let head = LvqConfig { classes: 3, per_class: 1, dissimilarity: DissimilarityConfig::SquaredEuclidean, loss: LvqLoss::Celvq };
    let run = fit_lvq(&data, None, None, &head, &train_config(), &mut Silent).expect("fit");
    let last = ClassifierRecord::from_log(run.history.last().expect("records"));
    assert!(last.loss.is_some_and(f64::is_finite) && last.accuracy.is_some_and(|a| (0.0..=1.0).contains(&a)));
    assert_eq!(last.test_accuracy, None);
    let err = ClassifierRecord::final_test_accuracy(&run.history).unwrap_err().to_string();
    assert!(err.contains("test_accuracy"), "{err}");
}

#[test]
fn every_head_separates_blobs() {
    let (train, test) = (blobs(0), blobs(0));
    let metrics = [
        DissimilarityConfig::SquaredEuclidean,
        DissimilarityConfig::Omega { dim: 5, trace_normalize: true },
        DissimilarityConfig::LocalOmega { dim: 3, trace_normalize: true },
        DissimilarityConfig::Relevance,
        DissimilarityConfig::Projection { dim: 3 },
        DissimilarityConfig::NonlinearProjection { dim: 4, activation: Activation::Tanh },
    ];
    let losses = [
        LvqLoss::Glvq { transfer: Transfer::Identity },
        LvqLoss::Glvq { transfer: Transfer::Sigmoid { beta: 5.0 } },
        LvqLoss::Rslvq { sigma: 1.0 },
        LvqLoss::Celvq,
    ];
    for dissimilarity in metrics {
        for loss in losses {
            let head = LvqConfig { classes: 3, per_class: 2, dissimilarity, loss };
            let run = fit_lvq(&train, Some(&test), None, &head, &train_config(), &mut Silent).expect("trains");
            assert!(accuracy(&run) >= 0.95, "{dissimilarity:?} {loss:?}: {}", accuracy(&run));
            assert_eq!(run.history.len(), 15);
        }
    }
}

#[test]
fn lvq1_and_lvq21_rules_separate_blobs() {
    let data = blobs(2);
    let head = LvqConfig { classes: 3, per_class: 2, dissimilarity: DissimilarityConfig::SquaredEuclidean, loss: LvqLoss::Celvq };
    let lr = Schedule { decay: Default::default(), start: 0.3, end: 0.01 };
    let run = fit_lvq_rule(
        &data,
        Some(&data),
        &head,
        &Lvq1 { lr },
        &RuleSchedule { batch_size: 10, epochs: 5, seed: 0 },
        &Default::default(),
        &mut Silent,
    )
    .expect("LVQ1");
    assert!(accuracy(&run) >= 0.95, "LVQ1 {}", accuracy(&run));
    let run = fit_lvq_rule(
        &data,
        Some(&data),
        &head,
        &Lvq21 { lr, window: 0.3 },
        &RuleSchedule { batch_size: 10, epochs: 5, seed: 0 },
        &Default::default(),
        &mut Silent,
    )
    .expect("LVQ2.1");
    assert!(accuracy(&run) >= 0.9, "LVQ2.1 {}", accuracy(&run));
    let omega = LvqConfig { dissimilarity: DissimilarityConfig::Relevance, ..head };
    assert!(
        fit_lvq_rule(
            &data,
            None,
            &omega,
            &Lvq1 { lr },
            &RuleSchedule { batch_size: 10, epochs: 1, seed: 0 },
            &Default::default(),
            &mut Silent
        )
        .is_err(),
        "rules need the Euclidean head"
    );
}

#[test]
fn gmlvq_relevances_pick_the_informative_feature() {
    // Feature 0 decides the class (±2 apart); features 1-3 are noise of the same spread.
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let n = 200;
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for i in 0..n {
        let class = i % 2;
        x.push(if class == 0 { -1.0f32 } else { 1.0 } + rng.random_range(-0.5..0.5));
        for _ in 0..3 {
            x.push(rng.random_range(-1.5f32..1.5));
        }
        y.push(class);
    }
    let data = Dataset::new(Tensor::from_slice(&x).view([n, 4]), Some(Tensor::from_slice(&y))).expect("dataset");
    let head = LvqConfig {
        classes: 2,
        per_class: 1,
        dissimilarity: DissimilarityConfig::Omega { dim: 4, trace_normalize: true },
        loss: LvqLoss::Glvq { transfer: Transfer::Identity },
    };
    let run =
        fit_lvq(&data, Some(&data), None, &head, &LvqTrainConfig { epochs: 30, eigenvalue_weight: 1e-3, ..train_config() }, &mut Silent)
            .expect("trains");
    let lambda = run.head.dissimilarity.relevance_matrix().expect("a relevance matrix");
    let diagonal = Vec::<f32>::try_from(lambda.diagonal(0, 0, 1)).expect("diagonal");
    assert!((lambda.trace().double_value(&[]) - 1.0).abs() < 1e-5);
    assert!(diagonal[0] > 2.0 * diagonal[1..].iter().cloned().fold(0.0, f32::max), "{diagonal:?}");
    assert!(accuracy(&run) >= 0.95);
}

/// Labelled 2-D points around `centres` (standard deviation 0.1), `per` per centre.
fn around(centres: &[([f32; 2], i64)], per: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for _ in 0..per {
        for &([a, b], class) in centres {
            x.extend([a + rng.random_range(-0.17f32..0.17), b + rng.random_range(-0.17f32..0.17)]);
            y.push(class);
        }
    }
    let n = y.len() as i64;
    Dataset::new(Tensor::from_slice(&x).view([n, 2]), Some(Tensor::from_slice(&y))).expect("dataset")
}

#[test]
fn class_kmeans_starts_the_prototypes_at_each_class_s_clusters() {
    // XOR: each class is two clusters; one class-stratified sample per prototype can land two
    // prototypes in one cluster, per-class k-means cannot.
    let centres = [([-3.0, 0.0], 0), ([3.0, 0.0], 0), ([0.0, -3.0], 1), ([0.0, 3.0], 1)];
    let data = around(&centres, 50, 7);
    let head = LvqConfig {
        classes: 2,
        per_class: 2,
        dissimilarity: DissimilarityConfig::SquaredEuclidean,
        loss: LvqLoss::Glvq { transfer: Transfer::Identity },
    };
    let still = LvqTrainConfig {
        optimizer: OptimizerConfig { kind: OptimizerKind::Sgd, lr: 1e-9 },
        epochs: 1,
        init: HeadInit::ClassKMeans { n_init: 3, max_iter: 50 },
        ..train_config()
    };
    let run = fit_lvq(&data, Some(&data), None, &head, &still, &mut Silent).expect("trains");
    let w = Vec::<f32>::try_from(run.head.prototypes.flatten(0, -1)).expect("prototypes");
    for (k, p) in w.chunks(2).enumerate() {
        let class = k as i64 / 2;
        let nearest = centres
            .iter()
            .filter(|c| c.1 == class)
            .map(|c| ((p[0] - c.0[0]).powi(2) + (p[1] - c.0[1]).powi(2)).sqrt())
            .fold(f32::INFINITY, f32::min);
        assert!(nearest < 0.1, "prototype {k} {p:?} is {nearest} from its class's clusters");
    }
    assert_eq!(accuracy(&run), 1.0, "the k-means start classifies XOR");
    let mut pair = w.chunks(2).take(2);
    let (a, b) = (pair.next().unwrap(), pair.next().unwrap());
    assert!((a[0] - b[0]).abs() > 5.0, "class 0's prototypes sit in its two clusters: {a:?} {b:?}");
}

#[test]
fn a_beta_schedule_sharpens_the_glvq_sigmoid() {
    let data = blobs(3);
    let head = |beta| LvqConfig {
        classes: 3,
        per_class: 1,
        dissimilarity: DissimilarityConfig::SquaredEuclidean,
        loss: LvqLoss::Glvq { transfer: Transfer::Sigmoid { beta } },
    };
    let steep = Schedule { decay: Default::default(), start: 1.0, end: 20.0 };
    let scheduled = fit_lvq(&data, Some(&data), None, &head(1.0), &LvqTrainConfig { beta: Some(steep), ..train_config() }, &mut Silent)
        .expect("trains");
    let constant = fit_lvq(&data, Some(&data), None, &head(1.0), &train_config(), &mut Silent).expect("trains");
    let loss = |run: &protolearn_train::lvq::LvqRun| run.history.last().and_then(|r| r.scalar("loss")).expect("loss");
    // Well classified (mu ~ -0.9): sigmoid(20 mu) ~ 0, sigmoid(mu) ~ 0.3.
    assert!(loss(&scheduled) < 0.05 && loss(&constant) > 0.2, "{} vs {}", loss(&scheduled), loss(&constant));
    assert!(accuracy(&scheduled) >= 0.95);
    let rslvq = LvqConfig { loss: LvqLoss::Rslvq { sigma: 1.0 }, ..head(1.0) };
    let err = fit_lvq(&data, None, None, &rslvq, &LvqTrainConfig { beta: Some(steep), ..train_config() }, &mut Silent).unwrap_err();
    assert!(err.to_string().contains("beta"), "{err}");
}

/// Reject rate and accepted accuracy on `data` at the run's learned threshold.
fn rejected(run: &protolearn_train::lvq::LvqRun, data: &Dataset, costs: &RejectCosts) -> RejectOutcome {
    let d = run.head.distances(&data.x).expect("distances").detach();
    let rs: Vec<f64> = Vec::<f32>::try_from(relative_similarity(&d, run.head.labels())).expect("rs").into_iter().map(f64::from).collect();
    let correct =
        Vec::<bool>::try_from(run.head.predict(&data.x).expect("predict").eq_tensor(data.y.as_ref().expect("labels"))).expect("correct");
    reject_outcome(&rs, &correct, run.reject_threshold.expect("a learned threshold"), costs).expect("outcome")
}

#[test]
fn the_learned_reject_threshold_follows_the_costs() {
    // Two classes N(-1, 1) and N(+1, 1) in 1-D: Chow's rule rejects |x| < 1.1 when a reject
    // costs 0.1 of an error (about half the samples) and |x| < 0.2 at 0.4 (about a tenth).
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let normal = rand_distr::Normal::new(0.0f32, 1.0).expect("normal");
    let n = 600;
    let x: Vec<f32> = (0..n).map(|i| if i % 2 == 0 { -1.0 } else { 1.0 } + rand_distr::Distribution::sample(&normal, &mut rng)).collect();
    let y: Vec<i64> = (0..n).map(|i| i % 2).collect();
    let data = Dataset::new(Tensor::from_slice(&x).view([n, 1]), Some(Tensor::from_slice(&y))).expect("dataset");
    let head = LvqConfig {
        classes: 2,
        per_class: 1,
        dissimilarity: DissimilarityConfig::SquaredEuclidean,
        loss: LvqLoss::Glvq { transfer: Transfer::Identity },
    };
    let fit = |reject: f64| {
        let costs = RejectCosts { error: 1.0, reject, width: 0.05 };
        let config = LvqTrainConfig { reject: Some(costs), epochs: 20, ..train_config() };
        let run = fit_lvq(&data, Some(&data), None, &head, &config, &mut Silent).expect("trains");
        (rejected(&run, &data, &costs), accuracy(&run))
    };
    let (cheap, accuracy_all) = fit(0.1);
    let (dear, _) = fit(0.4);
    assert!(cheap.reject_rate > 0.3 && cheap.reject_rate < 0.7, "cheap rejects: {cheap:?}");
    assert!(dear.reject_rate < 0.2, "dear rejects: {dear:?}");
    let kept = cheap.accepted_accuracy.expect("some accepted");
    assert!(kept > accuracy_all + 0.05, "rejecting raises the accepted accuracy: {kept} vs {accuracy_all}");
    assert!(
        cheap.cost < 1.0 - accuracy_all,
        "the threshold costs less than accepting everything: {} vs {}",
        cheap.cost,
        1.0 - accuracy_all
    );
}

#[test]
fn bad_configurations_are_clear_errors() {
    let data = blobs(0);
    let head = LvqConfig { classes: 3, per_class: 0, dissimilarity: DissimilarityConfig::SquaredEuclidean, loss: LvqLoss::Celvq };
    let err = fit_lvq(&data, None, None, &head, &train_config(), &mut Silent).unwrap_err().to_string();
    assert!(err.contains("per_class"), "{err}");
    let two = LvqConfig { classes: 2, per_class: 1, ..head };
    let err = fit_lvq(&data, None, None, &two, &train_config(), &mut Silent).unwrap_err().to_string();
    assert!(err.contains("labels") && err.contains("0..2"), "a label outside the prototypes' labels: {err}");
    let text = "classes = 3\nper_class = 1\ndissimilarity = { kind = \"squared-euclidean\" }\nloss = { kind = \"celvq\" }\nbogus = 1\n";
    assert!(toml::from_str::<LvqConfig>(text).unwrap_err().to_string().contains("bogus"));
    let unlabelled = Dataset::new(Tensor::zeros([10, 5], (Kind::Float, Device::Cpu)), None).expect("dataset");
    assert!(fit_lvq(&unlabelled, None, None, &LvqConfig { per_class: 1, ..head }, &train_config(), &mut Silent).is_err());
}

#[test]
fn neural_gas_revives_prototypes_that_winner_takes_all_leaves_dead() {
    use protolearn_train::neural_gas::{fit_neural_gas_from, NeuralGasConfig};
    // 3 blobs in [-5, 5]^5; all 6 prototypes start far away, near (20, ..., 20): winner-takes-all
    // moves only the prototype nearest to the data, the rank-weighted pull moves all of them.
    let data = blobs(5);
    let initial = Tensor::full([6, 5], 20.0, (Kind::Float, Device::Cpu)) + Tensor::arange(6, (Kind::Float, Device::Cpu)).unsqueeze(1) * 0.5;
    let config = |start: f64, end: f64| NeuralGasConfig {
        n_prototypes: 6,
        // Plain gradient descent, as the classical algorithm: Adam would scale every
        // prototype's step to the same size and erase the rank weights.
        optimizer: OptimizerConfig { kind: OptimizerKind::Sgd, lr: 0.3 },
        batch_size: 30,
        epochs: 40,
        range: Schedule { decay: Default::default(), start, end },
        seed: 0,
    };
    let winners = |run: &protolearn_train::neural_gas::NeuralGasRun| run.history.last().and_then(|r| r.scalar("winners")).expect("winners");
    let gas = fit_neural_gas_from(&data, &initial, &config(6.0, 0.01), &Default::default(), &mut Silent).expect("neural gas");
    let vq = fit_neural_gas_from(&data, &initial, &config(1e-3, 1e-3), &Default::default(), &mut Silent).expect("plain VQ");
    assert!(winners(&gas) >= 5.0, "neural gas uses (almost) every prototype: {}", winners(&gas));
    assert!(winners(&vq) <= 2.0, "winner-takes-all leaves the far prototypes dead: {}", winners(&vq));
    let q =
        |run: &protolearn_train::neural_gas::NeuralGasRun| run.history.last().and_then(|r| r.scalar("quantization")).expect("quantization");
    assert!(q(&gas) < q(&vq), "and quantizes better: {} vs {}", q(&gas), q(&vq));
}

#[test]
fn a_head_on_a_backbone_trains_in_bf16_mixed_precision() {
    use protolearn_layers::autoencoder::{AutoencoderConfig, DenseConfig};
    use protolearn_layers::precision::Precision;
    let (train, test) = (blobs(3), blobs(3));
    let backbone = AutoencoderConfig::Dense(DenseConfig { input_dim: 5, hidden: vec![16], latent_dim: 4 });
    let head = LvqConfig { classes: 3, per_class: 1, dissimilarity: DissimilarityConfig::SquaredEuclidean, loss: LvqLoss::Celvq };
    let fit = |precision| {
        let config = LvqTrainConfig { precision, ..train_config() };
        fit_lvq(&train, Some(&test), Some(&backbone), &head, &config, &mut Silent).expect("trains")
    };
    let (full, mixed) = (fit(Precision::Fp32), fit(Precision::Bf16));
    assert!(accuracy(&mixed) >= 0.95, "bf16: {}", accuracy(&mixed));
    let loss = |run: &protolearn_train::lvq::LvqRun| {
        protolearn_train::classifier::ClassifierRecord::from_log(run.history.last().expect("records")).loss.expect("loss")
    };
    assert!(loss(&mixed).is_finite() && loss(&mixed) != loss(&full), "the backbone's products ran in bfloat16");
    assert!(mixed.vs.variables().values().all(|v| v.kind() == Kind::Float), "float32 weights");
    // The softmax baseline on the same backbone takes the same setting.
    let softmax = |precision| {
        let config = LvqTrainConfig { precision, ..train_config() };
        let run = protolearn_train::lvq::fit_softmax(&train, Some(&test), Some(&backbone), 3, &config, &mut Silent).expect("trains");
        protolearn_train::classifier::ClassifierRecord::from_log(run.history.last().expect("records"))
    };
    let (full, mixed) = (softmax(Precision::Fp32), softmax(Precision::Bf16));
    assert!(mixed.test_accuracy.expect("evaluated") >= 0.95, "bf16 softmax: {mixed:?}");
    assert!(mixed.loss.expect("loss").is_finite() && mixed.loss != full.loss, "the softmax backbone ran in bfloat16");
}
