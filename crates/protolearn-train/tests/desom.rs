//! DESOM trained by iterations (paper 002, Algorithm 3): synthetic blobs in 20-D (always run),
//! an MNIST subset (skipped with a message when MNIST is not found), pretraining and update
//! interval, checkpoint round trip, config files, and the LSTM and temporal-convolution
//! backbones on three NaN-padded sequence shapes.

use protolearn_data::tensor::Dataset;
use protolearn_data::{mnist, BlobCenters, BlobsConfig, DataDirs, IdxDataset, ImageLayout};
use protolearn_layers::autoencoder::{AutoencoderConfig, ConvConfig, DenseConfig};
use protolearn_layers::desom::DesomConfig;
use protolearn_layers::som::SomConfig;
use protolearn_metrics::{quantization_error, topographic_error, Boundary, Grid, Lattice, Matrix};
use protolearn_testkit::{assert_close, Tolerance};
use protolearn_train::checkpoint;
use protolearn_train::desom::{fit_desom, DesomRecord, DesomTrainConfig, Phase};
use protolearn_train::desom_seeds::fit_desom_seeds;
use protolearn_train::observer::Silent;
use protolearn_train::optim::{OptimizerConfig, OptimizerKind};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;
use tch::{nn, Device};

/// Purity required on 4 well-separated blobs (chance is about 0.25; perfect is 1).
const BLOB_PURITY: f64 = 0.9;
/// Purity required on the MNIST subset (10 classes; chance about 0.11, a 5x5 map of a random
/// encoder about 0.2-0.3).
const MNIST_PURITY: f64 = 0.5;
/// Joint iterations on the MNIST subset (128 passes over 2000 images at batch 256); measured
/// purity 0.60 / 0.59 / 0.55 for seeds 11 / 12 / 13.
const ITERS: usize = 1000;
/// Seed of the MNIST run.
const SEED: u64 = 11;
/// Largest difference allowed between a seed-batched replica and its single run, in variables
/// and (relative) losses: float32 rounding of batched vs plain matrix products, carried through
/// 60 Adam steps (measured here: 3.0e-8 at most in the variables; the test prints it). 1e-5
/// leaves room for another BLAS's blocking while catching any mixing of replicas (batches,
/// gradients or optimizer state), which moves variables by the learning rate (1e-2) at once.
const REPLICA_TOLERANCE: f64 = 1e-5;

/// Adam with learning rate `lr` (synthetic runs use 1e-2 to converge in few iterations).
fn adam(lr: f64) -> OptimizerConfig {
    OptimizerConfig { kind: OptimizerKind::Adam, lr }
}

/// A dense `input_dim - hidden - latent_dim` DESOM on a `side x side` map, `γ = 1e-3`.
fn model(input_dim: i64, hidden: i64, latent_dim: i64, side: usize) -> DesomConfig {
    let dense = DenseConfig { input_dim, hidden: vec![hidden], latent_dim };
    model_with(AutoencoderConfig::Dense(dense), side)
}

/// DESOM with `autoencoder` on a `side x side` map, `γ = 1e-3` (paper 002, Table 2).
fn model_with(autoencoder: AutoencoderConfig, side: usize) -> DesomConfig {
    let grid = Grid::new(side, side, Lattice::Rectangular, Boundary::Bounded).expect("grid");
    let som = SomConfig { grid, init: Default::default(), neighbourhood: Default::default(), map_distance: Default::default() };
    DesomConfig { autoencoder, som, gamma: 1e-3 }
}

/// 4 labelled blobs of 100 samples in 20-D, centres in `[-5, 5]^20`, standard deviation 1.
fn blobs(seed: u64) -> Dataset {
    let cfg = BlobsConfig {
        n_samples: 400,
        n_features: 20,
        centers: BlobCenters::Random(4),
        cluster_std: 1.0,
        center_box: (-5.0, 5.0),
        shuffle: true,
    };
    let data = cfg.generate(&mut ChaCha8Rng::seed_from_u64(seed)).expect("blobs");
    Dataset::from_data(&data, Device::Cpu).expect("dataset")
}

fn joint(history: &[DesomRecord]) -> Vec<DesomRecord> {
    history.iter().copied().filter(|r| r.phase == Phase::Joint).collect()
}

