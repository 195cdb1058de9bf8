//! What to fit, as data: the model family and its settings ([`ModelSpec`]), the input scaling,
//! the seed and the device ([`EstimatorConfig`]), read from a `MODEL.toml` with
//! `deny_unknown_fields` everywhere. Defaults are the papers' values.

use crate::error::{Error, Result};
use crate::scaler::Scaling;
use protolearn_layers::competitive::{CompetitiveConfig, LayerKind};
use protolearn_layers::ddcl::DclInput;
use protolearn_layers::loss::QuantizationForm;
use protolearn_layers::lvq::{DissimilarityConfig, LvqConfig, LvqLoss, Transfer};
use protolearn_layers::som::{Neighbourhood, Schedule, SomInit};
use protolearn_metrics::Grid;
use protolearn_train::competitive::{CompetitiveTrainConfig, TopologyTerm};
use protolearn_train::ddcl::DdclVariant;
use protolearn_train::lvq::HeadInit;
use protolearn_train::optim::{OptimizerConfig, OptimizerKind};
use protolearn_train::som::SomRule;
use protolearn_train::DeviceChoice;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Everything an estimator needs besides the data: a `MODEL.toml`.
///
/// ```
/// use protolearn::config::{EstimatorConfig, ModelSpec};
/// let config: EstimatorConfig = toml::from_str(r#"
///     scaling = "standard"
///     seed = 7
///     [model]
///     kind = "som"
///     grid = { rows = 6, cols = 8, lattice = "hexagonal" }
///     iterations = 50
/// "#).unwrap();
/// assert!(matches!(config.model, ModelSpec::Som(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EstimatorConfig {
    /// The model family and its settings.
    pub model: ModelSpec,
    /// Input scaling fitted on the training data and stored with the model (default: none).
    #[serde(default)]
    pub scaling: Scaling,
    /// Seed of the initialisation and of the sample order (default 0).
    #[serde(default)]
    pub seed: u64,
    /// Training device: `cpu` (default), `auto`, `cuda` or `cuda:N`.
    #[serde(default = "default_device")]
    pub device: DeviceChoice,
}

fn default_device() -> DeviceChoice {
    DeviceChoice::Cpu
}

impl EstimatorConfig {
    /// A config for `model` with no scaling, seed 0, on the CPU.
    pub fn new(model: ModelSpec) -> Self {
        EstimatorConfig { model, scaling: Scaling::None, seed: 0, device: DeviceChoice::Cpu }
    }

    /// Parses a `MODEL.toml` text; `origin` names it in errors (a file path or `<string>`).
    pub fn from_toml(text: &str, origin: &Path) -> Result<Self> {
        let config: EstimatorConfig = toml::from_str(text).map_err(|e| Error::config(origin, text, &e))?;
        config.validate()?;
        Ok(config)
    }

    /// Reads and checks a `MODEL.toml` file; errors name the file, line and column.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
        Self::from_toml(&text, path)
    }

    /// Checks the values that serde cannot (counts, rates, schedules).
    pub fn validate(&self) -> Result<()> {
        match &self.model {
            ModelSpec::Som(s) => s.validate(),
            ModelSpec::Desom(d) => d.validate(),
            ModelSpec::Competitive(c) => Ok(c.layer.validate()?),
            ModelSpec::Lvq(l) => l.validate(),
            ModelSpec::Ddcl(d) => d.validate(),
        }
    }
}

/// The model family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ModelSpec {
    /// A self-organizing map on the (scaled) inputs, trained by one of the three SOM algorithms
    /// (paper 002, Sec. 2.1, Algorithms 1-2, Sec. 3.4).
    Som(SomSpec),
    /// DESOM or ConvDESOM: an autoencoder and a SOM on its codes, `L_R + γ L_SOM`
    /// (paper 002, Algorithm 3).
    Desom(DesomSpec),
    /// A competitive layer (VCL, DCL or deep DCL) trained full batch on `Q + λ T` (paper 000).
    Competitive(CompetitiveSpec),
    /// A prototype classifier (paper 003): GLVQ, GMLVQ, GRLVQ, RSLVQ or CELVQ prototypes on the
    /// scaled inputs, trained by gradient descent on the head's loss. Needs labels.
    Lvq(LvqSpec),
    /// Deep dual competitive learning (paper 001): a backbone whose features feed a DCL that
    /// outputs the prototypes, trained end to end on the soft quantization loss (with an
    /// optional AE pretraining and reconstruction term).
    Ddcl(DdclSpec),
}

