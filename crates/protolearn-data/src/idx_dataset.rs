//! The catalogue of the datasets distributed as four IDX files (MNIST, Fashion-MNIST): their
//! names, files, checksums and download mirrors. Locating ([`crate::locate`]), loading
//! ([`crate::mnist`]) and downloading read it; it depends on none of them.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// A dataset distributed as four IDX files (training/test images and labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdxDataset {
    /// LeCun, Cortes & Burges' handwritten digits: 60000 + 10000 grey 28×28 images, 10 classes.
    Mnist,
    /// Zalando's Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): same format, 10 clothing classes.
    FashionMnist,
}

/// One of the four standard files of an [`IdxDataset`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdxFile {
    /// File name without the optional `.gz` (`train-images-idx3-ubyte`).
    pub stem: &'static str,
    /// MD5 of the uncompressed file (lowercase hex).
    pub md5: &'static str,
}

const fn file(stem: &'static str, md5: &'static str) -> IdxFile {
    IdxFile { stem, md5 }
}

const MNIST_FILES: [IdxFile; 4] = [
    file("train-images-idx3-ubyte", "6bbc9ace898e44ae57da46a324031adb"),
    file("train-labels-idx1-ubyte", "a25bea736e30d166cdddb491f175f624"),
    file("t10k-images-idx3-ubyte", "2646ac647ad5339dbf082846283269ea"),
    file("t10k-labels-idx1-ubyte", "27ae3e4e09519cfbb04c329615203637"),
];

const FASHION_FILES: [IdxFile; 4] = [
    file("train-images-idx3-ubyte", "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
    file("train-labels-idx1-ubyte", "9018921c3c673c538a1fc5bad174d6f9"),
    file("t10k-images-idx3-ubyte", "8181f5470baa50b63fa0f6fddb340f0a"),
    file("t10k-labels-idx1-ubyte", "15d484375f8d13e6eb1aabb0c3f46965"),
];

impl IdxDataset {
    /// Every known dataset.
    pub const ALL: [IdxDataset; 2] = [IdxDataset::Mnist, IdxDataset::FashionMnist];

    /// Directory name inside a data root: `mnist` or `fashion-mnist`.
    pub fn name(self) -> &'static str {
        match self {
            IdxDataset::Mnist => "mnist",
            IdxDataset::FashionMnist => "fashion-mnist",
        }
    }

    /// The four files in the order train images, train labels, test images, test labels.
    pub fn files(self) -> &'static [IdxFile; 4] {
        match self {
            IdxDataset::Mnist => &MNIST_FILES,
            IdxDataset::FashionMnist => &FASHION_FILES,
        }
    }

    /// Public mirrors serving `<stem>.gz`, tried in order by the downloader.
    pub fn mirrors(self) -> &'static [&'static str] {
        match self {
            IdxDataset::Mnist => &["https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"],
            IdxDataset::FashionMnist => &["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
        }
    }
}

impl fmt::Display for IdxDataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for IdxDataset {
    type Err = Error;

    /// Parses `mnist` or `fashion-mnist` (also `fashion_mnist`, `fashionmnist`; any case).
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "mnist" => Ok(IdxDataset::Mnist),
            "fashion-mnist" | "fashionmnist" => Ok(IdxDataset::FashionMnist),
            _ => Err(Error::invalid("dataset", "mnist or fashion-mnist", s)),
        }
    }
}
