//! Integration tests of the SOM layer and its three training rules on the one trainer, on three
//! well-separated blobs.

use protolearn_data::tensor::Dataset;
use protolearn_layers::som::{som_distortion, BatchSom, Decay, Neighbourhood, Schedule, SomConfig, SomInit, SomLayer};
use protolearn_layers::UpdateRule;
use protolearn_metrics::{Boundary, Grid, Lattice};
use protolearn_testkit::{assert_close, Tolerance};
use protolearn_train::observer::Silent;
use protolearn_train::som::{fit_som, SomEvaluator, SomRecord, SomRule, SomTrainConfig};
use protolearn_train::trainer::{Batching, Evaluator, PhaseConfig, StepInfo, Trainer};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{nn, Device, Tensor};

/// 300 points: 100 uniform in the square of half-width 1 around each of (-6,-6), (6,-6), (0,6).
/// The mean distance of such a point to its blob centre is about 0.77.
fn blobs(seed: u64) -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centres = [(-6.0f32, -6.0f32), (6.0, -6.0), (0.0, 6.0)];
    let v: Vec<f32> = (0..300)
        .flat_map(|i| {
            let (cx, cy) = centres[i % 3];
            [cx + rng.random_range(-1.0..1.0), cy + rng.random_range(-1.0..1.0)]
        })
        .collect();
    Tensor::from_slice(&v).view([300, 2])
}

fn grid() -> Grid {
    Grid::new(4, 4, Lattice::Rectangular, Boundary::Bounded).expect("valid 4x4 grid")
}

/// A 4x4 Gaussian SOM whose prototypes start uniformly in the data's bounding box (far from the
/// blobs, so training has something to do).
fn som(vs: &nn::VarStore, x: &Tensor) -> SomLayer {
    SomConfig { grid: grid(), init: SomInit::UniformBox, neighbourhood: Neighbourhood::Gaussian, map_distance: Default::default() }
        .build(&vs.root(), x, 11)
        .expect("SOM builds on [n, 2] data")
}

/// Distortion at `t` and QE of `layer` on `x`, measured by the trainer's SOM evaluator.
fn evaluate(layer: &SomLayer, x: &Tensor, t: f64) -> (f64, f64) {
    let mut evaluator = SomEvaluator { layer, x, temperature: Schedule { decay: Decay::Linear, start: t, end: t } };
    let columns = evaluator.evaluate(&StepInfo::new("eval", 1, 1, 1)).expect("evaluates");
    let get = |name: &str| columns.iter().find(|c| c.name == name).map(|c| c.values[0]).expect("column");
    (get("distortion"), get("quantization_error"))
}

fn initial_qe(x: &Tensor) -> f64 {
    let vs = nn::VarStore::new(Device::Cpu);
    evaluate(&som(&vs, x), x, 1.0).1
}

/// The records without their wall-clock seconds (which differ between identical runs).
fn untimed(history: &[SomRecord]) -> Vec<SomRecord> {
    history.iter().map(|r| SomRecord { seconds: 0.0, ..*r }).collect()
}

fn data(x: &Tensor) -> Dataset {
    Dataset::new(x.shallow_clone(), None).expect("[n, 2] features")
}

/// Trains a fresh map on `x` with `cfg`: the history and the final weights.
fn run(x: &Tensor, cfg: &SomTrainConfig) -> (Vec<SomRecord>, Tensor) {
    let vs = nn::VarStore::new(Device::Cpu);
    let layer = som(&vs, x);
    let history = fit_som(&vs, &layer, &data(x), cfg, &mut Silent).expect("SOM trains");
    (history, layer.weight.detach().copy())
}

/// Final QE must be below half the initial QE and below the blob radius scale 0.77.
fn assert_converged(name: &str, history: &[SomRecord], start: f64) {
    let last = history.last().expect("non-empty history");
    assert!(last.quantization_error < 0.5 * start, "{name}: final QE {} vs initial {start}", last.quantization_error);
    assert!(last.quantization_error < 0.77, "{name}: final QE {}", last.quantization_error);
    assert_close(&format!("{name}: ends at T_min"), last.temperature, 0.1, Tolerance::EXACT_F64);
}

fn gradient_cfg(seed: u64) -> SomTrainConfig {
    SomTrainConfig {
        rule: SomRule::Gradient { batch_size: 64, lr: 0.1 },
        iterations: 800,
        temperature: Schedule::paper_temperature(&grid()),
        seed,
        log_every: 100,
    }
}

