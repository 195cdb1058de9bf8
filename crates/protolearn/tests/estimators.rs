//! Every estimator family fits, predicts, scores, saves and loads; bad input is a clear error.

#![allow(clippy::unwrap_used)]

use protolearn::config::{BackboneSpec, CompetitiveSpec, DesomSpec, ModelSpec, SomSpec};
use protolearn::data::{BlobCenters, BlobsConfig};
use protolearn::layers::competitive::{CompetitiveConfig, LayerKind};
use protolearn::model_file::FORMAT_VERSION;
use protolearn::prelude::*;
use protolearn::train::som::SomRule;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::Path;

/// Three well-separated labelled blobs in 4-D (centres 8 apart, std 1), 240 samples.
fn blobs() -> Data {
    let centers = BlobCenters::Given(vec![vec![0.0, 0.0, 0.0, 0.0], vec![8.0, 0.0, 8.0, 0.0], vec![0.0, 8.0, 0.0, 8.0]]);
    let config = BlobsConfig { n_samples: 240, n_features: 4, centers, cluster_std: 1.0, ..Default::default() };
    config.generate(&mut ChaCha8Rng::seed_from_u64(5)).expect("blobs")
}

fn grid(rows: usize, cols: usize, lattice: Lattice) -> Grid {
    Grid::new(rows, cols, lattice, Boundary::Bounded).expect("grid")
}

fn estimator(model: ModelSpec) -> Estimator {
    Estimator::new(EstimatorConfig::new(model)).expect("valid config").with_scaling(Scaling::Standard).with_seed(3)
}

/// Fits, checks the scores, saves, loads and checks that the loaded model answers identically.
fn fit_save_load(estimator: &Estimator, data: &Data, min_purity: f64) -> Fitted {
    let fitted = estimator.fit(data).expect("fit");
    let scores = fitted.score(data).expect("score");
    assert_eq!(Some(&scores), fitted.summary().training.as_ref(), "score on the training data = the summary");
    let purity = scores.purity.expect("labelled");
    assert!(purity >= min_purity, "{}: purity {purity} < {min_purity}", fitted.summary().kind);
    assert!(!fitted.history().is_empty(), "the trainer's records are kept");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("model.safetensors");
    fitted.save(&path).expect("save");
    let loaded = Fitted::load(&path).expect("load");
    assert_eq!(loaded.config(), fitted.config());
    assert_eq!(loaded.input(), fitted.input());
    assert_eq!(loaded.summary(), fitted.summary());
    assert_eq!(loaded.predict(data).unwrap(), fitted.predict(data).unwrap());
    assert_eq!(loaded.transform(data).unwrap(), fitted.transform(data).unwrap(), "bit-identical distances after a round trip");
    assert_eq!(loaded.encode(data).unwrap(), fitted.encode(data).unwrap());
    assert_eq!(loaded.score(data).unwrap(), scores);
    assert_eq!(loaded.predict_labels(data).unwrap(), fitted.predict_labels(data).unwrap());
    fitted
}

#[test]
fn batch_som_on_a_hexagonal_grid() {
    let data = blobs();
    let som = fit_save_load(&estimator(ModelSpec::Som(SomSpec::new(grid(5, 6, Lattice::Hexagonal)))), &data, 0.99);
    assert_eq!(som.n_units(), 30);
    assert_eq!(som.transform(&data).unwrap().shape, vec![240, 30]);
    assert_eq!(som.prototypes().unwrap().shape, vec![30, 4]);
    // Prototypes in input units lie inside the data's range (the batch SOM averages samples).
    let protos = som.input_space_prototypes().unwrap();
    let (lo, hi) = data.features.iter().fold((f32::MAX, f32::MIN), |(l, h), &v| (l.min(v), h.max(v)));
    assert!(protos.values.iter().all(|&v| v >= lo - 1e-3 && v <= hi + 1e-3));
    // Most samples' two best units are grid neighbours (the map ends at T = 0.1, where the batch
    // SOM is close to k-means, so samples between two blobs' units may straddle).
    let te = som.summary().training.as_ref().expect("training scores").topographic_error.expect("a grid has TE");
    assert!(te < 0.5, "TE {te}");
    let scores = som.neighbourhood_scores(&data, 10).unwrap().expect("a map");
    assert!(scores.trustworthiness > 0.8 && scores.trustworthiness <= 1.0, "{scores:?}");
    assert!(scores.continuity > 0.8 && scores.continuity <= 1.0, "{scores:?}");
    // Every labelled sample gets its own blob's label back.
    let predicted = som.predict_labels(&data).unwrap();
    let labels = data.labels.as_ref().unwrap();
    let right = predicted.iter().zip(labels).filter(|(p, l)| **p == Some(**l)).count();
    assert!(right >= 238, "{right} of 240");
}

#[test]
fn online_and_gradient_soms() {
    let data = blobs();
    let mut online = SomSpec::new(grid(4, 4, Lattice::Rectangular));
    online.rule = SomRule::Online { lr: protolearn::layers::som::Schedule { decay: Default::default(), start: 0.5, end: 0.01 } };
    online.iterations = 2400;
    fit_save_load(&estimator(ModelSpec::Som(online)), &data, 0.99);
    let mut gradient = SomSpec::new(grid(4, 4, Lattice::Rectangular));
    gradient.rule = SomRule::Gradient { batch_size: 32, lr: 0.05 };
    gradient.iterations = 600;
    fit_save_load(&estimator(ModelSpec::Som(gradient)), &data, 0.99);
}

#[test]
fn desom_with_a_small_dense_autoencoder() {
    let data = blobs();
    let mut spec = DesomSpec::new(grid(3, 3, Lattice::Rectangular));
    spec.autoencoder = BackboneSpec::Dense { hidden: vec![16], latent_dim: 2 };
    spec.iterations = 600;
    spec.batch_size = 32;
    spec.lr = 0.005;
    let desom = fit_save_load(&estimator(ModelSpec::Desom(spec)), &data, 0.95);
    assert_eq!(desom.encode(&data).unwrap().shape, vec![240, 2], "latent codes");
    assert_eq!(desom.prototypes().unwrap().shape, vec![9, 2], "prototypes in latent space");
    assert_eq!(desom.input_space_prototypes().unwrap().shape, vec![9, 4], "decoded prototypes in input units");
    let curves = protolearn::history::history_csv(desom.history());
    assert!(curves.starts_with("phase,step,seconds,total,reconstruction,som"), "{}", &curves[..80]);
}

