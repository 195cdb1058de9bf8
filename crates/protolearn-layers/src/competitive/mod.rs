//! Gradient-based competitive layers of paper 000: the Vanilla Competitive Layer (VCL) and the
//! Dual Competitive Layer (DCL, linear or deep), replicated over a leading `replicas` dimension so
//! that independent seeds train as one tensor program.

mod config;
mod dcl;
mod vcl;

pub use config::{CompetitiveConfig, CompetitiveLayer, DualInit, LayerKind};
pub use dcl::Dcl;
pub use vcl::Vcl;
