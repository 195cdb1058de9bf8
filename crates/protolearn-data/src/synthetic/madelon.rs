//! Guyon's MADELON generator (scikit-learn's `make_classification`).

use std::collections::BTreeSet;

use rand::Rng;

use super::{check_at_least, check_finite, normal};
use crate::data::Data;
use crate::error::{Error, Result};
use crate::shuffle::{permutation, shuffle};

/// What one output column of a MADELON dataset is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureRole {
    /// One coordinate of the Gaussian clusters that define the classes.
    Informative,
    /// A random linear combination of the informative features.
    Redundant,
    /// A copy of an informative or redundant feature.
    Repeated,
    /// Pure `N(0, 1)` noise, independent of the class.
    Useless,
}

/// A MADELON dataset and the role of each of its (possibly shuffled) columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Madelon {
    /// Features `[n_samples, n_features]` and class labels.
    pub data: Data,
    /// `roles[j]` says what column `j` of `data` is (after the feature shuffle).
    pub roles: Vec<FeatureRole>,
}

/// Guyon's MADELON generator (NIPS 2003 feature-selection challenge), as in scikit-learn's
/// `make_classification`.
///
/// 1. `n_classes · n_clusters_per_class` clusters are centred on distinct random vertices of
///    the hypercube `{-class_sep, +class_sep}^n_informative` (if `hypercube`; otherwise the
///    vertices are also scaled by a uniform factor per cluster and per dimension).
/// 2. Each cluster's points are `z · A + c` with `z ~ N(0, I)` and a random matrix
///    `A ~ U[-1, 1]^(n_informative × n_informative)` per cluster (random covariance `AᵀA`);
///    cluster `k` has label `k mod n_classes`, sizes follow `weights`.
/// 3. `n_redundant` columns are `X_inf · B`, `B ~ U[-1, 1]^(n_informative × n_redundant)`;
///    `n_repeated` columns copy random informative/redundant columns; the remaining
///    `n_features - n_informative - n_redundant - n_repeated` columns are `N(0, 1)` noise.
/// 4. A fraction `flip_y` of the samples get a label drawn uniformly from all classes.
/// 5. `X = (X + shift) · scale`, then samples and features are shuffled (if `shuffle`).
///
/// The RNG stream differs from NumPy's, so values differ from scikit-learn's for the same
/// seed; the distribution is the same.
#[derive(Debug, Clone, PartialEq)]
pub struct MadelonConfig {
    /// Number of samples, at least 1. Default 100 (as scikit-learn).
    pub n_samples: usize,
    /// Total number of columns, at least `n_informative + n_redundant + n_repeated`.
    /// Default 20 (as scikit-learn).
    pub n_features: usize,
    /// Dimension of the hypercube carrying the clusters, at least 1 and with
    /// `2^n_informative >= n_classes · n_clusters_per_class`. Default 2 (as scikit-learn).
    pub n_informative: usize,
    /// Number of random linear combinations of the informative columns. Default 2 (as scikit-learn).
    pub n_redundant: usize,
    /// Number of duplicated informative/redundant columns. Default 0 (as scikit-learn).
    pub n_repeated: usize,
    /// Number of classes, at least 1. Default 2 (as scikit-learn).
    pub n_classes: usize,
    /// Gaussian clusters per class, at least 1. Default 2 (as scikit-learn).
    pub n_clusters_per_class: usize,
    /// Class proportions: `n_classes` values, or `n_classes - 1` values whose complement to 1
    /// is the last class's. `None` = balanced (default, as scikit-learn). As in scikit-learn,
    /// cluster sizes are `floor(n_samples · w / n_clusters_per_class)` and the remaining
    /// samples go to the clusters in turn, so inexact binary fractions can shift a sample.
    pub weights: Option<Vec<f64>>,
    /// Fraction of samples whose label is redrawn uniformly at random, in `[0, 1]`.
    /// Default 0.01 (as scikit-learn).
    pub flip_y: f64,
    /// Half the side of the hypercube; larger is easier. Default 1 (as scikit-learn).
    pub class_sep: f64,
    /// Put cluster centres on the hypercube's vertices (`true`, default as scikit-learn) or on
    /// a randomly scaled version of them.
    pub hypercube: bool,
    /// Added to every feature; `None` draws one per feature from `U[-class_sep, class_sep]`.
    /// Default `Some(0.0)` (as scikit-learn).
    pub shift: Option<f64>,
    /// Multiplies every feature after the shift; `None` draws one per feature from
    /// `U[1, 101]`. Default `Some(1.0)` (as scikit-learn).
    pub scale: Option<f64>,
    /// Shuffle the samples and the features. Default `true` (as scikit-learn).
    pub shuffle: bool,
}

