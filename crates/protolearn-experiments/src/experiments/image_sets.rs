//! The image datasets of the deep benchmarks (papers 001 and 002): MNIST, Fashion-MNIST, and an
//! offline blob-images smoke test of the same shape, as flat train/test splits.

use crate::context::RunContext;
use anyhow::{Context, Result};
use protolearn_data::mnist::{load, IdxDataset, ImageLayout};
use protolearn_data::{BlobCenters, BlobsConfig, Data, TrainTest};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

/// A dataset of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImageSet {
    /// MNIST digits.
    Mnist,
    /// Fashion-MNIST.
    FashionMnist,
    /// An offline smoke test of the whole pipeline, not in the paper: `classes` Gaussian blobs of
    /// images of the spec's image shape (centres uniform in `[0, 1]`, standard deviation
    /// [`BLOB_STD`]), [`BLOB_TRAIN`] training and [`BLOB_TEST`] test images from seed 0.
    BlobImages,
}

/// Training images of [`ImageSet::BlobImages`].
pub const BLOB_TRAIN: usize = 300;
/// Test images of [`ImageSet::BlobImages`].
pub const BLOB_TEST: usize = 100;
/// Standard deviation of every pixel of [`ImageSet::BlobImages`] around its class centre.
pub const BLOB_STD: f64 = 0.1;

impl ImageSet {
    /// The training and test sets, flat `[n, pixels]` (the blobs have `pixels` features and
    /// `classes` classes).
    pub fn load(self, ctx: &RunContext, pixels: i64, classes: usize) -> Result<TrainTest> {
        let idx = match self.idx() {
            Some(idx) => idx,
            None => {
                let config = BlobsConfig {
                    n_samples: BLOB_TRAIN + BLOB_TEST,
                    n_features: usize::try_from(pixels)?,
                    centers: BlobCenters::Random(classes),
                    cluster_std: BLOB_STD,
                    center_box: (0.0, 1.0),
                    shuffle: true,
                };
                let all = config.generate(&mut ChaCha8Rng::seed_from_u64(0))?;
                let d = all.shape[1];
                let labels = all.labels.clone().context("blobs are labelled")?;
                let part = |name: &str, rows: std::ops::Range<usize>| {
                    Data::new(name, all.features[rows.start * d..rows.end * d].to_vec(), vec![rows.len(), d], Some(labels[rows].to_vec()))
                };
                return Ok(TrainTest {
                    train: part("blob-images-train", 0..BLOB_TRAIN)?,
                    test: part("blob-images-test", BLOB_TRAIN..BLOB_TRAIN + BLOB_TEST)?,
                });
            }
        };
        load(idx, &ctx.data_dirs, ImageLayout::Flat).with_context(|| format!("loading {}", self.label()))
    }

    /// The IDX dataset behind it (`None` for the generated blob images).
    pub fn idx(self) -> Option<IdxDataset> {
        match self {
            ImageSet::Mnist => Some(IdxDataset::Mnist),
            ImageSet::FashionMnist => Some(IdxDataset::FashionMnist),
            ImageSet::BlobImages => None,
        }
    }

    /// The id in result files (`mnist`, `fashion-mnist`, `blob-images`).
    pub fn id(self) -> &'static str {
        match self {
            ImageSet::Mnist => "mnist",
            ImageSet::FashionMnist => "fashion-mnist",
            ImageSet::BlobImages => "blob-images",
        }
    }

    /// The name in reports.
    pub fn label(self) -> &'static str {
        match self {
            ImageSet::Mnist => "MNIST",
            ImageSet::FashionMnist => "Fashion-MNIST",
            ImageSet::BlobImages => "blob images",
        }
    }
}
