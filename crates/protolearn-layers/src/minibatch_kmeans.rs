//! Mini-batch k-means (Sculley, WWW 2010; scikit-learn's `MiniBatchKMeans`) as a layer and an
//! [`UpdateRule`] for the one trainer: at the first step the centroids are seeded by greedy
//! k-means++ on that batch, then every batch moves each centroid to the running mean of all the
//! samples it has won so far. The streaming baseline of paper 001.
//!
//! ```
//! use protolearn_layers::minibatch_kmeans::{MiniBatchKMeans, MiniBatchStep};
//! use protolearn_layers::UpdateRule;
//! use tch::{nn, Device, Kind, Tensor};
//!
//! let x = Tensor::rand([200, 3], (Kind::Float, Device::Cpu));
//! let vs = nn::VarStore::new(Device::Cpu);
//! let km = MiniBatchKMeans::new(&(vs.root() / "kmeans"), 4, 3);
//! let rule = MiniBatchStep { seed: 0 };
//! for b in 0..4 {
//!     rule.update(&km, &x.narrow(0, 50 * b, 50), None, b as usize + 1, 4).unwrap();
//! }
//! assert_eq!(km.predict(&x).size(), vec![200]);
//! assert_eq!(km.counts.sum(Kind::Float).double_value(&[]), 200.0, "every streamed sample counted once");
//! ```

use crate::distance::{nearest_rows, squared_norms};
use crate::error::{expect_dims, Error, Result};
use crate::init::kmeans_plus_plus;
use crate::layer::UpdateRule;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::{nn, Kind, Tensor};

/// Mini-batch k-means state: centroids `[k, d]` and how many samples each has won, both
/// variables of a `VarStore` (not trained by gradient; moved in place by [`MiniBatchStep`]).
///
/// scikit-learn's implementation also re-seeds centroids that win very few samples
/// (`reassignment_ratio`); this one does not (a centroid that never wins keeps its seed).
#[derive(Debug)]
pub struct MiniBatchKMeans {
    /// Centroids `[k, d]` (zeros until the first step seeds them).
    pub centroids: Tensor,
    /// Samples won by each centroid so far `[k]`.
    pub counts: Tensor,
}

impl MiniBatchKMeans {
    /// `k` centroids of `d` features under `path` (`centroids`, `counts`), zero until seeded.
    pub fn new(path: &nn::Path, k: i64, d: i64) -> Self {
        MiniBatchKMeans { centroids: path.zeros_no_train("centroids", &[k, d]), counts: path.zeros_no_train("counts", &[k]) }
    }

    /// The nearest centroid of every row of `x` `[n, d]` (`[n]` int64).
    pub fn predict(&self, x: &Tensor) -> Tensor {
        let _guard = tch::no_grad_guard();
        nearest_rows(x, &squared_norms(x), &self.centroids).1.to_kind(Kind::Int64)
    }
}

/// One step of mini-batch k-means on a batch; step 1 first seeds the centroids by greedy
/// k-means++ (`2 + ln k` candidates per step, as scikit-learn) on its batch, from `seed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MiniBatchStep {
    /// Seed of the k-means++ draw.
    pub seed: u64,
}