fn batch_cfg(iterations: usize) -> SomTrainConfig {
    SomTrainConfig { rule: SomRule::Batch, iterations, temperature: Schedule::paper_temperature(&grid()), seed: 0, log_every: 1 }
}

fn online_cfg(seed: u64) -> SomTrainConfig {
    SomTrainConfig {
        rule: SomRule::Online { lr: Schedule { decay: Decay::Exponential, start: 0.5, end: 0.01 } },
        iterations: 3000,
        temperature: Schedule::paper_temperature(&grid()),
        seed,
        log_every: 300,
    }
}

#[test]
fn gradient_som_converges_reproducibly_and_distortion_decreases() {
    let x = blobs(1);
    let (history, weights) = run(&x, &gradient_cfg(5));
    assert_eq!(history.len(), 8);
    assert_converged("gradient", &history, initial_qe(&x));
    // Non-increasing up to 1% of minibatch Adam noise once T is small, and 100 times smaller overall.
    assert!(history.windows(2).all(|w| w[1].distortion < 1.01 * w[0].distortion), "distortion decreases: {history:?}");
    assert!(history[7].distortion < 0.01 * history[0].distortion);
    let (again, weights_again) = run(&x, &gradient_cfg(5));
    assert_eq!(untimed(&history), untimed(&again));
    assert!(weights.equal(&weights_again));
    let short = |seed| SomTrainConfig { iterations: 5, ..gradient_cfg(seed) };
    let (_, first) = run(&x, &short(5));
    let (_, other) = run(&x, &short(6));
    assert!(!first.equal(&other), "the seed changes the minibatch order");
}

#[test]
fn batch_som_converges_and_is_deterministic() {
    let x = blobs(2);
    let (history, weights) = run(&x, &batch_cfg(30));
    assert_eq!(history.len(), 30);
    assert_converged("batch", &history, initial_qe(&x));
    assert!(weights.isfinite().all().int64_value(&[]) == 1, "no NaN from empty units");
    let (again, weights_again) = run(&x, &batch_cfg(30));
    assert_eq!(untimed(&history), untimed(&again));
    assert!(weights.equal(&weights_again));
}

#[test]
fn online_kohonen_som_converges_reproducibly() {
    let x = blobs(3);
    let (history, weights) = run(&x, &online_cfg(9));
    assert_eq!(history.len(), 10);
    assert_converged("online", &history, initial_qe(&x));
    let (again, weights_again) = run(&x, &online_cfg(9));
    assert_eq!(untimed(&history), untimed(&again));
    assert!(weights.equal(&weights_again));
}

#[test]
fn batch_som_keeps_prototypes_without_support() {
    // Bubble of radius 0.5 = winner only: units that win no sample keep their prototype.
    let x = Tensor::from_slice(&[0.0f32, 0.0, 0.2, 0.0, 10.0, 10.0]).view([3, 2]);
    let vs = nn::VarStore::new(Device::Cpu);
    let grid = Grid::new(1, 3, Lattice::Rectangular, Boundary::Bounded).unwrap();
    let layer = SomConfig { grid, init: SomInit::DataSamples, neighbourhood: Neighbourhood::Bubble, map_distance: Default::default() }
        .build(&vs.root(), &x, 0)
        .unwrap();
    layer.weight.detach().copy_(&Tensor::from_slice(&[0.0f32, 0.0, 50.0, 50.0, 10.0, 10.0]).view([3, 2]));
    BatchSom { temperature: Schedule { decay: Decay::Linear, start: 0.5, end: 0.5 } }.update(&layer, &x, None, 1, 1).unwrap();
    let expected = Tensor::from_slice(&[0.1f32, 0.0, 50.0, 50.0, 10.0, 10.0]).view([3, 2]);
    assert!(layer.weight.allclose(&expected, 1e-6, 1e-6, false), "{:?}", Vec::<f32>::try_from(layer.weight.flatten(0, 1)).unwrap());
}

