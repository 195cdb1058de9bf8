//! Shared pieces of the paper-000 experiments: model specs, batched training of a model over
//! seeds, aggregation of histories into curves, and final topology summaries.

use crate::progress::EpochBar;
use crate::report::mean_std;
use anyhow::Result;
use protolearn_layers::competitive::CompetitiveConfig;
use protolearn_metrics::ChlGraph;
use protolearn_train::competitive::{broadcast_replicas, fit_competitive, CompetitiveRun, CompetitiveTrainConfig};
use serde::{Deserialize, Serialize};
use std::path::Path;
use tch::Tensor;

/// One model of an experiment: a named layer and how it is trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Name in tables and legends (`VCL`, `DCL`, `deep-DCL`).
    pub name: String,
    /// The layer.
    pub layer: CompetitiveConfig,
    /// Its training.
    pub train: CompetitiveTrainConfig,
}

/// A trained model with the wall time of its batched run.
pub struct TrainedModel {
    /// The run.
    pub run: CompetitiveRun,
    /// Final CHL graph of each replica.
    pub graphs: Vec<ChlGraph>,
    /// Wall-clock seconds of the batched training.
    pub seconds: f64,
}

/// Trains `model` on `x` for every seed at once (replicas), with a progress bar.
pub fn train(model: &ModelSpec, x: &Tensor, seeds: &[u64], label: &str) -> Result<TrainedModel> {
    let start = std::time::Instant::now();
    let run = fit_competitive(x, seeds, &model.layer, &model.train, &mut EpochBar::new(label))?;
    let seconds = start.elapsed().as_secs_f64();
    let graphs = run.graphs(&broadcast_replicas(x, seeds.len()))?;
    Ok(TrainedModel { run, graphs, seconds })
}

/// Per-epoch mean and standard deviation across replicas of one recorded quantity.
#[derive(Debug, Clone)]
pub struct Curve {
    /// Epochs `1..=E`.
    pub epochs: Vec<f64>,
    /// Mean across replicas.
    pub mean: Vec<f64>,
    /// Mean minus one standard deviation.
    pub lower: Vec<f64>,
    /// Mean plus one standard deviation.
    pub upper: Vec<f64>,
    /// Standard deviation across replicas.
    pub std: Vec<f64>,
}

impl Curve {
    /// Builds the curve from per-epoch, per-replica values.
    pub fn from_epochs(values: &[Vec<f64>]) -> Curve {
        let mut c = Curve { epochs: Vec::new(), mean: Vec::new(), lower: Vec::new(), upper: Vec::new(), std: Vec::new() };
        for (e, v) in values.iter().enumerate() {
            let m = protolearn_metrics::mean(v).unwrap_or(f64::NAN);
            let s = protolearn_metrics::std_dev(v).unwrap_or(0.0);
            c.epochs.push(e as f64 + 1.0);
            c.mean.push(m);
            c.std.push(s);
            c.lower.push(m - s);
            c.upper.push(m + s);
        }
        c
    }
}

/// The quantities of Fig. 3 of paper 000 as curves.
pub struct Curves {
    /// Quantization error.
    pub quantization: Curve,
    /// `||E||_F`.
    pub edge_norm: Curve,
    /// Valid prototypes.
    pub valid: Curve,
}

impl TrainedModel {
    /// Curves of Q, ||E|| and valid prototypes over epochs.
    pub fn curves(&self) -> Curves {
        let h = &self.run.history;
        Curves {
            quantization: Curve::from_epochs(&h.iter().map(|t| t.quantization.clone()).collect::<Vec<_>>()),
            edge_norm: Curve::from_epochs(&h.iter().map(|t| t.edge_norm.clone()).collect::<Vec<_>>()),
            valid: Curve::from_epochs(&h.iter().map(|t| t.valid.iter().map(|&v| v as f64).collect()).collect::<Vec<_>>()),
        }
    }

    /// Per replica: the first epoch (1-based) whose Q is within 10% of the last epoch's Q.
    pub fn epochs_to_within_10_percent(&self) -> Vec<f64> {
        let h = &self.run.history;
        let Some(last) = h.last() else { return Vec::new() };
        (0..last.quantization.len())
            .map(|r| {
                let target = last.quantization[r] * 1.1;
                h.iter().position(|t| t.quantization[r] <= target).map_or(h.len() as f64, |e| e as f64 + 1.0)
            })
            .collect()
    }

    /// Per replica: a value of the final record.
    pub fn final_values(&self, pick: impl Fn(&protolearn_train::competitive::CompetitiveRecord, usize) -> f64) -> Vec<f64> {
        self.run.history.last().map_or_else(Vec::new, |t| (0..t.loss.len()).map(|r| pick(t, r)).collect())
    }

    /// Mean wall-clock milliseconds per epoch (all replicas together).
    pub fn ms_per_epoch(&self) -> f64 {
        1e3 * self.run.history.iter().map(|t| t.seconds).sum::<f64>() / self.run.history.len().max(1) as f64
    }

    /// Valid prototypes after training (of the kept prototypes), per replica.
    pub fn valid_after(&self) -> Vec<f64> {
        self.graphs.iter().map(|g| g.n_valid() as f64).collect()
    }

    /// Prototypes kept after pruning (an edge or a non-empty Voronoi set), per replica.
    pub fn kept_after_pruning(&self) -> Vec<f64> {
        self.graphs.iter().map(|g| g.pruning_mask().iter().filter(|&&p| !p).count() as f64).collect()
    }

    /// Connected components among the valid prototypes, per replica.
    pub fn components_after(&self) -> Vec<f64> {
        self.graphs.iter().map(|g| g.components_within(&g.valid_prototypes()).map_or(f64::NAN, |c| c as f64)).collect()
    }
}

/// One row of a competitive run's `history.csv`: one epoch of one replica.
#[derive(Debug, Serialize)]
struct HistoryRow {
    epoch: usize,
    replica: usize,
    seed: u64,
    loss: f64,
    quantization: f64,
    edge_norm: f64,
    valid: usize,
    components: usize,
    /// Seconds of the epoch (all replicas together).
    epoch_seconds: f64,
}

/// Writes `history.csv`: one row per epoch and replica.
pub fn write_history(path: &Path, trained: &TrainedModel, seeds: &[u64]) -> Result<()> {
    let rows = trained.run.history.iter().flat_map(|t| {
        seeds.iter().enumerate().map(move |(r, &seed)| HistoryRow {
            epoch: t.epoch,
            replica: r,
            seed,
            loss: t.loss[r],
            quantization: t.quantization[r],
            edge_norm: t.edge_norm[r],
            valid: t.valid[r],
            components: t.components[r],
            epoch_seconds: t.seconds,
        })
    });
    crate::context::write_csv(path, rows)
}

/// `mean ± std` of a per-replica vector with 3 decimals.
pub fn summary(values: &[f64]) -> String {
    mean_std(values, 3)
}