impl ModelSpec {
    /// The family's name as written in `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            ModelSpec::Som(_) => "som",
            ModelSpec::Desom(_) => "desom",
            ModelSpec::Competitive(_) => "competitive",
            ModelSpec::Lvq(_) => "lvq",
            ModelSpec::Ddcl(_) => "ddcl",
        }
    }
}

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

    fn validate(&self) -> Result<()> {
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

fn default_batch_size() -> usize {
    256
}

fn default_lr() -> f64 {
    1e-3
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

    fn validate(&self) -> Result<()> {
        positive("iterations", self.iterations)?;
        positive("batch_size", self.batch_size)?;
        if !(self.gamma.is_finite() && self.gamma >= 0.0) {
            return Err(Error::invalid("gamma", "a finite number >= 0", self.gamma));
        }
        positive_finite("lr", self.lr)?;
        Ok(self.temperature().validate("temperature")?)
    }
}

/// A competitive layer (paper 000).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompetitiveSpec {
    /// The layer: `kind = "vcl"` or `"dcl"`, `n_prototypes`, DCL `hidden` widths, ...
    pub layer: CompetitiveConfig,
    /// The training (default: paper 000, Sec. III: Adam, 400 epochs, `λ = 0.01`, the rate of
    /// the layer kind, keep the best epoch).
    #[serde(default)]
    pub training: Option<CompetitiveTrainConfig>,
}

impl CompetitiveSpec {
    /// The configured training or paper 000's for the layer kind (Adam at 0.008 for a VCL and
    /// 0.0008 for a DCL, 400 epochs, `λ = 0.01`, `||E||_F^2`, the L2-norm `Q`, keep best).
    pub fn training(&self) -> CompetitiveTrainConfig {
        self.training.clone().unwrap_or_else(|| CompetitiveTrainConfig {
            optimizer: OptimizerConfig { kind: OptimizerKind::Adam, lr: if self.layer.kind == LayerKind::Vcl { 0.008 } else { 0.0008 } },
            epochs: 400,
            lambda: 0.01,
            topology: TopologyTerm::EdgeNormSquared,
            quantization: QuantizationForm::L2Norm,
            keep_best: true,
        })
    }
}

/// A prototype classifier head (paper 003) on the scaled inputs; the number of classes comes
/// from the labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LvqSpec {
    /// Prototypes per class (default 1).
    #[serde(default = "default_per_class")]
    pub per_class: i64,
    /// The dissimilarity (default squared Euclidean; `{ kind = "omega", dim = D, trace_normalize
    /// = true }` for GMLVQ, `{ kind = "relevance" }` for GRLVQ).
    #[serde(default = "default_dissimilarity")]
    pub dissimilarity: DissimilarityConfig,
    /// The loss (default GLVQ with the identity transfer; `{ kind = "rslvq", sigma = 1.0 }`,
    /// `{ kind = "celvq" }`).
    #[serde(default = "default_lvq_loss")]
    pub loss: LvqLoss,
    /// Where the prototypes start (default: random samples of each class).
    #[serde(default)]
    pub init: HeadInit,
    /// Epochs of shuffled minibatches (library default 100).
    #[serde(default = "default_lvq_epochs")]
    pub epochs: usize,
    /// Minibatch size (library default 32; capped at the sample count).
    #[serde(default = "default_lvq_batch_size")]
    pub batch_size: usize,
    /// Adam learning rate (library default 0.01).
    #[serde(default = "default_lvq_lr")]
    pub lr: f64,
}

fn default_per_class() -> i64 {
    1
}

fn default_dissimilarity() -> DissimilarityConfig {
    DissimilarityConfig::SquaredEuclidean
}

fn default_lvq_loss() -> LvqLoss {
    LvqLoss::Glvq { transfer: Transfer::Identity }
}

fn default_lvq_epochs() -> usize {
    100
}

fn default_lvq_batch_size() -> usize {
    32
}

