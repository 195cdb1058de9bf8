//! The model families behind the estimator, one file each: the family's spec (the `[model]`
//! table of a `MODEL.toml`), how it trains on the one trainer, its trained model and how that
//! model is rebuilt from a model file. Two traits tie them to the estimator:
//!
//! - [`Family`], implemented by every spec: validate, fit on a dataset, load from a model file;
//! - [`TrainedModel`], implemented by every trained model: the squared distances of (scaled)
//!   inputs to its prototypes in the model's space, from which every `Fitted` method is built,
//!   plus the prototypes, codes, grid, prototype labels and the tensors the model file holds.
//!
//! Adding a family is one new file here (spec + `impl Family` + model + `impl TrainedModel`)
//! and one variant of [`crate::config::ModelSpec`] with its arm in `ModelSpec::family`.

pub mod backbone;
pub mod classifier;
pub mod competitive;
pub mod ddcl;
pub mod deepcluster;
pub mod desom;
pub mod kmeans;
pub mod lvq;
pub mod neural_gas;
pub mod prototypes;
pub mod softmax;
pub mod som;
pub mod two_stage;

use crate::error::Result;
use crate::fitted::InputInfo;
use crate::model_file::ModelFile;
use protolearn_data::tensor::Dataset;
use protolearn_layers::missing::Components;
use protolearn_layers::rows::RowSource;
use protolearn_metrics::Grid;
use protolearn_train::observer::Observer;
use protolearn_train::run::Checkpointing;
use std::path::Path;
use tch::Tensor;

/// Records per run when a family's `log_every` is not set.
pub const DEFAULT_RECORDS: usize = 50;

/// What every family's training shares: the seed, the input components to compare (all, or
/// the observed ones when the estimator masks missing values), the input description, where
/// the run checkpoints and the set its evaluator scores.
#[derive(Debug, Clone, Copy)]
pub struct FitContext<'a> {
    /// Seed of the initialisation and of the sample order.
    pub seed: u64,
    /// Which input components distances use ([`Components::Observed`] when masking).
    pub components: Components,
    /// What the model is fitted on (feature names, sample shape, classes).
    pub input: &'a InputInfo,
    /// Where the trainer writes its resumable state, and whether to resume from it.
    pub checkpointing: &'a Checkpointing,
    /// The labelled set scored at every log point by the families with an evaluator (DESOM and
    /// DDCL: `None` scores the training set when it has labels; DeepCluster, whose scoring draws
    /// from its training's k-means stream, and the classifier heads, whose training accuracy is
    /// logged anyway, score only a set given here).
    pub eval: Option<&'a Dataset>,
}

impl<'a> FitContext<'a> {
    /// The set the evaluator scores: [`FitContext::eval`], else `data` when it has labels.
    pub fn eval_set<'d>(&self, data: &'d Dataset) -> Option<&'d Dataset>
    where
        'a: 'd,
    {
        self.eval.or_else(|| data.y.is_some().then_some(data))
    }

    /// The log interval: `configured`, else [`DEFAULT_RECORDS`] records over `steps`.
    pub fn log_every(&self, configured: Option<usize>, steps: usize) -> usize {
        configured.unwrap_or((steps / DEFAULT_RECORDS).max(1))
    }
}

/// A model file being read: its tensors (by name, on the CPU) and where it came from, for errors.
#[derive(Debug, Clone, Copy)]
pub struct SavedModel<'a> {
    pub(crate) file: &'a ModelFile,
    pub(crate) path: &'a Path,
    /// What the model was fitted on.
    pub input: &'a InputInfo,
    /// Which input components the model compares.
    pub components: Components,
}

impl SavedModel<'_> {
    /// The tensor `name` (an error naming the file and the tensors it has when absent).
    pub fn tensor(&self, name: &str) -> Result<&Tensor> {
        self.file.tensor(self.path, name)
    }

    /// Copies the file's tensors into the variables of `vs` with the same names and shapes.
    pub fn copy_into(&self, vs: &mut tch::nn::VarStore) -> Result<()> {
        let _guard = tch::no_grad_guard();
        for (name, mut variable) in vs.variables() {
            let saved = self.tensor(&name)?;
            if saved.size() != variable.size() {
                return Err(crate::model_file::model_error(
                    self.path,
                    format!("tensor `{name}` of shape {:?}", variable.size()),
                    format!("shape {:?}", saved.size()),
                ));
            }
            variable.f_copy_(saved)?;
        }
        Ok(())
    }
}

