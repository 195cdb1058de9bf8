//! Initial prototype positions drawn from the data with a seeded Rust RNG (one seed per replica).

use crate::error::{expect_dims, Error, Result};
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// How the `k` initial prototypes are placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum PrototypeInit {
    /// `k` distinct data samples chosen uniformly (with replacement only when `k > n`).
    #[default]
    DataSamples,
    /// Uniform in the axis-aligned bounding box of the data.
    UniformBox,
    /// k-means++ seeding (Arthur & Vassilvitskii 2007): each next prototype is a sample drawn
    /// with probability proportional to its squared distance to the nearest chosen one.
    KMeansPlusPlus,
    /// Glorot-uniform weights `U(-a, a)`, `a = sqrt(6 / (d + k))`, independent of the data: the
    /// Keras default of the bias-free Dense layer in the authors' VCL code (paper 000), which
    /// starts every prototype near the origin of the standardised data.
    GlorotUniform,
}

impl PrototypeInit {
    /// Draws initial prototypes for every replica: replica `r` uses `ChaCha8Rng::seed_from_u64(seeds[r])`,
    /// so a replica reproduces exactly whether it trains alone or batched with others.
    ///
    /// # Shapes
    /// `x`: `[replicas, n, d]` → `[replicas, k, d]` on `x`'s device.
    pub fn draw(self, x: &Tensor, k: i64, seeds: &[u64]) -> Result<Tensor> {
        let size = expect_dims(x, 3, "init data", "[replicas, n, d]")?;
        let (replicas, n) = (size[0], size[1]);
        if replicas != seeds.len() as i64 {
            return Err(Error::InvalidConfig {
                field: "seeds",
                expected: format!("one seed per replica ({replicas})"),
                found: seeds.len().to_string(),
            });
        }
        if k < 1 || n < 1 {
            return Err(Error::InvalidConfig {
                field: "n_prototypes",
                expected: "k >= 1 and at least one sample".into(),
                found: format!("k = {k}, n = {n}"),
            });
        }
        let per_replica = seeds
            .iter()
            .enumerate()
            .map(|(r, &seed)| {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                self.draw_one(&x.get(r as i64), k, &mut rng)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Tensor::stack(&per_replica, 0))
    }

    /// Initial prototypes `[k, d]` for one replica's data `[n, d]`.
    fn draw_one(self, x: &Tensor, k: i64, rng: &mut ChaCha8Rng) -> Result<Tensor> {
        let n = x.size()[0];
        match self {
            PrototypeInit::DataSamples => {
                let idx: Vec<i64> = if k <= n {
                    sample(rng, n as usize, k as usize).into_iter().map(|i| i as i64).collect()
                } else {
                    (0..k).map(|_| rng.random_range(0..n)).collect()
                };
                Ok(x.index_select(0, &Tensor::from_slice(&idx).to_device(x.device())))
            }
            PrototypeInit::UniformBox => {
                let d = x.size()[1];
                let lo = x.amin(0, false); // [d]
                let hi = x.amax(0, false); // [d]
                let u: Vec<f32> = (0..k * d).map(|_| rng.random::<f32>()).collect();
                let u = Tensor::from_slice(&u).view([k, d]).to_device(x.device());
                Ok(&lo + u * (&hi - &lo))
            }
            PrototypeInit::GlorotUniform => {
                let d = x.size()[1];
                let limit = (6.0 / (d + k) as f64).sqrt() as f32;
                let w: Vec<f32> = (0..k * d).map(|_| rng.random_range(-limit..limit)).collect();
                Ok(Tensor::from_slice(&w).view([k, d]).to_device(x.device()))
            }
            PrototypeInit::KMeansPlusPlus => kmeans_plus_plus(x, k, 1, rng),
        }
    }
}

/// k-means++ seeding of `k` rows of `x` `[n, d]` (Arthur & Vassilvitskii 2007): the first a
/// uniform sample, each next one drawn with probability proportional to its squared distance to
/// the nearest chosen one. With `trials > 1`, the greedy variant (scikit-learn's default for
/// `KMeans`, `2 + ln k` trials): `trials` candidates are drawn that way and the one that lowers
/// the summed squared distance `sum_i min_j ||x_i - c_j||^2` most is kept. Row norms are
/// computed once; each step costs one `[n, trials]` `addmm`. With `trials = 1` the random
/// stream is the plain algorithm's.
pub(crate) fn kmeans_plus_plus(x: &Tensor, k: i64, trials: usize, rng: &mut ChaCha8Rng) -> Result<Tensor> {
    let n = x.size()[0];
    let x_sq = crate::distance::squared_norms(x); // [n], once
                                                  // Squared distances of every sample to each candidate row, [n, c].
    let distances_to = |rows: &[i64]| {
        let candidates = x.index_select(0, &Tensor::from_slice(rows).to_device(x.device())); // [c, d]
        crate::distance::squared_euclidean_from_norms(x, &x_sq, &candidates)
    };
    let mut chosen = vec![rng.random_range(0..n)];
    let mut nearest = distances_to(&chosen).squeeze_dim(1); // [n]
    while (chosen.len() as i64) < k {
        let weights = Vec::<f64>::try_from(nearest.to_kind(Kind::Double))?;
        let total: f64 = weights.iter().sum();
        let candidates: Vec<i64> = (0..trials)
            .map(|_| {
                if total > 0.0 {
                    let mut target = rng.random::<f64>() * total;
                    weights
                        .iter()
                        .position(|&w| {
                            target -= w;
                            target < 0.0
                        })
                        .unwrap_or(weights.len() - 1) as i64
                } else {
                    rng.random_range(0..n)
                }
            })
            .collect();
        let improved = nearest.unsqueeze(1).minimum(&distances_to(&candidates)); // [n, c]
        let best = match trials {
            1 => 0,
            _ => improved.sum_dim_intlist(0, false, Kind::Double).argmin(0, false).int64_value(&[]),
        };
        chosen.push(candidates[best as usize]);
        nearest = improved.select(1, best);
    }
    Ok(x.index_select(0, &Tensor::from_slice(&chosen).to_device(x.device())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid_data() -> Tensor {
        let v: Vec<f32> = (0..40).map(|i| i as f32).collect();
        Tensor::from_slice(&v).view([1, 20, 2])
    }

    #[test]
    fn same_seed_same_prototypes_and_samples_come_from_data() {
        let x = grid_data();
        for init in [PrototypeInit::DataSamples, PrototypeInit::UniformBox, PrototypeInit::KMeansPlusPlus] {
            let a = init.draw(&x, 5, &[7]).unwrap();
            let b = init.draw(&x, 5, &[7]).unwrap();
            assert_eq!(a.size(), vec![1, 5, 2]);
            assert!(a.equal(&b), "{init:?} must be reproducible");
            let lo = x.amin(1, false);
            let hi = x.amax(1, false);
            assert!(bool::try_from(a.ge_tensor(&lo.unsqueeze(1)).all()).unwrap());
            assert!(bool::try_from(a.le_tensor(&hi.unsqueeze(1)).all()).unwrap());
        }
    }

    #[test]
    fn glorot_uniform_stays_within_its_limit() {
        let p = PrototypeInit::GlorotUniform.draw(&grid_data(), 4, &[1]).unwrap();
        let limit = (6.0f64 / 6.0).sqrt();
        assert!(p.abs().max().double_value(&[]) <= limit);
        assert!(p.abs().max().double_value(&[]) > 0.0);
        assert!(p.equal(&PrototypeInit::GlorotUniform.draw(&grid_data(), 4, &[1]).unwrap()), "reproducible");
    }

    #[test]
    fn kmeans_plus_plus_picks_distinct_points_when_possible() {
        let x = grid_data();
        let p = PrototypeInit::KMeansPlusPlus.draw(&x, 20, &[3]).unwrap().squeeze_dim(0);
        let d = crate::distance::squared_euclidean(&p, &p) + Tensor::eye(20, (Kind::Float, tch::Device::Cpu)) * 1e9;
        assert!(d.min().double_value(&[]) > 0.0, "all 20 samples chosen once");
    }

    #[test]
    fn seed_count_must_match_replicas() {
        assert!(PrototypeInit::DataSamples.draw(&grid_data(), 3, &[1, 2]).is_err());
        assert!(PrototypeInit::DataSamples.draw(&grid_data(), 0, &[1]).is_err());
    }
}
