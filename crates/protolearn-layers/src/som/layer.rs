//! The SOM layer (paper 002, Sec. 3.5): `K` prototypes on a map grid whose forward pass returns
//! the squared distances of the inputs to the prototypes.

use super::neighbourhood::Neighbourhood;
use crate::error::{expect_dims, Error, Result};
use crate::init::PrototypeInit;
use crate::layer::PrototypeLayer;
use crate::missing::Components;
use protolearn_metrics::Grid;
use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

/// How a SOM's prototypes start (paper 002, Sec. 3.4 and 4.2: random encoded samples by default;
/// linear (PCA) initialisation and a prior SOM as alternatives — for the latter build with any
/// init and call [`SomLayer::set_prototypes`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SomInit {
    /// `K` distinct data samples chosen uniformly ([`PrototypeInit::DataSamples`]).
    #[default]
    DataSamples,
    /// Uniform in the bounding box of the data ([`PrototypeInit::UniformBox`]).
    UniformBox,
    /// k-means++ seeding ([`PrototypeInit::KMeansPlusPlus`]); ignores the grid order.
    KMeansPlusPlus,
    /// Linear initialisation (Kohonen, *Self-Organizing Maps*, 3rd ed., Sec. 3.7): the map laid
    /// on the plane of the two leading principal axes `e_1, e_2` (eigenvalues `λ_1 >= λ_2`) of
    /// the data, unit `k` at `mean + u_k sqrt(λ_1) e_1 + v_k sqrt(λ_2) e_2`, where `(u_k, v_k)`
    /// is its planar grid position scaled to `[-1, 1]` along each axis, the grid's longer side
    /// along `e_1`. Deterministic; one-dimensional data or maps use `e_1` only.
    Pca,
}

impl SomInit {
    /// Initial prototypes `[K, L]` for `grid` from the data `x` `[n, L]`; random inits use
    /// `ChaCha8Rng::seed_from_u64(seed)`.
    pub fn draw(self, grid: &Grid, x: &Tensor, seed: u64) -> Result<Tensor> {
        expect_dims(x, 2, "SOM data", "[n, L]")?;
        let k = grid.n_units() as i64;
        let random = match self {
            SomInit::DataSamples => PrototypeInit::DataSamples,
            SomInit::UniformBox => PrototypeInit::UniformBox,
            SomInit::KMeansPlusPlus => PrototypeInit::KMeansPlusPlus,
            SomInit::Pca => return linear_init(grid, x),
        };
        Ok(random.draw(&x.unsqueeze(0), k, &[seed])?.squeeze_dim(0).to_kind(Kind::Float))
    }
}

/// The linear (PCA) initialisation of [`SomInit::Pca`].
fn linear_init(grid: &Grid, x: &Tensor) -> Result<Tensor> {
    let (n, dim) = (x.size()[0], x.size()[1]);
    if n < 2 {
        return Err(Error::InvalidConfig {
            field: "init",
            expected: "at least 2 samples for the PCA initialisation".into(),
            found: n.to_string(),
        });
    }
    let x = x.to_kind(Kind::Double);
    let mean = x.mean_dim(0, true, Kind::Double); // [1, L]
    let centred = &x - &mean; // [n, L]
    let covariance = centred.transpose(0, 1).f_matmul(&centred)? / (n - 1) as f64; // [L, L]
    let (eigenvalues, eigenvectors) = covariance.f_linalg_eigh("L")?; // ascending, [L], [L, L]
                                                                      // Planar unit positions scaled to [-1, 1] per axis; an axis of zero extent stays at 0.
    let positions: Vec<[f64; 2]> = (0..grid.n_units())
        .map(|u| grid.position(u))
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::InvalidConfig { field: "grid", expected: "positions of every unit".into(), found: e.to_string() })?;
    let scaled = |axis: usize| -> Vec<f64> {
        let (lo, hi) = positions.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| (lo.min(p[axis]), hi.max(p[axis])));
        positions.iter().map(|p| if hi > lo { 2.0 * (p[axis] - lo) / (hi - lo) - 1.0 } else { 0.0 }).collect()
    };
    // Longer side of the map (x: columns, y: rows) along the first principal axis.
    let (long, short) = if grid.cols() >= grid.rows() { (scaled(0), scaled(1)) } else { (scaled(1), scaled(0)) };
    let mut prototypes = mean.expand([grid.n_units() as i64, dim], false).copy(); // [K, L]
    for (rank, coords) in [(1, long), (2, short)] {
        if rank > dim {
            break;
        }
        let lambda = eigenvalues.f_double_value(&[dim - rank])?.max(0.0);
        let axis = eigenvectors.f_select(1, dim - rank)?.unsqueeze(0); // [1, L]
        let u = Tensor::f_from_slice(&coords)?.to_device(x.device()).unsqueeze(1); // [K, 1]
        prototypes += u * axis * lambda.sqrt();
    }
    Ok(prototypes.to_kind(Kind::Float))
}

