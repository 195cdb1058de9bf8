//! External clustering indices from a class x cluster contingency table: purity, NMI, ARI, accuracy.
//!
//! Labels are arbitrary `i64` values and cluster ids arbitrary `usize` values: both are
//! compacted to the values that occur, so clusters without samples ("empty" map units)
//! do not appear and do not change any index.

use pathfinding::kuhn_munkres::kuhn_munkres;
use pathfinding::matrix::Matrix as WeightMatrix;

use crate::error::{check_at_least, check_len, Error, Result};

/// Counts `n_jk = |Y_j ∩ Q_k|` of samples of class `j` in cluster `k` (paper 002, Appendix 1,
/// external indices), over the classes and clusters that occur, both in ascending order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contingency {
    classes: Vec<i64>,
    clusters: Vec<usize>,
    counts: Vec<u64>,
    n_samples: u64,
}

impl Contingency {
    /// Builds the table from ground-truth `labels` and predicted cluster `assignments`.
    ///
    /// # Errors
    /// `TooFew` for empty input, `Shape` if the lengths differ.
    pub fn new(labels: &[i64], assignments: &[usize]) -> Result<Self> {
        check_at_least("labels", 1, labels.len())?;
        check_len("assignments (one per label)", labels.len(), assignments.len())?;
        let classes = sorted_unique(labels);
        let clusters = sorted_unique(assignments);
        let k = clusters.len();
        let mut counts = vec![0_u64; classes.len() * k];
        for (label, cluster) in labels.iter().zip(assignments) {
            // both values were collected from these very slices, so the searches succeed
            let j = classes.binary_search(label).unwrap_or_default();
            let c = clusters.binary_search(cluster).unwrap_or_default();
            counts[j * k + c] += 1;
        }
        Ok(Self { classes, clusters, counts, n_samples: labels.len() as u64 })
    }

    /// The distinct class labels, ascending (rows of the table).
    pub fn classes(&self) -> &[i64] {
        &self.classes
    }

    /// The distinct non-empty cluster ids, ascending (columns of the table).
    pub fn clusters(&self) -> &[usize] {
        &self.clusters
    }

    /// Row-major `[C, K]` counts.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// `N`, the number of samples.
    pub fn n_samples(&self) -> u64 {
        self.n_samples
    }

    /// Class sizes `|Y_j|` (row sums).
    pub fn class_sizes(&self) -> Vec<u64> {
        self.rows().map(|r| r.iter().sum()).collect()
    }

    /// Cluster sizes `|Q_k|` (column sums).
    pub fn cluster_sizes(&self) -> Vec<u64> {
        let mut sizes = vec![0_u64; self.clusters.len()];
        for row in self.rows() {
            for (s, c) in sizes.iter_mut().zip(row) {
                *s += c;
            }
        }
        sizes
    }

    fn rows(&self) -> std::slice::ChunksExact<'_, u64> {
        self.counts.chunks_exact(self.clusters.len())
    }
}

fn sorted_unique<T: Ord + Copy>(values: &[T]) -> Vec<T> {
    let mut v = values.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

/// Purity `Pur = (1/N) sum_k max_j |Q_k ∩ Y_j|` (paper 002, Appendix 1, Eq. 9).
pub fn purity(table: &Contingency) -> f64 {
    let k = table.clusters.len();
    let hits: u64 = (0..k).map(|c| table.rows().map(|r| r[c]).max().unwrap_or(0)).sum();
    hits as f64 / table.n_samples as f64
}

/// How NMI normalises the mutual information by the two entropies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NmiAverage {
    /// `(H(Q) + H(Y)) / 2`, the normalisation of paper 002 and scikit-learn's default.
    #[default]
    Arithmetic,
    /// `sqrt(H(Q) H(Y))`.
    Geometric,
    /// `max(H(Q), H(Y))`.
    Max,
    /// `min(H(Q), H(Y))`.
    Min,
}

/// `|I| <=` this counts as zero mutual information, as scikit-learn's `np.isclose(mi, 0)`.
const MI_ZERO_ATOL: f64 = 1e-8;

