//! The SOM layer (paper 002, Sec. 3.5): `K` prototypes on a map grid whose forward pass returns
//! the squared distances of the inputs to the prototypes.

use super::neighbourhood::Neighbourhood;
use crate::distance::squared_euclidean;
use crate::error::{expect_dims, Error, Result};
use crate::init::PrototypeInit;
use crate::layer::PrototypeLayer;
use protolearn_metrics::Grid;
use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

/// Configuration of a SOM layer (paper 002, Sec. 3.5). Build it with [`SomConfig::build`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SomConfig {
    /// The map: `K = rows * cols` units, lattice, boundary (paper 002: rectangular, Manhattan `δ`).
    pub grid: Grid,
    /// Initial prototypes (paper 002, Sec. 3.4: "at random with an encoded data sample").
    #[serde(default)]
    pub init: PrototypeInit,
    /// The neighbourhood function `K^T` (paper 002: Gaussian).
    #[serde(default)]
    pub neighbourhood: Neighbourhood,
}

impl SomConfig {
    /// Builds the layer under `path` (variable `weight`, `[K, L]`) with prototypes drawn from the
    /// data `x` by `init` seeded with `ChaCha8Rng::seed_from_u64(seed)`.
    ///
    /// # Shapes
    /// `x`: `[n, L]`.
    pub fn build(&self, path: &nn::Path, x: &Tensor, seed: u64) -> Result<SomLayer> {
        expect_dims(x, 2, "SOM data", "[n, L]")?;
        let k = self.grid.n_units() as i64;
        let initial = self.init.draw(&x.unsqueeze(0), k, &[seed])?.squeeze_dim(0); // [K, L]
        let weight = path.var_copy("weight", &initial.to_kind(Kind::Float));
        let d: Vec<f32> = self.grid.distance_matrix().into_iter().map(|v| v as f32).collect();
        let grid_distances = Tensor::f_from_slice(&d)?.f_view([k, k])?.to_device(path.device()); // [K, K]
        Ok(SomLayer { weight, grid: self.grid, grid_distances, neighbourhood: self.neighbourhood })
    }
}

/// A self-organizing map layer: prototypes `m_k`, `k = 1..K`, as a trainable `[K, L]` variable,
/// and the grid distances `δ(k, l)` as a `[K, K]` tensor on the same device (paper 002, Sec. 2.1, 3.5).
#[derive(Debug)]
pub struct SomLayer {
    /// Prototypes `[K, L]` (trainable).
    pub weight: Tensor,
    grid: Grid,
    grid_distances: Tensor,
    neighbourhood: Neighbourhood,
}

impl SomLayer {
    /// The map grid.
    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    /// Number of units `K`.
    pub fn n_units(&self) -> i64 {
        self.weight.size()[0]
    }

    /// The neighbourhood function.
    pub fn neighbourhood(&self) -> Neighbourhood {
        self.neighbourhood
    }

    /// Grid distances `δ(k, l)` (float), `[K, K]`.
    pub fn grid_distances(&self) -> &Tensor {
        &self.grid_distances
    }

    /// Best-matching units `b_i = argmin_k ||x_i - m_k||^2` (paper 002, Eq. 1), without gradient;
    /// ties go to the lowest index.
    ///
    /// # Shapes
    /// `x`: `[n, L]` → `[n]` (int64).
    pub fn bmus(&self, x: &Tensor) -> Result<Tensor> {
        self.check_input(x)?;
        Ok(self.winners(x))
    }

    /// Neighbourhood weights `w_ik = K^T(δ(b_i, k))` (paper 002, Sec. 3.4), without gradient.
    ///
    /// # Shapes
    /// `bmus`: `[n]` (int64) → `[n, K]`.
    pub fn neighbourhood_weights(&self, bmus: &Tensor, temperature: f64) -> Result<Tensor> {
        expect_dims(bmus, 1, "BMUs", "[n]")?;
        if temperature <= 0.0 || temperature.is_nan() {
            return Err(Error::InvalidConfig {
                field: "temperature",
                expected: "T > 0".into(),
                found: temperature.to_string(),
            });
        }
        let _guard = tch::no_grad_guard();
        let rows = self.grid_distances.f_index_select(0, bmus)?; // [n, K]
        Ok(self.neighbourhood.apply(&rows, temperature))
    }

