//! Configuration of a competitive layer and its construction from data and seeds.

use super::dcl::{Dcl, DualDense};
use super::vcl::Vcl;
use crate::error::{expect_dims, Error, Result};
use crate::init::PrototypeInit;
use crate::layer::PrototypeLayer;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

/// Which competitive layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LayerKind {
    /// Vanilla Competitive Layer: prototypes are the weights.
    Vcl,
    /// Dual Competitive Layer: prototypes are the outputs of dense layers on `X^T`
    /// (deep DCL when `hidden` is not empty).
    Dcl,
}

/// How the weights of a DCL start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum DualInit {
    /// Glorot-uniform weights `U(-a, a)`, `a = sqrt(6 / (in + out))`, zero bias: the Keras
    /// default of the authors' code.
    #[default]
    Glorot,
    /// The minimum-norm linear map whose initial prototypes equal those of `init`
    /// (`W = pinv(X^T) P^T`), so VCL and DCL start from the same prototypes. Linear DCL only.
    MatchPrototypes,
}

/// Configuration of a competitive layer (paper 000). Layer configs default to the paper's values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompetitiveConfig {
    /// VCL or DCL.
    pub kind: LayerKind,
    /// Number of prototypes `k` (paper 000: 30 on the 2-D sets, `ns / 10` on MADELON).
    pub n_prototypes: i64,
    /// DCL hidden widths (tanh); empty for the single linear dual layer. MADELON deep-DCL: `[10, 10]`.
    #[serde(default)]
    pub hidden: Vec<i64>,
    /// DCL bias on every dense layer (the duality theorems assume none; the authors' code has one).
    #[serde(default)]
    pub bias: bool,
    /// Initial prototypes (VCL weights; DCL with `dual_init = "match-prototypes"`).
    #[serde(default)]
    pub init: PrototypeInit,
    /// Initial DCL weights.
    #[serde(default)]
    pub dual_init: DualInit,
    /// Minibatch DCL: the first dual layer takes `batch_size` samples instead of the whole
    /// training set, so the prototypes of a step are functions of *that step's* minibatch
    /// `X_B^T` (`d x B`, DDCL of paper 001). Every batch must then have exactly this size (drop
    /// the last, smaller batch of an epoch); at inference the prototypes come from a batch of
    /// this size too (e.g. a fixed reference batch). `None` (the default): full-set DCL, `N` =
    /// the training set, as in paper 000.
    #[serde(default)]
    pub batch_size: Option<i64>,
}

impl Default for CompetitiveConfig {
    fn default() -> Self {
        CompetitiveConfig {
            kind: LayerKind::Vcl,
            n_prototypes: 30,
            hidden: Vec::new(),
            bias: false,
            init: PrototypeInit::DataSamples,
            dual_init: DualInit::Glorot,
            batch_size: None,
        }
    }
}

/// A built competitive layer.
#[derive(Debug)]
pub enum CompetitiveLayer {
    /// Vanilla competitive layer.
    Vcl(Vcl),
    /// Dual competitive layer (linear or deep).
    Dcl(Dcl),
}

impl CompetitiveConfig {
    /// Checks the configuration against itself.
    pub fn validate(&self) -> Result<()> {
        let invalid = |field, expected: &str, found: String| Err(Error::InvalidConfig { field, expected: expected.into(), found });
        if self.n_prototypes < 2 {
            return invalid("n_prototypes", "at least 2 (CHL links two winners)", self.n_prototypes.to_string());
        }
        if let Some(w) = self.hidden.iter().find(|&&w| w < 1) {
            return invalid("hidden", "positive widths", w.to_string());
        }
        if self.kind == LayerKind::Vcl && (!self.hidden.is_empty() || self.bias) {
            return invalid("kind", "dcl when `hidden` or `bias` is set", "vcl".into());
        }
        if self.dual_init == DualInit::MatchPrototypes && !self.hidden.is_empty() {
            return invalid("dual_init", "glorot for a deep DCL", "match-prototypes".into());
        }
        if let Some(b) = self.batch_size {
            if self.kind == LayerKind::Vcl {
                return invalid("kind", "dcl when `batch_size` is set (a VCL does not depend on the batch)", "vcl".into());
            }
            if b < 1 {
                return invalid("batch_size", "at least 1", b.to_string());
            }
            if self.dual_init == DualInit::MatchPrototypes {
                return invalid("dual_init", "glorot for a minibatch DCL (matching needs the whole set)", "match-prototypes".into());
            }
        }
        Ok(())
    }

