//! Datasets for protolearn: synthetic generators, MADELON, IDX/CSV/NumPy/`.ts` parsing, MNIST/Fashion-MNIST,
//! UCR/UEA and 8x8 digits loading, data-directory resolution and downloads; tensors behind the `tch` feature.
//!
//! Data is plain: generators and parsers produce a [`Data`] (row-major `f32` features with a
//! shape, optional `i64` labels) without libtorch. The `tch` feature adds
//! `tensor::Dataset`, which moves a `Data` to a device once and draws minibatches there.
//! Randomness is injected: every generator, split and shuffle takes the caller's RNG.
//!
//! ```
//! use protolearn_data::{MoonsConfig, SplitConfig, Standardizer};
//! use rand::SeedableRng;
//! use rand_chacha::ChaCha8Rng;
//!
//! let mut rng = ChaCha8Rng::seed_from_u64(42);
//! let moons = MoonsConfig { n_samples: 400, noise: 0.1, ..Default::default() }.generate(&mut rng)?;
//! let mut parts = SplitConfig { test_fraction: 0.25, stratify: true }.split(&moons, &mut rng)?;
//! let scaler = Standardizer::fit_transform(&mut parts.train)?; // fit on the training part only
//! scaler.transform(&mut parts.test)?;
//! assert_eq!(parts.train.shape, vec![300, 2]);
//! assert_eq!(parts.test.n_classes(), Some(2));
//! # Ok::<(), protolearn_data::Error>(())
//! ```
//!
//! MNIST and Fashion-MNIST are looked up in an explicit directory, `$PROTOLEARN_DATA`,
//! `./data` and `/usr/share/datasets` ([`DataDirs`]) and loaded with [`mnist::load`]; missing
//! files are fetched only on request (`download::Downloader`, or `protolearn-data fetch`).
//!
//! A table of numbers in a file (CSV/TSV, NumPy `.npy`/`.npz`, IDX) is read by [`load_table`],
//! which picks the reader from the file name and returns features flattened to `[n, d]`.
//!
//! Time series in the sktime/aeon `.ts` format are read by [`load_ts`] into [`Sequences`]
//! (`[n, max_len, dims]`, unequal lengths padded with `NaN`); the UCR/UEA datasets that
//! `cargo xtask setup` extracts into `data/ucr/` are loaded with [`load_ucr`].
//!
//! scikit-learn's 8x8 digits (1,797 images, 10 classes), which `cargo xtask setup` extracts into
//! `data/digits/`, are loaded with [`load_digits`] (`[1797, 64]`, pixels scaled to `[0, 1]`).

pub mod categorical;
pub mod checksum;
pub mod csv;
mod data;
pub mod digits;
#[cfg(feature = "download")]
pub mod download;
mod error;
pub mod idx;
mod idx_dataset;
pub mod locate;
pub mod mnist;
pub mod npy;
pub mod npy_rows;
pub mod shuffle;
pub mod split;
pub mod standardize;
pub mod synthetic;
pub mod table;
#[cfg(feature = "tch")]
pub mod tensor;
pub mod ts;
pub mod ucr;

pub use data::{Data, TrainTest};
pub use digits::load_digits;
pub use error::{Error, Result};
pub use locate::{DataDirs, DatasetFiles};
pub use mnist::{IdxDataset, ImageLayout};
pub use npy::{load_npy, load_npy_labels, load_npz};
pub use split::SplitConfig;
pub use standardize::Standardizer;
pub use synthetic::{
    BlobCenters, BlobsConfig, CirclesConfig, ControlChartConfig, FeatureRole, Madelon, MadelonConfig, MoonsConfig, SpiralConfig,
    CONTROL_CHART_CLASSES,
};
pub use table::{load_table, Table, TableOptions};
pub use ts::{load_ts, parse_ts, Sequences};
pub use ucr::{load_ucr, SequenceSplit, UCR_DATASETS};