#[test]
fn desom_in_bf16_mixed_precision_from_its_config_key() {
    let data = blobs();
    let mut spec: DesomSpec =
        toml::from_str("precision = \"bf16\"\n[grid]\nrows = 3\ncols = 3\nlattice = \"rectangular\"\n").expect("config");
    assert_eq!(spec.precision, protolearn::layers::precision::Precision::Bf16);
    spec.autoencoder = BackboneSpec::Dense { hidden: vec![16], latent_dim: 2 };
    (spec.iterations, spec.batch_size, spec.lr) = (600, 32, 0.005);
    // The same purity bar as the float32 model above: bfloat16 products do not change what it learns here.
    fit_save_load(&estimator(ModelSpec::Desom(spec)), &data, 0.95);
}

#[test]
fn ddcl_and_its_kmeans_ablation() {
    use protolearn::train::ddcl::DdclVariant;
    let data = blobs();
    for variant in [DdclVariant::Ddcl, DdclVariant::KMeans] {
        let spec = DdclSpec {
            autoencoder: BackboneSpec::Dense { hidden: vec![16], latent_dim: 2 },
            dcl_size: 64,
            batch_size: 32,
            epochs: 5,
            pretrain_iterations: 300,
            reconstruction_weight: 1.0,
            variant,
            ..DdclSpec::new(3)
        };
        let fitted = fit_save_load(&estimator(ModelSpec::Ddcl(spec)), &data, 0.95);
        assert_eq!(fitted.prototypes().unwrap().shape, vec![3, 2], "prototypes in feature space");
        assert_eq!(fitted.input_space_prototypes().unwrap().shape, vec![3, 4], "decoded prototypes");
        assert!(fitted.history().iter().any(|r| r.phase == "pretrain") && fitted.history().iter().any(|r| r.phase == "ddcl"));
    }
}

#[test]
fn ddcl_on_paper_001s_protocol() {
    // Full batch from scratch (no pretraining, no reconstruction term), standardised features,
    // the temperature annealed 2 -> 0.5 and the separation term: what the paper-001 benchmark runs.
    let data = blobs();
    let spec = DdclSpec {
        autoencoder: BackboneSpec::Dense { hidden: vec![16], latent_dim: 2 },
        dcl_input: protolearn::layers::ddcl::DclInput::Batch,
        dcl_size: 240,
        batch_size: 240,
        epochs: 150,
        pretrain_iterations: 0,
        reconstruction_weight: 0.0,
        dcl_lr: 0.1 / 240.0,
        tau: 2.0,
        tau_end: Some(0.5),
        feature_norm: protolearn::layers::ddcl::FeatureNorm::Standardize,
        separation_weight: 1.0,
        ..DdclSpec::new(3)
    };
    // Above chance (1/3) but not perfect: trained from scratch on L_q, this run keeps 2 live
    // prototypes of 3 (two blobs merged; the paper-001 benchmark loses prototypes on digits too).
    let fitted = fit_save_load(&estimator(ModelSpec::Ddcl(spec.clone())), &data, 0.6);
    let live = fitted.history().last().and_then(|r| r.scalar("live")).unwrap();
    assert!(live >= 2.0, "{live} live prototypes");
    assert_eq!(fitted.prototypes().unwrap().shape, vec![3, 2], "prototypes in the backbone's raw feature space");
    let bad = DdclSpec { tau_end: Some(0.0), ..spec.clone() };
    assert!(Estimator::new(EstimatorConfig::new(ModelSpec::Ddcl(bad))).is_err(), "tau_end must be > 0");
    let bad = DdclSpec { separation_weight: -1.0, ..spec };
    assert!(Estimator::new(EstimatorConfig::new(ModelSpec::Ddcl(bad))).is_err());
}

#[test]
fn vcl_and_dcl() {
    let data = blobs();
    for kind in [LayerKind::Vcl, LayerKind::Dcl] {
        let layer = CompetitiveConfig { kind, n_prototypes: 6, ..Default::default() };
        let fitted = fit_save_load(&estimator(ModelSpec::Competitive(CompetitiveSpec { layer, training: None })), &data, 0.95);
        assert_eq!(fitted.grid(), None);
        assert_eq!(fitted.summary().training.as_ref().expect("training scores").topographic_error, None);
        assert_eq!(fitted.prototypes().unwrap().shape, vec![6, 4]);
    }
}

#[test]
fn glvq_gmlvq_and_rslvq_heads() {
    use protolearn::layers::lvq::{DissimilarityConfig, LvqLoss};
    let data = blobs();
    let heads = [
        LvqSpec { per_class: 2, ..LvqSpec::new() },
        LvqSpec { dissimilarity: DissimilarityConfig::Omega { dim: 4, trace_normalize: true }, ..LvqSpec::new() },
        LvqSpec { loss: LvqLoss::Rslvq { sigma: 1.0 }, ..LvqSpec::new() },
    ];
    for spec in heads {
        let per_class = spec.per_class as usize;
        let fitted = fit_save_load(&estimator(ModelSpec::Lvq(spec)), &data, 0.99);
        let accuracy = fitted.summary().training.as_ref().expect("training scores").accuracy.expect("a classifier has an accuracy");
        assert!(accuracy > 0.99, "accuracy {accuracy}");
        assert_eq!(fitted.n_units(), 3 * per_class);
        let predicted = fitted.predict_labels(&data).unwrap();
        let right = predicted.iter().zip(data.labels.as_ref().unwrap()).filter(|(p, l)| **p == Some(**l)).count();
        assert_eq!(right as f64 / 240.0, accuracy, "predict_labels agrees with the score");
    }
    // Without training scores the same fit trains the same model: a classifier still predicts
    // its prototypes' classes, a clustering family has no majority labels to predict.
    let scored = estimator(ModelSpec::Lvq(LvqSpec::new())).fit(&data).unwrap();
    let unscored = estimator(ModelSpec::Lvq(LvqSpec::new())).without_training_scores().fit(&data).unwrap();
    assert_eq!(unscored.summary().training, None);
    assert!(unscored.summary().units.hits.iter().all(|&h| h == 0));
    assert_eq!(unscored.predict_labels(&data).unwrap(), scored.predict_labels(&data).unwrap());
    let som = estimator(ModelSpec::Som(SomSpec::new(grid(2, 2, Lattice::Rectangular)))).without_training_scores();
    let err = som.fit(&data).unwrap().predict_labels(&data).unwrap_err().to_string();
    assert!(err.contains("fitted without training scores"), "{err}");
    let unlabelled = Data::new("u", data.features.clone(), data.shape.clone(), None).unwrap();
    let err = estimator(ModelSpec::Lvq(LvqSpec::new())).fit(&unlabelled).unwrap_err().to_string();
    assert!(err.contains("fitting an LVQ head needs labels, but the training data has none"), "{err}");
}

