//! The k-means spec: Lloyd's algorithm from k-means++ seeds (scikit-learn's defaults), the
//! baseline of papers 001 and 002.

use super::positive;
use crate::error::{Error, Result};
use protolearn_layers::kmeans::KMeansConfig;
use serde::{Deserialize, Serialize};

/// k-means (paper 002, Sec. 5: the baseline "with 64 prototypes"; scikit-learn's `KMeans`
/// defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KMeansSpec {
    /// Number of clusters `k`.
    pub k: usize,
    /// Restarts from independent k-means++ seedings; the lowest inertia wins (default 10).
    #[serde(default = "default_n_init")]
    pub n_init: usize,
    /// Lloyd iterations per restart at most (default 300).
    #[serde(default = "default_max_iter")]
    pub max_iter: usize,
    /// Stop when the summed squared centroid shift is at most `tol` times the mean per-feature
    /// variance (default `1e-4`).
    #[serde(default = "default_tol")]
    pub tol: f64,
}

fn default_n_init() -> usize {
    10
}
fn default_max_iter() -> usize {
    300
}
fn default_tol() -> f64 {
    1e-4
}

impl KMeansSpec {
    /// `k` clusters with scikit-learn's defaults.
    pub fn new(k: usize) -> Self {
        KMeansSpec { k, n_init: default_n_init(), max_iter: default_max_iter(), tol: default_tol() }
    }

    /// The layer's config with `seed`.
    pub fn config(&self, seed: u64) -> KMeansConfig {
        KMeansConfig { k: self.k, n_init: self.n_init, max_iter: self.max_iter, tol: self.tol, seed }
    }

    pub(super) fn validate(&self) -> Result<()> {
        positive("k", self.k)?;
        positive("n_init", self.n_init)?;
        positive("max_iter", self.max_iter)?;
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return Err(Error::invalid("tol", "a finite number >= 0", self.tol));
        }
        Ok(())
    }
}
