//! The map families' specs: a plain SOM and DESOM / ConvDESOM with its autoencoder.

use super::{default_batch_size, default_lr, map_temperature, positive, positive_finite};
use crate::error::{Error, Result};
use protolearn_layers::som::{Neighbourhood, Schedule, SomInit};
use protolearn_metrics::Grid;
use protolearn_train::som::SomRule;
use serde::{Deserialize, Serialize};

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

    pub(super) fn validate(&self) -> Result<()> {
        positive("iterations", self.iterations)?;
        Ok(self.temperature().validate("temperature")?)
    }
}

/// The autoencoder of a DESOM; its input size comes from the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum BackboneSpec {
    /// Fully connected `D - hidden... - L`, decoder mirrored (paper 002, Sec. 4.1.3).
    Dense {
        /// Hidden widths, input side first (paper: `[500, 500, 2000]`).
        hidden: Vec<i64>,
        /// Latent dimension `L` (paper 002, Table 2: 10).
        latent_dim: i64,
    },
    /// Convolutional (ConvDESOM) on images `[C, H, W]` (data of shape `[n, C, H, W]`, or
    /// `[n, H, W]` for one channel).
    Conv {
        /// Encoder filters (paper: `[32, 64, 128, 256]`).
        filters: Vec<i64>,
        /// Latent dimension `L`.
        latent_dim: i64,
    },
}

impl Default for BackboneSpec {
    /// The paper's dense `D-500-500-2000-10`.
    fn default() -> Self {
        BackboneSpec::Dense { hidden: vec![500, 500, 2000], latent_dim: 10 }
    }
}

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
        }
    }

    /// The temperature schedule: the configured one or the paper's for the grid.
    pub fn temperature(&self) -> Schedule {
        map_temperature(self.temperature, &self.grid)
    }

    pub(super) fn validate(&self) -> Result<()> {
        positive("iterations", self.iterations)?;
        positive("batch_size", self.batch_size)?;
        if !(self.gamma.is_finite() && self.gamma >= 0.0) {
            return Err(Error::invalid("gamma", "a finite number >= 0", self.gamma));
        }
        positive_finite("lr", self.lr)?;
        Ok(self.temperature().validate("temperature")?)
    }
}
