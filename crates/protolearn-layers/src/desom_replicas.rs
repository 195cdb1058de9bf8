//! Seeds of the dense DESOM (paper 002, Sec. 3) as one tensor program: every variable of `S`
//! single models stacked along a leading replica dimension, the dense layers as batched matrix
//! products (`baddbmm`), the SOM as `[S, K, L]` prototypes. The replicas never meet: each sees its
//! own minibatch (`x` is `[S, b, D]`), the loss has one value per replica (`[S]`) and the gradient
//! of their sum with respect to replica `r`'s variables is that of replica `r`'s loss; Adam and SGD
//! act element-wise. So a step of replica `r` is the step of the single model of its seed, up to
//! float32 rounding (the batched and the plain matrix products sum in different orders), while
//! `S` small models fill a device that one of them leaves mostly idle. Over many steps those
//! rounding differences grow as between any two float32 kernels (measured sizes: the module docs
//! of `protolearn_train::desom_seeds`).
//!
//! ```
//! use protolearn_layers::autoencoder::{AutoencoderConfig, DenseConfig};
//! use protolearn_layers::desom::DesomConfig;
//! use protolearn_layers::desom_replicas::{copy_replica, DesomReplicas};
//! use protolearn_layers::som::SomConfig;
//! use protolearn_metrics::{Boundary, Grid, Lattice};
//! use tch::{nn, Device, Kind, Tensor};
//!
//! let cfg = DesomConfig {
//!     autoencoder: AutoencoderConfig::Dense(DenseConfig { input_dim: 4, hidden: vec![3], latent_dim: 2 }),
//!     som: SomConfig { grid: Grid::new(2, 2, Lattice::Rectangular, Boundary::Bounded).unwrap(), init: Default::default(), neighbourhood: Default::default(), map_distance: Default::default() },
//!     gamma: 1e-3,
//! };
//! tch::manual_seed(0);
//! let x = Tensor::rand([16, 4], (Kind::Float, Device::Cpu));
//! // Two single models (seeds 0 and 1), stacked into one program.
//! let singles: Vec<nn::VarStore> = (0..2).map(|_| nn::VarStore::new(Device::Cpu)).collect();
//! let models: Vec<_> = singles.iter().zip([0, 1]).map(|(vs, seed)| cfg.build(&vs.root(), &x, seed).unwrap()).collect();
//! let vs = nn::VarStore::new(Device::Cpu);
//! let replicas = DesomReplicas::stack(&vs, &singles.iter().collect::<Vec<_>>(), &cfg).unwrap();
//! let batches = Tensor::stack(&[x.narrow(0, 0, 8), x.narrow(0, 8, 8)], 0); // [2, 8, 4]: one batch per replica
//! let loss = replicas.loss(&batches, 2.0).unwrap();
//! assert_eq!(loss.total.size(), vec![2]);
//! let single = models[1].loss(&x.narrow(0, 8, 8), 2.0).unwrap();
//! assert!((loss.total.double_value(&[1]) - single.total.double_value(&[])).abs() < 1e-6);
//! copy_replica(&vs, 1, &singles[1]).unwrap(); // trained replica 1 back into its single model
//! ```

use crate::autoencoder::in_chunks;
use crate::autoencoder::params::{mlp, Affine};
use crate::autoencoder::{AutoencoderConfig, DenseConfig};
use crate::desom::{DesomConfig, DesomLoss, JointLoss};
use crate::distance::squared_euclidean;
use crate::error::{expect_dims, Error, Result};
use crate::som::layer::{grid_distance_tensor, neighbourhood_rows};
use crate::som::{som_distortion, Neighbourhood};
use protolearn_metrics::Grid;
use std::collections::HashMap;
use tch::{nn, Kind, Tensor};

/// One dense layer of every replica, `y_r = x_r W_r^T + b_r`.
#[derive(Debug)]
struct ReplicaDense {
    /// `[S, out, in]`.
    weight: Tensor,
    /// `[S, out]`.
    bias: Tensor,
}

impl Affine for ReplicaDense {
    /// `x`: `[S, n, in]` → `[S, n, out]`.
    fn forward(&self, x: &Tensor) -> Tensor {
        self.bias.unsqueeze(1).baddbmm(x, &self.weight.transpose(1, 2), 1, 1)
    }
}

