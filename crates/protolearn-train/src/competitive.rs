//! Training competitive layers (VCL, DCL, deep DCL) full batch, as in paper 000, Sec. II-F and III:
//! loss `Q + λ T` where `T` is the CHL topology term, CHL edges recomputed every epoch.

use crate::error::{Error, Result};
use crate::observer::Observer;
use crate::optim::OptimizerConfig;
use crate::topology::chl_graphs;
use crate::trainer::{run_epochs, EpochStep, Timed};
use protolearn_layers::competitive::{CompetitiveConfig, CompetitiveLayer};
use protolearn_layers::distance::squared_euclidean;
use protolearn_layers::loss::{chl_adjacency, chl_edge_length, edge_matrix_norm, quantization_error, QuantizationForm};
use protolearn_layers::PrototypeLayer;
use protolearn_metrics::ChlGraph;
use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

/// The topology term `T` of the loss `Q + λ T`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TopologyTerm {
    /// `T = ||E||_F^2` of the CHL adjacency computed from the current prototypes, a constant
    /// without gradient (paper 000, Eq. 21). It only changes the reported loss and, with
    /// `keep_best`, which epoch's prototypes are kept; the gradient is that of `Q` alone.
    /// (The authors' code adds the unsquared `||E||_F`.)
    EdgeNormSquared,
    /// `T = sum_{a<b} E_ab ||p_a - p_b||^2`: the summed squared length of the current CHL edges,
    /// differentiable in the prototypes (this library's option; not in paper 000).
    EdgeLength,
}

/// How a competitive layer is trained. No `Default`: every choice is visible in the TOML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompetitiveTrainConfig {
    /// Optimizer and learning rate.
    pub optimizer: OptimizerConfig,
    /// Number of full-batch epochs (paper 000: 400).
    pub epochs: usize,
    /// Weight `λ` of the topology term (paper 000: 0.01).
    pub lambda: f64,
    /// Which topology term.
    pub topology: TopologyTerm,
    /// Form of the quantization error (`l2-norm` reproduces paper 000's tuning).
    pub quantization: QuantizationForm,
    /// Keep, per replica, the prototypes of the epoch with the lowest loss (as the authors' code).
    pub keep_best: bool,
}

impl CompetitiveTrainConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<()> {
        if self.epochs == 0 {
            return Err(Error::InvalidConfig { field: "epochs".into(), expected: "at least 1".into(), found: "0".into() });
        }
        if !(self.lambda.is_finite() && self.lambda >= 0.0) {
            return Err(Error::InvalidConfig {
                field: "lambda".into(),
                expected: "a finite number >= 0".into(),
                found: self.lambda.to_string(),
            });
        }
        Ok(())
    }
}

/// What one epoch records, one entry per replica (measured on the prototypes before the update).
#[derive(Debug, Clone, PartialEq)]
pub struct CompetitiveRecord {
    /// The loss `Q + λ T`.
    pub loss: Vec<f64>,
    /// Quantization error `Q` in the configured form.
    pub quantization: Vec<f64>,
    /// Frobenius norm of the CHL adjacency, `||E||_F`.
    pub edge_norm: Vec<f64>,
    /// Prototypes with a non-empty Voronoi set.
    pub valid: Vec<usize>,
    /// Connected components of the CHL graph that contain a valid prototype.
    pub components: Vec<usize>,
}

/// A trained competitive layer with its history.
#[derive(Debug)]
pub struct CompetitiveRun {
    /// The variables (save with [`crate::checkpoint::save`]).
    pub vs: nn::VarStore,
    /// The layer.
    pub layer: CompetitiveLayer,
    /// One record per epoch.
    pub history: Vec<Timed<CompetitiveRecord>>,
    /// Final prototypes `[replicas, k, d]`: of the best epoch with `keep_best`, else after the last update.
    pub prototypes: Tensor,
    /// Per replica, the epoch whose prototypes were kept.
    pub kept_epoch: Vec<usize>,
}

impl CompetitiveRun {
    /// CHL graphs (edges, Voronoi sets, pruning, components) of the final prototypes on `x`.
    pub fn graphs(&self, x: &Tensor) -> Result<Vec<ChlGraph>> {
        chl_graphs(x, &self.prototypes)
    }
}

/// The per-epoch work of a competitive layer.
struct CompetitiveStep<'a> {
    x: &'a Tensor,
    layer: &'a CompetitiveLayer,
    optimizer: nn::Optimizer,
    config: &'a CompetitiveTrainConfig,
    best_loss: Tensor,
    best_prototypes: Tensor,
    best_epoch: Tensor,
}

