//! Deep Dual Competitive Learning (DDCL, paper 001): a backbone encoder whose features feed a
//! Dual Competitive Layer that *outputs* the prototypes, soft assignments
//! `q_ik = softmax_k(-||z_i - p_k||^2 / tau)` and the soft quantization loss
//! `L_q = (1/n) sum_i sum_k q_ik ||z_i - p_k||^2`, with its exact decomposition
//! `L_q = L_OLS + V` ([`SoftQuantization`], checked in float64 by [`IdentityCheck`]).
//!
//! ```
//! use protolearn_layers::autoencoder::{AutoencoderConfig, DenseConfig};
//! use protolearn_layers::ddcl::{DclInput, DdclConfig, FeatureNorm, IdentityCheck};
//! use tch::{nn, Device, Kind, Tensor};
//!
//! let x = Tensor::rand([32, 6], (Kind::Float, Device::Cpu));
//! let cfg = DdclConfig {
//!     backbone: AutoencoderConfig::Dense(DenseConfig { input_dim: 6, hidden: vec![8], latent_dim: 2 }),
//!     n_prototypes: 3, hidden: vec![], bias: false, dcl_input: DclInput::Batch, dcl_size: 16,
//!     feature_norm: FeatureNorm::None,
//! };
//! let vs = nn::VarStore::new(Device::Cpu);
//! let model = cfg.build(&vs.root(), &x, 0).unwrap();
//! let z = model.backbone.encode(&x.narrow(0, 0, 16)).unwrap();
//! let p = model.prototypes_from(&model.dcl_features(&z).unwrap()).unwrap(); // [3, 2]
//! let terms = model.quantize(&z, &p, 0.5).unwrap();
//! let check = IdentityCheck::new(&z, &p, 0.5).unwrap();
//! assert!(!check.violated());
//! assert_eq!(terms.assignment.size(), vec![16, 3]);
//! ```

mod model;
mod soft;

pub use model::{total_variance, DclInput, Ddcl, DdclConfig, FeatureNorm, DCL_GROUP, MIN_FEATURE_VARIANCE};
pub use soft::{
    assignment_entropy, identity_relative_error, prototype_separation, soft_assignment, IdentityCheck, SoftQuantization, IDENTITY_TOLERANCE,
};