/// `S` dense DESOMs (paper 002, Sec. 3.1: autoencoder `f`, `g`, prototypes `m_k` in latent space)
/// as one model whose variables carry a leading replica dimension (see the module docs).
#[derive(Debug)]
pub struct DesomReplicas {
    encoder: Vec<ReplicaDense>,
    decoder: Vec<ReplicaDense>,
    /// Prototypes `[S, K, L]` (trainable; variable `som.weight`).
    pub prototypes: Tensor,
    grid: Grid,
    grid_distances: Tensor,
    neighbourhood: Neighbourhood,
    gamma: f64,
    input_dim: i64,
}

impl DesomReplicas {
    /// Stacks single dense DESOMs: `singles[r]` holds the variables of replica `r`, a model of
    /// `config` built at the root of its store ([`DesomConfig::build`]). Creates in `vs`, at its
    /// root, one trainable variable `[S, ...]` per name (the same names: `ae.encoder.0.weight`,
    /// ..., `som.weight`) and the model reading them.
    pub fn stack(vs: &nn::VarStore, singles: &[&nn::VarStore], config: &DesomConfig) -> Result<Self> {
        let dense = Self::dense_config(config)?;
        let Some(first) = singles.first() else {
            return Err(Error::InvalidConfig { field: "replicas", expected: "at least one single model".into(), found: "none".into() });
        };
        let maps: Vec<HashMap<String, Tensor>> = singles.iter().map(|s| s.variables()).collect();
        let mut names: Vec<String> = first.variables().into_keys().collect();
        names.sort();
        let mut stacked = HashMap::new();
        for name in names {
            let parts = maps.iter().map(|m| replica_part(m, &name, &maps[0][&name])).collect::<Result<Vec<_>>>()?;
            let joined = Tensor::f_stack(&parts, 0)?.f_to_device(vs.device())?;
            let mut segments: Vec<&str> = name.split('.').collect();
            let leaf = segments.pop().unwrap_or_default();
            let path = segments.iter().fold(vs.root(), |path, segment| path / *segment);
            stacked.insert(name.clone(), path.f_var_copy(leaf, &joined)?);
        }
        let variable = |name: String| {
            stacked.get(&name).map(Tensor::shallow_clone).ok_or(Error::InvalidConfig {
                field: "replicas",
                expected: format!("a variable `{name}` in the single models (built by `DesomConfig::build` at a store's root)"),
                found: "none".into(),
            })
        };
        let layers = |side: &str| {
            (0..=dense.hidden.len())
                .map(|i| {
                    Ok(ReplicaDense { weight: variable(format!("ae.{side}.{i}.weight"))?, bias: variable(format!("ae.{side}.{i}.bias"))? })
                })
                .collect::<Result<Vec<_>>>()
        };
        let som = &config.som;
        Ok(DesomReplicas {
            encoder: layers("encoder")?,
            decoder: layers("decoder")?,
            prototypes: variable("som.weight".into())?,
            grid: som.grid,
            grid_distances: grid_distance_tensor(&som.grid, som.map_distance, vs.device())?,
            neighbourhood: som.neighbourhood,
            gamma: config.gamma,
            input_dim: dense.input_dim,
        })
    }

    /// The dense autoencoder of `config`, or an error for the backbones whose replicas are not
    /// built (convolutional and sequence autoencoders).
    pub fn dense_config(config: &DesomConfig) -> Result<&DenseConfig> {
        match &config.autoencoder {
            AutoencoderConfig::Dense(dense) => Ok(dense),
            other => Err(Error::InvalidConfig {
                field: "autoencoder",
                expected: "the dense autoencoder (replicas of the other backbones are not built)".into(),
                found: format!("{other:?}").split('(').next().unwrap_or_default().to_owned(),
            }),
        }
    }

    /// The number of replicas `S`.
    pub fn replicas(&self) -> i64 {
        self.prototypes.size()[0]
    }

    /// The map grid (shared by every replica).
    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    /// Codes `z_r = f_r(x_r)` of every replica's batch, with gradient.
    ///
    /// # Shapes
    /// `x`: `[S, b, D]` → `[S, b, L]`.
    pub fn encode(&self, x: &Tensor) -> Result<Tensor> {
        let size = expect_dims(x, 3, "replicated DESOM input", "[replicas, b, D]")?;
        if size[0] != self.replicas() || size[2] != self.input_dim {
            let expected = format!("[{}, b, {}]", self.replicas(), self.input_dim);
            return Err(Error::Shape { what: "replicated DESOM input", expected, got: size });
        }
        Ok(mlp(&self.encoder, x))
    }

