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
    assert_eq!(&scores, &fitted.summary().training, "score on the training data = the summary");
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
    let te = som.summary().training.topographic_error.expect("a grid has TE");
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
        assert_eq!(fitted.summary().training.topographic_error, None);
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
        let accuracy = fitted.summary().training.accuracy.expect("a classifier has an accuracy");
        assert!(accuracy > 0.99, "accuracy {accuracy}");
        assert_eq!(fitted.n_units(), 3 * per_class);
        let predicted = fitted.predict_labels(&data).unwrap();
        let right = predicted.iter().zip(data.labels.as_ref().unwrap()).filter(|(p, l)| **p == Some(**l)).count();
        assert_eq!(right as f64 / 240.0, accuracy, "predict_labels agrees with the score");
    }
    let unlabelled = Data::new("u", data.features.clone(), data.shape.clone(), None).unwrap();
    let err = estimator(ModelSpec::Lvq(LvqSpec::new())).fit(&unlabelled).unwrap_err().to_string();
    assert!(err.contains("fitting an LVQ head needs labels, but the training data has none"), "{err}");
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
    let text = String::from_utf8_lossy(&bytes).into_owned();
    assert!(text.contains(&version), "the header names the version");
    let newer = dir.path().join("newer.safetensors");
    let mut edited = bytes.clone();
    let at = text.find(&version).unwrap() + version.len() - 2;
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
