//! Evaluation of one fitted model on the test set (paper 002, Appendix 1): purity and NMI of the
//! assignments, SOM quality in the assignment space and in pixel space, prototype sharpness,
//! and the post-clustering of the map prototypes by k-means and Ward's method.

use super::models::Fitted;
use super::{KMeansSpec, Spec};
use anyhow::{Context, Result};
use kodama::{linkage, Method};
use protolearn_layers::kmeans::KMeansConfig;
use protolearn_metrics::{
    best_matching_units, clustering_accuracy, combined_error, normalized_mutual_info, prototype_sharpness_ratio, purity,
    quantization_error, topographic_error, topographic_product, Contingency, Grid, Matrix, NmiAverage, Sharpness,
};
use protolearn_train::kmeans::KMeansFit;
use std::collections::BTreeMap;
use tch::{Device, Kind, Tensor};

/// Metric name -> value for one model, dataset and seed.
pub type Metrics = BTreeMap<String, f64>;

/// The host-side view of a fitted map kept for the figures.
#[derive(Debug, Clone)]
pub struct View {
    /// Prototypes in the assignment space, row-major `[K, dim]`.
    pub prototypes: Vec<f32>,
    /// Their dimension.
    pub dim: usize,
    /// Prototypes as images, row-major `[K, C*H*W]`, if any.
    pub pixel_prototypes: Option<Vec<f32>>,
    /// Best-matching unit (or nearest centroid) of every test sample.
    pub bmus: Vec<usize>,
    /// The map's shape (rows, columns).
    pub grid: (usize, usize),
}

/// A tensor's values as row-major `f32` on the host.
pub(crate) fn host(t: &Tensor) -> Result<Vec<f32>> {
    Ok(Vec::<f32>::try_from(t.to_device(Device::Cpu).to_kind(Kind::Float).contiguous().flatten(0, -1))?)
}

/// Purity, NMI (arithmetic, as paper 002's Appendix 1 defines it; and geometric, scikit-learn's
/// default before 0.22, as `nmi_geo`) and, with `accuracy`, clustering accuracy of
/// `assignments`, stored under `prefix` + `purity` / `nmi` / `nmi_geo` / `acc`.
fn score(out: &mut Metrics, prefix: &str, labels: &[i64], assignments: &[usize], accuracy: bool) -> Result<()> {
    let table = Contingency::new(labels, assignments)?;
    out.insert(format!("{prefix}purity"), purity(&table));
    out.insert(format!("{prefix}nmi"), normalized_mutual_info(&table, NmiAverage::Arithmetic));
    out.insert(format!("{prefix}nmi_geo"), normalized_mutual_info(&table, NmiAverage::Geometric));
    if accuracy {
        out.insert(format!("{prefix}acc"), clustering_accuracy(&table)?);
    }
    Ok(())
}

/// QE, TE, CE and TP of `prototypes` on `data`, stored as `qe{suffix}` etc.
fn som_quality(out: &mut Metrics, suffix: &str, data: Matrix<'_>, prototypes: Matrix<'_>, grid: &Grid) -> Result<()> {
    out.insert(format!("qe{suffix}"), quantization_error(data, prototypes)?);
    out.insert(format!("te{suffix}"), topographic_error(data, prototypes, grid)?);
    out.insert(format!("ce{suffix}"), combined_error(data, prototypes, grid)?);
    out.insert(format!("tp{suffix}"), topographic_product(prototypes, grid)?);
    Ok(())
}

/// Ward hierarchical clustering of the rows of `prototypes` cut into `groups` clusters: the
/// first `K - groups` merges of the dendrogram built on Euclidean distances.
fn ward_groups(prototypes: Matrix<'_>, groups: usize) -> Vec<usize> {
    let k = prototypes.rows();
    let rows: Vec<&[f32]> = prototypes.iter_rows().collect();
    let mut condensed: Vec<f64> = (0..k)
        .flat_map(|i| (i + 1..k).map(move |j| (i, j)))
        .map(|(i, j)| f64::from(protolearn_metrics::squared_euclidean(rows[i], rows[j])).sqrt())
        .collect();
    let dendrogram = linkage(&mut condensed, k, Method::Ward);
    let mut parent: Vec<usize> = (0..2 * k).collect();
    for (s, step) in dendrogram.steps().iter().take(k.saturating_sub(groups)).enumerate() {
        parent[step.cluster1] = k + s;
        parent[step.cluster2] = k + s;
    }
    let root = |mut u: usize| {
        while parent[u] != u {
            u = parent[u];
        }
        u
    };
    let mut roots: Vec<usize> = (0..k).map(root).collect();
    let mut distinct = roots.clone();
    distinct.sort_unstable();
    distinct.dedup();
    for r in &mut roots {
        *r = distinct.binary_search(r).unwrap_or_default();
    }
    roots
}