    /// Codes of the same samples under every replica, without gradient, in chunks.
    ///
    /// # Shapes
    /// `x`: `[n, D]` → `[S, n, L]`.
    pub fn encode_all(&self, x: &Tensor) -> Result<Tensor> {
        expect_dims(x, 2, "samples to encode", "[n, D]")?;
        let s = self.replicas();
        in_chunks(x, 1, |chunk| self.encode(&chunk.unsqueeze(0).expand([s, -1, -1], false).contiguous()))
    }

    /// Squared latent distances `||z_ri - m_rk||^2` of every replica's codes to its prototypes.
    ///
    /// # Shapes
    /// `z`: `[S, n, L]` → `[S, n, K]`.
    pub fn distances(&self, z: &Tensor) -> Tensor {
        squared_euclidean(z, &self.prototypes)
    }

    /// `L = L_R + γ L_SOM` of every replica on its own batch at temperature `T` (paper 002,
    /// Eq. 4), as [`crate::desom::Desom::loss`] replica by replica: BMUs and weights
    /// `w_ik = K^T(δ(b_i, k))` held fixed within the step, `L_R` the mean squared error over the
    /// replica's samples and features.
    ///
    /// # Shapes
    /// `x`: `[S, b, D]` → terms `[S]`.
    pub fn loss(&self, x: &Tensor, temperature: f64) -> Result<DesomLoss> {
        let z = self.encode(x)?; // [S, b, L]
        let reconstruction = (mlp(&self.decoder, &z) - x).square().mean_dim([1i64, 2].as_slice(), false, Kind::Float); // [S]
        let dist = self.distances(&z); // [S, b, K]
        let bmus = crate::distance::argmin(&dist.detach(), -1); // [S, b]
        let weights = neighbourhood_rows(&self.grid_distances, self.neighbourhood, &bmus, temperature)?; // [S, b, K]
        let som = som_distortion(&dist, &weights); // [S]
        let total = &reconstruction + &som * self.gamma; // [S]
        Ok(DesomLoss { total, reconstruction, som })
    }
}

impl JointLoss for DesomReplicas {
    fn joint_loss(&self, x: &Tensor, temperature: f64) -> Result<DesomLoss> {
        self.loss(x, temperature)
    }
}

/// Variable `name` of one single model, checked against the first model's (`like`).
fn replica_part(variables: &HashMap<String, Tensor>, name: &str, like: &Tensor) -> Result<Tensor> {
    let part = variables.get(name).ok_or_else(|| Error::InvalidConfig {
        field: "replicas",
        expected: format!("single models with the same variables (`{name}` in every one)"),
        found: "a model without it".into(),
    })?;
    if part.size() != like.size() {
        return Err(Error::Shape {
            what: "replica variable",
            expected: format!("{:?} (as in the first model)", like.size()),
            got: part.size(),
        });
    }
    Ok(part.detach())
}