#[test]
fn an_lvq_head_learns_a_reject_threshold_that_its_model_file_keeps() {
    use protolearn::families::lvq::LvqModel;
    use protolearn::layers::lvq::reject::RejectCosts;
    let data = blobs();
    let costs = RejectCosts { error: 1.0, reject: 0.25, width: 0.05 };
    let spec = LvqSpec { reject: Some(costs), epochs: 20, ..LvqSpec::new() };
    let fitted = estimator(ModelSpec::Lvq(spec.clone())).fit(&data).unwrap();
    let threshold = |f: &Fitted| f.trained().as_any().downcast_ref::<LvqModel>().and_then(LvqModel::reject_threshold);
    let theta = threshold(&fitted).expect("a learned threshold");
    // θ starts at 0 and moves with the cost's gradient; rs lies in [-1, 1].
    assert!(theta != 0.0 && theta.abs() < 1.0, "θ = {theta}");
    let plain = estimator(ModelSpec::Lvq(LvqSpec::new())).fit(&data).unwrap();
    assert_eq!(threshold(&plain), None, "no costs, no threshold");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    fitted.save(&path).unwrap();
    assert_eq!(threshold(&Fitted::load(&path).unwrap()), Some(theta), "the model file keeps θ");
    let lr = protolearn::layers::som::Schedule { start: 0.3, end: 0.01, decay: Default::default() };
    let rules = LvqSpec { training: protolearn::config::LvqTraining::Lvq1(protolearn::layers::lvq::Lvq1 { lr }), ..spec };
    let err = Estimator::new(EstimatorConfig::new(ModelSpec::Lvq(rules))).unwrap_err().to_string();
    assert!(err.contains("gradient training for a learned reject threshold"), "{err}");
}

/// 8x8 images of 3 classes: a bright bar on row 1, 4 or 6 over uniform noise in [0, 0.3).
fn bar_images() -> Data {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let (n, side) = (120usize, 8usize);
    let labels: Vec<i64> = (0..n as i64).map(|i| i % 3).collect();
    let features = labels
        .iter()
        .flat_map(|&c| {
            let row = [1, 4, 6][c as usize];
            (0..side * side).map(move |p| if p / side == row { 1.0 } else { 0.0 }).collect::<Vec<f32>>()
        })
        .map(|v| v + rand::Rng::random_range(&mut rng, 0.0..0.3f32))
        .collect();
    Data::new("bars", features, vec![n, side, side], Some(labels)).unwrap()
}

#[test]
fn lvq_heads_on_a_cnn_backbone_plain_or_with_kernel_prototype_convolutions() {
    use protolearn::layers::autoencoder::ConvLayer;
    use protolearn::layers::kernel_prototype::KernelActivation;
    let data = bar_images();
    let hard = ConvLayer::KernelPrototype { activation: KernelActivation::Softmax { sigma: 1.0 }, bias: false, hard: true };
    for layer in [ConvLayer::Plain, hard] {
        let backbone = BackboneSpec::Cnn { filters: vec![4, 6], latent_dim: 5, layer };
        let spec = LvqSpec { backbone: Some(backbone), epochs: 30, batch_size: 16, lr: 0.01, ..LvqSpec::new() };
        let fitted = fit_save_load(&estimator(ModelSpec::Lvq(spec)), &data, 0.9);
        let accuracy = fitted.summary().training.as_ref().expect("training scores").accuracy.expect("a classifier has an accuracy");
        assert!(accuracy >= 0.95, "{layer:?}: accuracy {accuracy}");
        assert_eq!(fitted.prototypes().unwrap().shape, vec![3, 5], "prototypes among the CNN's 5 features");
        assert_eq!(fitted.encode(&data).unwrap().shape, vec![120, 5]);
        let err = fitted.input_space_prototypes().unwrap_err().to_string();
        assert!(err.contains("a backbone's features"), "{err}");
    }
    // The CNN has no decoder: the autoencoder families refuse it by name.
    let cnn = BackboneSpec::Cnn { filters: vec![4], latent_dim: 2, layer: ConvLayer::Plain };
    let err = Estimator::new(EstimatorConfig::new(ModelSpec::Desom(DesomSpec {
        autoencoder: cnn,
        ..DesomSpec::new(grid(2, 2, Lattice::Rectangular))
    })))
    .unwrap_err()
    .to_string();
    assert!(err.contains("autoencoder") && err.contains("cnn"), "{err}");
    // Kohonen's rules move prototypes among the inputs, not a backbone's features.
    let lr = protolearn::layers::som::Schedule { start: 0.3, end: 0.01, decay: Default::default() };
    let rule = protolearn::config::LvqTraining::Lvq1(protolearn::layers::lvq::Lvq1 { lr });
    let spec = LvqSpec { backbone: Some(BackboneSpec::Dense { hidden: vec![], latent_dim: 2 }), training: rule, ..LvqSpec::new() };
    assert!(Estimator::new(EstimatorConfig::new(ModelSpec::Lvq(spec)))
        .unwrap_err()
        .to_string()
        .contains("gradient for a head on a backbone"));
}

