//! What to fit, as data: the model family and its settings ([`ModelSpec`], the registry of the
//! families in [`crate::families`]), the input scaling, the treatment of missing values, the seed
//! and the device ([`EstimatorConfig`]), read from a `MODEL.toml` with `deny_unknown_fields`
//! everywhere. Defaults are the papers' values.

pub use crate::families::backbone::BackboneSpec;
pub use crate::families::competitive::CompetitiveSpec;
pub use crate::families::ddcl::DdclSpec;
pub use crate::families::deepcluster::DeepClusterSpec;
pub use crate::families::desom::DesomSpec;
pub use crate::families::lvq::{LvqSpec, LvqTraining};
pub use crate::families::neural_gas::NeuralGasSpec;
pub use crate::families::softmax::SoftmaxSpec;
pub use crate::families::som::SomSpec;
pub use crate::families::two_stage::{CodeClustering, TwoStageSpec};

use crate::error::{Error, Result};
use crate::families::Family;
use crate::missing::MissingValues;
use crate::scaler::Scaling;
use protolearn_layers::kmeans::KMeansConfig;
use protolearn_layers::som::Schedule;
use protolearn_metrics::Grid;
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
    /// Missing input values (`NaN`): `reject` (default), `impute-mean` or `mask`.
    #[serde(default)]
    pub missing: MissingValues,
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
        EstimatorConfig { model, scaling: Scaling::None, missing: MissingValues::Reject, seed: 0, device: DeviceChoice::Cpu }
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

    /// Checks the values that serde cannot (counts, rates, schedules), and that a family asked
    /// to mask missing values can.
    pub fn validate(&self) -> Result<()> {
        let family = self.model.family();
        if self.missing == MissingValues::Mask && !family.compares_components() {
            return Err(Error::invalid(
                "missing",
                "reject or impute-mean for this family (mask needs one that compares inputs with prototypes component by component: som, kmeans, lvq)",
                format!("mask for {}", family.kind()),
            ));
        }
        family.validate()
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
    /// k-means (the baseline of papers 001 and 002): Lloyd's algorithm from greedy k-means++
    /// seeds with restarts, scikit-learn's defaults (`k`, `n_init = 10`, `max_iter = 300`,
    /// `tol = 1e-4`); seeded by the estimator's `seed`.
    #[serde(rename = "kmeans")]
    KMeans(KMeansConfig),
    /// Neural gas (paper 003, Sec. 8): rank-weighted gradient vector quantization.
    NeuralGas(NeuralGasSpec),
    /// DeepCluster (paper 001's end-to-end baseline): a backbone trained on the pseudo-labels of
    /// k-means of its own whitened features.
    #[serde(rename = "deepcluster")]
    DeepCluster(DeepClusterSpec),
    /// An autoencoder, then a SOM or k-means on its codes (paper 002's AE+SOM, AE+k-means).
    TwoStage(TwoStageSpec),
    /// The softmax linear head of paper 003 (Eq. 18), the baseline the prototype heads replace:
    /// on the scaled inputs or on a backbone trained with it end to end. Needs labels.
    Softmax(SoftmaxSpec),
}

impl ModelSpec {
    /// The family behind the spec: the registry of [`crate::families`].
    pub fn family(&self) -> &dyn Family {
        match self {
            ModelSpec::Som(spec) => spec,
            ModelSpec::Desom(spec) => spec,
            ModelSpec::Competitive(spec) => spec,
            ModelSpec::Lvq(spec) => spec,
            ModelSpec::Ddcl(spec) => spec,
            ModelSpec::KMeans(spec) => spec,
            ModelSpec::NeuralGas(spec) => spec,
            ModelSpec::DeepCluster(spec) => spec,
            ModelSpec::TwoStage(spec) => spec,
            ModelSpec::Softmax(spec) => spec,
        }
    }

    /// The family's name as written in `kind`.
    pub fn kind(&self) -> &'static str {
        self.family().kind()
    }
}

/// A map's temperature schedule: `configured`, or paper 002's for `grid` (Sec. 3.6).
pub(crate) fn map_temperature(configured: Option<Schedule>, grid: &Grid) -> Schedule {
    configured.unwrap_or_else(|| Schedule::paper_temperature(grid))
}

/// `value` must be positive and finite.
pub(crate) fn positive_finite(field: &str, value: f64) -> Result<()> {
    if !(value.is_finite() && value > 0.0) {
        return Err(Error::invalid(field, "a positive finite number", value));
    }
    Ok(())
}

/// `value` must be at least 1.
pub(crate) fn positive(field: &'static str, value: usize) -> Result<()> {
    if value == 0 {
        return Err(Error::invalid(field, "at least 1", 0));
    }
    Ok(())
}

/// The papers' minibatch size (paper 002, Table 2: 256).
pub(crate) fn default_batch_size() -> usize {
    256
}

/// The papers' Adam learning rate (paper 002, Table 2: 1e-3).
pub(crate) fn default_lr() -> f64 {
    1e-3
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
    fn kmeans_is_seeded_by_the_estimator_and_mask_needs_a_component_wise_family() {
        let c =
            EstimatorConfig::from_toml("seed = 4\nmissing = \"mask\"\n[model]\nkind = \"kmeans\"\nk = 5\n", Path::new("<test>")).unwrap();
        assert_eq!((c.seed, c.missing), (4, MissingValues::Mask));
        assert!(matches!(c.model, ModelSpec::KMeans(KMeansConfig { k: 5, n_init: 10, max_iter: 300, seed: 0, .. })));
        let err = EstimatorConfig::from_toml("[model]\nkind = \"kmeans\"\nk = 5\nseed = 3\n", Path::new("<test>")).unwrap_err();
        assert!(err.to_string().contains("seeded by the top-level `seed`"), "{err}");
        let text = "missing = \"mask\"\n[model]\nkind = \"desom\"\ngrid = { rows = 2, cols = 2 }\n";
        assert!(EstimatorConfig::from_toml(text, Path::new("<test>")).unwrap_err().to_string().contains("found mask for desom"));
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
