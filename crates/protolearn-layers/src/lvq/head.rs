//! A supervised prototype head (paper 003, Sec. 5): several labelled prototypes per class on top
//! of any feature extractor, a learned dissimilarity, winner-takes-all prediction.

use super::dissimilarity::{Dissimilarity, DissimilarityConfig};
use super::loss::{celvq_loss, check_labels, glvq_loss, rslvq_loss, Transfer};
use crate::error::{expect_dims, Error, Result};
use crate::layer::PrototypeLayer;
use crate::missing::Components;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

/// The loss a head is trained with (LVQ1 and LVQ2.1 are update rules instead, see
/// [`super::Lvq1`] and [`super::Lvq21`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum LvqLoss {
    /// GLVQ (Eq. 20) with a transfer function (GMLVQ / GRLVQ / local GMLVQ with their
    /// dissimilarity).
    Glvq {
        /// `f(mu)`.
        transfer: Transfer,
    },
    /// RSLVQ (Eq. 19): Gaussian mixture per class of width `sigma`.
    Rslvq {
        /// `sigma` of `softmax(-d / sigma)`.
        sigma: f64,
    },
    /// Cross-entropy on the per-class nearest distance.
    Celvq,
}

/// Configuration of a prototype head.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LvqConfig {
    /// Number of classes `C`; labels are `0..C`.
    pub classes: i64,
    /// Prototypes per class (`k = C * per_class`).
    pub per_class: i64,
    /// The dissimilarity.
    pub dissimilarity: DissimilarityConfig,
    /// The loss.
    pub loss: LvqLoss,
}

impl LvqConfig {
    /// Checks counts and the loss's parameters.
    pub fn validate(&self) -> Result<()> {
        let invalid = |field, expected: &str, found: String| Err(Error::InvalidConfig { field, expected: expected.into(), found });
        if self.classes < 2 {
            return invalid("classes", "at least 2", self.classes.to_string());
        }
        if self.per_class < 1 {
            return invalid("per_class", "at least 1 prototype per class", self.per_class.to_string());
        }
        match self.loss {
            LvqLoss::Rslvq { sigma } if !(sigma.is_finite() && sigma > 0.0) => invalid("sigma", "finite and > 0", sigma.to_string()),
            LvqLoss::Glvq { transfer: Transfer::Sigmoid { beta } } if !(beta.is_finite() && beta > 0.0) => {
                invalid("beta", "finite and > 0", beta.to_string())
            }
            _ => Ok(()),
        }
    }

    /// `per_class` distinct rows of each class of `y`, class by class, drawn from `seed` (the
    /// rows [`LvqConfig::build`] starts the prototypes at; a caller with an expensive backbone
    /// encodes only these rows and builds from them, which starts at the same samples, in
    /// another order within a class).
    pub fn stratified_rows(&self, y: &Tensor, seed: u64) -> Result<Vec<i64>> {
        self.validate()?;
        check_labels(y, self.classes)?;
        let classes = Vec::<i64>::try_from(y.to_device(tch::Device::Cpu).to_kind(Kind::Int64))?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut rows = Vec::new();
        for c in 0..self.classes {
            let mut members: Vec<i64> = (0..classes.len() as i64).filter(|&i| classes[i as usize] == c).collect();
            if (members.len() as i64) < self.per_class {
                return Err(Error::InvalidConfig {
                    field: "per_class",
                    expected: format!("at most the {} samples of class {c}", members.len()),
                    found: self.per_class.to_string(),
                });
            }
            members.shuffle(&mut rng);
            rows.extend_from_slice(&members[..self.per_class as usize]);
        }
        Ok(rows)
    }

    /// Builds the head under `path` for features `x` `[n, d]` with classes `y` `[n]`: the
    /// prototypes of class `c` start at `per_class` distinct samples of class `c` drawn from
    /// `seed` (class-stratified initialisation, mapped by the projection of a projection head);
    /// every class needs at least `per_class` samples.
    pub fn build(&self, path: &nn::Path, x: &Tensor, y: &Tensor, seed: u64) -> Result<LvqHead> {
        self.validate()?;
        let d = expect_dims(x, 2, "LVQ features", "[n, d]")?[1];
        let rows = self.stratified_rows(y, seed)?;
        let k = self.classes * self.per_class;
        let dissimilarity = self.dissimilarity.build(&(path / "metric"), d, k)?;
        let start = tch::no_grad(|| dissimilarity.project(&x.index_select(0, &Tensor::from_slice(&rows).to_device(x.device()))));
        self.head(path, dissimilarity, &start)
    }