#[test]
fn softmax_baseline_on_the_inputs_or_on_a_cnn_backbone() {
    use protolearn::config::SoftmaxSpec;
    use protolearn::layers::autoencoder::ConvLayer;
    let cnn = BackboneSpec::Cnn { filters: vec![4, 6], latent_dim: 5, layer: ConvLayer::Plain };
    for (data, spec, features) in [
        (blobs(), SoftmaxSpec { epochs: 30, ..SoftmaxSpec::new() }, 4),
        (bar_images(), SoftmaxSpec { backbone: Some(cnn), epochs: 30, batch_size: 16, ..SoftmaxSpec::new() }, 5),
    ] {
        let fitted = fit_save_load(&estimator(ModelSpec::Softmax(spec)), &data, 0.9);
        let accuracy = fitted.summary().training.as_ref().expect("training scores").accuracy.expect("a classifier has an accuracy");
        assert!(accuracy >= 0.95, "accuracy {accuracy}");
        assert_eq!(fitted.prototypes().unwrap().shape, vec![3, features], "one weight row per class");
        // The dissimilarities are surprisals -log p_k: non-negative, probabilities summing to one.
        let surprisals = fitted.transform(&data).unwrap();
        assert!(surprisals.values.iter().all(|&s| s >= 0.0));
        for row in surprisals.values.chunks(3) {
            let total: f32 = row.iter().map(|s| (-s).exp()).sum();
            assert!((total - 1.0).abs() < 1e-5, "probabilities sum to {total}");
        }
        let err = fitted.input_space_prototypes().unwrap_err().to_string();
        assert!(err.contains("rows of a linear layer"), "{err}");
    }
    let unlabelled = Data::new("u", blobs().features, blobs().shape, None).unwrap();
    let err = estimator(ModelSpec::Softmax(SoftmaxSpec::new())).fit(&unlabelled).unwrap_err().to_string();
    assert!(err.contains("fitting a softmax head"), "{err}");
}

#[test]
fn tensors_on_the_device_fit_as_given_with_an_evaluation_set() {
    use protolearn::data::tensor::Dataset;
    use protolearn::train::observer::Silent;
    let data = blobs();
    let dataset = Dataset::from_data(&data, tch::Device::Cpu).unwrap();
    let first = Dataset::new(dataset.x.narrow(0, 0, 200), dataset.y.as_ref().map(|y| y.narrow(0, 0, 200))).unwrap();
    let (train, eval) = (first, &dataset);
    let desom = ModelSpec::Desom(DesomSpec {
        autoencoder: BackboneSpec::Dense { hidden: vec![8], latent_dim: 2 },
        iterations: 30,
        batch_size: 32,
        log_every: Some(10),
        ..DesomSpec::new(grid(2, 2, Lattice::Rectangular))
    });
    let plain = Estimator::new(EstimatorConfig::new(desom.clone())).unwrap();
    let fitted = plain.fit_tensors(&train, Some(eval), &mut Silent).unwrap();
    assert_eq!(fitted.summary().n_samples, 200, "trained on the 200 training rows");
    // The evaluator scored the 240-sample set: its purity is a multiple of 1/240, not of 1/200.
    let purity = fitted.history().last().and_then(|r| r.scalar("purity")).expect("an evaluated record");
    assert!(((purity * 240.0).round() - purity * 240.0).abs() < 1e-9, "purity {purity}");
    assert!(((purity * 200.0).round() - purity * 200.0).abs() > 1e-9, "purity {purity} of the training rows");
    // Samples in the model's input shape; the codes are DESOM's 2-d latent codes.
    let codes = fitted.trained().codes(&fitted.model_input(&eval.x).unwrap()).unwrap();
    assert_eq!(codes.size(), vec![240, 2]);
    assert!(fitted.model_input(&tch::Tensor::zeros([3, 5], (tch::Kind::Float, tch::Device::Cpu))).is_err(), "5 values per sample, not 4");
    // Scaling or a missing-value treatment would change the values given: refused.
    let scaled = plain.with_scaling(Scaling::Standard).fit_tensors(&train, None, &mut Silent).unwrap_err().to_string();
    assert!(scaled.contains("scaling = \"none\""), "{scaled}");
}

#[test]
fn predicting_with_another_number_of_features_is_an_error() {
    let data = blobs();
    let som = Estimator::som(3, 3).unwrap().fit(&data).unwrap();
    let narrow = Data::new("narrow", vec![0.0; 9], vec![3, 3], None).unwrap();
    let err = som.predict(&narrow).unwrap_err().to_string();
    assert!(err.contains("narrow") && err.contains("expected 4 features") && err.contains("found 3 features"), "{err}");
    let err = som.predict_labels(&data).map(|_| ());
    assert!(err.is_ok(), "labelled training data");
    let unlabelled = Data::new("u", data.features.clone(), data.shape.clone(), None).unwrap();
    let plain = Estimator::som(3, 3).unwrap().fit(&unlabelled).unwrap();
    assert!(plain
        .predict_labels(&data)
        .unwrap_err()
        .to_string()
        .contains("predict_labels needs labels, but the model was fitted on data without labels"));
}

/// Saves a small SOM and returns its file.
fn saved_model(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("model.safetensors");
    Estimator::som(2, 2).unwrap().fit(&blobs()).unwrap().save(&path).unwrap();
    path
}

#[test]
fn damaged_or_foreign_model_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = saved_model(dir.path());
    let bytes = std::fs::read(&path).unwrap();

    let truncated = dir.path().join("truncated.safetensors");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let err = Fitted::load(&truncated).unwrap_err().to_string();
    assert!(err.contains("truncated.safetensors") && err.contains("truncated or damaged"), "{err}");

    let version = format!("\"format_version\":\"{FORMAT_VERSION}\"");
    // Byte offsets (a lossy UTF-8 view would shift them after the binary length prefix).
    let found = bytes.windows(version.len()).position(|w| w == version.as_bytes());
    let newer = dir.path().join("newer.safetensors");
    let mut edited = bytes.clone();
    let at = found.expect("the header names the version") + version.len() - 2;
    edited[at] = b'9';
    std::fs::write(&newer, edited).unwrap();
    let err = Fitted::load(&newer).unwrap_err().to_string();
    assert!(err.contains("newer.safetensors") && err.contains("expected format version 1, found format version 9"), "{err}");

    let foreign = dir.path().join("foreign.safetensors");
    tch::Tensor::write_safetensors(&[("w", tch::Tensor::zeros([2], (tch::Kind::Float, tch::Device::Cpu)))], &foreign).unwrap();
    let err = Fitted::load(&foreign).unwrap_err().to_string();
    assert!(err.contains("not a protolearn model"), "{err}");

    let missing = Fitted::load(&dir.path().join("nothing.safetensors")).unwrap_err().to_string();
    assert!(missing.contains("nothing.safetensors"), "{missing}");
}

