//! Training competitive layers (VCL, DCL, deep DCL) full batch, as in paper 000, Sec. II-F and III:
//! loss `Q + λ T` where `T` is the CHL topology term, CHL edges recomputed every epoch. The
//! family supplies its [`CompetitiveObjective`]; the one [`Trainer`](crate::trainer::Trainer) runs it.

use crate::error::{Error, Result};
use crate::observer::Observer;
use crate::optim::OptimizerConfig;
use crate::run::Checkpointing;
use crate::topology::chl_graphs;
use crate::trainer::{Batching, Column, LogRecord, LossTerms, Objective, PhaseConfig, StepInfo};
use protolearn_data::tensor::{Batch, Dataset};
use protolearn_layers::competitive::{CompetitiveConfig, CompetitiveLayer};
use protolearn_layers::distance::squared_euclidean;
use protolearn_layers::loss::{chl_adjacency, chl_edge_length, edge_matrix_norm, quantization_error, voronoi_counts, QuantizationForm};
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

/// The phase name of competitive training.
pub const PHASE: &str = "competitive";

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
    /// The 1-based epoch (its prototypes are those after `epoch - 1` updates).
    pub epoch: usize,
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
    /// Wall-clock seconds of the epoch.
    pub seconds: f64,
}

impl CompetitiveRecord {
    /// The typed view of a trainer record written by the competitive objective.
    fn from_log(record: &LogRecord) -> Result<Self> {
        let column = |name: &str| record.require(name).map(<[f64]>::to_vec);
        let counts = |name: &str| column(name).map(|v| v.into_iter().map(|c| c as usize).collect());
        Ok(CompetitiveRecord {
            epoch: record.step,
            loss: column("loss")?,
            quantization: column("quantization")?,
            edge_norm: column("edge_norm")?,
            valid: counts("valid")?,
            components: counts("components")?,
            seconds: record.seconds,
        })
    }
}

/// A trained competitive layer with its history.
#[derive(Debug)]
pub struct CompetitiveRun {
    /// The variables (save with [`crate::checkpoint::save`]).
    pub vs: nn::VarStore,
    /// The layer.
    pub layer: CompetitiveLayer,
    /// One record per epoch.
    pub history: Vec<CompetitiveRecord>,
    /// Final prototypes `[replicas, k, d]`: of the best epoch with `keep_best`, else after the last update.
    pub prototypes: Tensor,
    /// Per replica, the number of updates behind the kept prototypes (0: the initial ones; the
    /// prototypes measured in `history[e]` are those after `e` updates).
    pub kept_epoch: Vec<usize>,
}

impl CompetitiveRun {
    /// CHL graphs (edges, Voronoi sets, pruning, components) of the final prototypes on `x`.
    pub fn graphs(&self, x: &Tensor) -> Result<Vec<ChlGraph>> {
        chl_graphs(x, &self.prototypes)
    }
}

/// The competitive objective `Q + λ T` of paper 000 for every replica, with the best epoch's
/// prototypes kept on the device. Full batch: the trainer's batch is the whole `[replicas, n, d]`.
pub struct CompetitiveObjective<'a> {
    layer: &'a CompetitiveLayer,
    config: &'a CompetitiveTrainConfig,
    /// Per replica, the lowest loss so far `[r]` (a variable without gradient, checkpointed).
    best_loss: Tensor,
    /// The prototypes of that epoch `[r, k, d]` (idem).
    best_prototypes: Tensor,
    /// The updates behind them `[r]`, as float32 (exact below 2^24 epochs; idem).
    best_epoch: Tensor,
    /// Distances and CHL adjacency of the last step (detached), for its graph metrics.
    last: Option<(Tensor, Tensor)>,
}

impl<'a> CompetitiveObjective<'a> {
    /// The objective of `layer` on `x` `[replicas, n, d]` (its initial prototypes are the first
    /// "best"); the keep-best state lives in variables without gradient under `best`, so the
    /// trainer's checkpoint holds it.
    pub fn new(layer: &'a CompetitiveLayer, config: &'a CompetitiveTrainConfig, x: &Tensor, best: &nn::Path) -> Result<Self> {
        let _guard = tch::no_grad_guard();
        let replicas = x.size()[0];
        let kept = |name: &str, value: Tensor| -> Result<Tensor> {
            let mut variable = best.f_zeros_no_train(name, &value.size())?;
            variable.f_copy_(&value)?;
            Ok(variable)
        };
        Ok(CompetitiveObjective {
            layer,
            config,
            best_loss: kept("loss", Tensor::full([replicas], f64::INFINITY, (Kind::Float, x.device())))?,
            best_prototypes: kept("prototypes", layer.prototypes(x))?,
            best_epoch: kept("epoch", Tensor::zeros([replicas], (Kind::Float, x.device())))?,
            last: None,
        })
    }
}

impl std::fmt::Debug for CompetitiveObjective<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompetitiveObjective").field("config", self.config).finish_non_exhaustive()
    }
}

