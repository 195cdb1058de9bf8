//! Optimizer choice (Adam or SGD) and learning rate, as data.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::nn::{self, OptimizerConfig as _};

/// The optimizer family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerKind {
    /// Adam (Kingma & Ba) with betas (0.9, 0.999), eps 1e-8: the papers' optimizer.
    Adam,
    /// Plain stochastic gradient descent.
    Sgd,
}

/// Optimizer and learning rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimizerConfig {
    /// Adam or SGD.
    pub kind: OptimizerKind,
    /// Learning rate (paper 000: 0.008 for VCL, 0.0008 for DCL).
    pub lr: f64,
}

impl OptimizerConfig {
    /// Builds the optimizer over every trainable variable of `vs`.
    pub fn build(&self, vs: &nn::VarStore) -> Result<nn::Optimizer> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(Error::InvalidConfig {
                field: "lr".into(),
                expected: "a positive finite number".into(),
                found: self.lr.to_string(),
            });
        }
        Ok(match self.kind {
            OptimizerKind::Adam => nn::Adam::default().build(vs, self.lr)?,
            OptimizerKind::Sgd => nn::Sgd::default().build(vs, self.lr)?,
        })
    }
}