    /// Builds the layer for data `x` `[replicas, n, d]` under `path`, replica `r` seeded with
    /// `seeds[r]` (a minibatch DCL takes `batch_size` inputs whatever `n`).
    pub fn build(&self, path: &nn::Path, x: &Tensor, seeds: &[u64]) -> Result<CompetitiveLayer> {
        self.validate()?;
        let size = expect_dims(x, 3, "training data", "[replicas, n, d]")?;
        let (replicas, n) = (size[0], self.batch_size.unwrap_or(size[1]));
        match self.kind {
            LayerKind::Vcl => {
                let initial = self.init.draw(x, self.n_prototypes, seeds)?;
                Ok(CompetitiveLayer::Vcl(Vcl::new(&(path / "vcl"), &initial)))
            }
            LayerKind::Dcl => {
                let widths: Vec<i64> = std::iter::once(n).chain(self.hidden.iter().copied()).chain([self.n_prototypes]).collect();
                let initial: Vec<Tensor> = match self.dual_init {
                    DualInit::Glorot => glorot(&widths, seeds, x.device())?,
                    DualInit::MatchPrototypes => {
                        let p = self.init.draw(x, self.n_prototypes, seeds)?; // [r, k, d]
                        vec![super::dcl::matching_weights(x, &p)]
                    }
                };
                let dcl_path = path / "dcl";
                let layers = initial
                    .iter()
                    .enumerate()
                    .map(|(i, w)| {
                        let lp = &dcl_path / i;
                        let out = w.size()[2];
                        DualDense { weight: lp.var_copy("weight", w), bias: self.bias.then(|| lp.zeros("bias", &[replicas, 1, out])) }
                    })
                    .collect();
                Ok(CompetitiveLayer::Dcl(Dcl { layers, minibatch: self.batch_size.is_some() }))
            }
        }
    }
}

/// Glorot-uniform weights `[replicas, in, out]` for consecutive `widths`, drawn in Rust from
/// `ChaCha8Rng::seed_from_u64(seed)` with one stream per layer.
fn glorot(widths: &[i64], seeds: &[u64], device: tch::Device) -> Result<Vec<Tensor>> {
    widths
        .windows(2)
        .enumerate()
        .map(|(layer, pair)| {
            let (fan_in, fan_out) = (pair[0], pair[1]);
            let limit = (6.0 / (fan_in + fan_out) as f64).sqrt() as f32;
            let per_replica: Vec<Tensor> = seeds
                .iter()
                .map(|&seed| {
                    let mut rng = ChaCha8Rng::seed_from_u64(seed);
                    rng.set_stream(layer as u64 + 1);
                    let values: Vec<f32> = (0..fan_in * fan_out).map(|_| rng.random_range(-limit..limit)).collect();
                    Tensor::from_slice(&values).view([fan_in, fan_out])
                })
                .collect();
            Ok(Tensor::stack(&per_replica, 0).to_device(device))
        })
        .collect()
}

impl CompetitiveLayer {
    /// Checks that `x` `[replicas, n, d]` fits the layer (a DCL needs its fixed `n`).
    pub fn check_input(&self, x: &Tensor) -> Result<()> {
        match self {
            CompetitiveLayer::Vcl(_) => expect_dims(x, 3, "input", "[replicas, n, d]").map(drop),
            CompetitiveLayer::Dcl(dcl) => dcl.check_input(x),
        }
    }
}

impl nn::Module for CompetitiveLayer {
    fn forward(&self, x: &Tensor) -> Tensor {
        match self {
            CompetitiveLayer::Vcl(l) => l.forward(x),
            CompetitiveLayer::Dcl(l) => l.forward(x),
        }
    }
}