#[test]
fn a_model_file_cannot_be_written_into_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, b"x").unwrap();
    let som = Estimator::som(2, 2).unwrap().fit(&blobs()).unwrap();
    let err = som.save(&blocker.join("model.safetensors")).unwrap_err().to_string();
    assert!(err.contains("not-a-folder"), "{err}");
    assert!(!blocker.join("model.safetensors").exists());
}

#[test]
fn min_max_scaling_is_stored_with_the_model() {
    let data = blobs();
    let som = Estimator::som(3, 3).unwrap().with_scaling(Scaling::MinMax).fit(&data).unwrap();
    let scaler = som.scaler();
    assert_eq!(scaler.kind, Scaling::MinMax);
    let mut scaled = data.features.clone();
    scaler.apply(&mut scaled);
    let (lo, hi) = scaled.iter().fold((f32::MAX, f32::MIN), |(l, h), &v| (l.min(v), h.max(v)));
    assert!(lo.abs() < 1e-6 && (hi - 1.0).abs() < 1e-6, "[{lo}, {hi}]");
}

#[test]
fn empty_data_is_an_error() {
    let empty = Data::new("empty", vec![], vec![0, 3], None).unwrap();
    let err = Estimator::som(2, 2).unwrap().fit(&empty).unwrap_err().to_string();
    assert!(err.contains("at least one sample"), "{err}");
}

/// The flowers table with 20% of its cells hidden at random (every row keeps one): the hidden
/// table (`NaN` cells) and the complete one.
fn flowers_with_hidden_cells() -> (Data, Data) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/flowers.csv");
    let complete = load_table(&path, &TableOptions { labels: Some("species".into()), ..Default::default() }).unwrap().data;
    let d = complete.n_features();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut features = complete.features.clone();
    for (row, truth) in features.chunks_mut(d).zip(complete.rows()) {
        for v in row.iter_mut() {
            if rand::Rng::random_bool(&mut rng, 0.2) {
                *v = f32::NAN;
            }
        }
        if row.iter().all(|v| v.is_nan()) {
            row[0] = truth[0];
        }
    }
    let hidden = Data::with_missing("flowers-hidden", features, complete.shape.clone(), complete.labels.clone()).unwrap();
    (hidden, complete)
}

/// QE on the truth: the mean Euclidean distance, in input units, of
/// every complete row to the input-space prototype its incomplete row was assigned to.
fn qe_on_truth(fitted: &Fitted, hidden: &Data, complete: &Data) -> f64 {
    let prototypes = fitted.input_space_prototypes().unwrap();
    let d = complete.n_features();
    let winners = fitted.predict(hidden).unwrap();
    let total: f64 = complete
        .rows()
        .zip(&winners)
        .map(|(x, &w)| x.iter().zip(prototypes.row(w).unwrap()).map(|(a, b)| f64::from(a - b).powi(2)).sum::<f64>().sqrt())
        .sum();
    assert_eq!(prototypes.values.len() / d, fitted.n_units());
    total / complete.n_samples() as f64
}

/// How far the prototype set `P` lies from the set `Q` (both `[K, d]`, input units), whatever
/// the map's orientation: the symmetric mean distance from each prototype to the nearest of the
/// other set (the Chamfer distance), over the RMS distance of `Q`'s prototypes to their mean.
fn relative_deviation(p: &Array, q: &Array) -> f64 {
    let d = q.shape[1];
    let rows = |a: &Array| a.values.chunks(d).map(|r| r.iter().map(|&v| f64::from(v)).collect::<Vec<_>>()).collect::<Vec<_>>();
    let (p, q) = (rows(p), rows(q));
    let dist = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt();
    let nearest = |from: &[Vec<f64>], to: &[Vec<f64>]| {
        from.iter().map(|a| to.iter().map(|b| dist(a, b)).fold(f64::INFINITY, f64::min)).sum::<f64>() / from.len() as f64
    };
    let mean: Vec<f64> = (0..d).map(|j| q.iter().map(|r| r[j]).sum::<f64>() / q.len() as f64).collect();
    let spread = (q.iter().map(|r| dist(r, &mean).powi(2)).sum::<f64>() / q.len() as f64).sqrt();
    (nearest(&p, &q) + nearest(&q, &p)) / 2.0 / spread
}

/// The largest prototype-set deviation ([`relative_deviation`]) of the masked SOM from the
/// complete-data SOM of the same seed. Measured on this test's table for seeds 3-7: masked
/// 0.145-0.173, mean imputation 0.215-0.245, and complete-data fits of two seeds differ by
/// 0.108-0.145 (the SOM's own spread). The bound sits between masking's largest and
/// imputation's smallest value: masking no better than imputing fails it.
const MASKED_DEVIATION_BOUND: f64 = 0.2;

#[test]
fn masked_batch_som_stays_near_the_complete_fit_and_beats_mean_imputation() {
    let (hidden, complete) = flowers_with_hidden_cells();
    let missing = hidden.missing_values() as f64 / hidden.features.len() as f64;
    assert!((0.17..0.23).contains(&missing), "about 20% hidden: {missing}");
    let som = |missing: MissingValues, seed: u64| {
        let spec = SomSpec { iterations: 30, ..SomSpec::new(grid(5, 5, Lattice::Rectangular)) };
        estimator(ModelSpec::Som(spec)).with_missing(missing).unwrap().with_seed(seed)
    };
    let seed_3 = som(MissingValues::Reject, 3).fit(&complete).unwrap().input_space_prototypes().unwrap();
    for seed in 3..=7 {
        let reference = som(MissingValues::Reject, seed).fit(&complete).unwrap();
        let masked = som(MissingValues::Mask, seed).fit(&hidden).unwrap();
        let imputed = som(MissingValues::ImputeMean, seed).fit(&hidden).unwrap();
        let truth = reference.input_space_prototypes().unwrap();
        let masked_deviation = relative_deviation(&masked.input_space_prototypes().unwrap(), &truth);
        let imputed_deviation = relative_deviation(&imputed.input_space_prototypes().unwrap(), &truth);
        let (qe_masked, qe_imputed) = (qe_on_truth(&masked, &hidden, &complete), qe_on_truth(&imputed, &hidden, &complete));
        eprintln!(
            "seed {seed}: prototype deviation masked {masked_deviation:.4}, imputed {imputed_deviation:.4}, \
             complete-data fit from seed 3's {:.4}; QE on the true rows: complete fit {:.4}, masked {qe_masked:.4}, imputed {qe_imputed:.4}",
            relative_deviation(&truth, &seed_3),
            qe_on_truth(&reference, &complete, &complete)
        );
        assert!(masked_deviation < MASKED_DEVIATION_BOUND, "seed {seed}: masked prototypes moved {masked_deviation}");
        assert!(masked_deviation < imputed_deviation, "seed {seed}: masking {masked_deviation} vs imputing {imputed_deviation}");
        assert!(qe_masked < qe_imputed, "seed {seed}: QE on the hidden true values: masked {qe_masked} vs imputed {qe_imputed}");
    }
    let masked = som(MissingValues::Mask, 3).fit(&hidden).unwrap();
    // Saved and loaded, the masked model assigns incomplete rows identically.
    let dir = tempfile::tempdir().unwrap();
    masked.save(&dir.path().join("m.safetensors")).unwrap();
    let loaded = Fitted::load(&dir.path().join("m.safetensors")).unwrap();
    assert_eq!(loaded.predict(&hidden).unwrap(), masked.predict(&hidden).unwrap());
    // Without a treatment, missing values are an error naming the columns.
    let err = som(MissingValues::Reject, 3).fit(&hidden).unwrap_err().to_string();
    eprintln!("without a treatment: {err}");
    assert!(err.contains("missing values (NaN)") && err.contains("x0, x1, x2, x3"), "{err}");
}