/// Normalised mutual information `NMI = I(Q, Y) / avg(H(Q), H(Y))` with natural logarithms
/// (paper 002, Appendix 1), `I = sum_jk (n_jk/N) log(N n_jk / (|Y_j| |Q_k|))`.
///
/// As scikit-learn's `normalized_mutual_info_score`: 1 when both partitions have a single
/// block (including a single sample), 0 when `I` is zero (e.g. one cluster, several classes).
pub fn normalized_mutual_info(table: &Contingency, average: NmiAverage) -> f64 {
    if table.classes.len() == 1 && table.clusters.len() == 1 {
        return 1.0;
    }
    let n = table.n_samples as f64;
    let a = table.class_sizes();
    let b = table.cluster_sizes();
    let mi: f64 = table
        .rows()
        .zip(&a)
        .flat_map(|(row, &aj)| {
            row.iter().zip(&b).filter(|(&c, _)| c > 0).map(move |(&c, &bk)| {
                let c = c as f64;
                (c / n) * (n * c / (aj as f64 * bk as f64)).ln()
            })
        })
        .sum::<f64>()
        .max(0.0);
    if mi <= MI_ZERO_ATOL {
        return 0.0;
    }
    let (hy, hq) = (entropy(&a, n), entropy(&b, n));
    // I > 0 implies both entropies are > 0, so every average below is positive
    let norm = match average {
        NmiAverage::Arithmetic => 0.5 * (hy + hq),
        NmiAverage::Geometric => (hy * hq).sqrt(),
        NmiAverage::Max => hy.max(hq),
        NmiAverage::Min => hy.min(hq),
    };
    mi / norm
}

/// Entropy `H = -sum (s/N) log(s/N)` of block sizes `s` (paper 002, Appendix 1).
fn entropy(sizes: &[u64], n: f64) -> f64 {
    sizes
        .iter()
        .filter(|&&s| s > 0)
        .map(|&s| {
            let p = s as f64 / n;
            -p * p.ln()
        })
        .sum()
}

/// Adjusted Rand index (Hubert and Arabie) from the pair confusion matrix, as scikit-learn:
/// `ARI = 2 (TP TN - FN FP) / ((TP + FN)(FN + TN) + (TP + FP)(FP + TN))`, with
/// `TP = sum n_jk^2 - N`, `FP = sum |Q_k|^2 - sum n_jk^2`, `FN = sum |Y_j|^2 - sum n_jk^2`,
/// `TN = N^2 - TP - FP - FN - N`; 1 when `FP = FN = 0` (identical partitions, one sample).
pub fn adjusted_rand_index(table: &Contingency) -> f64 {
    let sq = |v: u64| i128::from(v) * i128::from(v);
    let n = i128::from(table.n_samples);
    let sum_sq: i128 = table.counts.iter().map(|&c| sq(c)).sum();
    let tp = sum_sq - n;
    let fp = table.cluster_sizes().into_iter().map(sq).sum::<i128>() - sum_sq;
    let fn_ = table.class_sizes().into_iter().map(sq).sum::<i128>() - sum_sq;
    let tn = n * n - fp - fn_ - sum_sq;
    if fp == 0 && fn_ == 0 {
        return 1.0;
    }
    let num = 2.0 * (tp as f64 * tn as f64 - fn_ as f64 * fp as f64);
    let den = (tp + fn_) as f64 * (fn_ + tn) as f64 + (tp + fp) as f64 * (fp + tn) as f64;
    num / den
}

/// Unsupervised clustering accuracy `Acc = (1/N) max_m sum_k |Q_k ∩ Y_m(k)|` over one-to-one
/// maps `m` between clusters and classes (paper 002, Appendix 1, Eq. 10), solved exactly by
/// the Kuhn-Munkres (Hungarian) algorithm. With `K != C`, `min(K, C)` pairs are matched and
/// the remaining samples count as errors (as `scipy.optimize.linear_sum_assignment`).
///
/// # Errors
/// `InvalidParameter` if a count does not fit in `i64` (more than 2^63 samples).
pub fn clustering_accuracy(table: &Contingency) -> Result<f64> {
    let (c, k) = (table.classes.len(), table.clusters.len());
    let too_big = Error::InvalidParameter { name: "contingency", reason: "counts must fit in i64" };
    let weights: Vec<i64> =
        table.counts.iter().map(|&v| i64::try_from(v)).collect::<std::result::Result<_, _>>().map_err(|_| too_big.clone())?;
    // kuhn_munkres needs rows <= columns: put the smaller side on the rows
    let matrix = if c <= k { WeightMatrix::from_vec(c, k, weights) } else { WeightMatrix::from_vec(c, k, weights).map(|m| m.transposed()) }
        .map_err(|_| too_big)?;
    let (total, _) = kuhn_munkres(&matrix);
    Ok(total as f64 / table.n_samples as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contingency_compacts_arbitrary_ids() -> Result<()> {
        let t = Contingency::new(&[-7, 1_000_000, -7, 3], &[9, 9, 4, 4])?;
        assert_eq!(t.classes(), &[-7, 3, 1_000_000]);
        assert_eq!(t.clusters(), &[4, 9]);
        assert_eq!(t.counts(), &[1, 1, 1, 0, 0, 1]);
        assert_eq!(t.class_sizes(), vec![2, 1, 1]);
        assert_eq!(t.cluster_sizes(), vec![2, 2]);
        Ok(())
    }

    #[test]
    fn invalid_inputs_are_errors() {
        assert!(matches!(Contingency::new(&[], &[]), Err(Error::TooFew { .. })));
        assert!(matches!(Contingency::new(&[1, 2], &[0]), Err(Error::Shape { .. })));
    }
}