impl Objective for CompetitiveObjective<'_> {
    fn loss(&mut self, batch: &Batch, at: &StepInfo) -> Result<LossTerms> {
        let x = &batch.x;
        let prototypes = self.layer.prototypes(x); // [r, k, d]
        let dist = squared_euclidean(x, &prototypes); // [r, n, k]
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
            let best_loss = loss.where_self(&better, &self.best_loss);
            let best_prototypes = prototypes.where_self(&better.view([-1, 1, 1]), &self.best_prototypes);
            // prototypes of step i (1-based) are those after i - 1 updates
            let epoch = Tensor::from(at.step as f32 - 1.0).to_device(better.device());
            let best_epoch = epoch.where_self(&better, &self.best_epoch);
            self.best_loss.f_copy_(&best_loss)?;
            self.best_prototypes.f_copy_(&best_prototypes)?;
            self.best_epoch.f_copy_(&best_epoch)?;
        }
        self.last = Some((dist.detach(), adjacency.detach()));
        let logged = vec![("loss", loss.shallow_clone()), ("quantization", quantization), ("edge_norm", edge_norm)];
        Ok(LossTerms { minimise: loss, logged })
    }

    /// Valid prototypes and CHL components of the last step's prototypes (one host copy).
    fn metrics(&mut self, _at: &StepInfo) -> Result<Vec<Column>> {
        let Some((dist, adjacency)) = &self.last else { return Ok(Vec::new()) };
        let graphs = crate::topology::graphs_from_tensors(adjacency, &voronoi_counts(dist))?;
        let components = graphs.iter().map(|g| g.components_within(&g.valid_prototypes())).collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(vec![
            Column { name: "valid".into(), values: graphs.iter().map(|g| g.n_valid() as f64).collect() },
            Column { name: "components".into(), values: components.into_iter().map(|c| c as f64).collect() },
        ])
    }
}

/// Trains a competitive layer on `x` `[replicas, n, d]` (or `[1, n, d]`, shared by every
/// replica), replica `r` seeded with `seeds[r]`, full batch on the one [`Trainer`](crate::trainer::Trainer) for
/// `config.epochs` steps, every epoch logged.
/// Every replica is an independent run (Adam and SGD act element-wise and the summed loss
/// separates), batched into one tensor program.
pub fn fit_competitive(
    x: &Tensor,
    seeds: &[u64],
    layer_config: &CompetitiveConfig,
    config: &CompetitiveTrainConfig,
    observer: &mut dyn Observer,
) -> Result<CompetitiveRun> {
    fit_competitive_checkpointed(x, seeds, layer_config, config, &Checkpointing::default(), observer)
}

/// [`fit_competitive`] writing its state into `checkpointing`'s folder after every epoch and,
/// when resuming, continuing from it: the layer, the optimizer's moments and the keep-best state
/// (variables `best.loss`, `best.prototypes`, `best.epoch`) are all in the checkpoint, so a
/// resumed run ends bit for bit where the uninterrupted one ends on CPU.
pub fn fit_competitive_checkpointed(
    x: &Tensor,
    seeds: &[u64],
    layer_config: &CompetitiveConfig,
    config: &CompetitiveTrainConfig,
    checkpointing: &Checkpointing,
    observer: &mut dyn Observer,
) -> Result<CompetitiveRun> {
    config.validate()?;
    let x = broadcast_replicas(x, seeds.len());
    let vs = nn::VarStore::new(x.device());
    let layer = layer_config.build(&vs.root(), &x, seeds)?;
    layer.check_input(&x)?;
    let mut optimizer = config.optimizer.build(&vs)?;
    let data = Dataset::new(x, None)?;
    let mut objective = CompetitiveObjective::new(&layer, config, &data.x, &(vs.root() / "best"))?;
    let phase = checkpointing.phase(PhaseConfig::new(PHASE, config.epochs, 1));
    let log =
        checkpointing.trainer(&data, Batching::Full, 0)?.minimise(&phase, &mut objective, optimizer.as_mut(), &vs, &mut [], observer)?;
    let history = log.iter().map(CompetitiveRecord::from_log).collect::<Result<Vec<_>>>()?;
    let (prototypes, kept_epoch) = if config.keep_best {
        let kept = Vec::<i64>::try_from(&objective.best_epoch.to_kind(Kind::Int64))?.into_iter().map(|e| e as usize).collect();
        (objective.best_prototypes.shallow_clone(), kept)
    } else {
        (tch::no_grad(|| layer.prototypes(&data.x)), vec![config.epochs; seeds.len()])
    };
    drop(objective);
    Ok(CompetitiveRun { vs, layer, history, prototypes, kept_epoch })
}

/// `x` `[1, n, d]` expanded (without copying) to `[replicas, n, d]`; any other `x` is returned as is.
pub fn broadcast_replicas(x: &Tensor, replicas: usize) -> Tensor {
    match x.size().as_slice() {
        [1, n, d] if replicas > 1 => x.expand([replicas as i64, *n, *d], false),
        _ => x.shallow_clone(),
    }
}