fn default_lvq_lr() -> f64 {
    0.01
}

impl LvqSpec {
    /// A GLVQ head with one prototype per class and the defaults above.
    pub fn new() -> Self {
        LvqSpec {
            per_class: default_per_class(),
            dissimilarity: default_dissimilarity(),
            loss: default_lvq_loss(),
            init: HeadInit::default(),
            epochs: default_lvq_epochs(),
            batch_size: default_lvq_batch_size(),
            lr: default_lvq_lr(),
        }
    }

    /// The head for `classes` classes.
    pub fn head(&self, classes: i64) -> LvqConfig {
        LvqConfig { classes, per_class: self.per_class, dissimilarity: self.dissimilarity, loss: self.loss }
    }

    fn validate(&self) -> Result<()> {
        positive("epochs", self.epochs)?;
        positive("batch_size", self.batch_size)?;
        positive_finite("lr", self.lr)?;
        // Two classes stand in for the labels' count, which only the data knows.
        Ok(self.head(2).validate()?)
    }
}

impl Default for LvqSpec {
    fn default() -> Self {
        Self::new()
    }
}

/// DDCL (paper 001). Paper 001 publishes no settings: the defaults are those of this library's
/// paper-001 benchmark (benches/specs/paper001_ddcl.toml, quick preset), documented there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DdclSpec {
    /// Number of prototypes `k` (clusters).
    pub n_prototypes: i64,
    /// The backbone (default dense `D-256-128-10`).
    #[serde(default = "default_ddcl_backbone")]
    pub autoencoder: BackboneSpec,
    /// Hidden widths of a deep DCL (default: the linear DCL).
    #[serde(default)]
    pub hidden: Vec<i64>,
    /// The DCL's input: a fixed `reference` set of training samples (default) or the `batch`.
    #[serde(default = "default_dcl_input")]
    pub dcl_input: DclInput,
    /// `N`, the reference-set size (default 256; capped at the sample count). With
    /// `dcl_input = "batch"` it is the batch size.
    #[serde(default = "default_batch_size")]
    pub dcl_size: usize,
    /// Minibatch size (default 256; capped at the sample count).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Epochs of end-to-end training (default 20).
    #[serde(default = "default_ddcl_epochs")]
    pub epochs: usize,
    /// AE pretraining iterations on `L_R` before (default 2000; 0: none). With pretraining the
    /// linear DCL starts at the k-means centroids of the pretrained features.
    #[serde(default = "default_ddcl_pretrain")]
    pub pretrain_iterations: usize,
    /// Adam learning rate of the backbone (default 1e-3).
    #[serde(default = "default_lr")]
    pub lr: f64,
    /// Adam learning rate of the DCL's weights (default 1e-5: a DCL prototype sums `N` features).
    #[serde(default = "default_dcl_lr")]
    pub dcl_lr: f64,
    /// Temperature `tau` of the soft assignment (default 1).
    #[serde(default = "default_tau")]
    pub tau: f64,
    /// Weight `λ_R` of the reconstruction term (default 100; 0: none).
    #[serde(default = "default_reconstruction_weight")]
    pub reconstruction_weight: f64,
    /// DDCL or one of its ablations (default `ddcl`).
    #[serde(default = "default_variant")]
    pub variant: DdclVariant,
}

fn default_ddcl_backbone() -> BackboneSpec {
    BackboneSpec::Dense { hidden: vec![256, 128], latent_dim: 10 }
}

fn default_dcl_input() -> DclInput {
    DclInput::Reference
}

fn default_ddcl_epochs() -> usize {
    20
}

fn default_ddcl_pretrain() -> usize {
    2000
}

fn default_dcl_lr() -> f64 {
    1e-5
}

fn default_tau() -> f64 {
    1.0
}

fn default_reconstruction_weight() -> f64 {
    100.0
}

fn default_variant() -> DdclVariant {
    DdclVariant::Ddcl
}