impl Default for MadelonConfig {
    fn default() -> Self {
        MadelonConfig {
            n_samples: 100,
            n_features: 20,
            n_informative: 2,
            n_redundant: 2,
            n_repeated: 0,
            n_classes: 2,
            n_clusters_per_class: 2,
            weights: None,
            flip_y: 0.01,
            class_sep: 1.0,
            hypercube: true,
            shift: Some(0.0),
            scale: Some(1.0),
            shuffle: true,
        }
    }
}

impl MadelonConfig {
    /// The NIPS 2003 challenge's MADELON: 2600 samples, 500 features of which 5 informative
    /// and 15 redundant, 2 classes of 16 clusters each, 1% label noise, and features on
    /// different random shifts and scales.
    pub fn nips2003() -> Self {
        MadelonConfig {
            n_samples: 2600,
            n_features: 500,
            n_informative: 5,
            n_redundant: 15,
            n_clusters_per_class: 16,
            shift: None,
            scale: None,
            ..Self::default()
        }
    }

    /// Draws the dataset: features `[n_samples, n_features]`, labels `0..n_classes`.
    pub fn generate(&self, rng: &mut impl Rng) -> Result<Data> {
        Ok(self.generate_with_roles(rng)?.data)
    }

    /// Like [`generate`](Self::generate), and also says which column is informative,
    /// redundant, repeated or useless.
    pub fn generate_with_roles(&self, rng: &mut impl Rng) -> Result<Madelon> {
        let weights = self.validate()?;
        let (n, d, n_inf) = (self.n_samples, self.n_features, self.n_informative);
        let (n_red, n_rep) = (self.n_redundant, self.n_repeated);
        let n_useless = d - n_inf - n_red - n_rep;
        let n_classes = self.n_classes;
        let n_clusters = n_classes * self.n_clusters_per_class;

        // Cluster sizes: floor(n * w_c / clusters_per_class), remainder round-robin.
        let mut sizes: Vec<usize> =
            (0..n_clusters).map(|k| (n as f64 * weights[k % n_classes] / self.n_clusters_per_class as f64) as usize).collect();
        let assigned: usize = sizes.iter().sum();
        for i in 0..n.saturating_sub(assigned) {
            sizes[i % n_clusters] += 1;
        }

        let sep = self.class_sep;
        let mut centroids: Vec<Vec<f64>> =
            hypercube_vertices(n_clusters, n_inf, rng).into_iter().map(|v| v.into_iter().map(|b| b * 2.0 * sep - sep).collect()).collect();
        if !self.hypercube {
            for c in &mut centroids {
                let s: f64 = rng.random();
                c.iter_mut().for_each(|v| *v *= s);
            }
            let per_dim: Vec<f64> = (0..n_inf).map(|_| rng.random()).collect();
            for c in &mut centroids {
                c.iter_mut().zip(&per_dim).for_each(|(v, s)| *v *= s);
            }
        }

        // Informative block, cluster by cluster: rows z·A + c.
        let mut x = vec![0.0f64; n * d];
        let z: Vec<f64> = (0..n * n_inf).map(|_| normal(rng)).collect();
        let mut labels = Vec::with_capacity(n);
        let mut row = 0;
        for (k, (centroid, &size)) in centroids.iter().zip(&sizes).enumerate() {
            let a = uniform_matrix(n_inf, n_inf, rng);
            let out = matmul_rows(&z[row * n_inf..(row + size) * n_inf], &a, n_inf);
            for (r, values) in (row..row + size).zip(out.chunks_exact(n_inf.max(1))) {
                for (j, (v, c)) in values.iter().zip(centroid).enumerate() {
                    x[r * d + j] = v + c;
                }
                labels.push((k % n_classes) as i64);
            }
            row += size;
        }
        if n_red > 0 {
            let b = uniform_matrix(n_inf, n_red, rng);
            let informative: Vec<f64> = (0..n).flat_map(|r| x[r * d..r * d + n_inf].iter().copied()).collect();
            let out = matmul_rows(&informative, &b, n_red);
            for (r, values) in out.chunks_exact(n_red).enumerate() {
                x[r * d + n_inf..r * d + n_inf + n_red].copy_from_slice(values);
            }
        }
        if n_rep > 0 {
            let m = n_inf + n_red;
            let sources: Vec<usize> = (0..n_rep).map(|_| ((m - 1) as f64 * rng.random::<f64>() + 0.5) as usize).collect();
            for r in 0..n {
                for (j, &s) in sources.iter().enumerate() {
                    x[r * d + m + j] = x[r * d + s];
                }
            }
        }
        for r in 0..n {
            for v in &mut x[r * d + d - n_useless..(r + 1) * d] {
                *v = normal(rng);
            }
        }

        if self.flip_y > 0.0 {
            let flip: Vec<bool> = (0..n).map(|_| rng.random::<f64>() < self.flip_y).collect();
            for (label, _) in labels.iter_mut().zip(flip).filter(|(_, f)| *f) {
                *label = rng.random_range(0..n_classes as u64) as i64;
            }
        }

        let shift: Vec<f64> = match self.shift {
            Some(s) => vec![s; d],
            None => (0..d).map(|_| (2.0 * rng.random::<f64>() - 1.0) * sep).collect(),
        };
        let scale: Vec<f64> = match self.scale {
            Some(s) => vec![s; d],
            None => (0..d).map(|_| 1.0 + 100.0 * rng.random::<f64>()).collect(),
        };
        for r in 0..n {
            for ((v, s), c) in x[r * d..(r + 1) * d].iter_mut().zip(&shift).zip(&scale) {
                *v = (*v + s) * c;
            }
        }

        let mut roles: Vec<FeatureRole> = [
            (FeatureRole::Informative, n_inf),
            (FeatureRole::Redundant, n_red),
            (FeatureRole::Repeated, n_rep),
            (FeatureRole::Useless, n_useless),
        ]
        .into_iter()
        .flat_map(|(role, count)| std::iter::repeat_n(role, count))
        .collect();
        let (rows, cols) = if self.shuffle { (permutation(n, rng), permutation(d, rng)) } else { ((0..n).collect(), (0..d).collect()) };
        let features = rows.iter().flat_map(|&r| cols.iter().map(move |&c| (r, c))).map(|(r, c)| x[r * d + c] as f32).collect();
        let labels = rows.iter().map(|&r| labels[r]).collect();
        roles = cols.iter().map(|&c| roles[c]).collect();
        let data = Data::new("madelon", features, vec![n, d], Some(labels))?;
        Ok(Madelon { data, roles })
    }