    /// Checks that `x` is `[n, L]` with the prototypes' `L`.
    pub fn check_input(&self, x: &Tensor) -> Result<()> {
        let size = expect_dims(x, 2, "SOM input", "[n, L]")?;
        let l = self.weight.size()[1];
        if size[1] != l {
            return Err(Error::Shape { what: "SOM input", expected: format!("[n, {l}]"), got: size });
        }
        Ok(())
    }
}

impl nn::Module for SomLayer {
    /// Squared distances `||x_i - m_k||^2` (paper 002, Sec. 3.5).
    ///
    /// # Shapes
    /// `x`: `[n, L]` → `[n, K]`; a `[replicas, n, L]` input broadcasts to `[replicas, n, K]`.
    fn forward(&self, x: &Tensor) -> Tensor {
        squared_euclidean(x, &self.weight)
    }
}

impl PrototypeLayer for SomLayer {
    /// The prototypes `[K, L]` (one map, no replica dimension; they do not depend on `x`).
    fn prototypes(&self, _x: &Tensor) -> Tensor {
        self.weight.shallow_clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protolearn_metrics::{Boundary, Lattice};
    use tch::Device;

    fn layer(vs: &nn::VarStore) -> SomLayer {
        let x = Tensor::from_slice(&[0.0f32, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 5.0, 5.0]).view([5, 2]);
        let grid = Grid::new(2, 2, Lattice::Rectangular, Boundary::Bounded).unwrap();
        SomConfig { grid, init: PrototypeInit::DataSamples, neighbourhood: Neighbourhood::Gaussian }
            .build(&vs.root(), &x, 3)
            .unwrap()
    }

    #[test]
    fn shapes_bmus_and_weights() {
        let vs = nn::VarStore::new(Device::Cpu);
        let som = layer(&vs);
        let x = Tensor::from_slice(&[0.1f32, 0.1, 4.0, 4.0, 1.0, 1.0]).view([3, 2]);
        assert_eq!(nn::Module::forward(&som, &x).size(), vec![3, 4]);
        assert_eq!(som.prototypes(&x).size(), vec![4, 2]);
        let b = som.bmus(&x).unwrap();
        assert_eq!(b.size(), vec![3]);
        let w = som.neighbourhood_weights(&b, 1.0).unwrap();
        assert_eq!(w.size(), vec![3, 4]);
        assert!(!w.requires_grad());
        for i in 0..3 {
            assert_eq!(w.double_value(&[i, b.int64_value(&[i])]), 1.0, "K(b, b) = 1");
        }
        assert_eq!(Vec::<f32>::try_from(som.grid_distances().get(0)).unwrap(), vec![0.0, 1.0, 1.0, 2.0]);
        assert!(som.bmus(&x.narrow(1, 0, 1)).is_err());
        assert!(som.neighbourhood_weights(&b, 0.0).is_err());
    }

    #[test]
    fn config_round_trips_through_toml() {
        let cfg = SomConfig {
            grid: Grid::new(4, 4, Lattice::Hexagonal, Boundary::Toroidal).unwrap(),
            init: PrototypeInit::KMeansPlusPlus,
            neighbourhood: Neighbourhood::MexicanHat,
        };
        let text = toml::to_string(&cfg).unwrap();
        assert_eq!(toml::from_str::<SomConfig>(&text).unwrap(), cfg);
        let minimal = "[grid]\nrows = 2\ncols = 3\nlattice = \"rectangular\"\n";
        assert_eq!(toml::from_str::<SomConfig>(minimal).unwrap().neighbourhood, Neighbourhood::Gaussian);
    }
}
