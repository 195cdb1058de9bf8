//! The trained model of the families that keep only free prototypes in the scaled input space
//! (competitive layers, neural gas, k-means): the prototypes and the input components they are
//! compared over.

use super::TrainedModel;
use crate::error::Result;
use protolearn_layers::missing::Components;
use tch::Tensor;

/// Name of the prototypes in the model file (`[k, D]`); also DDCL's.
pub(crate) const PROTOTYPES: &str = "prototypes";

/// Free prototypes `[k, D]` in the scaled input space.
#[derive(Debug)]
pub struct Prototypes {
    prototypes: Tensor,
    components: Components,
}

impl Prototypes {
    /// `prototypes` `[k, D]` compared over `components` of the inputs.
    pub(crate) fn new(prototypes: Tensor, components: Components) -> Self {
        Prototypes { prototypes, components }
    }
}

impl TrainedModel for Prototypes {
    fn distances(&self, x: &Tensor) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        Ok(self.components.squared_euclidean(x, &self.prototypes))
    }

    fn prototypes(&self) -> Tensor {
        self.prototypes.shallow_clone()
    }

    fn named_tensors(&self) -> Vec<(String, Tensor)> {
        vec![(PROTOTYPES.to_owned(), self.prototypes.shallow_clone())]
    }
}
