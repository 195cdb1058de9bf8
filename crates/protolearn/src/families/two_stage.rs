//! The two-stage baselines of paper 002 (Sec. 5.1, "AE+SOM" and "AE+k-means"): an autoencoder
//! trained on the reconstruction loss alone, then a SOM or k-means on its latent codes.

use super::backbone::BackboneSpec;
use super::som::SomSpec;
use super::{Family, FitContext, SavedModel, TrainedModel};
use crate::config::{default_batch_size, default_lr, positive, positive_finite};
use crate::error::Result;
use crate::fitted::InputInfo;
use protolearn_data::tensor::Dataset;
use protolearn_layers::autoencoder::{encode_chunked, Backbone};
use protolearn_layers::kmeans::KMeansConfig;
use protolearn_layers::missing::Components;
use protolearn_metrics::Grid;
use protolearn_train::desom::{fit_autoencoder_checkpointed, AutoencoderTrainConfig};
use protolearn_train::observer::Observer;
use protolearn_train::optim::{OptimizerConfig, OptimizerKind};
use serde::{Deserialize, Serialize};
use tch::{nn, Device, Tensor};

/// What clusters the codes in the second stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CodeClustering {
    /// A SOM on the codes (AE+SOM).
    Som(SomSpec),
    /// k-means on the codes (AE+k-means).
    #[serde(rename = "kmeans")]
    KMeans(KMeansConfig),
}

impl CodeClustering {
    /// The family of the second stage.
    fn family(&self) -> &dyn Family {
        match self {
            CodeClustering::Som(spec) => spec,
            CodeClustering::KMeans(config) => config,
        }
    }
}

/// An autoencoder, then a SOM or k-means on its codes (paper 002, Sec. 5.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwoStageSpec {
    /// The autoencoder (default dense `D-500-500-2000-10`, paper 002).
    #[serde(default)]
    pub autoencoder: BackboneSpec,
    /// Autoencoder iterations on the reconstruction loss (paper 002: as DESOM's, default 10,000).
    #[serde(default = "default_pretrain_iterations")]
    pub pretrain_iterations: usize,
    /// Minibatch size of the autoencoder (paper 002, Table 2: 256; capped at the sample count).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Adam learning rate of the autoencoder (paper 002, Table 2: 1e-3).
    #[serde(default = "default_lr")]
    pub lr: f64,
    /// Record the autoencoder's history every this many iterations (default: 50 records).
    #[serde(default)]
    pub log_every: Option<usize>,
    /// The second stage, on the codes.
    pub clustering: CodeClustering,
}

fn default_pretrain_iterations() -> usize {
    10_000
}

impl TwoStageSpec {
    /// An autoencoder with the paper's defaults, then `clustering`.
    pub fn new(clustering: CodeClustering) -> Self {
        TwoStageSpec {
            autoencoder: BackboneSpec::default(),
            pretrain_iterations: default_pretrain_iterations(),
            batch_size: default_batch_size(),
            lr: default_lr(),
            log_every: None,
            clustering,
        }
    }
}

/// The input description of the codes, for the second stage.
fn code_input(input: &InputInfo, latent_dim: usize) -> InputInfo {
    InputInfo {
        sample_shape: vec![latent_dim],
        feature_names: (0..latent_dim).map(|j| format!("z{j}")).collect(),
        classes: input.classes.clone(),
        labelled: input.labelled,
        columns: Vec::new(),
        categorical: Vec::new(),
    }
}

impl Family for TwoStageSpec {
    fn kind(&self) -> &'static str {
        "two-stage"
    }

    fn validate(&self) -> Result<()> {
        self.autoencoder.require_decoder("two-stage")?;
        positive("pretrain_iterations", self.pretrain_iterations)?;
        positive("batch_size", self.batch_size)?;
        positive_finite("lr", self.lr)?;
        self.clustering.family().validate()
    }

    fn input_shape(&self, sample_shape: &[usize]) -> Vec<usize> {
        self.autoencoder.input_shape(sample_shape)
    }

    fn fit(&self, data: &Dataset, context: &FitContext<'_>, observer: &mut dyn Observer) -> Result<Box<dyn TrainedModel>> {
        let config = AutoencoderTrainConfig {
            optimizer: OptimizerConfig { kind: OptimizerKind::Adam, lr: self.lr },
            iterations: self.pretrain_iterations,
            batch_size: self.batch_size.min(data.n_samples()),
            log_every: context.log_every(self.log_every, self.pretrain_iterations),
            seed: context.seed,
        };
        let backbone = self.autoencoder.config(&context.input.sample_shape)?;
        let run = fit_autoencoder_checkpointed(data, &backbone, &config, &context.checkpointing.within("autoencoder"), observer)?;
        let codes = Dataset::new(encode_chunked(run.backbone.as_ref(), &data.x)?, data.y.as_ref().map(Tensor::shallow_clone))?;
        let input = code_input(context.input, run.backbone.latent_dim() as usize);
        let checkpointing = context.checkpointing.within("clustering");
        let second = FitContext { components: Components::All, input: &input, checkpointing: &checkpointing, eval: None, ..*context };
        let clustering = self.clustering.family().fit(&codes, &second, observer)?;
        Ok(Box::new(TwoStageModel { vs: run.vs, backbone: run.backbone, clustering }))
    }

    fn load(&self, saved: &SavedModel<'_>) -> Result<Box<dyn TrainedModel>> {
        let mut vs = nn::VarStore::new(Device::Cpu);
        let backbone = self.autoencoder.config(&saved.input.sample_shape)?.build(&(vs.root() / "ae"), 0)?;
        saved.copy_into(&mut vs)?;
        let input = code_input(saved.input, backbone.latent_dim() as usize);
        let clustering = self.clustering.family().load(&SavedModel { input: &input, components: Components::All, ..*saved })?;
        Ok(Box::new(TwoStageModel { vs, backbone, clustering }))
    }
}

/// A trained autoencoder (variables `ae.*`) and the SOM or k-means on its codes.
#[derive(Debug)]
pub struct TwoStageModel {
    vs: nn::VarStore,
    backbone: Box<dyn Backbone>,
    clustering: Box<dyn TrainedModel>,
}

impl TrainedModel for TwoStageModel {
    fn distances(&self, x: &Tensor) -> Result<Tensor> {
        self.clustering.distances(&self.codes(x)?)
    }

    fn codes(&self, x: &Tensor) -> Result<Tensor> {
        Ok(encode_chunked(self.backbone.as_ref(), x)?)
    }

    fn prototypes(&self) -> Tensor {
        self.clustering.prototypes()
    }

    fn decode(&self, codes: &Tensor) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        Ok(self.backbone.decode(codes)?.contiguous())
    }

    fn grid(&self) -> Option<&Grid> {
        self.clustering.grid()
    }

    fn named_tensors(&self) -> Vec<(String, Tensor)> {
        self.vs.variables().into_iter().chain(self.clustering.named_tensors()).collect()
    }
}