impl EpochStep for CompetitiveStep<'_> {
    type Record = CompetitiveRecord;

    fn epoch(&mut self, epoch: usize) -> Result<CompetitiveRecord> {
        let prototypes = self.layer.prototypes(self.x); // [r, k, d]
        let dist = squared_euclidean(self.x, &prototypes); // [r, n, k]
        let quantization = quantization_error(&dist, self.config.quantization); // [r]
        let adjacency = chl_adjacency(&dist); // [r, k, k]
        let edge_norm = edge_matrix_norm(&adjacency); // [r]
        let topology = match self.config.topology {
            TopologyTerm::EdgeNormSquared => edge_norm.square(),
            TopologyTerm::EdgeLength => chl_edge_length(&prototypes, &adjacency),
        };
        let loss = &quantization + topology * self.config.lambda; // [r]
        {
            let _guard = tch::no_grad_guard();
            let better = loss.lt_tensor(&self.best_loss); // [r]
            self.best_loss = loss.where_self(&better, &self.best_loss);
            self.best_prototypes = prototypes.where_self(&better.view([-1, 1, 1]), &self.best_prototypes);
            self.best_epoch = Tensor::from(epoch as i64).to_device(better.device()).where_self(&better, &self.best_epoch);
        }
        self.optimizer.backward_step(&loss.sum(Kind::Float));
        let graphs = chl_graphs_from(&dist, &adjacency)?;
        Ok(CompetitiveRecord {
            loss: to_f64(&loss)?,
            quantization: to_f64(&quantization)?,
            edge_norm: to_f64(&edge_norm)?,
            valid: graphs.iter().map(ChlGraph::n_valid).collect(),
            components: graphs.iter().map(|g| g.components_within(&g.valid_prototypes())).collect::<std::result::Result<_, _>>()?,
        })
    }
}

/// Trains a competitive layer on `x` `[replicas, n, d]` (or `[1, n, d]`, shared by every
/// replica), replica `r` seeded with `seeds[r]`.
/// Every replica is an independent run (Adam and SGD act element-wise and the summed loss
/// separates), batched into one tensor program.
pub fn fit_competitive(
    x: &Tensor,
    seeds: &[u64],
    layer_config: &CompetitiveConfig,
    config: &CompetitiveTrainConfig,
    observer: &mut dyn Observer<CompetitiveRecord>,
) -> Result<CompetitiveRun> {
    config.validate()?;
    let x = &broadcast_replicas(x, seeds.len());
    let vs = nn::VarStore::new(x.device());
    let layer = layer_config.build(&vs.root(), x, seeds)?;
    layer.check_input(x)?;
    let optimizer = config.optimizer.build(&vs)?;
    let replicas = seeds.len() as i64;
    let initial = tch::no_grad(|| layer.prototypes(x));
    let mut step = CompetitiveStep {
        x,
        layer: &layer,
        optimizer,
        config,
        best_loss: Tensor::full([replicas], f64::INFINITY, (Kind::Float, x.device())),
        best_prototypes: initial,
        best_epoch: Tensor::zeros([replicas], (Kind::Int64, x.device())),
    };
    let history = run_epochs(&mut step, config.epochs, observer)?;
    let (prototypes, kept_epoch) = if config.keep_best {
        let kept = Vec::<i64>::try_from(&step.best_epoch)?.into_iter().map(|e| e as usize).collect();
        (step.best_prototypes.shallow_clone(), kept)
    } else {
        (tch::no_grad(|| layer.prototypes(x)), vec![config.epochs; seeds.len()])
    };
    drop(step);
    Ok(CompetitiveRun { vs, layer, history, prototypes, kept_epoch })
}

/// `x` `[1, n, d]` expanded (without copying) to `[replicas, n, d]`; any other `x` is returned as is.
pub fn broadcast_replicas(x: &Tensor, replicas: usize) -> Tensor {
    match x.size().as_slice() {
        [1, n, d] if replicas > 1 => x.expand([replicas as i64, *n, *d], false),
        _ => x.shallow_clone(),
    }
}

/// CHL graphs from a distance tensor and its adjacency (one host copy of `[r, k, k]` and `[r, k]`).
fn chl_graphs_from(dist: &Tensor, adjacency: &Tensor) -> Result<Vec<ChlGraph>> {
    crate::topology::graphs_from_tensors(adjacency, &protolearn_layers::loss::voronoi_counts(dist))
}

fn to_f64(t: &Tensor) -> Result<Vec<f64>> {
    Ok(Vec::<f64>::try_from(t.detach().to_kind(Kind::Double).to_device(tch::Device::Cpu))?)
}