/// Copies replica `r` of the stacked variables in `replicas` (made by [`DesomReplicas::stack`])
/// into the single model's store `single`, variable by name: the trained replica becomes an
/// ordinary [`crate::desom::Desom`] again.
pub fn copy_replica(replicas: &nn::VarStore, r: i64, single: &nn::VarStore) -> Result<()> {
    let stacked = replicas.variables();
    let _guard = tch::no_grad_guard();
    for (name, mut target) in single.variables() {
        let source = stacked.get(&name).ok_or_else(|| Error::InvalidConfig {
            field: "replicas",
            expected: format!("a stacked variable `{name}`"),
            found: "none".into(),
        })?;
        let s = source.size()[0];
        if !(0..s).contains(&r) {
            return Err(Error::InvalidConfig { field: "replica", expected: format!("an index in 0..{s}"), found: r.to_string() });
        }
        target.f_copy_(&source.f_select(0, r)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::som::SomConfig;
    use protolearn_metrics::{Boundary, Lattice};
    use tch::Device;

    fn config(autoencoder: AutoencoderConfig) -> DesomConfig {
        let grid = Grid::new(2, 3, Lattice::Rectangular, Boundary::Bounded).unwrap();
        DesomConfig {
            autoencoder,
            som: SomConfig { grid, init: Default::default(), neighbourhood: Default::default(), map_distance: Default::default() },
            gamma: 0.1,
        }
    }

    fn dense() -> AutoencoderConfig {
        AutoencoderConfig::Dense(DenseConfig { input_dim: 5, hidden: vec![4, 3], latent_dim: 2 })
    }

    /// Every loss term, its gradient and the codes of replica `r` equal those of single model `r`
    /// on the same batch. Tolerance 1e-5: the batched and the plain matrix products round in
    /// float32 (values of order 1).
    #[test]
    fn replicas_equal_their_single_models() {
        let cfg = config(dense());
        let x = Tensor::randn([30, 5], (Kind::Float, Device::Cpu));
        let stores: Vec<nn::VarStore> = (0..3).map(|_| nn::VarStore::new(Device::Cpu)).collect();
        let models: Vec<_> = stores.iter().zip([4u64, 9, 2]).map(|(vs, seed)| cfg.build(&vs.root(), &x, seed).unwrap()).collect();
        let vs = nn::VarStore::new(Device::Cpu);
        let replicas = DesomReplicas::stack(&vs, &stores.iter().collect::<Vec<_>>(), &cfg).unwrap();
        assert_eq!(replicas.replicas(), 3);
        let batch = |r: i64| x.narrow(0, 10 * r, 10);
        let batches = Tensor::stack(&[batch(0), batch(1), batch(2)], 0); // [3, 10, 5]
        let loss = replicas.loss(&batches, 1.5).unwrap();
        loss.total.sum(Kind::Float).backward();
        let codes = replicas.encode_all(&x).unwrap(); // [3, 30, 2]
        let stacked = vs.variables();
        for (r, model) in models.iter().enumerate() {
            let single = model.loss(&batch(r as i64), 1.5).unwrap();
            for (a, b) in [(&loss.total, &single.total), (&loss.reconstruction, &single.reconstruction), (&loss.som, &single.som)] {
                assert!((a.double_value(&[r as i64]) - b.double_value(&[])).abs() < 1e-5);
            }
            assert!(codes.get(r as i64).allclose(&model.encode_all(&x).unwrap(), 1e-5, 1e-5, false));
            single.total.backward();
            for (name, variable) in stores[r].variables() {
                let grad = stacked[&name].grad().get(r as i64);
                assert!(grad.allclose(&variable.grad(), 1e-5, 1e-5, false), "gradient of {name}, replica {r}");
            }
        }
    }

    #[test]
    fn copy_replica_restores_a_single_model() {
        let cfg = config(dense());
        let x = Tensor::randn([12, 5], (Kind::Float, Device::Cpu));
        let stores: Vec<nn::VarStore> = (0..2).map(|_| nn::VarStore::new(Device::Cpu)).collect();
        let models: Vec<_> = stores.iter().zip([1u64, 2]).map(|(vs, seed)| cfg.build(&vs.root(), &x, seed).unwrap()).collect();
        let vs = nn::VarStore::new(Device::Cpu);
        let replicas = DesomReplicas::stack(&vs, &stores.iter().collect::<Vec<_>>(), &cfg).unwrap();
        tch::no_grad(|| {
            let _ = replicas.prototypes.get(1).fill_(7.0);
        });
        copy_replica(&vs, 1, &stores[0]).unwrap();
        assert!(models[0].som.weight.allclose(&Tensor::full([6, 2], 7.0, (Kind::Float, Device::Cpu)), 0.0, 0.0, false));
        assert!(models[0].encode_all(&x).unwrap().allclose(&models[1].encode_all(&x).unwrap(), 0.0, 0.0, false), "replica 1's autoencoder");
        assert!(copy_replica(&vs, 2, &stores[0]).is_err());
    }

    #[test]
    fn only_the_dense_backbone_and_matching_inputs() {
        let conv = config(AutoencoderConfig::Conv(Default::default()));
        let vs = nn::VarStore::new(Device::Cpu);
        let err = DesomReplicas::stack(&vs, &[], &conv).unwrap_err().to_string();
        assert!(err.contains("dense autoencoder") && err.contains("Conv"), "{err}");
        assert!(DesomReplicas::stack(&vs, &[], &config(dense())).is_err(), "no single model");
        let cfg = config(dense());
        let x = Tensor::randn([8, 5], (Kind::Float, Device::Cpu));
        let single = nn::VarStore::new(Device::Cpu);
        cfg.build(&single.root(), &x, 0).unwrap();
        let replicas = DesomReplicas::stack(&vs, &[&single], &cfg).unwrap();
        assert!(replicas.loss(&x, 1.0).is_err(), "[n, D] is not [S, b, D]");
        assert!(replicas.loss(&x.unsqueeze(0).narrow(2, 0, 4), 1.0).is_err(), "wrong D");
        assert!(replicas.loss(&x.unsqueeze(0), 0.0).is_err(), "T = 0");
    }
}