/// Configuration of a SOM layer (paper 002, Sec. 3.5). Build it with [`SomConfig::build`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SomConfig {
    /// The map: `K = rows * cols` units, lattice, boundary (paper 002: rectangular, Manhattan `δ`).
    pub grid: Grid,
    /// Initial prototypes (paper 002, Sec. 3.4: "at random with an encoded data sample").
    #[serde(default)]
    pub init: SomInit,
    /// The neighbourhood function `K^T` (paper 002: Gaussian).
    #[serde(default)]
    pub neighbourhood: Neighbourhood,
    /// The map distance `d` the neighbourhood `K^T(d)` is a function of (paper 002: the grid's
    /// topographic distance `δ`).
    #[serde(default)]
    pub map_distance: MapDistance,
}

/// The distance between units that a SOM's neighbourhood `K^T(d)` takes. The topographic error
/// and the U-matrix always use the grid's adjacency, whatever this is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MapDistance {
    /// The grid's topographic distance `δ` ([`Grid::distance`]): Manhattan `|Δrow| + |Δcol|` on
    /// rectangular grids, steps between hexagons on hexagonal ones (paper 002, Sec. 2.1).
    #[default]
    Topographic,
    /// The Euclidean distance between the units' planar positions ([`Grid::position`]:
    /// adjacent units at distance 1), as Kohonen's SOM and minisom, somoclu, XPySom and torchsom
    /// use it; bounded grids only.
    Euclidean,
}

impl SomConfig {
    /// Builds the layer under `path` (variable `weight`, `[K, L]`) with prototypes drawn from the
    /// data `x` by `init` (random inits seeded with `ChaCha8Rng::seed_from_u64(seed)`).
    ///
    /// # Shapes
    /// `x`: `[n, L]`.
    pub fn build(&self, path: &nn::Path, x: &Tensor, seed: u64) -> Result<SomLayer> {
        let initial = self.init.draw(&self.grid, x, seed)?; // [K, L]
        self.build_from(path, &initial)
    }

    /// Builds the layer under `path` with the given prototypes `[K, L]` instead of drawing them
    /// from data (a saved map restored without its training data; a prior map, paper 002, Sec. 4.2).
    pub fn build_from(&self, path: &nn::Path, prototypes: &Tensor) -> Result<SomLayer> {
        let k = self.grid.n_units() as i64;
        let size = expect_dims(prototypes, 2, "SOM prototypes", "[K, L]")?;
        if size[0] != k {
            return Err(Error::Shape { what: "SOM prototypes", expected: format!("[{k}, L] for the {k}-unit grid"), got: size });
        }
        let grid_distances = grid_distance_tensor(&self.grid, self.map_distance, path.device())?;
        let weight = path.var_copy("weight", &prototypes.to_kind(Kind::Float));
        Ok(SomLayer { weight, grid: self.grid, grid_distances, neighbourhood: self.neighbourhood, components: Components::All })
    }
}