/// The blobs with 20% of their cells hidden (seeded; every row keeps one).
fn blobs_with_hidden_cells() -> Data {
    let data = blobs();
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let mut features = data.features.clone();
    for row in features.chunks_mut(4) {
        let keep = rand::Rng::random_range(&mut rng, 0..4);
        for (j, v) in row.iter_mut().enumerate() {
            if j != keep && rand::Rng::random_bool(&mut rng, 0.2) {
                *v = f32::NAN;
            }
        }
    }
    Data::with_missing("blobs-hidden", features, data.shape.clone(), data.labels.clone()).unwrap()
}

#[test]
fn kmeans_and_lvq_heads_mask_missing_values_and_reload() {
    use protolearn::layers::lvq::DissimilarityConfig;
    let hidden = blobs_with_hidden_cells();
    assert!(hidden.missing_values() > 100);
    let families = [
        (ModelSpec::KMeans(KMeansConfig::new(3, 0)), 0.97),
        (ModelSpec::Lvq(LvqSpec::new()), 0.97),
        (ModelSpec::Lvq(LvqSpec { dissimilarity: DissimilarityConfig::Relevance, ..LvqSpec::new() }), 0.97),
        (ModelSpec::Lvq(LvqSpec { dissimilarity: DissimilarityConfig::Omega { dim: 4, trace_normalize: true }, ..LvqSpec::new() }), 0.97),
    ];
    for (model, min_purity) in families {
        let masked = estimator(model).with_missing(MissingValues::Mask).unwrap();
        let fitted = masked.fit(&hidden).unwrap();
        let purity = fitted.summary().training.as_ref().expect("training scores").purity.unwrap();
        assert!(purity >= min_purity, "{}: purity {purity} with 20% of the cells masked", fitted.summary().kind);
        let dir = tempfile::tempdir().unwrap();
        fitted.save(&dir.path().join("m.safetensors")).unwrap();
        let loaded = Fitted::load(&dir.path().join("m.safetensors")).unwrap();
        assert_eq!(loaded.predict(&hidden).unwrap(), fitted.predict(&hidden).unwrap(), "{}", fitted.summary().kind);
    }
    // Complete data: k-means through the estimator is the layer's k-means bit for bit.
    let data = blobs();
    let fitted = estimator(ModelSpec::KMeans(KMeansConfig::new(3, 0))).fit(&data).unwrap();
    let x = tch::Tensor::from_slice(&fitted.encode(&data).unwrap().values).view([240, 4]);
    let direct = KMeansConfig::new(3, 3).fit(&x).unwrap();
    assert_eq!(Vec::<f32>::try_from(direct.centroids.reshape([-1])).unwrap(), fitted.prototypes().unwrap().values);
    // Each of the 10 restarts' Lloyd steps is a record on the trainer; the winning restart's
    // inertia curve is among them (step i holds the inertia of the i-th assignment).
    let history = fitted.history();
    assert!(history.iter().all(|r| r.phase == "lloyd"));
    assert_eq!(history.iter().filter(|r| r.step == 1).count(), 10, "one run per restart");
    let mut runs: Vec<Vec<f64>> = Vec::new();
    for r in history {
        if r.step == 1 {
            runs.push(Vec::new());
        }
        runs.last_mut().unwrap().push(r.columns.iter().find(|c| c.name == "inertia").unwrap().values[0]);
    }
    let winner = &direct.inertia_history[..direct.inertia_history.len() - 1];
    // The trainer sums logged terms in float32: relative rounding 2^-24, a margin of 16x.
    let same = |a: &f64, b: &f64| (a - b).abs() <= 1e-6 * b.abs();
    assert!(
        runs.iter().any(|run| run.len() == winner.len() && run.iter().zip(winner).all(|(a, b)| same(a, b))),
        "the winning run's inertia curve {winner:?} is in the history {runs:?}"
    );
    // Masking needs a family that compares components; imputation works for every family.
    let err = estimator(ModelSpec::Desom(DesomSpec::new(grid(2, 2, Lattice::Rectangular)))).with_missing(MissingValues::Mask).unwrap_err();
    assert!(err.to_string().contains("mask needs one that compares inputs with prototypes component by component"), "{err}");
    let imputed =
        estimator(ModelSpec::KMeans(KMeansConfig::new(3, 0))).with_missing(MissingValues::ImputeMean).unwrap().fit(&hidden).unwrap();
    assert_eq!(imputed.missing().means.len(), 4);
    assert!(imputed.summary().training.as_ref().expect("training scores").purity.unwrap() >= 0.9);
}

