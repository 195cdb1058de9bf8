//! Integration tests of protolearn-metrics through its public API, one binary.

mod common;
mod edge_cases;
mod reference;
