//! Prototype classification heads of paper 003 (Secs. 4-5) that stack after any feature
//! extractor: labelled prototypes, a learned dissimilarity (Euclidean, Omega/GMLVQ, local Omega,
//! relevance/GRLVQ, projection, nonlinear projection), the GLVQ, RSLVQ and CELVQ losses, and
//! Kohonen's LVQ1 and LVQ2.1 as update rules, and reject options ([`reject`]).
//!
//! ```
//! use protolearn_layers::lvq::{DissimilarityConfig, LvqConfig, LvqLoss, Transfer};
//! use tch::{nn, nn::OptimizerConfig, Device, Tensor};
//!
//! let x = Tensor::from_slice(&[0.0f32, 0.1, 0.2, 0.0, 3.0, 3.1, 2.9, 3.0]).view([4, 2]);
//! let y = Tensor::from_slice(&[0i64, 0, 1, 1]);
//! let cfg = LvqConfig {
//!     classes: 2, per_class: 1,
//!     dissimilarity: DissimilarityConfig::Omega { dim: 2, trace_normalize: true },
//!     loss: LvqLoss::Glvq { transfer: Transfer::Sigmoid { beta: 2.0 } },
//! };
//! let vs = nn::VarStore::new(Device::Cpu);
//! let head = cfg.build(&vs.root(), &x, &y, 0).unwrap();
//! let mut opt = nn::Adam::default().build(&vs, 0.05).unwrap();
//! for _ in 0..20 {
//!     opt.backward_step(&head.loss(&x, &y).unwrap());
//! }
//! assert_eq!(Vec::<i64>::try_from(head.predict(&x).unwrap()).unwrap(), vec![0, 0, 1, 1]);
//! assert_eq!(head.dissimilarity.relevance_matrix().unwrap().size(), vec![2, 2]);
//! ```

mod dissimilarity;
mod head;
pub mod loss;
pub mod reject;
mod rules;

pub use dissimilarity::{Activation, Dissimilarity, DissimilarityConfig};
pub use head::{LvqConfig, LvqHead, LvqLoss};
pub use loss::Transfer;
pub use rules::{Lvq1, Lvq21};