#[test]
fn neural_gas_and_the_two_stage_baselines() {
    use protolearn::config::{CodeClustering, NeuralGasSpec, TwoStageSpec};
    let data = blobs();
    let gas = fit_save_load(&estimator(ModelSpec::NeuralGas(NeuralGasSpec { batch_size: 30, ..NeuralGasSpec::new(6) })), &data, 0.99);
    assert_eq!(gas.prototypes().unwrap().shape, vec![6, 4]);
    assert!(gas.history().last().and_then(|r| r.scalar("winners")).unwrap() >= 5.0, "the rank-weighted pull leaves no unit dead");
    let two_stage = |clustering| {
        let spec = TwoStageSpec {
            autoencoder: BackboneSpec::Dense { hidden: vec![16], latent_dim: 2 },
            pretrain_iterations: 600,
            batch_size: 32,
            lr: 0.005,
            ..TwoStageSpec::new(clustering)
        };
        estimator(ModelSpec::TwoStage(spec))
    };
    let ae_som = fit_save_load(&two_stage(CodeClustering::Som(SomSpec::new(grid(3, 3, Lattice::Rectangular)))), &data, 0.95);
    assert_eq!(ae_som.grid().map(|g| g.n_units()), Some(9));
    assert_eq!(ae_som.prototypes().unwrap().shape, vec![9, 2], "prototypes among the codes");
    assert_eq!(ae_som.input_space_prototypes().unwrap().shape, vec![9, 4], "decoded prototypes in input units");
    let ae_kmeans = fit_save_load(&two_stage(CodeClustering::KMeans(KMeansConfig::new(3, 0))), &data, 0.95);
    assert_eq!(ae_kmeans.prototypes().unwrap().shape, vec![3, 2]);
    // The same autoencoder under both: the first stage does not depend on the second.
    assert_eq!(ae_som.encode(&data).unwrap(), ae_kmeans.encode(&data).unwrap());
}

#[test]
fn lvq1_and_lvq21_rules_through_the_estimator() {
    let rules = r#"
        [model]
        kind = "lvq"
        per_class = 2
        epochs = 5
        batch_size = 10
        training = { kind = "lvq1", lr = { start = 0.3, end = 0.01 } }
    "#;
    let lvq1 = EstimatorConfig::from_toml(rules, Path::new("<test>")).unwrap();
    let lvq21 = EstimatorConfig::from_toml(
        &rules.replace(
            r#"{ kind = "lvq1", lr = { start = 0.3, end = 0.01 } }"#,
            r#"{ kind = "lvq21", lr = { start = 0.3, end = 0.01 }, window = 0.3 }"#,
        ),
        Path::new("<test>"),
    )
    .unwrap();
    let data = blobs();
    for config in [lvq1, lvq21] {
        let fitted = fit_save_load(&Estimator::new(config).unwrap().with_scaling(Scaling::Standard).with_seed(3), &data, 0.95);
        assert!(fitted.summary().training.as_ref().expect("training scores").accuracy.unwrap() >= 0.95);
    }
    let metric = rules.replace("per_class = 2", "per_class = 2\ndissimilarity = { kind = \"relevance\" }");
    let err = EstimatorConfig::from_toml(&metric, Path::new("<test>")).unwrap_err().to_string();
    assert!(err.contains("LVQ1 and LVQ2.1 are Euclidean"), "{err}");
    let masked = format!("missing = \"mask\"\n{rules}");
    assert!(EstimatorConfig::from_toml(&masked, Path::new("<test>")).unwrap_err().to_string().contains("mask for lvq"));
}

#[test]
fn deepcluster_keeps_its_whitening_and_centroids() {
    use protolearn::config::DeepClusterSpec;
    let data = blobs();
    let spec = DeepClusterSpec {
        autoencoder: BackboneSpec::Dense { hidden: vec![16], latent_dim: 3 },
        epochs: 5,
        batch_size: 32,
        ..DeepClusterSpec::new(3)
    };
    let fitted = fit_save_load(&estimator(ModelSpec::DeepCluster(spec)), &data, 0.9);
    let codes = fitted.encode(&data).unwrap();
    assert_eq!(codes.shape, vec![240, 3]);
    let norms: Vec<f32> = codes.values.chunks(3).map(|r| r.iter().map(|v| v * v).sum::<f32>().sqrt()).collect();
    assert!(norms.iter().all(|n| (n - 1.0).abs() < 1e-4), "whitened, L2-normalised features");
}

/// Panics at the `at`-th log record of a fit (a kill between two checkpoints).
struct KillAt {
    at: usize,
    seen: usize,
}

impl protolearn::train::observer::Observer for KillAt {
    fn on_log(&mut self, _record: &protolearn::train::trainer::LogRecord) {
        self.seen += 1;
        assert!(self.seen < self.at, "killed at log record {}", self.at);
    }
}