#[test]
fn blobs_loss_decreases_and_bmus_match_classes() {
    let data = blobs(1);
    let m = model(20, 32, 4, 3);
    let cfg = DesomTrainConfig { batch_size: 64, log_every: 50, optimizer: adam(1e-2), ..DesomTrainConfig::paper(&m.som.grid, 300, 7) };
    let run = fit_desom(&data, Some(&data), &m, &cfg, &mut Silent).expect("fit");
    let records = joint(&run.history);
    assert_eq!(records.len(), 6);
    assert_eq!(records.iter().map(|r| r.iteration).collect::<Vec<_>>(), vec![50, 100, 150, 200, 250, 300]);
    let (first, last) = (records[0], records[5]);
    assert!(last.total < first.total, "total loss decreases: {first:?} -> {last:?}");
    assert!(last.reconstruction < first.reconstruction);
    assert!(records.windows(2).all(|w| w[1].temperature < w[0].temperature), "T decays");
    assert_close("T_min at the last iteration", last.temperature.expect("T"), 0.1, Tolerance::EXACT_F64);
    let purity = last.purity.expect("labels given");
    assert!(purity >= BLOB_PURITY, "purity {purity}");
    assert!(last.nmi.expect("labels given") > 0.5);
    // The logged latent QE and TE (tch, on the device) equal protolearn-metrics on the host
    // for the final model; tolerance 1e-5 for float32 distances summed in another order.
    let z: Vec<f32> = Vec::try_from(run.model.encode_all(&data.x).expect("encode").flatten(0, -1)).expect("host");
    let w: Vec<f32> = Vec::try_from(run.model.som.weight.detach().flatten(0, -1)).expect("host");
    let (zm, wm) = (Matrix::new(&z, 400, 4).expect("z"), Matrix::new(&w, 9, 4).expect("w"));
    let qe = quantization_error(zm, wm).expect("qe");
    let te = topographic_error(zm, wm, &m.som.grid).expect("te");
    let logged = (last.quantization_error.expect("qe logged"), last.topographic_error.expect("te logged"));
    assert_close("logged latent QE vs protolearn-metrics", logged.0, qe, Tolerance::F32_SUM);
    assert_close("logged latent TE vs protolearn-metrics", logged.1, te, Tolerance::EXACT_F64);
    assert!(records[0].quantization_error > last.quantization_error, "latent QE decreases");
}

#[test]
fn pretraining_and_update_interval_are_recorded() {
    let data = blobs(2);
    let m = model(20, 16, 3, 2);
    let cfg = DesomTrainConfig {
        batch_size: 32,
        log_every: 20,
        pretrain_iterations: 40,
        update_interval: 10,
        ..DesomTrainConfig::paper(&m.som.grid, 50, 3)
    };
    let run = fit_desom(&data, None, &m, &cfg, &mut Silent).expect("fit");
    let phases: Vec<(Phase, usize)> = run.history.iter().map(|r| (r.phase, r.iteration)).collect();
    assert_eq!(phases, vec![(Phase::Pretrain, 20), (Phase::Pretrain, 40), (Phase::Joint, 20), (Phase::Joint, 40), (Phase::Joint, 50)]);
    let pre = run.history[0];
    assert_eq!((pre.som, pre.temperature, pre.purity), (None, None, None));
    assert_eq!(pre.total, pre.reconstruction);
    assert!(run.history[4].som.is_some() && run.history[4].purity.is_none());
    let bad = DesomTrainConfig { update_interval: 0, ..cfg.clone() };
    assert!(fit_desom(&data, None, &m, &bad, &mut Silent).is_err());
    let too_big = DesomTrainConfig { batch_size: 401, ..cfg };
    assert!(fit_desom(&data, None, &m, &too_big, &mut Silent).is_err(), "batch larger than the data");
}

#[test]
fn conv_desom_trains_on_synthetic_images() {
    let cfg = BlobsConfig {
        n_samples: 128,
        n_features: 784,
        centers: BlobCenters::Random(3),
        cluster_std: 0.1,
        center_box: (0.0, 1.0),
        shuffle: true,
    };
    let data = cfg.generate(&mut ChaCha8Rng::seed_from_u64(4)).expect("blobs");
    let flat = Dataset::from_data(&data, Device::Cpu).expect("dataset");
    let images = Dataset::new(flat.x.view([-1, 1, 28, 28]), flat.y).expect("images");
    let conv = ConvConfig { filters: vec![4, 8, 8, 8], latent_dim: 3, ..ConvConfig::default() };
    let m = model_with(AutoencoderConfig::Conv(conv), 2);
    let train = DesomTrainConfig { batch_size: 32, log_every: 20, optimizer: adam(1e-2), ..DesomTrainConfig::paper(&m.som.grid, 60, 2) };
    let run = fit_desom(&images, Some(&images), &m, &train, &mut Silent).expect("fit");
    let records = joint(&run.history);
    assert_eq!(records.len(), 3);
    assert!(records[2].reconstruction < records[0].reconstruction, "{records:?}");
    assert_eq!(run.model.decoded_prototypes().expect("decode").size(), vec![4, 1, 28, 28]);
}