/// A model family's spec: what the estimator needs to check, train and reload it.
pub trait Family {
    /// The family's name, as written in `kind`.
    fn kind(&self) -> &'static str;

    /// Checks the values serde cannot (counts, rates, schedules).
    fn validate(&self) -> Result<()>;

    /// Whether the family compares inputs with prototypes component by component, so that it
    /// can mask missing values (SOM, k-means, LVQ heads).
    fn compares_components(&self) -> bool {
        false
    }

    /// The per-sample shape the model consumes for samples of `sample_shape` (default: flat
    /// vectors; images for a convolutional backbone).
    fn input_shape(&self, sample_shape: &[usize]) -> Vec<usize> {
        vec![sample_shape.iter().product()]
    }

    /// Trains on `data` (scaled, on the device) through the one trainer.
    fn fit(&self, data: &Dataset, context: &FitContext<'_>, observer: &mut dyn Observer) -> Result<Box<dyn TrainedModel>>;

    /// Trains on the (scaled) rows of `source`, read `chunk_rows` at a time: data larger than
    /// memory. The default refuses; the batch SOM and k-means (whose steps are sums over the
    /// data, accumulated chunk by chunk) and DESOM (random minibatches read from the rows)
    /// accept.
    fn fit_rows(
        &self,
        _source: &dyn RowSource,
        _chunk_rows: usize,
        _context: &FitContext<'_>,
        _observer: &mut dyn Observer,
    ) -> Result<Box<dyn TrainedModel>> {
        Err(crate::Error::invalid("data read in chunks", "the batch SOM, k-means or DESOM", self.kind()))
    }

    /// Rebuilds the trained model from a model file, without data, on the CPU.
    fn load(&self, saved: &SavedModel<'_>) -> Result<Box<dyn TrainedModel>>;
}

/// The trained model as [`std::any::Any`], for a caller that needs its family's own type (a
/// classifier head and its backbone, say): `fitted.trained().as_any().downcast_ref::<LvqModel>()`.
pub trait AsAny {
    /// `self` as `Any`.
    fn as_any(&self) -> &dyn std::any::Any;
}

impl<T: std::any::Any> AsAny for T {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// A trained model: the one operation every estimator method builds on (squared distances of
/// scaled inputs to the prototypes, in the model's space) and what the model file holds.
pub trait TrainedModel: AsAny + std::fmt::Debug + Send {
    /// Squared distances of scaled inputs `x` to the prototypes in the model's space (the
    /// latent space for an autoencoder family), without gradient.
    ///
    /// # Shapes
    /// `x`: `[n, ...input]` → `[n, K]`.
    fn distances(&self, x: &Tensor) -> Result<Tensor>;

    /// The codes the prototypes live among: an encoder's latent codes, else `x` itself.
    ///
    /// # Shapes
    /// `x`: `[n, ...input]` → `[n, L]`.
    fn codes(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.shallow_clone())
    }

    /// The prototypes in the model's space `[K, L]`.
    fn prototypes(&self) -> Tensor;

    /// Codes `[n, L]` mapped back to the (scaled) input space `[n, ...input]` by the model's
    /// decoder `g`, without gradient; a model without an encoder returns them as they are (its
    /// codes are its inputs), one whose codes no decoder inverts is an error.
    fn decode(&self, codes: &Tensor) -> Result<Tensor> {
        Ok(codes.shallow_clone())
    }

    /// The prototypes mapped to the (scaled) input space `[K, ...input]`: [`TrainedModel::decode`]
    /// of the prototypes (a decoder's `g(m_k)`, else the prototypes themselves).
    fn input_space_prototypes(&self) -> Result<Tensor> {
        self.decode(&self.prototypes())
    }

    /// The map grid, for the SOM families.
    fn grid(&self) -> Option<&Grid> {
        None
    }

    /// The class of each prototype, for a classifier head.
    fn prototype_labels(&self) -> Option<Tensor> {
        None
    }

    /// The tensors the model file holds, by name.
    fn named_tensors(&self) -> Vec<(String, Tensor)>;
}
