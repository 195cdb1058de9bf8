//! Prototype and competitive layers on libtorch.
//!
//! Every layer is a [`tch::nn::Module`] whose `forward` returns squared distances
//! `[replicas, n, k]` from inputs to prototypes, so it stacks after any backbone and trains with
//! the stock optimizers; [`PrototypeLayer`] adds `prototypes` and `winners`. Losses are free
//! functions over distance tensors ([`loss`]). A leading `replicas` dimension lets independent
//! seeds train as one batched tensor program.
//!
//! ```
//! use protolearn_layers::{competitive::{CompetitiveConfig, LayerKind}, loss, PrototypeLayer};
//! use tch::{nn, nn::OptimizerConfig, Device, Tensor};
//!
//! // 2 replicas (seeds) of a DCL with 3 prototypes on 8 two-dimensional samples.
//! let x = Tensor::from_slice(&[0.0f32, 0.0, 0.1, 0.2, 1.0, 1.0, 1.1, 0.9,
//!                              5.0, 5.0, 5.2, 4.9, 9.0, 0.0, 9.1, 0.2]).view([1, 8, 2]).repeat([2, 1, 1]);
//! let vs = nn::VarStore::new(Device::Cpu);
//! let cfg = CompetitiveConfig { kind: LayerKind::Dcl, n_prototypes: 3, ..Default::default() };
//! let layer = cfg.build(&vs.root(), &x, &[0, 1]).unwrap();
//! let mut opt = nn::Adam::default().build(&vs, 0.01).unwrap();
//! for _ in 0..50 {
//!     let q = loss::quantization_error(&nn::Module::forward(&layer, &x), loss::QuantizationForm::Mean);
//!     opt.backward_step(&q.sum(tch::Kind::Float));
//! }
//! assert_eq!(layer.prototypes(&x).size(), vec![2, 3, 2]);
//! ```

pub mod autoencoder;
pub mod collective;
pub mod competitive;
pub mod ddcl;
pub mod desom;
pub mod desom_replicas;
pub mod distance;
mod error;
pub mod init;
pub mod kernel_prototype;
pub mod kmeans;
mod layer;
pub mod loss;
pub mod lvq;
pub mod minibatch_kmeans;
pub mod missing;
pub mod neural_gas;
pub mod precision;
pub mod rows;
pub mod som;

pub use error::{Error, Result};
pub use layer::{PrototypeLayer, UpdateRule};