impl DdclSpec {
    /// DDCL with `k` prototypes and the defaults above.
    pub fn new(n_prototypes: i64) -> Self {
        DdclSpec {
            n_prototypes,
            autoencoder: default_ddcl_backbone(),
            hidden: Vec::new(),
            dcl_input: default_dcl_input(),
            dcl_size: default_batch_size(),
            batch_size: default_batch_size(),
            epochs: default_ddcl_epochs(),
            pretrain_iterations: default_ddcl_pretrain(),
            lr: default_lr(),
            dcl_lr: default_dcl_lr(),
            tau: default_tau(),
            reconstruction_weight: default_reconstruction_weight(),
            variant: default_variant(),
        }
    }

    fn validate(&self) -> Result<()> {
        positive("epochs", self.epochs)?;
        positive("batch_size", self.batch_size)?;
        positive("dcl_size", self.dcl_size)?;
        if self.n_prototypes < 2 {
            return Err(Error::invalid("n_prototypes", "at least 2", self.n_prototypes));
        }
        for (field, value) in [("lr", self.lr), ("dcl_lr", self.dcl_lr), ("tau", self.tau)] {
            positive_finite(field, value)?;
        }
        if !(self.reconstruction_weight.is_finite() && self.reconstruction_weight >= 0.0) {
            return Err(Error::invalid("reconstruction_weight", "a finite number >= 0", self.reconstruction_weight));
        }
        Ok(())
    }
}

/// A map's temperature schedule: `configured`, or paper 002's for `grid` (Sec. 3.6).
fn map_temperature(configured: Option<Schedule>, grid: &Grid) -> Schedule {
    configured.unwrap_or_else(|| Schedule::paper_temperature(grid))
}

fn positive_finite(field: &str, value: f64) -> Result<()> {
    if !(value.is_finite() && value > 0.0) {
        return Err(Error::invalid(field, "a positive finite number", value));
    }
    Ok(())
}

fn positive(field: &'static str, value: usize) -> Result<()> {
    if value == 0 {
        return Err(Error::invalid(field, "at least 1", 0));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_papers() {
        let c = EstimatorConfig::from_toml(
            "[model]\nkind = \"desom\"\ngrid = { rows = 8, cols = 8, lattice = \"rectangular\" }\n",
            Path::new("<test>"),
        )
        .unwrap();
        let ModelSpec::Desom(d) = c.model else { panic!("desom expected") };
        assert_eq!((d.gamma, d.iterations, d.batch_size, d.lr), (1e-3, 10_000, 256, 1e-3));
        assert_eq!(d.autoencoder, BackboneSpec::Dense { hidden: vec![500, 500, 2000], latent_dim: 10 });
        assert_eq!(d.temperature().start, 8.0);
        assert_eq!(c.device, DeviceChoice::Cpu);
    }

    #[test]
    fn round_trips_through_toml() {
        let grid = Grid::new(3, 4, protolearn_metrics::Lattice::Hexagonal, protolearn_metrics::Boundary::Bounded).unwrap();
        let config = EstimatorConfig { scaling: Scaling::MinMax, seed: 3, ..EstimatorConfig::new(ModelSpec::Som(SomSpec::new(grid))) };
        let text = toml::to_string(&config).unwrap();
        assert_eq!(EstimatorConfig::from_toml(&text, Path::new("<test>")).unwrap(), config);
    }

    #[test]
    fn unknown_keys_and_wrong_types_name_the_place() {
        let text = "[model]\nkind = \"som\"\ngrid = { rows = 2, cols = 2, lattice = \"rectangular\" }\niteratons = 5\n";
        let err = EstimatorConfig::from_toml(text, Path::new("m.toml")).unwrap_err().to_string();
        assert!(err.contains("m.toml") && err.contains("line 4") && err.contains("iteratons"), "{err}");
        let text = "seed = \"seven\"\n[model]\nkind = \"som\"\ngrid = { rows = 2, cols = 2, lattice = \"rectangular\" }\n";
        let err = EstimatorConfig::from_toml(text, Path::new("m.toml")).unwrap_err().to_string();
        assert!(err.contains("line 1") && err.contains("seed"), "{err}");
        let text = "[model]\nkind = \"som\"\ngrid = { rows = 2, cols = 2, lattice = \"rectangular\" }\niterations = 0\n";
        let err = EstimatorConfig::from_toml(text, Path::new("m.toml")).unwrap_err().to_string();
        assert!(err.contains("iterations") && err.contains("at least 1"), "{err}");
    }
}