    /// Builds the head under `path` for `d` input features with the given prototypes `[K, ·]`
    /// (in the dissimilarity's space; `K = classes * per_class`, class `c` owning rows
    /// `c * per_class ..`) and a fresh metric: the skeleton a saved head's variables are loaded into.
    pub fn build_from(&self, path: &nn::Path, d: i64, prototypes: &Tensor) -> Result<LvqHead> {
        self.validate()?;
        let k = self.classes * self.per_class;
        let size = expect_dims(prototypes, 2, "LVQ prototypes", "[K, dim]")?;
        if size[0] != k {
            return Err(Error::Shape { what: "LVQ prototypes", expected: format!("[{k}, dim] (classes x per_class rows)"), got: size });
        }
        let dissimilarity = self.dissimilarity.build(&(path / "metric"), d, k)?;
        self.head(path, dissimilarity, prototypes)
    }

    /// The head with prototypes starting at `start` `[K, ·]`, class-major labels.
    fn head(&self, path: &nn::Path, dissimilarity: Dissimilarity, start: &Tensor) -> Result<LvqHead> {
        let prototypes = path.var_copy("prototypes", &start.to_kind(Kind::Float));
        let labels = Tensor::arange(self.classes, (Kind::Int64, path.device())).repeat_interleave_self_int(self.per_class, 0, None);
        Ok(LvqHead { prototypes, labels, classes: self.classes, dissimilarity, loss: self.loss, components: Components::All })
    }
}

/// A built prototype head.
#[derive(Debug)]
pub struct LvqHead {
    /// The prototypes `[k, d']`, class by class.
    pub prototypes: Tensor,
    labels: Tensor,
    classes: i64,
    /// The learned dissimilarity.
    pub dissimilarity: Dissimilarity,
    loss: LvqLoss,
    components: Components,
}

impl LvqHead {
    /// Number of classes.
    pub fn classes(&self) -> i64 {
        self.classes
    }

    /// The prototypes' classes `[k]` int64.
    pub fn labels(&self) -> &Tensor {
        &self.labels
    }

    /// The configured loss.
    pub fn loss_kind(&self) -> LvqLoss {
        self.loss
    }

    /// The same head comparing inputs over `components`: with [`Components::Observed`], `NaN`
    /// input components are missing and left out of every distance (training and prediction).
    /// An error for a projection head, which mixes all components
    /// ([`Dissimilarity::compares_components`]).
    pub fn with_components(mut self, components: Components) -> Result<Self> {
        if components == Components::Observed && !self.dissimilarity.compares_components() {
            return Err(Error::InvalidConfig {
                field: "dissimilarity",
                expected:
                    "a component-wise dissimilarity (squared-euclidean, omega, local-omega, relevance) for inputs with missing components"
                        .into(),
                found: "a projection".into(),
            });
        }
        self.components = components;
        Ok(self)
    }

    /// Which input components the distances use.
    pub fn components(&self) -> Components {
        self.components
    }

    /// `d(x_i, w_k)` `[n, k]` (over the head's [`Components`]).
    pub fn distances(&self, x: &Tensor) -> Result<Tensor> {
        expect_dims(x, 2, "LVQ input", "[n, d]")?;
        Ok(self.dissimilarity.distances_unchecked(x, &self.prototypes, self.components))
    }

    /// The head's loss on features `x` `[n, d]` with classes `y` `[n]` (labels assumed checked
    /// with [`check_labels`] once per dataset).
    pub fn loss(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        Ok(self.loss_of(&self.distances(x)?, y))
    }

    /// The head's loss from its distances `d` `[n, k]` (computed once by the caller).
    pub fn loss_of(&self, d: &Tensor, y: &Tensor) -> Tensor {
        self.loss_with(d, y, self.loss)
    }

    /// `loss` (instead of the configured one, e.g. GLVQ with the `beta` of a schedule at this
    /// step) from the distances `d` `[n, k]`.
    pub fn loss_with(&self, d: &Tensor, y: &Tensor, loss: LvqLoss) -> Tensor {
        match loss {
            LvqLoss::Glvq { transfer } => glvq_loss(d, y, &self.labels, transfer),
            LvqLoss::Rslvq { sigma } => rslvq_loss(d, y, &self.labels, sigma),
            LvqLoss::Celvq => celvq_loss(d, y, &self.labels, self.classes),
        }
    }

    /// Winner-takes-all classes `[n]`: the label of the nearest prototype.
    pub fn predict(&self, x: &Tensor) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        Ok(self.predict_of(&self.distances(x)?))
    }

    /// Winner-takes-all classes `[n]` from the distances `d` `[n, k]`.
    pub fn predict_of(&self, d: &Tensor) -> Tensor {
        self.labels.index_select(0, &crate::distance::argmin(&d.detach(), -1))
    }
}

impl nn::Module for LvqHead {
    fn forward(&self, x: &Tensor) -> Tensor {
        self.dissimilarity.distances_unchecked(x, &self.prototypes, self.components)
    }
}

impl PrototypeLayer for LvqHead {
    fn prototypes(&self, _x: &Tensor) -> Tensor {
        self.prototypes.shallow_clone()
    }

    fn prototype_labels(&self) -> Option<Tensor> {
        Some(self.labels.shallow_clone())
    }
}
