//! The self-organizing map family (paper 002, Sec. 2.1): a SOM on the (scaled) inputs trained
//! by the batch, online or gradient algorithm; it can mask missing input components.

use super::{Family, FitContext, SavedModel, TrainedModel};
use crate::config::{map_temperature, positive};
use crate::error::Result;
use crate::missing::starting_rows;
use crate::streamed::{init_sample, INIT_ROWS};
use protolearn_data::tensor::Dataset;
use protolearn_layers::rows::RowSource;
use protolearn_layers::som::{MapDistance, Neighbourhood, Schedule, SomConfig, SomInit, SomLayer};
use protolearn_metrics::Grid;
use protolearn_train::observer::Observer;
use protolearn_train::som::{fit_som_checkpointed, fit_som_rows, SomRule, SomTrainConfig};
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::{Device, Tensor};

/// Name of a SOM's prototypes in the model file (`[K, D]`, scaled input space).
pub(crate) const SOM_WEIGHT: &str = "som.weight";

/// A plain SOM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SomSpec {
    /// The map: rows, cols, `rectangular` or `hexagonal`, `bounded` or `toroidal`.
    pub grid: Grid,
    /// Initial prototypes (default: random data samples, paper 002, Sec. 3.4; `pca` is deterministic).
    #[serde(default)]
    pub init: SomInit,
    /// Neighbourhood function (default Gaussian, paper 002).
    #[serde(default)]
    pub neighbourhood: Neighbourhood,
    /// The map distance the neighbourhood takes (default `topographic`, the grid's `δ`, paper
    /// 002; `euclidean` between unit positions, as minisom and somoclu).
    #[serde(default)]
    pub map_distance: MapDistance,
    /// The training algorithm (default: the batch SOM, paper 002, Algorithm 2).
    #[serde(default = "default_som_rule")]
    pub rule: SomRule,
    /// Steps: batch passes (batch SOM), optimizer steps (gradient) or sample presentations
    /// (online). Default 100 (batch passes).
    #[serde(default = "default_som_iterations")]
    pub iterations: usize,
    /// Temperature `T(i)` (default: exponential from the map size to 0.1, paper 002, Sec. 3.6).
    #[serde(default)]
    pub temperature: Option<Schedule>,
    /// Record the history every this many steps (default: 50 records per run).
    #[serde(default)]
    pub log_every: Option<usize>,
}

fn default_som_rule() -> SomRule {
    SomRule::Batch
}

fn default_som_iterations() -> usize {
    100
}

impl SomSpec {
    /// A batch SOM on `grid` with the defaults above.
    pub fn new(grid: Grid) -> Self {
        SomSpec {
            grid,
            init: SomInit::default(),
            neighbourhood: Neighbourhood::default(),
            map_distance: MapDistance::default(),
            rule: default_som_rule(),
            iterations: default_som_iterations(),
            temperature: None,
            log_every: None,
        }
    }

    /// The temperature schedule: the configured one or the paper's for the grid.
    pub fn temperature(&self) -> Schedule {
        map_temperature(self.temperature, &self.grid)
    }
}

impl SomSpec {
    /// The SOM layer's config.
    pub fn layer(&self) -> SomConfig {
        SomConfig { grid: self.grid, init: self.init, neighbourhood: self.neighbourhood, map_distance: self.map_distance }
    }
}

impl SomSpec {
    /// The training settings: the spec's rule, length and schedule, the context's seed and log
    /// interval.
    fn train_config(&self, context: &FitContext<'_>) -> SomTrainConfig {
        SomTrainConfig {
            rule: self.rule,
            iterations: self.iterations,
            temperature: self.temperature(),
            seed: context.seed,
            log_every: context.log_every(self.log_every, self.iterations),
        }
    }
}

impl Family for SomSpec {
    fn kind(&self) -> &'static str {
        "som"
    }

    fn validate(&self) -> Result<()> {
        positive("iterations", self.iterations)?;
        Ok(self.temperature().validate("temperature")?)
    }

    fn compares_components(&self) -> bool {
        true
    }

    fn fit(&self, data: &Dataset, context: &FitContext<'_>, observer: &mut dyn Observer) -> Result<Box<dyn TrainedModel>> {
        let vs = nn::VarStore::new(data.device());
        let start = starting_rows(&data.x, context.components);
        let layer = self.layer().build(&(vs.root() / "som"), &start, context.seed)?.with_components(context.components);
        fit_som_checkpointed(&vs, &layer, data, &self.train_config(context), context.checkpointing, observer)?;
        Ok(Box::new(SomModel { vs, layer }))
    }

    /// The batch rule over chunks ([`fit_som_rows`]); the map starts from
    /// [`crate::streamed::INIT_ROWS`] sampled rows (all rows when fewer, then as [`Family::fit`]).
    fn fit_rows(
        &self,
        source: &dyn RowSource,
        chunk_rows: usize,
        context: &FitContext<'_>,
        observer: &mut dyn Observer,
    ) -> Result<Box<dyn TrainedModel>> {
        let start = init_sample(source, chunk_rows, INIT_ROWS, context.seed)?;
        let vs = nn::VarStore::new(start.device());
        let layer = self.layer().build(&(vs.root() / "som"), &start, context.seed)?;
        drop(start);
        fit_som_rows(&vs, &layer, source, chunk_rows, &self.train_config(context), context.checkpointing, observer)?;
        Ok(Box::new(SomModel { vs, layer }))
    }

    fn load(&self, saved: &SavedModel<'_>) -> Result<Box<dyn TrainedModel>> {
        let vs = nn::VarStore::new(Device::Cpu);
        let layer = self.layer().build_from(&(vs.root() / "som"), saved.tensor(SOM_WEIGHT)?)?.with_components(saved.components);
        Ok(Box::new(SomModel { vs, layer }))
    }
}

/// A trained SOM (variable `som.weight`).
#[derive(Debug)]
pub struct SomModel {
    vs: nn::VarStore,
    layer: SomLayer,
}

impl TrainedModel for SomModel {
    fn distances(&self, x: &Tensor) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        self.layer.check_input(x)?;
        Ok(self.layer.forward(x))
    }

    fn prototypes(&self) -> Tensor {
        self.layer.weight.detach()
    }

    fn grid(&self) -> Option<&Grid> {
        Some(self.layer.grid())
    }

    fn named_tensors(&self) -> Vec<(String, Tensor)> {
        self.vs.variables().into_iter().collect()
    }
}