#[test]
fn every_checkpointing_family_resumes_after_a_kill_bit_for_bit() {
    use protolearn::config::{CodeClustering, DeepClusterSpec, LvqTraining, NeuralGasSpec, TwoStageSpec};
    use protolearn::layers::lvq::Lvq1;
    use protolearn::layers::som::Schedule;
    use protolearn::train::competitive::CompetitiveTrainConfig;
    use protolearn::train::optim::OptimizerConfig;
    use protolearn::train::run::Checkpointing;
    let data = blobs();
    let som = |rule| ModelSpec::Som(SomSpec { rule, iterations: 20, log_every: Some(5), ..SomSpec::new(grid(3, 3, Lattice::Rectangular)) });
    let lr = Schedule { decay: Default::default(), start: 0.3, end: 0.01 };
    let small_ae = BackboneSpec::Dense { hidden: vec![8], latent_dim: 2 };
    let competitive = |kind| {
        let layer = CompetitiveConfig { kind, n_prototypes: 4, ..Default::default() };
        let training = CompetitiveSpec { layer: layer.clone(), training: None }.training();
        // A rate this large makes the loss jump, so keep-best holds an epoch before the kill:
        // the resumed run must restore it (and its loss) from the checkpoint.
        let optimizer = OptimizerConfig { lr: 3.0, ..training.optimizer };
        ModelSpec::Competitive(CompetitiveSpec { layer, training: Some(CompetitiveTrainConfig { epochs: 8, optimizer, ..training }) })
    };
    let families = [
        som(SomRule::Batch),
        som(SomRule::Online { lr }),
        som(SomRule::Gradient { batch_size: 32, lr: 0.05 }),
        ModelSpec::Lvq(LvqSpec { epochs: 6, ..LvqSpec::new() }),
        ModelSpec::Softmax(protolearn::config::SoftmaxSpec { epochs: 6, ..Default::default() }),
        ModelSpec::Lvq(LvqSpec { epochs: 6, batch_size: 10, training: LvqTraining::Lvq1(Lvq1 { lr }), ..LvqSpec::new() }),
        ModelSpec::NeuralGas(NeuralGasSpec { epochs: 6, batch_size: 30, ..NeuralGasSpec::new(4) }),
        competitive(LayerKind::Vcl),
        competitive(LayerKind::Dcl),
        ModelSpec::Ddcl(DdclSpec { autoencoder: small_ae.clone(), epochs: 6, batch_size: 60, ..DdclSpec::new(3) }),
        ModelSpec::Ddcl(DdclSpec {
            autoencoder: small_ae.clone(),
            pretrain_iterations: 20,
            epochs: 6,
            batch_size: 60,
            log_every: Some(2),
            ..DdclSpec::new(3)
        }),
        // The k-means ablation draws a k-means seed at every epoch start: the stream's position
        // must come back from the checkpoint.
        ModelSpec::Ddcl(DdclSpec {
            autoencoder: small_ae.clone(),
            epochs: 6,
            batch_size: 60,
            variant: protolearn::train::ddcl::DdclVariant::KMeans,
            ..DdclSpec::new(3)
        }),
        ModelSpec::DeepCluster(DeepClusterSpec { autoencoder: small_ae.clone(), epochs: 5, batch_size: 60, ..DeepClusterSpec::new(3) }),
        ModelSpec::Desom(DesomSpec {
            autoencoder: small_ae.clone(),
            iterations: 40,
            pretrain_iterations: 20,
            batch_size: 32,
            log_every: Some(10),
            ..DesomSpec::new(grid(2, 2, Lattice::Rectangular))
        }),
        ModelSpec::TwoStage(TwoStageSpec {
            autoencoder: small_ae,
            pretrain_iterations: 30,
            batch_size: 32,
            log_every: Some(10),
            ..TwoStageSpec::new(CodeClustering::Som(SomSpec {
                iterations: 20,
                log_every: Some(5),
                ..SomSpec::new(grid(2, 2, Lattice::Rectangular))
            }))
        }),
    ];
    for model in families {
        let kind = model.kind();
        let estimator = estimator(model);
        let whole_dir = tempfile::tempdir().unwrap();
        let whole = estimator.clone().with_checkpoints(Checkpointing::new(whole_dir.path(), false)).fit(&data).unwrap();
        let records = whole.history().len();
        assert!(records >= 3, "{kind}: {records} records");
        for at in [2, records - 1] {
            let dir = tempfile::tempdir().unwrap();
            let run = estimator.clone().with_checkpoints(Checkpointing::new(dir.path(), false));
            let killed =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run.fit_named(&data, &[], None, &mut KillAt { at, seen: 0 })));
            assert!(killed.is_err(), "{kind}: killed at record {at}");
            // Resumed, only the records after the kill's checkpoint are trained again.
            let mut count = KillAt { at: usize::MAX, seen: 0 };
            let resumed =
                estimator.clone().with_checkpoints(Checkpointing::new(dir.path(), true)).fit_named(&data, &[], None, &mut count).unwrap();
            assert_eq!(count.seen, records - at, "{kind}: records trained after resuming from record {at}");
            let steps = |f: &Fitted| f.history().iter().map(|r| (r.phase.clone(), r.step)).collect::<Vec<_>>();
            assert_eq!(steps(&resumed), steps(&whole), "{kind}: the history holds the restored records");
            assert_eq!(resumed.prototypes().unwrap(), whole.prototypes().unwrap(), "{kind}: prototypes after a kill at record {at}");
            assert_eq!(resumed.transform(&data).unwrap(), whole.transform(&data).unwrap(), "{kind}: distances after a kill at record {at}");
        }
    }
}

#[test]
fn fits_reading_rows_in_chunks_resume_after_a_kill_bit_for_bit() {
    use protolearn::train::observer::Silent;
    use protolearn::train::run::Checkpointing;
    let data = blobs();
    // The rows as a row source read 50 at a time (5 reads per pass over 240 rows, the last short).
    let rows = tch::Tensor::from_slice(&data.features).view([240, 4]);
    let families = [
        ModelSpec::Som(SomSpec {
            rule: SomRule::Batch,
            iterations: 20,
            log_every: Some(5),
            ..SomSpec::new(grid(3, 3, Lattice::Rectangular))
        }),
        // Random minibatches of rows: the resumed run must draw where the killed one stopped.
        ModelSpec::Desom(DesomSpec {
            autoencoder: BackboneSpec::Dense { hidden: vec![8], latent_dim: 2 },
            iterations: 40,
            pretrain_iterations: 20,
            batch_size: 32,
            log_every: Some(10),
            ..DesomSpec::new(grid(2, 2, Lattice::Rectangular))
        }),
    ];
    for model in families {
        let kind = model.kind();
        let estimator = estimator(model);
        let whole_dir = tempfile::tempdir().unwrap();
        let whole =
            estimator.clone().with_checkpoints(Checkpointing::new(whole_dir.path(), false)).fit_rows(&rows, 50, &mut Silent).unwrap();
        let records = whole.history().len();
        assert!(records >= 4, "{kind}: {records} records");
        let at = records - 1;
        let dir = tempfile::tempdir().unwrap();
        let run = estimator.clone().with_checkpoints(Checkpointing::new(dir.path(), false));
        let killed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run.fit_rows(&rows, 50, &mut KillAt { at, seen: 0 })));
        assert!(killed.is_err(), "{kind}: killed at record {at}");
        let mut count = KillAt { at: usize::MAX, seen: 0 };
        let resumed = estimator.clone().with_checkpoints(Checkpointing::new(dir.path(), true)).fit_rows(&rows, 50, &mut count).unwrap();
        assert_eq!(count.seen, records - at, "{kind}: records trained after resuming from record {at}");
        assert_eq!(resumed.prototypes().unwrap(), whole.prototypes().unwrap(), "{kind}: prototypes after a kill at record {at}");
        assert_eq!(resumed.transform(&data).unwrap(), whole.transform(&data).unwrap(), "{kind}: distances after a kill at record {at}");
    }
}
