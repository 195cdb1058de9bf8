//! protolearn: prototype-based and competitive learning on libtorch, as estimators a researcher
//! fits on their own data in a few lines: `fit` / `predict` / `transform` / `score`, `save` and
//! `load` for self-organizing maps (batch, online and gradient SOM), DESOM / ConvDESOM,
//! competitive layers (VCL, DCL, deep DCL), DDCL and prototype classifiers (GLVQ, GMLVQ,
//! GRLVQ, RSLVQ, CELVQ), with the figures people expect of a SOM.
//!
//! The crates underneath stay usable on their own and are re-exported: [`data`], [`metrics`],
//! [`plot`], [`layers`], [`train`]. [`prelude`] imports what the examples below use.
//!
//! ```
//! use protolearn::prelude::*;
//! # let dir = tempfile::tempdir()?;
//! # let csv = dir.path().join("points.csv");
//! # let mut text = String::from("width,height,label\n");
//! # for i in 0..120 { let c = (i % 3) as f32 * 4.0; text += &format!("{},{},{}\n", c + (i as f32 * 0.7).sin(), c + (i as f32 * 1.3).cos(), ["a", "b", "c"][i % 3]); }
//! # std::fs::write(&csv, text)?;
//! // A labelled CSV -> a trained 6x6 hexagonal SOM, its U-matrix and hit map, a saved model.
//! let table = load_table(&csv, &TableOptions { labels: Some("label".into()), ..Default::default() })?;
//! let config = EstimatorConfig::from_toml(r#"
//!     scaling = "standard"
//!     [model]
//!     kind = "som"
//!     grid = { rows = 6, cols = 6, lattice = "hexagonal" }
//! "#, std::path::Path::new("<inline>"))?;
//! let som = Estimator::new(config)?.fit_table(&table)?;
//! let training = som.summary().training.as_ref().expect("scored on the training data");
//! println!("QE {:.3}, purity {:?}", training.quantization_error, training.purity);
//! let figures = som.figures(&table.data, &dir.path().join("figures"))?;
//! som.save(&dir.path().join("model.safetensors"))?;
//! # assert!(figures.iter().any(|f| f.png.ends_with("umatrix.png") && f.png.exists()));
//! # assert_eq!(Fitted::load(&dir.path().join("model.safetensors"))?.predict(&table.data)?, som.predict(&table.data)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! DESOM on the same kind of file: an autoencoder and a SOM on its codes, trained jointly
//! (paper 002, Algorithm 3); `encode` gives the latent codes, `input_space_prototypes` the
//! decoded prototypes.
//!
//! ```
//! use protolearn::prelude::*;
//! # let dir = tempfile::tempdir()?;
//! # let csv = dir.path().join("points.csv");
//! # let mut text = String::from("a,b,c,d\n");
//! # for i in 0..200 { let c = (i % 2) as f32 * 5.0; text += &format!("{},{},{},{}\n", c, c + (i as f32).sin(), -c, (i as f32 * 0.3).cos()); }
//! # std::fs::write(&csv, text)?;
//! let table = load_table(&csv, &TableOptions::default())?;
//! let mut desom = DesomSpec::new(Grid::new(4, 4, Lattice::Rectangular, Boundary::Bounded)?);
//! desom.autoencoder = BackboneSpec::Dense { hidden: vec![16], latent_dim: 2 };
//! desom.iterations = 300;
//! desom.batch_size = 32;
//! let model = Estimator::new(EstimatorConfig::new(ModelSpec::Desom(desom)))?.with_scaling(Scaling::Standard).fit_table(&table)?;
//! let codes = model.encode(&table.data)?; // [200, 2] latent codes
//! let images = model.input_space_prototypes()?; // [16, 4] decoded prototypes, input units
//! model.figures(&table.data, &dir.path().join("desom"))?;
//! # assert_eq!((codes.shape.clone(), images.shape.clone()), (vec![200, 2], vec![16, 4]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod config;
mod error;
mod estimator;
pub mod families;
pub mod figures;
mod fitted;
pub mod history;
pub mod missing;
pub mod model_file;
pub mod prelude;
pub mod scaler;
pub mod scores;
pub mod streamed;

pub use config::EstimatorConfig;
pub use error::{Error, Result};
pub use estimator::Estimator;
pub use fitted::{Array, Assignment, Fitted, InputInfo, Summary};
pub use missing::{FittedMissing, MissingValues};
pub use scaler::{FittedScaler, Scaling};
pub use scores::{Scores, UnitSummary};

pub use protolearn_data as data;
pub use protolearn_layers as layers;
pub use protolearn_metrics as metrics;
pub use protolearn_plot as plot;
pub use protolearn_train as train;

/// The README's examples, compiled and run as doctests of this crate (which reaches every crate
/// they use).
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
