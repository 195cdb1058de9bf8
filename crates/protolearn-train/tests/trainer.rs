//! The one trainer on toy objectives: batching modes, log intervals and interval means, the
//! learning-rate schedule, the divergence guard with its last finite checkpoint, and the tensor
//! metrics adapter against protolearn-metrics.

use protolearn_data::tensor::{Batch, Dataset};
use protolearn_layers::som::{Decay, Schedule, SomConfig, SomInit, SomLayer};
use protolearn_layers::UpdateRule;
use protolearn_metrics::{best_matching_units, quantization_error, topographic_error, Boundary, Grid, Lattice, Matrix};
use protolearn_testkit::{assert_close, Tolerance};
use protolearn_train::observer::{Observer, Silent};
use protolearn_train::quality::{best_units, map_quality};
use protolearn_train::trainer::{Batching, LogRecord, LossTerms, Objective, PhaseConfig, StepInfo, Trainer};
use protolearn_train::Error;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind, Tensor};

/// `n` samples `[n, 2]` whose first feature is the row index.
fn indexed(n: i64) -> Dataset {
    let x = Tensor::stack(&[Tensor::arange(n, (Kind::Float, Device::Cpu)), Tensor::zeros([n], (Kind::Float, Device::Cpu))], 1);
    Dataset::new(x, None).expect("[n, 2]")
}

/// Records the row indices of every batch; its loss is `step` (constant) plus `0 * m`.
struct Recorder {
    m: Tensor,
    seen: Vec<Vec<i64>>,
    nan_from: Option<usize>,
}

impl Recorder {
    fn new(vs: &nn::VarStore) -> Self {
        Recorder { m: vs.root().zeros("m", &[1]), seen: Vec::new(), nan_from: None }
    }
}

impl Objective for Recorder {
    fn loss(&mut self, batch: &Batch, at: &StepInfo) -> protolearn_train::Result<LossTerms> {
        self.seen.push(Vec::<i64>::try_from(&batch.indices).expect("indices"));
        let value = if self.nan_from.is_some_and(|s| at.step >= s) { f64::NAN } else { at.step as f64 };
        let loss = self.m.sum(Kind::Float) * 0.0 + value;
        Ok(LossTerms { minimise: loss.shallow_clone(), logged: vec![("step_value", loss), ("twice", Tensor::from(2.0 * at.step as f32))] })
    }
}

fn run(data: &Dataset, batching: Batching, seed: u64, steps: usize) -> Vec<Vec<i64>> {
    let vs = nn::VarStore::new(Device::Cpu);
    let mut objective = Recorder::new(&vs);
    let mut opt = nn::Sgd::default().build(&vs, 0.1).expect("sgd");
    let mut trainer = Trainer::new(data, batching, seed).expect("trainer");
    trainer.minimise(&PhaseConfig::new("fit", steps, steps), &mut objective, &mut opt, &vs, &mut [], &mut Silent).expect("fit");
    objective.seen
}

#[test]
fn batching_modes_draw_what_they_promise() {
    let data = indexed(10);
    let full = run(&data, Batching::Full, 0, 3);
    assert!(full.iter().all(|b| *b == (0..10).collect::<Vec<_>>()), "full batch: every sample every step");

    let shuffled = run(&data, Batching::Shuffled { batch_size: 3 }, 4, 6);
    assert!(shuffled.iter().all(|b| b.len() == 3), "the short last batch is dropped");
    for epoch in shuffled.chunks(3) {
        let mut seen: Vec<i64> = epoch.concat();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 9, "an epoch of 3 batches of 3 repeats no sample: {epoch:?}");
    }
    assert_eq!(shuffled, run(&data, Batching::Shuffled { batch_size: 3 }, 4, 6), "same seed, same order");
    assert_ne!(shuffled, run(&data, Batching::Shuffled { batch_size: 3 }, 5, 6), "another seed, another order");

    let random = run(&data, Batching::Random { batch_size: 4 }, 1, 20);
    for b in &random {
        let mut distinct = b.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), 4, "a random batch holds distinct samples: {b:?}");
    }
    assert_eq!(random, run(&data, Batching::Random { batch_size: 4 }, 1, 20));

    for bad in [Batching::Shuffled { batch_size: 0 }, Batching::Random { batch_size: 11 }] {
        assert!(matches!(Trainer::new(&data, bad, 0), Err(Error::InvalidConfig { .. })), "{bad:?}");
    }
}

/// Counts the observer calls.
#[derive(Default)]
struct Counting {
    starts: Vec<(String, usize)>,
    logs: Vec<usize>,
    ends: usize,
}

impl Observer for Counting {
    fn on_start(&mut self, phase: &str, logs: usize) {
        self.starts.push((phase.to_owned(), logs));
    }
    fn on_log(&mut self, record: &LogRecord) {
        self.logs.push(record.step);
    }
    fn on_end(&mut self) {
        self.ends += 1;
    }
}

