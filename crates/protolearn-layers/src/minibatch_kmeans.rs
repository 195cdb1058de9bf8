//! Mini-batch k-means (Sculley, WWW 2010; scikit-learn's `MiniBatchKMeans`): centroids seeded by
//! greedy k-means++ on the first batch, then every batch moves each centroid to the running mean
//! of all the samples it has won so far. The streaming baseline of paper 001.
//!
//! ```
//! use protolearn_layers::minibatch_kmeans::MiniBatchKMeans;
//! use tch::{Device, Kind, Tensor};
//!
//! let x = Tensor::rand([200, 3], (Kind::Float, Device::Cpu));
//! let mut km = MiniBatchKMeans::seed(&x.narrow(0, 0, 50), 4, 0).unwrap();
//! for b in 1..4 {
//!     km.update(&x.narrow(0, 50 * b, 50)).unwrap();
//! }
//! assert_eq!(km.predict(&x).size(), vec![200]);
//! assert_eq!(km.counts().sum(Kind::Float).double_value(&[]), 150.0, "every streamed sample counted once");
//! ```

use crate::distance::{nearest_rows, squared_norms};
use crate::error::{expect_dims, Error, Result};
use crate::init::kmeans_plus_plus;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::{Kind, Tensor};

/// Mini-batch k-means state: centroids `[k, d]` and how many samples each has won.
///
/// scikit-learn's implementation also re-seeds centroids that win very few samples
/// (`reassignment_ratio`); this one does not (a centroid that never wins keeps its seed).
#[derive(Debug)]
pub struct MiniBatchKMeans {
    centroids: Tensor,
    counts: Tensor,
}

impl MiniBatchKMeans {
    /// Seeds `k` centroids by greedy k-means++ (`2 + ln k` candidates per step, as
    /// scikit-learn) on `first` `[b, d]` (`b >= k`), from `seed`; no sample is counted yet.
    pub fn seed(first: &Tensor, k: usize, seed: u64) -> Result<Self> {
        let n = expect_dims(first, 2, "mini-batch k-means batch", "[b, d]")?[0];
        if k == 0 || k as i64 > n {
            return Err(Error::InvalidConfig { field: "k", expected: format!("1 to the first batch's {n} samples"), found: k.to_string() });
        }
        let trials = 2 + (k as f64).ln().floor() as usize;
        let _guard = tch::no_grad_guard();
        let centroids = kmeans_plus_plus(first, k as i64, trials, &mut ChaCha8Rng::seed_from_u64(seed))?;
        let counts = Tensor::zeros([k as i64], (first.kind(), first.device()));
        Ok(MiniBatchKMeans { centroids, counts })
    }

    /// One mini-batch step on `batch` `[b, d]`: each sample goes to its nearest centroid, then
    /// `n_j <- n_j + b_j` and `c_j <- c_j + (sum_{i -> j} x_i - b_j c_j) / n_j`, the running mean
    /// of every sample centroid `j` has won (scikit-learn's `_mini_batch_step`).
    pub fn update(&mut self, batch: &Tensor) -> Result<()> {
        let d = expect_dims(batch, 2, "mini-batch k-means batch", "[b, d]")?[1];
        let k = self.counts.size()[0];
        if d != self.centroids.size()[1] {
            return Err(Error::Shape {
                what: "mini-batch k-means batch",
                expected: format!("[b, {}]", self.centroids.size()[1]),
                got: batch.size(),
            });
        }
        let _guard = tch::no_grad_guard();
        let (_, assignments) = nearest_rows(batch, &squared_norms(batch), &self.centroids);
        let won = Tensor::zeros([k], (batch.kind(), batch.device())).f_index_add(0, &assignments, &batch.ones_like().select(1, 0))?;
        let sums = Tensor::zeros([k, d], (batch.kind(), batch.device())).f_index_add(0, &assignments, batch)?;
        self.counts = &self.counts + &won;
        let step = (sums - &self.centroids * won.unsqueeze(1)) / self.counts.clamp_min(1.0).unsqueeze(1);
        self.centroids = &self.centroids + step;
        Ok(())
    }

    /// The centroids `[k, d]`.
    pub fn centroids(&self) -> &Tensor {
        &self.centroids
    }

    /// Samples won by each centroid so far `[k]`.
    pub fn counts(&self) -> &Tensor {
        &self.counts
    }

    /// The nearest centroid of every row of `x` `[n, d]` (`[n]` int64).
    pub fn predict(&self, x: &Tensor) -> Tensor {
        let _guard = tch::no_grad_guard();
        nearest_rows(x, &squared_norms(x), &self.centroids).1.to_kind(Kind::Int64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn a_centroid_is_the_running_mean_of_what_it_won() {
        // Two far groups; the seed picks one point of each (k-means++ on the first batch).
        let first = Tensor::from_slice(&[0.0f32, 10.0]).view([2, 1]);
        let mut km = MiniBatchKMeans::seed(&first, 2, 0).unwrap();
        km.update(&Tensor::from_slice(&[1.0f32, 2.0, 11.0]).view([3, 1])).unwrap();
        km.update(&Tensor::from_slice(&[3.0f32, 9.0]).view([2, 1])).unwrap();
        let mut c = Vec::<f32>::try_from(km.centroids().squeeze_dim(1)).unwrap();
        c.sort_by(f32::total_cmp);
        // Means of {1, 2, 3} and {11, 9}: the seeds themselves are not samples it has won.
        assert!((c[0] - 2.0).abs() < 1e-6 && (c[1] - 10.0).abs() < 1e-6, "{c:?}");
        let mut counts = Vec::<f32>::try_from(km.counts()).unwrap();
        counts.sort_by(f32::total_cmp);
        assert_eq!(counts, vec![2.0, 3.0]);
        assert_eq!(Vec::<i64>::try_from(km.predict(&Tensor::from_slice(&[0.5f32, 9.5]).view([2, 1]))).unwrap().len(), 2);
    }

    #[test]
    fn an_idle_centroid_keeps_its_seed_and_bad_input_is_an_error() {
        let first = Tensor::from_slice(&[0.0f32, 0.0, 5.0, 5.0]).view([2, 2]);
        let mut km = MiniBatchKMeans::seed(&first, 2, 1).unwrap();
        let before = km.centroids().copy();
        km.update(&Tensor::zeros([3, 2], (Kind::Float, Device::Cpu))).unwrap();
        assert_eq!(km.centroids().isfinite().all().int64_value(&[]), 1, "no NaN from a centroid that won nothing");
        assert_eq!((km.centroids() - &before).abs().sum(Kind::Float).double_value(&[]), 0.0, "the winner sits at 0 already");
        assert!(MiniBatchKMeans::seed(&first, 3, 0).is_err());
        assert!(km.update(&Tensor::zeros([3, 5], (Kind::Float, Device::Cpu))).is_err());
    }
}