impl UpdateRule<MiniBatchKMeans> for MiniBatchStep {
    /// Each sample of `x` `[b, d]` goes to its nearest centroid, then `n_j <- n_j + b_j` and
    /// `c_j <- c_j + (sum_{i -> j} x_i - b_j c_j) / n_j`: the running mean of every sample
    /// centroid `j` has won (scikit-learn's `_mini_batch_step`); a centroid that won nothing
    /// stays where it is.
    fn update(&self, layer: &MiniBatchKMeans, x: &Tensor, _y: Option<&Tensor>, step: usize, _steps: usize) -> Result<()> {
        let [b, d] = <[i64; 2]>::try_from(expect_dims(x, 2, "mini-batch k-means batch", "[b, d]")?).expect("two dims");
        let (k, width) = (layer.counts.size()[0], layer.centroids.size()[1]);
        if d != width {
            return Err(Error::Shape { what: "mini-batch k-means batch", expected: format!("[b, {width}]"), got: x.size() });
        }
        let _guard = tch::no_grad_guard();
        if step == 1 {
            if k > b {
                return Err(Error::InvalidConfig {
                    field: "k",
                    expected: format!("at most the batch's {b} samples"),
                    found: k.to_string(),
                });
            }
            let trials = 2 + (k as f64).ln().floor() as usize;
            let seeds = kmeans_plus_plus(x, k, trials, &mut ChaCha8Rng::seed_from_u64(self.seed))?;
            layer.centroids.shallow_clone().f_copy_(&seeds)?;
            let _ = layer.counts.shallow_clone().zero_();
        }
        let (_, assignments) = nearest_rows(x, &squared_norms(x), &layer.centroids);
        let won = Tensor::zeros([k], (x.kind(), x.device())).f_index_add(0, &assignments, &x.ones_like().select(1, 0))?;
        let sums = Tensor::zeros([k, d], (x.kind(), x.device())).f_index_add(0, &assignments, x)?;
        let counts = &layer.counts + &won;
        let moved = &layer.centroids + (sums - &layer.centroids * won.unsqueeze(1)) / counts.clamp_min(1.0).unsqueeze(1);
        layer.centroids.shallow_clone().f_copy_(&moved)?;
        layer.counts.shallow_clone().f_copy_(&counts)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn layer(k: i64, d: i64) -> (nn::VarStore, MiniBatchKMeans) {
        let vs = nn::VarStore::new(Device::Cpu);
        let km = MiniBatchKMeans::new(&vs.root(), k, d);
        (vs, km)
    }

    #[test]
    fn a_centroid_is_the_running_mean_of_what_it_won() {
        let (_vs, km) = layer(2, 1);
        let rule = MiniBatchStep { seed: 0 };
        let batches = [vec![0.0f32, 10.0], vec![1.0, 2.0, 11.0], vec![3.0, 9.0]];
        for (i, b) in batches.iter().enumerate() {
            rule.update(&km, &Tensor::from_slice(b).view([-1, 1]), None, i + 1, 3).unwrap();
        }
        // k-means++ on the first batch picks both of its points; the means of {0, 1, 2, 3} and {10, 11, 9}.
        let mut c = Vec::<f32>::try_from(km.centroids.squeeze_dim(1)).unwrap();
        c.sort_by(f32::total_cmp);
        assert!((c[0] - 1.5).abs() < 1e-6 && (c[1] - 10.0).abs() < 1e-6, "{c:?}");
        let mut counts = Vec::<f32>::try_from(&km.counts).unwrap();
        counts.sort_by(f32::total_cmp);
        assert_eq!(counts, vec![3.0, 4.0]);
        assert_eq!(Vec::<i64>::try_from(km.predict(&Tensor::from_slice(&[0.5f32, 9.5]).view([2, 1]))).unwrap().len(), 2);
    }

    #[test]
    fn an_idle_centroid_keeps_its_seed_and_bad_input_is_an_error() {
        let (_vs, km) = layer(2, 2);
        let rule = MiniBatchStep { seed: 1 };
        rule.update(&km, &Tensor::from_slice(&[0.0f32, 0.0, 5.0, 5.0]).view([2, 2]), None, 1, 3).unwrap();
        let before = km.centroids.copy();
        rule.update(&km, &Tensor::zeros([3, 2], (Kind::Float, Device::Cpu)), None, 2, 3).unwrap();
        assert_eq!(km.centroids.isfinite().all().int64_value(&[]), 1, "no NaN from a centroid that won nothing");
        assert_eq!((&km.centroids - &before).abs().sum(Kind::Float).double_value(&[]), 0.0, "the winner sits at 0 already");
        let (_vs3, three) = layer(3, 2);
        assert!(rule.update(&three, &Tensor::zeros([2, 2], (Kind::Float, Device::Cpu)), None, 1, 1).is_err(), "k > batch");
        assert!(rule.update(&km, &Tensor::zeros([3, 5], (Kind::Float, Device::Cpu)), None, 2, 3).is_err(), "wrong width");
    }
}