impl SomConfig {
    /// The layer on a caller's prototype tensor `[K, L]`, shared, not copied: its gradient flows
    /// into that tensor (a map whose parameters live elsewhere, e.g. in a PyTorch module). The
    /// grid distances are made on the tensor's device.
    pub fn layer_on(&self, prototypes: &Tensor) -> Result<SomLayer> {
        let k = self.grid.n_units() as i64;
        let size = expect_dims(prototypes, 2, "SOM prototypes", "[K, L]")?;
        if size[0] != k {
            return Err(Error::Shape { what: "SOM prototypes", expected: format!("[{k}, L] for the {k}-unit grid"), got: size });
        }
        let grid_distances = grid_distance_tensor(&self.grid, self.map_distance, prototypes.device())?.to_kind(prototypes.kind());
        Ok(SomLayer {
            weight: prototypes.shallow_clone(),
            grid: self.grid,
            grid_distances,
            neighbourhood: self.neighbourhood,
            components: Components::All,
        })
    }
}

/// The `map_distance` between the units of `grid` as a float `[K, K]` tensor on `device`.
/// `InvalidConfig` for a Euclidean distance on a toroidal grid.
pub(crate) fn grid_distance_tensor(grid: &Grid, map_distance: MapDistance, device: tch::Device) -> Result<Tensor> {
    let k = grid.n_units() as i64;
    let d: Vec<f32> = match map_distance {
        MapDistance::Topographic => grid.distance_matrix().into_iter().map(|v| v as f32).collect(),
        MapDistance::Euclidean => {
            if grid.boundary() != protolearn_metrics::Boundary::Bounded {
                return Err(Error::InvalidConfig {
                    field: "map_distance",
                    expected: "a bounded grid for the euclidean map distance (or map_distance = \"topographic\")".into(),
                    found: "a toroidal grid".into(),
                });
            }
            // Every unit below n_units() has a position; an error here would be a grid bug.
            let positions = (0..grid.n_units())
                .map(|u| grid.position(u))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| Error::InvalidConfig { field: "grid", expected: "a valid grid".into(), found: e.to_string() })?;
            positions.iter().flat_map(|a| positions.iter().map(move |b| (a[0] - b[0]).hypot(a[1] - b[1]) as f32)).collect()
        }
    };
    Ok(Tensor::f_from_slice(&d)?.f_view([k, k])?.to_device(device))
}

