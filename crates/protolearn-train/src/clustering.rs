//! Clustering a backbone's features, shared by the deep-clustering families (DDCL and its
//! k-means ablation, DeepCluster, AE + k-means): k-means of the encoded training set and the
//! scores of a prototype set on a labelled evaluation set.

use crate::error::Result;
use crate::quality::clustering_scores;
use crate::trainer::Column;
use protolearn_layers::autoencoder::encode_chunked;
use protolearn_layers::autoencoder::Backbone;
use protolearn_layers::ddcl::{assignment_entropy, soft_assignment};
use protolearn_layers::distance::squared_euclidean;
use protolearn_layers::kmeans::{KMeans, KMeansConfig};
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// The k-means of the features (k-means++ seeding and Lloyd iterations; scikit-learn's defaults
/// are `n_init = 10`, `max_iter = 300`, `tol = 1e-4`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureKMeans {
    /// Restarts (the lowest inertia wins).
    pub n_init: usize,
    /// Lloyd iterations at most.
    pub max_iter: usize,
    /// Relative tolerance on the centroid shift.
    pub tol: f64,
}

impl FeatureKMeans {
    /// k-means with `k` clusters of the codes `f(x)` (no gradient), seeded with `seed`.
    ///
    /// # Shapes
    /// `x`: `[n, ...input_shape]`; centroids `[k, L]`.
    pub fn fit(&self, backbone: &dyn Backbone, x: &Tensor, k: usize, seed: u64) -> Result<KMeans> {
        self.fit_codes(&encode_chunked(backbone, x)?, k, seed)
    }

    /// k-means with `k` clusters of codes `z` `[n, L]` already encoded, seeded with `seed`.
    pub fn fit_codes(&self, z: &Tensor, k: usize, seed: u64) -> Result<KMeans> {
        Ok(KMeansConfig { k, n_init: self.n_init, max_iter: self.max_iter, tol: self.tol, seed }.fit(z)?)
    }
}

/// A labelled evaluation set: samples and their classes (host copy).
#[derive(Debug)]
pub struct LabelledSet<'a> {
    /// Samples `[n, ...input_shape]`.
    pub x: &'a Tensor,
    /// Classes, one per sample.
    pub labels: Vec<i64>,
}

impl<'a> LabelledSet<'a> {
    /// The labelled part of `data` (`None` without labels).
    pub fn new(data: &'a protolearn_data::tensor::Dataset) -> Result<Option<Self>> {
        let Some(y) = &data.y else { return Ok(None) };
        Ok(Some(LabelledSet { x: &data.x, labels: Vec::<i64>::try_from(y.to_device(tch::Device::Cpu))? }))
    }

    /// Scores of the nearest-prototype assignment of the codes `z` `[n, L]` to `p` `[k, L]`:
    /// `acc`, `nmi`, `ari`, `winners` (prototypes nearest to at least one sample) and, with a
    /// temperature, `entropy` of the soft assignments; every name prefixed with `prefix`.
    pub fn score(&self, z: &Tensor, p: &Tensor, tau: Option<f64>, prefix: &str) -> Result<Vec<Column>> {
        let _guard = tch::no_grad_guard();
        let d = squared_euclidean(z, p);
        let nearest = d.argmin(-1, false);
        let winners = nearest.unique_dim(0, false, false, false).0.size()[0];
        let assignments: Vec<usize> = Vec::<i64>::try_from(nearest.to_device(tch::Device::Cpu))?.into_iter().map(|a| a as usize).collect();
        let mut columns = clustering_scores(&self.labels, &assignments, prefix)?;
        columns.push(Column::scalar(&format!("{prefix}winners"), winners as f64));
        if let Some(tau) = tau {
            let entropy = assignment_entropy(&soft_assignment(&d, tau)?).to_kind(Kind::Double).f_double_value(&[])?;
            columns.push(Column::scalar(&format!("{prefix}entropy"), entropy));
        }
        Ok(columns)
    }
}