#[test]
fn records_are_interval_means_at_log_points() {
    let data = indexed(8);
    let vs = nn::VarStore::new(Device::Cpu);
    let mut objective = Recorder::new(&vs);
    let mut opt = nn::Sgd::default().build(&vs, 0.1).expect("sgd");
    let mut observer = Counting::default();
    let mut trainer = Trainer::new(&data, Batching::Random { batch_size: 2 }, 0).expect("trainer");
    let mut evaluations = 0;
    let mut evaluator = |at: &StepInfo| {
        evaluations += 1;
        Ok(vec![protolearn_train::trainer::Column::scalar("step_seen", at.step as f64)])
    };
    let history = trainer
        .minimise(&PhaseConfig::new("fit", 10, 4), &mut objective, &mut opt, &vs, &mut [&mut evaluator], &mut observer)
        .expect("fit");
    let steps: Vec<usize> = history.iter().map(|r| r.step).collect();
    assert_eq!(steps, vec![4, 8, 10]);
    // Means of the steps 1-4, 5-8, 9-10 (exact in float32: small integers and halves).
    let means: Vec<f64> = history.iter().map(|r| r.scalar("step_value").expect("logged")).collect();
    assert_eq!(means, vec![2.5, 6.5, 9.5]);
    assert_eq!(history[2].scalar("twice"), Some(19.0));
    assert_eq!(history[1].scalar("step_seen"), Some(8.0));
    assert_eq!(evaluations, 3);
    assert_eq!((observer.starts, observer.logs, observer.ends), (vec![("fit".to_owned(), 3)], vec![4, 8, 10], 1));
    assert!(trainer
        .minimise(&PhaseConfig { steps: 0, ..PhaseConfig::new("fit", 1, 1) }, &mut objective, &mut opt, &vs, &mut [], &mut Silent)
        .is_err());
}

/// Loss `m` (gradient 1): plain SGD moves `m` by `-lr(i)` at step `i`.
struct Linear {
    m: Tensor,
}

impl Objective for Linear {
    fn loss(&mut self, _batch: &Batch, _at: &StepInfo) -> protolearn_train::Result<LossTerms> {
        Ok(LossTerms::single("m", self.m.sum(Kind::Float)))
    }
}

#[test]
fn learning_rate_schedule_is_applied_before_every_step() {
    let data = indexed(4);
    let vs = nn::VarStore::new(Device::Cpu);
    let mut objective = Linear { m: vs.root().zeros("m", &[1]) };
    let mut opt = nn::Sgd::default().build(&vs, 123.0).expect("sgd");
    let lr = Schedule { decay: Decay::Linear, start: 1.0, end: 0.1 };
    let phase = PhaseConfig { lr: Some(lr), ..PhaseConfig::new("fit", 9, 9) };
    Trainer::new(&data, Batching::Full, 0)
        .expect("trainer")
        .minimise(&phase, &mut objective, &mut opt, &vs, &mut [], &mut Silent)
        .expect("fit");
    let expected: f64 = -(1..=9).map(|i| lr.at(i, 9)).sum::<f64>();
    assert_close("m after nine SGD steps (float32)", objective.m.double_value(&[0]), expected, Tolerance::F32_SUM);
}

#[test]
fn a_nan_loss_stops_training_naming_step_and_term_and_keeps_the_last_finite_checkpoint() {
    let data = indexed(6);
    let vs = nn::VarStore::new(Device::Cpu);
    let mut objective = Recorder::new(&vs);
    objective.nan_from = Some(7);
    let mut opt = nn::Sgd::default().build(&vs, 0.1).expect("sgd");
    let dir = tempfile::tempdir().expect("tempdir");
    let phase = PhaseConfig { checkpoint: Some(dir.path().to_path_buf()), ..PhaseConfig::new("joint", 20, 5) };
    let mut observer = Counting::default();
    let err = Trainer::new(&data, Batching::Full, 0)
        .expect("trainer")
        .minimise(&phase, &mut objective, &mut opt, &vs, &mut [], &mut observer)
        .expect_err("diverges");
    match &err {
        Error::Diverged { phase, step, what } => {
            assert_eq!((phase.as_str(), *step), ("joint", 7));
            assert!(what.contains("step_value"), "{what}");
        }
        other => panic!("expected Diverged, got {other}"),
    }
    assert!(err.to_string().contains("step 7"), "{err}");
    assert_eq!(observer.logs, vec![5], "stopped at the first log point after the NaN");
    let state = dir.path().join("state");
    let saved = Tensor::read_safetensors(state.join("variables.safetensors")).expect("checkpoint of step 5");
    assert!(saved.iter().all(|(_, t)| t.isfinite().all().int64_value(&[]) == 1), "the checkpoint is finite");
    let run = std::fs::read_to_string(state.join("run.toml")).expect("run state");
    assert!(run.contains("step = 5"), "{run}");
}

/// Writes NaN into the prototypes at step 3.
struct Poison;

impl UpdateRule<SomLayer> for Poison {
    fn update(&self, layer: &SomLayer, _x: &Tensor, _y: Option<&Tensor>, step: usize, _steps: usize) -> protolearn_layers::Result<()> {
        if step == 3 {
            let _guard = tch::no_grad_guard();
            _ = layer.weight.shallow_clone().fill_(f64::NAN); // in place; the alias is not needed
        }
        Ok(())
    }
}