/// k-means (`post_n_init` restarts) of the rows of `prototypes` into `groups` clusters.
fn kmeans_groups(prototypes: &[f32], dim: usize, groups: usize, kmeans: &KMeansSpec, seed: u64) -> Result<Vec<usize>> {
    let x = Tensor::f_from_slice(prototypes)?.f_view([-1, dim as i64])?;
    let fit = KMeansConfig { k: groups, n_init: kmeans.post_n_init, max_iter: kmeans.max_iter, tol: kmeans.tol, seed }.fit(&x)?;
    Ok(Vec::<i64>::try_from(fit.assignments)?.into_iter().map(|a| a as usize).collect())
}

/// Nearest row of `prototypes` for every row of `data`.
fn nearest(data: Matrix<'_>, prototypes: Matrix<'_>) -> Result<Vec<usize>> {
    Ok(best_matching_units(data, prototypes)?.into_iter().map(|b| b.first.unit).collect())
}

/// Evaluates `fitted` on the test set with labels `labels`: `purity`, `nmi` (and `acc` when
/// there are at most `classes` clusters, e.g. the `#classes x 1` map); for k-means models the
/// `k = classes` clustering (`k10_`); for maps the SOM quality in the assignment space (suffix
/// `_latent` for a learned latent space), in pixel space against `test_pixels` (`[n, C*H*W]`
/// row-major) when pixel prototypes exist, the PSR, and, for maps with more units than
/// `classes`, purity / NMI / accuracy of the post-clustering into `classes` groups (`km10_`,
/// `hc_`).
pub fn evaluate(fitted: &Fitted, test_pixels: &[f32], labels: &[i64], spec: &Spec, seed: u64) -> Result<(Metrics, View)> {
    let classes = spec.classes;
    let image = spec.image()?;
    let pixels_per_image = image.height * image.width;
    let dim = usize::try_from(*fitted.prototypes.size().last().context("prototypes without dimensions")?)?;
    let prototypes = host(&fitted.prototypes)?;
    let test = host(&fitted.test)?;
    let (pm, tm) = (Matrix::new(&prototypes, prototypes.len() / dim, dim)?, Matrix::new(&test, labels.len(), dim)?);
    let bmus = nearest(tm, pm)?;
    let mut out = Metrics::new();
    out.insert("seconds".into(), fitted.seconds);
    if fitted.iterations > 0 {
        out.insert("it_per_s".into(), fitted.iterations as f64 / fitted.seconds.max(1e-9));
    }
    score(&mut out, "", labels, &bmus, pm.rows() <= classes)?;
    if let Some(centroids) = &fitted.class_centroids {
        let c = host(centroids)?;
        score(&mut out, "k10_", labels, &nearest(tm, Matrix::new(&c, c.len() / dim, dim)?)?, true)?;
    }
    let pixel_prototypes = fitted.pixel_prototypes.as_ref().map(host).transpose()?;
    let grid = &fitted.grid;
    if fitted.model.is_map() {
        som_quality(&mut out, if fitted.latent { "_latent" } else { "" }, tm, pm, grid)?;
        if let (Some(pixels), true) = (&pixel_prototypes, fitted.latent) {
            let pixel_matrix = Matrix::new(pixels, pm.rows(), pixels_per_image)?;
            som_quality(&mut out, "", Matrix::new(test_pixels, labels.len(), pixels_per_image)?, pixel_matrix, grid)?;
        }
        if let Some(pixels) = &pixel_prototypes {
            let psr = prototype_sharpness_ratio(
                Matrix::new(test_pixels, labels.len(), pixels_per_image)?,
                Matrix::new(pixels, pm.rows(), pixels_per_image)?,
                image,
                Sharpness::MeanGradientNorm,
            )?;
            out.insert("psr".into(), psr);
        }
        if pm.rows() > classes {
            for (prefix, groups) in
                [("km10_", kmeans_groups(&prototypes, dim, classes, &spec.kmeans, seed)?), ("hc_", ward_groups(pm, classes))]
            {
                let assigned: Vec<usize> = bmus.iter().map(|&b| groups[b]).collect();
                score(&mut out, prefix, labels, &assigned, true)?;
            }
        }
    }
    Ok((out, View { prototypes, dim, pixel_prototypes, bmus, grid: (grid.rows(), grid.cols()) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ward_cut_separates_two_blobs() {
        let points = [0.0f32, 0.0, 0.1, 0.0, 0.0, 0.1, 5.0, 5.0, 5.1, 5.0];
        let groups = ward_groups(Matrix::new(&points, 5, 2).unwrap(), 2);
        assert!(groups[0] == groups[1] && groups[1] == groups[2] && groups[3] == groups[4]);
        assert_ne!(groups[0], groups[3]);
        assert!(groups.iter().all(|&g| g < 2));
    }
}