#[test]
fn checkpoint_round_trip_reproduces_predictions() {
    let data = blobs(3);
    let m = model(20, 16, 3, 3);
    let cfg = DesomTrainConfig { batch_size: 32, log_every: 30, ..DesomTrainConfig::paper(&m.som.grid, 30, 5) };
    let run = fit_desom(&data, None, &m, &cfg, &mut Silent).expect("fit");
    let dir = std::env::temp_dir().join(format!("protolearn-desom-{}", std::process::id()));
    let path = dir.join("desom.safetensors");
    checkpoint::save(&run.vs, &path).expect("save");
    let mut vs = nn::VarStore::new(Device::Cpu);
    let fresh = m.build(&vs.root(), &data.x, 99).expect("build");
    checkpoint::load(&mut vs, &path).expect("load");
    assert!(fresh.predict(&data.x).expect("predict").equal(&run.model.predict(&data.x).expect("predict")), "same BMUs");
    assert!(fresh.decoded_prototypes().expect("decode").equal(&run.model.decoded_prototypes().expect("decode")));
    std::fs::remove_dir_all(&dir).expect("clean up");
    let again = fit_desom(&data, None, &m, &cfg, &mut Silent).expect("fit");
    assert!(again.model.som.weight.equal(&run.model.som.weight), "same seed, same model");
}

#[test]
fn config_round_trips_through_toml() {
    let grid = Grid::new(8, 8, Lattice::Rectangular, Boundary::Bounded).expect("grid");
    let cfg = DesomTrainConfig::paper(&grid, 10000, 1);
    assert_eq!((cfg.batch_size, cfg.optimizer.lr, cfg.temperature.start, cfg.temperature.end), (256, 1e-3, 8.0, 0.1));
    let text = toml::to_string(&cfg).expect("serialise");
    assert_eq!(toml::from_str::<DesomTrainConfig>(&text).expect("parse"), cfg);
    assert!(toml::from_str::<DesomTrainConfig>(&format!("bogus = 1\n{text}")).is_err());
}

#[test]
fn mnist_subset_purity_well_above_chance() {
    let dirs = DataDirs::new(None);
    if let Err(e) = dirs.find(IdxDataset::Mnist) {
        assert!(!protolearn_data::locate::data_required(), "MNIST is required (PROTOLEARN_REQUIRE_DATA=1) but not found: {e}");
        eprintln!("skipping: MNIST not found (set PROTOLEARN_DATA to a directory holding mnist/)");
        return;
    }
    let data = mnist::load(IdxDataset::Mnist, &dirs, ImageLayout::Flat).expect("MNIST");
    let full = Dataset::from_data(&data.train, Device::Cpu).expect("train");
    let labels = full.y.as_ref().expect("labels");
    let train = Dataset::new(full.x.narrow(0, 0, 2000), Some(labels.narrow(0, 0, 2000))).expect("subset");
    let test = Dataset::from_data(&data.test, Device::Cpu).expect("test");
    let eval = Dataset::new(test.x.narrow(0, 0, 1000), test.y.as_ref().map(|y| y.narrow(0, 0, 1000))).expect("eval");
    let m = model(784, 64, 10, 5);
    let cfg = DesomTrainConfig { log_every: 100, ..DesomTrainConfig::paper(&m.som.grid, ITERS, SEED) };
    let start = Instant::now();
    let run = fit_desom(&train, Some(&eval), &m, &cfg, &mut Silent).expect("fit");
    let seconds = start.elapsed().as_secs_f64();
    let records = joint(&run.history);
    let (first, last) = (records[0], records[records.len() - 1]);
    let purity = last.purity.expect("labels");
    eprintln!(
        "DESOM MNIST 2000/1000: purity {purity:.3}, NMI {:.3}, L {:.4} -> {:.4}, {:.0} it/s incl. eval",
        last.nmi.unwrap_or(f64::NAN),
        first.total,
        last.total,
        ITERS as f64 / seconds
    );
    assert!(last.total < first.total, "loss decreases");
    assert!(purity >= MNIST_PURITY, "purity {purity}");
}

