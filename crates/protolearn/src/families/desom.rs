//! DESOM and ConvDESOM (paper 002, Algorithm 3): an autoencoder and a SOM on its codes,
//! `L_R + γ L_SOM`, trained jointly after an optional pretraining.

use super::backbone::BackboneSpec;
use super::som::SOM_WEIGHT;
use super::{Family, FitContext, SavedModel, TrainedModel};
use crate::config::{default_batch_size, default_lr, map_temperature, positive, positive_finite};
use crate::error::{Error, Result};
use crate::streamed::{init_sample, INIT_ROWS};
use protolearn_data::tensor::Dataset;
use protolearn_layers::desom::{Desom, DesomConfig};
use protolearn_layers::precision::Precision;
use protolearn_layers::rows::RowSource;
use protolearn_layers::som::{Neighbourhood, Schedule, SomConfig, SomInit};
use protolearn_metrics::Grid;
use protolearn_train::desom::{fit_desom, fit_desom_rows, DesomTrainConfig};
use protolearn_train::observer::Observer;
use protolearn_train::optim::{OptimizerConfig, OptimizerKind};
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::{Device, Tensor};

/// DESOM / ConvDESOM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DesomSpec {
    /// The map on the latent space (paper 002, Table 2: 8x8 rectangular).
    pub grid: Grid,
    /// Neighbourhood function (default Gaussian).
    #[serde(default)]
    pub neighbourhood: Neighbourhood,
    /// Initial prototypes, drawn from encoded samples (default: random samples).
    #[serde(default)]
    pub init: SomInit,
    /// The autoencoder (default dense `D-500-500-2000-10`).
    #[serde(default)]
    pub autoencoder: BackboneSpec,
    /// Weight `γ` of the SOM loss (paper 002, Table 2: 1e-3).
    #[serde(default = "default_gamma")]
    pub gamma: f64,
    /// Joint iterations (paper 004: 10,000 on MNIST).
    #[serde(default = "default_desom_iterations")]
    pub iterations: usize,
    /// AE pretraining iterations before joint training (default 0).
    #[serde(default)]
    pub pretrain_iterations: usize,
    /// Minibatch size (paper 002, Table 2: 256; capped at the sample count).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Adam learning rate (paper 002, Table 2: 1e-3).
    #[serde(default = "default_lr")]
    pub lr: f64,
    /// Temperature `T(i)` (default: from the map size to 0.1).
    #[serde(default)]
    pub temperature: Option<Schedule>,
    /// Record the history every this many iterations (default: 50 records per run).
    #[serde(default)]
    pub log_every: Option<usize>,
    /// Number format of the autoencoder's products in joint training: `fp32` (default) or
    /// `bf16` (bfloat16 products, float32 weights, optimiser and losses; faster on CPUs with
    /// AVX-512 BF16 / AMX and on recent GPUs).
    #[serde(default)]
    pub precision: Precision,
}

fn default_gamma() -> f64 {
    1e-3
}

fn default_desom_iterations() -> usize {
    10_000
}

impl DesomSpec {
    /// DESOM on `grid` with the paper's defaults.
    pub fn new(grid: Grid) -> Self {
        DesomSpec {
            grid,
            neighbourhood: Neighbourhood::default(),
            init: SomInit::default(),
            autoencoder: BackboneSpec::default(),
            gamma: default_gamma(),
            iterations: default_desom_iterations(),
            pretrain_iterations: 0,
            batch_size: default_batch_size(),
            lr: default_lr(),
            temperature: None,
            log_every: None,
            precision: Precision::Fp32,
        }
    }

    /// The temperature schedule: the configured one or the paper's for the grid.
    pub fn temperature(&self) -> Schedule {
        map_temperature(self.temperature, &self.grid)
    }

    /// The DESOM model config for samples of shape `sample_shape`.
    pub fn model(&self, sample_shape: &[usize]) -> Result<DesomConfig> {
        Ok(DesomConfig {
            autoencoder: self.autoencoder.config(sample_shape)?,
            som: SomConfig { grid: self.grid, init: self.init, neighbourhood: self.neighbourhood, map_distance: Default::default() },
            gamma: self.gamma,
        })
    }
}