    /// Checks every parameter; returns the class weights (`n_classes` values).
    fn validate(&self) -> Result<Vec<f64>> {
        check_at_least("n_samples", self.n_samples, 1)?;
        check_at_least("n_classes", self.n_classes, 1)?;
        check_at_least("n_clusters_per_class", self.n_clusters_per_class, 1)?;
        check_at_least("n_informative", self.n_informative, 1)?;
        let used = self.n_informative + self.n_redundant + self.n_repeated;
        if used > self.n_features {
            return Err(Error::invalid(
                "n_features",
                format!("at least n_informative + n_redundant + n_repeated = {used}"),
                self.n_features,
            ));
        }
        let n_clusters = self
            .n_classes
            .checked_mul(self.n_clusters_per_class)
            .ok_or_else(|| Error::invalid("n_classes", "a product n_classes · n_clusters_per_class that fits usize", self.n_classes))?;
        let vertices = u32::try_from(self.n_informative).ok().and_then(|k| 1usize.checked_shl(k)).unwrap_or(usize::MAX);
        if n_clusters > vertices {
            return Err(Error::invalid(
                "n_informative",
                format!("2^n_informative >= n_classes · n_clusters_per_class = {n_clusters}"),
                self.n_informative,
            ));
        }
        if !(0.0..=1.0).contains(&self.flip_y) {
            return Err(Error::invalid("flip_y", "a value in [0, 1]", self.flip_y));
        }
        check_finite("class_sep", self.class_sep)?;
        if let Some(s) = self.shift {
            check_finite("shift", s)?;
        }
        if let Some(s) = self.scale {
            check_finite("scale", s)?;
        }
        let c = self.n_classes;
        let Some(w) = &self.weights else {
            return Ok(vec![1.0 / c as f64; c]);
        };
        if let Some(&bad) = w.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
            return Err(Error::invalid("weights", "finite values >= 0", bad));
        }
        let mut w = w.clone();
        if w.len() + 1 == c {
            let rest = 1.0 - w.iter().sum::<f64>();
            if rest < 0.0 {
                return Err(Error::invalid("weights", "n_classes - 1 values summing to at most 1", format!("{w:?}")));
            }
            w.push(rest);
        } else if w.len() != c {
            return Err(Error::invalid("weights", format!("{c} or {} values (one per class)", c - 1), format!("{} values", w.len())));
        }
        Ok(w)
    }
}