impl PrototypeLayer for CompetitiveLayer {
    fn prototypes(&self, x: &Tensor) -> Tensor {
        match self {
            CompetitiveLayer::Vcl(l) => l.prototypes(x),
            CompetitiveLayer::Dcl(l) => l.prototypes(x),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn data() -> Tensor {
        let v: Vec<f32> = (0..24).map(|i| ((i * 7) % 11) as f32 - 5.0).collect();
        Tensor::from_slice(&v).view([2, 6, 2])
    }

    #[test]
    fn matched_dcl_starts_at_the_vcl_prototypes() {
        // Tolerance 1e-4: the pseudo-inverse is computed in float64 and cast back to float32.
        let x = data();
        let vs = nn::VarStore::new(Device::Cpu);
        let vcl = CompetitiveConfig { n_prototypes: 3, ..Default::default() }.build(&vs.root(), &x, &[1, 2]).unwrap();
        let dcl = CompetitiveConfig { kind: LayerKind::Dcl, n_prototypes: 3, dual_init: DualInit::MatchPrototypes, ..Default::default() }
            .build(&vs.root(), &x, &[1, 2])
            .unwrap();
        assert!(vcl.prototypes(&x).allclose(&dcl.prototypes(&x), 1e-4, 1e-4, false));
    }

    #[test]
    fn deep_dcl_shapes_and_input_check() {
        let x = data();
        let vs = nn::VarStore::new(Device::Cpu);
        let cfg = CompetitiveConfig { kind: LayerKind::Dcl, n_prototypes: 4, hidden: vec![5, 3], bias: true, ..Default::default() };
        let layer = cfg.build(&vs.root(), &x, &[1, 2]).unwrap();
        assert_eq!(layer.prototypes(&x).size(), vec![2, 4, 2]);
        assert_eq!(nn::Module::forward(&layer, &x).size(), vec![2, 6, 4]);
        assert!(layer.check_input(&x.narrow(1, 0, 5)).is_err());
        assert_eq!(vs.variables().len(), 6, "3 weights + 3 biases");
    }

    #[test]
    fn minibatch_dcl_builds_prototypes_from_the_current_batch() {
        let x = data(); // [2, 6, 2]
        let vs = nn::VarStore::new(Device::Cpu);
        let cfg = CompetitiveConfig { kind: LayerKind::Dcl, n_prototypes: 3, batch_size: Some(4), ..Default::default() };
        let layer = cfg.build(&vs.root(), &x, &[1, 2]).unwrap();
        let (a, b) = (x.narrow(1, 0, 4), x.narrow(1, 2, 4));
        layer.check_input(&a).unwrap();
        assert!(layer.check_input(&x).is_err(), "6 samples for a batch of 4");
        let (pa, pb) = (layer.prototypes(&a), layer.prototypes(&b));
        assert_eq!(pa.size(), vec![2, 3, 2]);
        assert!(!pa.allclose(&pb, 1e-6, 1e-6, false), "another batch, other prototypes");
        // Linear DCL: P = (X_B^T W)^T, a combination of the batch's samples.
        let CompetitiveLayer::Dcl(dcl) = &layer else { panic!("a DCL") };
        let expected = a.transpose(-2, -1).matmul(dcl.weights()[0]).transpose(-2, -1);
        assert!(pa.allclose(&expected, 1e-6, 1e-6, false));
    }

    #[test]
    fn invalid_configs_are_rejected() {
        let bad = [
            CompetitiveConfig { n_prototypes: 1, ..Default::default() },
            CompetitiveConfig { hidden: vec![3], ..Default::default() },
            CompetitiveConfig { kind: LayerKind::Dcl, hidden: vec![0], ..Default::default() },
            CompetitiveConfig { kind: LayerKind::Dcl, hidden: vec![3], dual_init: DualInit::MatchPrototypes, ..Default::default() },
            CompetitiveConfig { batch_size: Some(4), ..Default::default() },
            CompetitiveConfig { kind: LayerKind::Dcl, batch_size: Some(0), ..Default::default() },
            CompetitiveConfig { kind: LayerKind::Dcl, batch_size: Some(4), dual_init: DualInit::MatchPrototypes, ..Default::default() },
        ];
        for cfg in bad {
            assert!(cfg.validate().is_err(), "{cfg:?}");
        }
    }

    #[test]
    fn config_round_trips_through_toml_and_rejects_unknown_fields() {
        let cfg = CompetitiveConfig { kind: LayerKind::Dcl, hidden: vec![10, 10], bias: true, ..Default::default() };
        let text = toml::to_string(&cfg).unwrap();
        assert_eq!(toml::from_str::<CompetitiveConfig>(&text).unwrap(), cfg);
        assert!(toml::from_str::<CompetitiveConfig>("kind = \"vcl\"\nn_prototypes = 3\nbogus = 1\n").is_err());
    }
}
