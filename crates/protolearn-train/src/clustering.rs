//! Clustering a backbone's features, shared by the deep-clustering families (DDCL and its
//! k-means ablation, DeepCluster, AE + k-means): k-means of the encoded training set, the
//! scores of a prototype set on a labelled evaluation set, and mini-batch k-means on the one
//! trainer.

use crate::error::Result;
use crate::kmeans::KMeansFit;
use crate::observer::Observer;
use crate::quality::clustering_scores;
use crate::seeds::derived_seeds;
use crate::trainer::{Batching, Column, PhaseConfig, Trainer};
use protolearn_layers::autoencoder::encode_chunked;
use protolearn_layers::autoencoder::Backbone;
use protolearn_layers::ddcl::{assignment_entropy, soft_assignment};
use protolearn_layers::distance::squared_euclidean;
use protolearn_layers::kmeans::{KMeans, KMeansConfig};
use protolearn_layers::minibatch_kmeans::{MiniBatchKMeans, MiniBatchStep};
use serde::{Deserialize, Serialize};
use tch::nn;
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
        KMeansConfig { k, n_init: self.n_init, max_iter: self.max_iter, tol: self.tol, seed }.fit(z)
    }
}

/// Mini-batch k-means of `data.x` `[n, d]` with `k` centroids on the one trainer: `epochs`
/// passes of shuffled batches of `batch_size` (the last, smaller batch of a pass dropped), the
/// centroids seeded by k-means++ on the first batch ([`MiniBatchStep`]); seeds derived from
/// `seed`. Returns the variables (`kmeans.centroids`, `kmeans.counts`) and the layer.
pub fn fit_minibatch_kmeans(
    data: &protolearn_data::tensor::Dataset,
    k: usize,
    batch_size: usize,
    epochs: usize,
    seed: u64,
    observer: &mut dyn Observer,
) -> Result<(nn::VarStore, MiniBatchKMeans)> {
    let [_, d] = <[i64; 2]>::try_from(data.x.size()).map_err(|size| crate::error::Error::InvalidConfig {
        field: "data".into(),
        expected: "a matrix [n, d] for mini-batch k-means".into(),
        found: format!("shape {size:?}"),
    })?;
    let [init_seed, batch_seed, _] = derived_seeds(seed);
    let vs = nn::VarStore::new(data.device());
    let km = MiniBatchKMeans::new(&(vs.root() / "kmeans"), k as i64, d);
    let batching = Batching::Shuffled { batch_size };
    let spe = batching.steps_per_epoch(data.n_samples());
    let phase = PhaseConfig::new("minibatch-kmeans", epochs * spe, spe);
    Trainer::new(data, batching, batch_seed)?.apply_rule(&phase, &km, &MiniBatchStep { seed: init_seed }, &vs, &mut [], observer)?;
    Ok((vs, km))
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
        let nearest = protolearn_layers::distance::argmin(&d, -1);
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