#[test]
fn a_nan_prototype_stops_an_update_rule_at_the_next_log_point() {
    let data = indexed(6);
    let vs = nn::VarStore::new(Device::Cpu);
    let grid = Grid::new(2, 2, Lattice::Rectangular, Boundary::Bounded).expect("grid");
    let layer = SomConfig { grid, init: SomInit::DataSamples, neighbourhood: Default::default(), map_distance: Default::default() }
        .build(&vs.root(), &data.x, 0)
        .expect("som");
    let err = Trainer::new(&data, Batching::Full, 0)
        .expect("trainer")
        .apply_rule(&PhaseConfig::new("rule", 10, 2), &layer, &Poison, &vs, &mut [], &mut Silent)
        .expect_err("diverges");
    match err {
        Error::Diverged { phase, step, what } => {
            assert_eq!((phase.as_str(), step), ("rule", 4));
            assert!(what.contains("weight"), "{what}");
        }
        other => panic!("expected Diverged, got {other}"),
    }
}

#[test]
fn tensor_adapter_matches_the_metrics_crate() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (n, k, d) = (200usize, 9usize, 3usize);
    let xs: Vec<f32> = (0..n * d).map(|_| rng.random::<f32>()).collect();
    let ws: Vec<f32> = (0..k * d).map(|_| rng.random::<f32>()).collect();
    let grid = Grid::new(3, 3, Lattice::Hexagonal, Boundary::Bounded).expect("grid");
    let x = Tensor::from_slice(&xs).view([n as i64, d as i64]);
    let w = Tensor::from_slice(&ws).view([k as i64, d as i64]);
    let dist = protolearn_layers::distance::squared_euclidean(&x, &w); // [n, k]
    let (xm, wm) = (Matrix::new(&xs, n, d).expect("x"), Matrix::new(&ws, k, d).expect("w"));
    let host = best_matching_units(xm, wm).expect("bmus");
    let device = best_units(&dist).expect("best units");
    let firsts = |b: &[protolearn_metrics::BestUnits]| b.iter().map(|b| (b.first.unit, b.second.map(|s| s.unit))).collect::<Vec<_>>();
    assert_eq!(firsts(&device), firsts(&host), "same best and second units (random data: no ties)");
    let quality = map_quality(&dist, &grid).expect("quality");
    assert_close("QE from device best units", quality.quantization_error, quantization_error(xm, wm).expect("qe"), Tolerance::F32_SUM);
    assert_eq!(quality.topographic_error, Some(topographic_error(xm, wm, &grid).expect("te")));
}

/// Counts down from `converges_at` steps; logs the step number.
struct Countdown {
    converges_at: usize,
    steps: usize,
}

impl protolearn_train::trainer::Iteration for Countdown {
    fn step(&mut self, at: &StepInfo) -> protolearn_train::Result<protolearn_train::trainer::Progress> {
        self.steps += 1;
        let logged = vec![("step", Tensor::from(at.step as f64))];
        Ok(protolearn_train::trainer::Progress { logged, converged: at.step >= self.converges_at })
    }
}

#[test]
fn an_iteration_stops_at_its_converged_step_with_a_record_of_it() {
    let vs = nn::VarStore::new(Device::Cpu);
    let phase = PhaseConfig::new("lloyd", 10, 4);
    let mut early = Countdown { converges_at: 6, steps: 0 };
    let history = Trainer::holding().iterate(&phase, &mut early, &vs, &mut [], &mut Silent).expect("runs");
    assert_eq!(early.steps, 6, "no step after the converged one");
    let steps: Vec<usize> = history.iter().map(|r| r.step).collect();
    assert_eq!(steps, [4, 6], "the log point and the converged step");
    // The last record is the mean of the interval's steps 5 and 6.
    assert_eq!(history[1].columns.iter().find(|c| c.name == "step").map(|c| c.values.clone()), Some(vec![5.5]));
    let mut never = Countdown { converges_at: usize::MAX, steps: 0 };
    let history = Trainer::holding().iterate(&phase, &mut never, &vs, &mut [], &mut Silent).expect("runs");
    assert_eq!((never.steps, history.iter().map(|r| r.step).collect::<Vec<_>>()), (10, vec![4, 8, 10]));
    // An iteration needs a trainer without samples, and a gradient step needs samples.
    let data = indexed(8);
    let err = Trainer::new(&data, Batching::Full, 0).unwrap().iterate(&phase, &mut never, &vs, &mut [], &mut Silent).unwrap_err();
    assert!(err.to_string().contains("Trainer::holding"), "{err}");
    let mut recorder = Recorder { m: vs.root().zeros("m", &[1]), seen: Vec::new(), nan_from: None };
    let mut opt = nn::Sgd::default().build(&vs, 0.1).unwrap();
    let err = Trainer::holding().minimise(&phase, &mut recorder, &mut opt, &vs, &mut [], &mut Silent).unwrap_err();
    assert!(err.to_string().contains("draws none"), "{err}");
}
