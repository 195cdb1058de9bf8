//! The competitive layers of paper 000 (VCL, DCL, deep DCL), trained full batch on `Q + λ T`;
//! only their final prototypes are kept (a DCL's prototypes are a function of its training set).

use super::prototypes::{Prototypes, PROTOTYPES};
use super::{Family, FitContext, SavedModel, TrainedModel};
use crate::error::Result;
use protolearn_data::tensor::Dataset;
use protolearn_layers::competitive::{CompetitiveConfig, LayerKind};
use protolearn_layers::loss::QuantizationForm;
use protolearn_layers::missing::Components;
use protolearn_train::competitive::{fit_competitive_checkpointed, CompetitiveTrainConfig, TopologyTerm};
use protolearn_train::observer::Observer;
use protolearn_train::optim::{OptimizerConfig, OptimizerKind};
use serde::{Deserialize, Serialize};

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

impl Family for CompetitiveSpec {
    fn kind(&self) -> &'static str {
        "competitive"
    }

    fn validate(&self) -> Result<()> {
        Ok(self.layer.validate()?)
    }

    fn fit(&self, data: &Dataset, context: &FitContext<'_>, observer: &mut dyn Observer) -> Result<Box<dyn TrainedModel>> {
        let x = data.x.unsqueeze(0);
        let run = fit_competitive_checkpointed(&x, &[context.seed], &self.layer, &self.training(), context.checkpointing, observer)?;
        Ok(Box::new(Prototypes::new(run.prototypes.detach().squeeze_dim(0).contiguous(), Components::All)))
    }

    fn load(&self, saved: &SavedModel<'_>) -> Result<Box<dyn TrainedModel>> {
        Ok(Box::new(Prototypes::new(saved.tensor(PROTOTYPES)?.shallow_clone(), Components::All)))
    }
}