#[test]
fn batch_som_update_equals_equation_3_over_samples() {
    // The rule regroups the sums by BMU; Eq. 3 written over the samples must give the same map.
    let x = blobs(6);
    let vs = nn::VarStore::new(Device::Cpu);
    let layer = som(&vs, &x);
    let t = 1.3;
    let h = layer.neighbourhood_weights(&layer.bmus(&x).unwrap(), t).unwrap(); // [n, K]
    let direct = h.transpose(0, 1).matmul(&x) / h.sum_dim_intlist(0, false, None::<tch::Kind>).unsqueeze(-1);
    BatchSom { temperature: Schedule { decay: Decay::Linear, start: t, end: t } }.update(&layer, &x, None, 1, 1).unwrap();
    let diff = (&layer.weight - &direct).abs().max().double_value(&[]);
    assert!(layer.weight.allclose(&direct, 1e-5, 1e-5, false), "max |difference| {diff}");
}

#[test]
fn distortion_at_low_temperature_is_the_kmeans_loss() {
    // Paper 002, Sec. 3.3: as T -> 0, L_SOM tends to the mean squared distance to the BMU.
    let x = blobs(4);
    let vs = nn::VarStore::new(Device::Cpu);
    let layer = som(&vs, &x);
    let dist = nn::Module::forward(&layer, &x); // [n, K]
    let w = layer.neighbourhood_weights(&layer.bmus(&x).unwrap(), 0.05).unwrap();
    let kmeans = dist.amin(-1, false).mean(tch::Kind::Float);
    assert!(som_distortion(&dist, &w).allclose(&kmeans, 1e-5, 1e-5, false));
}

#[test]
fn invalid_training_configs_are_rejected() {
    let x = blobs(5);
    let vs = nn::VarStore::new(Device::Cpu);
    let layer = som(&vs, &x);
    let bad_batch = SomTrainConfig { rule: SomRule::Gradient { batch_size: 0, lr: 0.1 }, ..gradient_cfg(0) };
    assert!(fit_som(&vs, &layer, &data(&x), &bad_batch, &mut Silent).is_err());
    let bad_lr = SomTrainConfig { rule: SomRule::Online { lr: Schedule { decay: Decay::Linear, start: 0.5, end: 0.0 } }, ..online_cfg(0) };
    assert!(fit_som(&vs, &layer, &data(&x), &bad_lr, &mut Silent).is_err());
    let no_steps = SomTrainConfig { iterations: 0, ..batch_cfg(1) };
    assert!(fit_som(&vs, &layer, &data(&x), &no_steps, &mut Silent).is_err());
    assert!(fit_som(&vs, &layer, &data(&x.narrow(1, 0, 1)), &batch_cfg(1), &mut Silent).is_err(), "wrong input width");
}

#[test]
fn evaluation_matches_the_metrics_crate() {
    // Cross-check of the tensor QE and distortion against protolearn-metrics' pure-Rust ones
    // on a batch-trained map (tolerance 1e-4 relative: float32 tensors vs float64 sums).
    let x = blobs(6);
    let vs = nn::VarStore::new(Device::Cpu);
    let layer = som(&vs, &x);
    fit_som(&vs, &layer, &data(&x), &batch_cfg(30), &mut Silent).unwrap();
    let data = Vec::<f32>::try_from(x.flatten(0, 1)).unwrap();
    let protos = Vec::<f32>::try_from(layer.weight.detach().flatten(0, 1)).unwrap();
    let data = protolearn_metrics::Matrix::new(&data, 300, 2).unwrap();
    let protos = protolearn_metrics::Matrix::new(&protos, 16, 2).unwrap();
    for t in [0.5, 2.0] {
        let (distortion, quantization_error) = evaluate(&layer, &x, t);
        let qe = protolearn_metrics::quantization_error(data, protos).unwrap();
        let kernel = protolearn_metrics::Kernel::Gaussian { temperature: t };
        let dist = protolearn_metrics::distortion(data, protos, &grid(), kernel).unwrap();
        assert_close("QE", quantization_error, qe, Tolerance::F32_VS_F64);
        assert_close("distortion", distortion, dist, Tolerance::F32_VS_F64);
    }
}