/// Panics at one log point: a run killed right after that point's checkpoint.
struct KillAt {
    phase: &'static str,
    step: usize,
}

impl protolearn_train::observer::Observer for KillAt {
    fn on_log(&mut self, record: &protolearn_train::trainer::LogRecord) {
        if record.phase == self.phase && record.step == self.step {
            panic!("simulated kill at {} step {}", self.phase, self.step);
        }
    }
}

/// The (phase, step) of every log point it sees.
#[derive(Default)]
struct Seen(Vec<(String, usize)>);

impl protolearn_train::observer::Observer for Seen {
    fn on_log(&mut self, record: &protolearn_train::trainer::LogRecord) {
        self.0.push((record.phase.clone(), record.step));
    }
}

/// The records without their wall-clock seconds (which differ between identical runs).
fn untimed(history: &[DesomRecord]) -> Vec<DesomRecord> {
    history.iter().map(|r| DesomRecord { seconds: 0.0, ..*r }).collect()
}

#[test]
fn interrupted_desom_resumes_bit_for_bit() {
    let data = blobs(5);
    let m = model(20, 16, 3, 3);
    let base = DesomTrainConfig { batch_size: 32, log_every: 10, pretrain_iterations: 30, ..DesomTrainConfig::paper(&m.som.grid, 40, 8) };
    // The uninterrupted reference writes checkpoints too (the same optimizer as a resumed run).
    let whole_dir = tempfile::tempdir().expect("tempdir");
    let whole_cfg = DesomTrainConfig { checkpoint: Some(whole_dir.path().to_path_buf()), ..base.clone() };
    let whole = fit_desom(&data, Some(&data), &m, &whole_cfg, &mut Silent).expect("uninterrupted");
    for (phase, step) in [("pretrain", 20), ("joint", 20)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = DesomTrainConfig { checkpoint: Some(dir.path().to_path_buf()), ..base.clone() };
        let killed =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fit_desom(&data, Some(&data), &m, &cfg, &mut KillAt { phase, step })));
        assert!(killed.is_err(), "the run was killed at {phase} {step}");
        let mut seen = Seen::default();
        let resumed = fit_desom(&data, Some(&data), &m, &DesomTrainConfig { resume: true, ..cfg }, &mut seen).expect("resumed");
        // Only the log points after the kill ran again (pretrain 10-30, joint 10-40 in total).
        let expected: Vec<(String, usize)> = match phase {
            "pretrain" => {
                vec![("pretrain".into(), 30), ("joint".into(), 10), ("joint".into(), 20), ("joint".into(), 30), ("joint".into(), 40)]
            }
            _ => vec![("joint".into(), 30), ("joint".into(), 40)],
        };
        assert_eq!(seen.0, expected, "resumed from {phase} {step}");
        for (name, var) in whole.vs.variables() {
            let other = &resumed.vs.variables()[&name];
            assert!(var.equal(other), "{name} differs after resuming from {phase} {step}");
        }
        assert_eq!(untimed(&resumed.history), untimed(&whole.history), "history after resuming from {phase} {step}");
    }
    let no_dir = DesomTrainConfig { resume: true, ..base };
    assert!(fit_desom(&data, None, &m, &no_dir, &mut Silent).is_err(), "resume needs a checkpoint folder");
}

/// Purity required of a sequence DESOM on three shape classes (chance about 0.33).
const SEQUENCE_PURITY: f64 = 0.9;

/// 3 x 40 noisy sequences of 24 steps: a sine period, a rising and a falling ramp (labels 0, 1, 2);
/// every other sequence of the ramps ends after 16 steps (NaN padding).
fn shapes(seed: u64) -> Dataset {
    let (per_class, steps) = (40usize, 24usize);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut values = Vec::with_capacity(3 * per_class * steps);
    let mut labels = Vec::new();
    for class in 0..3i64 {
        for i in 0..per_class {
            let len = if class > 0 && i % 2 == 1 { 16 } else { steps };
            for t in 0..steps {
                let s = t as f32 / steps as f32;
                let clean = match class {
                    0 => (std::f32::consts::TAU * s).sin(),
                    1 => 2.0 * s - 1.0,
                    _ => 1.0 - 2.0 * s,
                };
                values.push(if t < len { clean + rng.random_range(-0.1f32..0.1) } else { f32::NAN });
            }
            labels.push(class);
        }
    }
    let x = tch::Tensor::from_slice(&values).view([(3 * per_class) as i64, steps as i64, 1]);
    Dataset::new(x, Some(tch::Tensor::from_slice(&labels))).expect("dataset")
}

