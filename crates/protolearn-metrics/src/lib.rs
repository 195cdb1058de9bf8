//! Pure quality measures for prototype-based learning: slices in, `f64` scores out, no state, no I/O.
//!
//! - [`clustering`]: contingency table, purity, NMI, adjusted Rand index, unsupervised accuracy.
//! - [`som`]: quantization error, distortion, topographic / combined error, topographic
//!   product, prototype sharpness ratio, class scatter index (paper 002, Appendix 1).
//! - [`grid`]: rectangular / hexagonal, bounded / toroidal map grids and their distance `δ`.
//! - [`topology`]: Competitive Hebbian Learning graph, valid prototypes, pruning (paper 000).
//! - [`bmu`]: best and second-best matching units (the `N x K` hot path, parallel).
//! - [`stats`]: mean, standard deviation, standard error, Welch's t-test.
//! - [`neighbourhood`]: trustworthiness, continuity and SOMperf's neighbourhood preservation
//!   of a projection (Venna & Kaski 2001), exact, `n^2` distances in parallel blocks.
//!
//! Conventions: samples, prototypes and images are row-major [`Matrix`] views over `f32`;
//! ground-truth labels are `&[i64]` (any values), cluster assignments `&[usize]`. Ties for
//! the best-matching unit go to the lowest prototype index. Invalid input is an [`Error`],
//! never a panic or a NaN.
//!
//! ```
//! use protolearn_metrics::{normalized_mutual_info, purity, Contingency, NmiAverage};
//!
//! let labels = [10, 10, 10, -1, -1, -1];
//! let clusters = [0, 0, 1, 1, 2, 2];
//! let table = Contingency::new(&labels, &clusters)?;
//! assert!((purity(&table) - 5.0 / 6.0).abs() < 1e-12);
//! let nmi = normalized_mutual_info(&table, NmiAverage::Arithmetic);
//! assert!((nmi - 0.515_803_742_979_388_9).abs() < 1e-9); // scikit-learn's value
//! # Ok::<(), protolearn_metrics::Error>(())
//! ```

pub mod bmu;
pub mod clustering;
pub mod error;
pub mod grid;
pub mod matrix;
pub mod neighbourhood;
pub mod som;
pub mod stats;
pub mod topology;

pub use bmu::{best_matching_units, squared_euclidean, BestUnits, Ranked};
pub use clustering::{adjusted_rand_index, clustering_accuracy, normalized_mutual_info, purity, Contingency, NmiAverage};
pub use error::{Error, Result};
pub use grid::{Boundary, Grid, Lattice};
pub use matrix::Matrix;
pub use neighbourhood::{continuity, neighbourhood_preservation, neighbourhood_scores, trustworthiness, NeighbourhoodScores};
pub use som::{
    class_scatter_index, combined_error, distortion, prototype_sharpness_ratio, quantization_error, quantization_error_from,
    topographic_error, topographic_error_from, topographic_product, ImageShape, Kernel, Sharpness,
};
pub use stats::{
    mean, pearson, regularized_incomplete_beta, std_dev, std_error, student_t_cdf, welch_from_summary, welch_t_test, Summary, WelchTest,
};
pub use topology::{competitive_hebbian, ChlGraph, Components};