/// Neighbourhood weights `w_ik = K^T(δ(b_i, k))` (paper 002, Sec. 3.4) for best units `bmus` of
/// any shape, from the grid distances `[K, K]`; without gradient.
///
/// # Shapes
/// `bmus`: `[..]` (int64) → `[.., K]`.
pub(crate) fn neighbourhood_rows(grid_distances: &Tensor, neighbourhood: Neighbourhood, bmus: &Tensor, temperature: f64) -> Result<Tensor> {
    if temperature <= 0.0 || temperature.is_nan() {
        return Err(Error::InvalidConfig { field: "temperature", expected: "T > 0".into(), found: temperature.to_string() });
    }
    let _guard = tch::no_grad_guard();
    let mut shape = bmus.size();
    shape.push(grid_distances.size()[1]);
    let rows = grid_distances.f_index_select(0, &bmus.reshape([-1]))?.f_view(shape.as_slice())?; // [.., K]
    Ok(neighbourhood.apply(&rows, temperature))
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
    components: Components,
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

    /// Which input components the distances sum over ([`Components::All`] unless set).
    pub fn components(&self) -> Components {
        self.components
    }

    /// The same layer comparing inputs over `components`: with [`Components::Observed`], `NaN`
    /// input components are missing, in the BMU search, the distances and the batch and online
    /// updates (the SOM Toolbox's missing-value SOM).
    pub fn with_components(mut self, components: Components) -> Self {
        self.components = components;
        self
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
        neighbourhood_rows(&self.grid_distances, self.neighbourhood, bmus, temperature)
    }

    /// Replaces the prototypes with `prior` `[K, L]` (e.g. the weights of a previously trained
    /// SOM, paper 002, Sec. 4.2), without gradient.
    pub fn set_prototypes(&mut self, prior: &Tensor) -> Result<()> {
        let want = self.weight.size();
        if prior.size() != want {
            return Err(Error::Shape { what: "prior SOM prototypes", expected: format!("{want:?}"), got: prior.size() });
        }
        let _guard = tch::no_grad_guard();
        self.weight.f_copy_(&prior.to_kind(Kind::Float).to_device(self.weight.device()))?;
        Ok(())
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
    /// Squared distances `||x_i - m_k||^2` (paper 002, Sec. 3.5), over the observed components
    /// only with [`Components::Observed`] ([`crate::missing::squared_euclidean_observed`]).
    ///
    /// # Shapes
    /// `x`: `[n, L]` → `[n, K]`; a `[replicas, n, L]` input broadcasts to `[replicas, n, K]`.
    fn forward(&self, x: &Tensor) -> Tensor {
        self.components.squared_euclidean(x, &self.weight)
    }
}

impl PrototypeLayer for SomLayer {
    /// The prototypes `[K, L]` (one map, no replica dimension; they do not depend on `x`).
    fn prototypes(&self, _x: &Tensor) -> Tensor {
        self.weight.shallow_clone()
    }

    /// The BMUs, for a `[n, L]` input from one `addmm` without the inputs' row norms
    /// ([`crate::distance::nearest_index`]; the batch SOM's hot path), else from `forward`.
    fn winners(&self, x: &Tensor) -> Tensor {
        let _guard = tch::no_grad_guard();
        match x.dim() {
            2 if self.components == Components::All => crate::distance::nearest_index(x, &self.weight),
            _ => crate::distance::argmin(&nn::Module::forward(self, x), -1),
        }
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
        SomConfig { grid, init: SomInit::DataSamples, neighbourhood: Neighbourhood::Gaussian, map_distance: Default::default() }
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

    /// Data on a line-free ellipse: x spread 3 along (1, 1)/sqrt(2), 1 along (1, -1)/sqrt(2),
    /// centred at (2, -1). The PCA map must be centred on the mean, its long side along the
    /// first axis with corners at ±sqrt(λ_1), and ordered like the grid.
    #[test]
    fn pca_init_lays_the_grid_on_the_principal_plane() {
        let mut v = Vec::new();
        for i in 0..40 {
            let t = f64::from(i) * std::f64::consts::TAU / 40.0;
            let (a, b) = (3.0 * t.cos(), t.sin());
            v.extend([(2.0 + (a + b) / 2f64.sqrt()) as f32, (-1.0 + (a - b) / 2f64.sqrt()) as f32]);
        }
        let x = Tensor::from_slice(&v).view([40, 2]);
        let grid = Grid::new(2, 3, Lattice::Rectangular, Boundary::Bounded).unwrap();
        let w = SomInit::Pca.draw(&grid, &x, 0).unwrap(); // [6, 2], rows: unit 0..5
        let w: Vec<f32> = Vec::try_from(w.flatten(0, -1)).unwrap();
        let unit = |k: usize| (f64::from(w[2 * k]), f64::from(w[2 * k + 1]));
        // Mean of the six prototypes = data mean (2, -1) (the scaled positions are symmetric).
        let (mx, my) = (0..6).map(unit).fold((0.0, 0.0), |(a, b), (p, q)| (a + p / 6.0, b + q / 6.0));
        assert!((mx - 2.0).abs() < 1e-5 && (my + 1.0).abs() < 1e-5, "mean ({mx}, {my})");
        // Variance along the major axis of points 3 cos t: 4.5 * 40 / 39 (sample covariance).
        let l1 = (4.5f64 * 40.0 / 39.0).sqrt();
        let l2 = (0.5f64 * 40.0 / 39.0).sqrt();
        // Units 0 and 2 are the ends of the first row (the long side, 3 columns): they differ by
        // 2 sqrt(λ_1) along (1, 1)/sqrt(2) up to the eigenvector's sign.
        let ((x0, y0), (x2, y2)) = (unit(0), unit(2));
        let d = ((x2 - x0).powi(2) + (y2 - y0).powi(2)).sqrt();
        assert!((d - 2.0 * l1).abs() < 1e-4, "long side {d} vs {}", 2.0 * l1);
        assert!(((x2 - x0) - (y2 - y0)).abs() < 1e-4, "long side along (1, 1)");
        // Units 0 and 3 (same column, the two rows) differ by 2 sqrt(λ_2) along (1, -1).
        let (x3, y3) = unit(3);
        let d = ((x3 - x0).powi(2) + (y3 - y0).powi(2)).sqrt();
        assert!((d - 2.0 * l2).abs() < 1e-4, "short side {d} vs {}", 2.0 * l2);
        assert!(((x3 - x0) + (y3 - y0)).abs() < 1e-4, "short side along (1, -1)");
        assert!(SomInit::Pca.draw(&grid, &x.narrow(0, 0, 1), 0).is_err(), "one sample has no covariance");
    }

    #[test]
    fn prior_prototypes_replace_the_weights() {
        let vs = nn::VarStore::new(Device::Cpu);
        let mut som = layer(&vs);
        let prior = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]).view([4, 2]);
        som.set_prototypes(&prior).unwrap();
        assert!(som.weight.allclose(&prior, 0.0, 0.0, false));
        assert!(som.set_prototypes(&prior.narrow(0, 0, 3)).is_err());
    }

    #[test]
    fn euclidean_map_distance_is_planar_and_needs_a_bounded_grid() {
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let x = Tensor::zeros([9, 2], (Kind::Float, tch::Device::Cpu));
        let config =
            |grid, map_distance| SomConfig { grid, init: SomInit::DataSamples, neighbourhood: Neighbourhood::Gaussian, map_distance };
        let square = Grid::new(3, 3, Lattice::Rectangular, Boundary::Bounded).unwrap();
        let topographic = config(square, MapDistance::Topographic).build(&vs.root(), &x, 0).unwrap();
        let euclidean = config(square, MapDistance::Euclidean).build(&vs.root(), &x, 0).unwrap();
        // Unit 0 = (0, 0); unit 4 = (1, 1), unit 8 = (2, 2), unit 1 = (0, 1).
        assert_eq!(topographic.grid_distances.double_value(&[0, 4]), 2.0);
        assert!((euclidean.grid_distances.double_value(&[0, 4]) - 2f64.sqrt()).abs() < 1e-6);
        assert!((euclidean.grid_distances.double_value(&[0, 8]) - 8f64.sqrt()).abs() < 1e-6);
        assert_eq!(euclidean.grid_distances.double_value(&[0, 1]), 1.0);
        let torus = Grid::new(3, 3, Lattice::Rectangular, Boundary::Toroidal).unwrap();
        let err = config(torus, MapDistance::Euclidean).build(&vs.root(), &x, 0).unwrap_err();
        assert!(err.to_string().contains("map_distance"), "{err}");
    }

    #[test]
    fn config_round_trips_through_toml() {
        let cfg = SomConfig {
            grid: Grid::new(4, 4, Lattice::Hexagonal, Boundary::Toroidal).unwrap(),
            init: SomInit::KMeansPlusPlus,
            neighbourhood: Neighbourhood::MexicanHat,
            map_distance: MapDistance::Topographic,
        };
        let text = toml::to_string(&cfg).unwrap();
        assert_eq!(toml::from_str::<SomConfig>(&text).unwrap(), cfg);
        let minimal = "[grid]\nrows = 2\ncols = 3\nlattice = \"rectangular\"\n";
        assert_eq!(toml::from_str::<SomConfig>(minimal).unwrap().neighbourhood, Neighbourhood::Gaussian);
        assert_eq!(toml::from_str::<SomConfig>(minimal).unwrap().map_distance, MapDistance::Topographic);
    }
}