impl DesomSpec {
    /// The training settings for `n` samples: Adam, the spec's length, batch (at most `n`),
    /// schedule and precision, the context's seed, log interval and checkpoints.
    fn train_config(&self, n: usize, context: &FitContext<'_>) -> DesomTrainConfig {
        DesomTrainConfig {
            optimizer: OptimizerConfig { kind: OptimizerKind::Adam, lr: self.lr },
            iterations: self.iterations,
            batch_size: self.batch_size.min(n),
            temperature: self.temperature(),
            pretrain_iterations: self.pretrain_iterations,
            update_interval: 1,
            log_every: context.log_every(self.log_every, self.iterations),
            seed: context.seed,
            checkpoint: context.checkpointing.dir.clone(),
            resume: context.checkpointing.resume,
            precision: self.precision,
        }
    }
}

impl Family for DesomSpec {
    fn kind(&self) -> &'static str {
        "desom"
    }

    fn validate(&self) -> Result<()> {
        self.autoencoder.require_decoder("desom")?;
        positive("iterations", self.iterations)?;
        positive("batch_size", self.batch_size)?;
        if !(self.gamma.is_finite() && self.gamma >= 0.0) {
            return Err(Error::invalid("gamma", "a finite number >= 0", self.gamma));
        }
        positive_finite("lr", self.lr)?;
        Ok(self.temperature().validate("temperature")?)
    }

    fn input_shape(&self, sample_shape: &[usize]) -> Vec<usize> {
        self.autoencoder.input_shape(sample_shape)
    }

    fn fit(&self, data: &Dataset, context: &FitContext<'_>, observer: &mut dyn Observer) -> Result<Box<dyn TrainedModel>> {
        let model = self.model(&context.input.sample_shape)?;
        let run = fit_desom(data, context.eval_set(data), &model, &self.train_config(data.n_samples(), context), observer)?;
        Ok(Box::new(DesomModel { vs: run.vs, model: run.model }))
    }

    /// [`fit_desom_rows`]: random batches read from the rows, the model built from
    /// [`crate::streamed::INIT_ROWS`] sampled rows (all rows when fewer, then as [`Family::fit`]
    /// on the same rows, batch for batch).
    fn fit_rows(
        &self,
        source: &dyn RowSource,
        chunk_rows: usize,
        context: &FitContext<'_>,
        observer: &mut dyn Observer,
    ) -> Result<Box<dyn TrainedModel>> {
        let model = self.model(&context.input.sample_shape)?;
        let start = init_sample(source, chunk_rows, INIT_ROWS, context.seed)?;
        let run = fit_desom_rows(source, &start, &model, &self.train_config(source.n_rows(), context), observer)?;
        Ok(Box::new(DesomModel { vs: run.vs, model: run.model }))
    }

    fn load(&self, saved: &SavedModel<'_>) -> Result<Box<dyn TrainedModel>> {
        let mut vs = nn::VarStore::new(Device::Cpu);
        let model = self.model(&saved.input.sample_shape)?.build_from(&vs.root(), saved.tensor(SOM_WEIGHT)?)?;
        saved.copy_into(&mut vs)?;
        Ok(Box::new(DesomModel { vs, model }))
    }
}

/// A trained DESOM (variables `ae.*` and `som.weight`).
#[derive(Debug)]
pub struct DesomModel {
    vs: nn::VarStore,
    model: Desom,
}

impl TrainedModel for DesomModel {
    fn distances(&self, x: &Tensor) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        Ok(self.model.som.forward(&self.model.encode_all(x)?))
    }

    fn codes(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.model.encode_all(x)?)
    }

    fn prototypes(&self) -> Tensor {
        self.model.som.weight.detach()
    }

    fn decode(&self, codes: &Tensor) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        Ok(self.model.backbone.decode(codes)?.contiguous())
    }

    fn grid(&self) -> Option<&Grid> {
        Some(self.model.som.grid())
    }

    fn named_tensors(&self) -> Vec<(String, Tensor)> {
        self.vs.variables().into_iter().collect()
    }
}
