//! One import for scripts and examples: `use protolearn::prelude::*;`.

pub use crate::config::{BackboneSpec, CompetitiveSpec, DdclSpec, DesomSpec, EstimatorConfig, LvqSpec, ModelSpec, SomSpec};
pub use crate::{Array, Assignment, Error, Estimator, Fitted, MissingValues, Scaling, Scores, UnitSummary};
pub use protolearn_data::{load_table, Data, Table, TableOptions};
pub use protolearn_layers::kmeans::KMeansConfig;
pub use protolearn_metrics::{Boundary, Grid, Lattice};
pub use protolearn_train::kmeans::KMeansFit;
pub use protolearn_train::DeviceChoice;