/// A user-defined rule on the one trainer: each step moves every prototype a quarter of the way
/// to the mean of its batch of 5 samples. The trainer must hand it batches of the requested
/// size, call it once per step and record on schedule.
#[test]
fn custom_update_rule_runs_on_the_trainer() {
    struct TowardsBatchMean;
    impl UpdateRule<SomLayer> for TowardsBatchMean {
        fn update(&self, layer: &SomLayer, x: &Tensor, _: Option<&Tensor>, _: usize, _: usize) -> protolearn_layers::Result<()> {
            assert_eq!(x.size(), vec![5, 2], "the trainer hands out batches of batch_size");
            let _guard = tch::no_grad_guard();
            let mean = x.mean_dim(0, true, tch::Kind::Float); // [1, 2]
            let moved = &layer.weight + (mean - &layer.weight) * 0.25;
            layer.weight.shallow_clone().copy_(&moved);
            Ok(())
        }
    }
    let x = blobs(3);
    let vs = nn::VarStore::new(Device::Cpu);
    let layer = som(&vs, &x);
    let t = Schedule { decay: Decay::Exponential, start: 2.0, end: 0.1 };
    let data = data(&x);
    let mut trainer = Trainer::new(&data, Batching::Shuffled { batch_size: 5 }, 1).unwrap();
    let mut evaluator = SomEvaluator { layer: &layer, x: &x, temperature: t };
    let phase = PhaseConfig::new("custom", 60, 25);
    let history = trainer.apply_rule(&phase, &layer, &TowardsBatchMean, &vs, &mut [&mut evaluator], &mut Silent).unwrap();
    let iterations: Vec<usize> = history.iter().map(|r| r.step).collect();
    assert_eq!(iterations, vec![25, 50, 60]);
    // All prototypes collapse towards the data mean (0, -2): the spread across units shrinks
    // from the initial box (width 14) to below 0.1 after 60 steps of factor 0.75.
    let spread = layer.weight.std_dim(0, false, false).max().double_value(&[]);
    assert!(spread < 0.1, "prototype spread {spread}");
}

/// Largest difference between the prototypes of the in-memory batch SOM and the one reading its
/// rows chunk by chunk from a `.npy` file: the sums `S_j` are the same float32 terms added in
/// another grouping (per chunk, then across chunks), a relative difference of order
/// `n * 2^-24` per pass on coordinates of order 6.
const CHUNKED_SUM_TOLERANCE: f64 = 1e-4;

#[test]
fn batch_som_on_npy_rows_larger_than_a_chunk_equals_the_in_memory_fit() {
    let x = blobs(5); // [300, 2]
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("blobs.npy");
    let values = Vec::<f32>::try_from(x.reshape([-1])).expect("f32 values");
    {
        use npyz::WriterBuilder;
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("creates"));
        let mut w = npyz::WriteOptions::new().default_dtype().shape(&[300, 2]).writer(&mut file).begin_nd().expect("header");
        w.extend(values).expect("values");
        w.finish().expect("finishes");
    }
    let cfg = SomTrainConfig { log_every: 5, ..batch_cfg(15) };
    let (memory_history, memory_weights) = run(&x, &cfg);
    let vs = nn::VarStore::new(Device::Cpu);
    let layer = som(&vs, &x); // the same start as `run`'s
    let source = protolearn_train::npy_source::NpySource::open(&path, Device::Cpu).expect("opens the .npy");
    // 64-row chunks: 5 reads per pass, the last one short.
    let rows_history =
        protolearn_train::som::fit_som_rows(&vs, &layer, &source, 64, &cfg, &Default::default(), &mut Silent).expect("trains on rows");
    let worst = (&layer.weight.detach() - &memory_weights).abs().max().double_value(&[]);
    assert!(worst <= CHUNKED_SUM_TOLERANCE, "prototypes differ by up to {worst}");
    assert_eq!(rows_history.len(), memory_history.len());
    for (a, b) in rows_history.iter().zip(&memory_history) {
        assert_eq!(a.iteration, b.iteration);
        assert!((a.quantization_error - b.quantization_error).abs() <= CHUNKED_SUM_TOLERANCE, "{a:?} vs {b:?}");
        assert!((a.topographic_error.unwrap_or(0.0) - b.topographic_error.unwrap_or(0.0)).abs() <= 1.0 / 300.0, "{a:?} vs {b:?}");
    }
    let online = SomTrainConfig { rule: SomRule::Online { lr: cfg.temperature }, ..cfg };
    let err =
        protolearn_train::som::fit_som_rows(&vs, &layer, &source, 64, &online, &Default::default(), &mut Silent).unwrap_err().to_string();
    assert!(err.contains("the batch rule"), "{err}");
}