#[test]
fn sequence_backbones_learn_shape_classes() {
    use protolearn_layers::autoencoder::{LstmConfig, TemporalConfig};
    let data = shapes(5);
    let backbones = [
        AutoencoderConfig::Lstm(LstmConfig { steps: 24, features: 1, hidden: vec![16], latent_dim: 2, conditional: false }),
        AutoencoderConfig::Lstm(LstmConfig { steps: 24, features: 1, hidden: vec![16], latent_dim: 2, conditional: true }),
        AutoencoderConfig::Temporal(TemporalConfig { steps: 24, features: 1, filters: vec![8, 8], kernel_size: 3, pool: 2, latent_dim: 2 }),
    ];
    for backbone in backbones {
        let m = model_with(backbone.clone(), 2);
        let cfg =
            DesomTrainConfig { batch_size: 32, log_every: 150, optimizer: adam(1e-2), ..DesomTrainConfig::paper(&m.som.grid, 300, 3) };
        let run = fit_desom(&data, Some(&data), &m, &cfg, &mut Silent).expect("fit");
        let records = joint(&run.history);
        let (first, last) = (records[0], records[records.len() - 1]);
        assert!(last.reconstruction < first.reconstruction, "{backbone:?}: {records:?}");
        let purity = last.purity.expect("labelled");
        assert!(purity >= SEQUENCE_PURITY, "{backbone:?}: purity {purity}");
        assert_eq!(run.model.decoded_prototypes().expect("decode").size(), vec![4, 24, 1]);
    }
}

/// Seeds trained as one batched program (`fit_desom_seeds`) follow the runs of `fit_desom` with
/// the same seeds: same records (iterations, temperatures), losses and scores, variables.
/// Tolerance [`REPLICA_TOLERANCE`]: the batched and the plain matrix products round differently in
/// float32, and 60 Adam steps carry that rounding forward.
#[test]
fn seed_batched_replicas_follow_their_single_runs() {
    let data = blobs(3);
    let m = model(20, 16, 3, 3);
    let cfg = DesomTrainConfig { batch_size: 32, log_every: 20, optimizer: adam(1e-2), ..DesomTrainConfig::paper(&m.som.grid, 60, 0) };
    let seeds = [7, 8, 21];
    let runs = fit_desom_seeds(&data, Some(&data), &m, &cfg, &seeds, &mut Silent).expect("batched seeds");
    assert_eq!(runs.len(), 3);
    let mut largest = 0.0f64;
    for (run, seed) in runs.iter().zip(seeds) {
        let single = fit_desom(&data, Some(&data), &m, &DesomTrainConfig { seed, ..cfg.clone() }, &mut Silent).expect("single");
        assert_eq!(run.history.len(), single.history.len());
        for (a, b) in run.history.iter().zip(&single.history) {
            assert_eq!((a.iteration, a.temperature), (b.iteration, b.temperature));
            for (what, x, y) in [("reconstruction", a.reconstruction, b.reconstruction), ("som", a.som.expect("som"), b.som.expect("som"))]
            {
                assert!((x - y).abs() <= REPLICA_TOLERANCE * y.abs().max(1.0), "seed {seed} {what} at {}: {x} vs {y}", a.iteration);
            }
            let (pa, pb) = (a.purity.expect("purity"), b.purity.expect("purity"));
            assert!((pa - pb).abs() <= 2.0 / 400.0, "seed {seed} purity {pa} vs {pb} (at most two of 400 samples may change unit)");
        }
        let batched = run.vs.variables();
        for (name, variable) in single.vs.variables() {
            let diff = (&batched[&name] - &variable).abs().max().double_value(&[]);
            largest = largest.max(diff);
            assert!(diff <= REPLICA_TOLERANCE, "seed {seed}: `{name}` differs by {diff}");
        }
    }
    eprintln!("largest variable difference between batched and single runs: {largest:.2e}");
}