/// `samples` distinct random vertices of `{0, 1}^dims`, as 0/1 coordinates.
///
/// Like scikit-learn's `_generate_hypercube`: beyond 30 dimensions the extra leading
/// coordinates are random bits and distinctness comes from the last 30.
fn hypercube_vertices(samples: usize, dims: usize, rng: &mut impl Rng) -> Vec<Vec<f64>> {
    let low = dims.min(30);
    let extra: Vec<Vec<f64>> = (0..samples).map(|_| (low..dims).map(|_| f64::from(rng.random_range(0..2u8))).collect()).collect();
    // Floyd's algorithm: `samples` distinct integers in 0..2^low, in a deterministic order.
    let total = 1u64 << low;
    let mut chosen = BTreeSet::new();
    let mut order = Vec::with_capacity(samples);
    for j in total.saturating_sub(samples as u64)..total {
        let t = rng.random_range(0..=j);
        let v = if chosen.contains(&t) { j } else { t };
        chosen.insert(v);
        order.push(v);
    }
    shuffle(&mut order, rng);
    order
        .into_iter()
        .zip(extra)
        .map(|(v, mut coords)| {
            coords.extend((0..low).rev().map(|bit| ((v >> bit) & 1) as f64));
            coords
        })
        .collect()
}

/// A `rows × cols` row-major matrix with entries from `U[-1, 1)`.
fn uniform_matrix(rows: usize, cols: usize, rng: &mut impl Rng) -> Vec<f64> {
    (0..rows * cols).map(|_| 2.0 * rng.random::<f64>() - 1.0).collect()
}

/// Columns of one tile of [`matmul_rows`]: a tile of the output (rows x 512 doubles, 200 KB
/// for 50 rows) stays in the L2 cache while `M` streams through once.
const TILE_COLS: usize = 512;

/// The rows of `V · M` (row-major), for `V` holding whole rows of `M.rows()` values and `M` with
/// `cols` columns. Every output element sums `v_i m_ij` over `i` in increasing order, as a
/// vector-matrix product row by row does (so the values are the same bit for bit), but `M` is
/// read once per call instead of once per row: at 10,000 informative features `M` is 800 MB.
fn matmul_rows(v: &[f64], m: &[f64], cols: usize) -> Vec<f64> {
    let inner = m.len().checked_div(cols).unwrap_or(0);
    let rows = v.len().checked_div(inner).unwrap_or(0);
    let mut out = vec![0.0; rows * cols];
    for start in (0..cols).step_by(TILE_COLS) {
        let end = (start + TILE_COLS).min(cols);
        for i in 0..inner {
            let m_tile = &m[i * cols + start..i * cols + end];
            for r in 0..rows {
                let vi = v[r * inner + i];
                for (o, &mij) in out[r * cols + start..r * cols + end].iter_mut().zip(m_tile) {
                    *o += vi * mij;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn hypercube_vertices_are_distinct_bits() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let v = hypercube_vertices(8, 3, &mut rng);
        let mut as_ints: Vec<u32> = v.iter().map(|c| c.iter().fold(0, |acc, &b| acc * 2 + b as u32)).collect();
        as_ints.sort_unstable();
        assert_eq!(as_ints, (0..8).collect::<Vec<_>>());
        let wide = hypercube_vertices(4, 33, &mut rng);
        assert!(wide.iter().all(|c| c.len() == 33 && c.iter().all(|&b| b == 0.0 || b == 1.0)));
    }

    #[test]
    fn matmul_rows_is_the_matrix_product_in_row_order() {
        // [[1, 2], [0, -1]] · [[1, 2, 3], [4, 5, 6]] = [[9, 12, 15], [-4, -5, -6]]
        assert_eq!(matmul_rows(&[1.0, 2.0, 0.0, -1.0], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 3), vec![9.0, 12.0, 15.0, -4.0, -5.0, -6.0]);
        // Wider than a tile: every element equals the sum in increasing i, bit for bit.
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let (rows, inner, cols) = (3, 7, TILE_COLS + 37);
        let v = uniform_matrix(rows, inner, &mut rng);
        let m = uniform_matrix(inner, cols, &mut rng);
        let out = matmul_rows(&v, &m, cols);
        for r in 0..rows {
            for j in 0..cols {
                let direct = (0..inner).fold(0.0, |acc, i| acc + v[r * inner + i] * m[i * cols + j]);
                assert_eq!(out[r * cols + j].to_bits(), direct.to_bits());
            }
        }
    }
}
