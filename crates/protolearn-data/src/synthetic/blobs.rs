//! Isotropic Gaussian blobs (scikit-learn's `make_blobs`).

use rand::Rng;

use super::{check_at_least, check_finite, check_non_negative, finish, normal};
use crate::data::Data;
use crate::error::{Error, Result};

/// Where the blob centres are.
#[derive(Debug, Clone, PartialEq)]
pub enum BlobCenters {
    /// This many centres drawn uniformly from `center_box` in every coordinate.
    Random(usize),
    /// These centres, one row of `n_features` coordinates each.
    Given(Vec<Vec<f64>>),
}

/// Isotropic Gaussian clusters, equivalent to scikit-learn's `make_blobs`.
///
/// With `k` centres `c_j`, centre `j` gets `n_samples / k` points (the first `n_samples % k`
/// centres one more), each `c_j + cluster_std · N(0, I)`; the label is `j`. Then rows are
/// shuffled if `shuffle`.
#[derive(Debug, Clone, PartialEq)]
pub struct BlobsConfig {
    /// Total number of points, at least 1. Default 500 (scikit-learn: 100).
    pub n_samples: usize,
    /// Dimension of the points, at least 1; must match the rows of [`BlobCenters::Given`].
    /// Default 2 (as scikit-learn).
    pub n_features: usize,
    /// The centres. Default `Random(3)` (as scikit-learn).
    pub centers: BlobCenters,
    /// Standard deviation of every cluster in every coordinate, `>= 0`. Default 1 (as scikit-learn).
    pub cluster_std: f64,
    /// `(low, high)` bounds of the random centres, `low < high`. Default (-10, 10) (as scikit-learn).
    pub center_box: (f64, f64),
    /// Shuffle the rows (otherwise cluster 0 comes first). Default `true` (as scikit-learn).
    pub shuffle: bool,
}

impl Default for BlobsConfig {
    fn default() -> Self {
        BlobsConfig {
            n_samples: 500,
            n_features: 2,
            centers: BlobCenters::Random(3),
            cluster_std: 1.0,
            center_box: (-10.0, 10.0),
            shuffle: true,
        }
    }
}

impl BlobsConfig {
    /// Draws the centres (if random), then the points: features `[n_samples, n_features]`,
    /// labels = centre index.
    pub fn generate(&self, rng: &mut impl Rng) -> Result<Data> {
        check_at_least("n_samples", self.n_samples, 1)?;
        check_at_least("n_features", self.n_features, 1)?;
        check_non_negative("cluster_std", self.cluster_std)?;
        let d = self.n_features;
        let centers = match &self.centers {
            BlobCenters::Random(k) => {
                check_at_least("centers", *k, 1)?;
                let (lo, hi) = self.center_box;
                check_finite("center_box", lo)?;
                check_finite("center_box", hi)?;
                if lo >= hi {
                    return Err(Error::invalid("center_box", "low < high", format!("({lo}, {hi})")));
                }
                (0..*k).map(|_| (0..d).map(|_| rng.random_range(lo..hi)).collect()).collect()
            }
            BlobCenters::Given(c) => {
                check_at_least("centers", c.len(), 1)?;
                if let Some(row) = c.iter().find(|row| row.len() != d) {
                    return Err(Error::Shape {
                        expected: format!("centres with n_features = {d} coordinates"),
                        got: format!("a centre with {} coordinates", row.len()),
                    });
                }
                for &v in c.iter().flatten() {
                    check_finite("centers", v)?;
                }
                c.clone()
            }
        };
        let k = centers.len();
        let mut points = Vec::with_capacity(self.n_samples * d);
        let mut labels = Vec::with_capacity(self.n_samples);
        for (j, center) in centers.iter().enumerate() {
            let n_j = self.n_samples / k + usize::from(j < self.n_samples % k);
            for _ in 0..n_j {
                points.extend(center.iter().map(|&c| c + self.cluster_std * normal(rng)));
                labels.push(j as i64);
            }
        }
        finish("blobs", points, labels, d, self.shuffle, 0.0, rng)
    }
}
