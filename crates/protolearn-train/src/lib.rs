//! Training for protolearn: the one training loop ([`trainer::Trainer`]) that every model family
//! runs on, supplying only an [`trainer::Objective`] (loss terms of a batch) or a
//! [`protolearn_layers::UpdateRule`] (no autograd); batching, schedules, logging, evaluators,
//! the divergence guard, checkpoints and observers belong to the trainer. The families:
//! competitive layers ([`competitive`]), plain SOMs ([`som`]), DESOM ([`desom`]), DDCL
//! ([`ddcl`]) and DeepCluster ([`deepcluster`]), the prototype heads of paper 003 ([`lvq`],
//! with the softmax baseline of [`classifier`]) and neural gas ([`neural_gas`]). Adversarial
//! attacks on any trained classifier are in [`attack`]. The metrics adapter ([`quality`])
//! scores device tensors with protolearn-metrics.
//!
//! ```
//! use protolearn_layers::{competitive::CompetitiveConfig, loss::QuantizationForm};
//! use protolearn_train::competitive::{fit_competitive, CompetitiveTrainConfig, TopologyTerm};
//! use protolearn_train::optim::{OptimizerConfig, OptimizerKind};
//! use protolearn_train::observer::Silent;
//! use tch::Tensor;
//!
//! let x = Tensor::from_slice(&[0.0f32, 0.0, 0.2, 0.1, 3.0, 3.0, 3.1, 2.9]).view([1, 4, 2]);
//! let train: CompetitiveTrainConfig = toml::from_str(r#"
//!     epochs = 100
//!     lambda = 0.01
//!     topology = "edge-norm-squared"
//!     quantization = "l2-norm"
//!     keep_best = true
//!     optimizer = { kind = "adam", lr = 0.05 }
//! "#).unwrap();
//! let layer = CompetitiveConfig { n_prototypes: 2, ..Default::default() };
//! let run = fit_competitive(&x, &[42], &layer, &train, &mut Silent).unwrap();
//! assert_eq!(run.history.len(), 100);
//! assert_eq!(run.prototypes.size(), vec![1, 2, 2]);
//! ```

pub mod attack;
mod batching;
pub mod checkpoint;
pub mod classifier;
pub mod clustering;
pub mod competitive;
pub mod ddcl;
pub mod deepcluster;
pub mod desom;
pub mod desom_seeds;
pub mod device;
mod divergence;
mod error;
mod fused_adam;
pub mod kmeans;
pub mod lvq;
pub mod neural_gas;
pub mod npy_source;
pub mod observer;
pub mod optim;
pub mod parallel;
pub mod quality;
mod record;
pub mod resume;
pub mod run;
pub mod seeds;
pub mod som;
pub mod topology;
pub mod trainer;

pub use device::DeviceChoice;
pub use error::{Error, Result};
