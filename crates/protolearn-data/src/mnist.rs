//! MNIST and Fashion-MNIST: their standard files and checksums, and loading them as `Data`.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::checksum::verify_md5;
use crate::data::{Data, TrainTest};
use crate::error::{Error, Result};
use crate::idx::{parse_idx, read_uncompressed, IdxArray};
use crate::locate::{DataDirs, DatasetFiles};

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

/// How images are shaped in the resulting [`Data`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImageLayout {
    /// `[n, rows · cols]` (`[n, 784]` for MNIST), for dense models.
    #[default]
    Flat,
    /// `[n, 1, rows, cols]` (`[n, 1, 28, 28]`), channel-first for convolutions.
    Image,
}

/// Loads the standard training (60000) and test (10000) parts of `dataset` from the first
/// directory of `dirs` that holds all four files, verifying their MD5.
///
/// Pixels are scaled to `[0, 1]` (`byte / 255`), labels are `i64` in `0..10`. Never downloads:
/// see `download::Downloader` or the `protolearn-data fetch` command for that.
pub fn load(dataset: IdxDataset, dirs: &DataDirs, layout: ImageLayout) -> Result<TrainTest> {
    load_files(&dirs.find(dataset)?, layout)
}

/// Like [`load`], from files already located (for example by [`DataDirs::find`]).
pub fn load_files(files: &DatasetFiles, layout: ImageLayout) -> Result<TrainTest> {
    let specs = files.dataset.files();
    let read = |i: usize| -> Result<IdxArray> {
        let path = &files.paths[i];
        let content = read_uncompressed(path)?;
        verify_md5(path, &content, specs[i].md5)?;
        parse_idx(&content, path)
    };
    // Read and verify all four files before converting any of them.
    let (train_x, train_y, test_x, test_y) = (read(0)?, read(1)?, read(2)?, read(3)?);
    let name = files.dataset.name();
    let p = |i: usize| (files.paths[i].as_path(), files.paths[i + 1].as_path());
    Ok(TrainTest {
        train: images_to_data(format!("{name}-train"), train_x, train_y, p(0), layout)?,
        test: images_to_data(format!("{name}-test"), test_x, test_y, p(2), layout)?,
    })
}

/// Loads one images file and one labels file (raw or gzipped IDX, any size, no checksum), for
/// MNIST-like datasets beyond the known ones.
pub fn load_pair(name: impl Into<String>, images: &Path, labels: &Path, layout: ImageLayout) -> Result<Data> {
    let image_array = parse_idx(&read_uncompressed(images)?, images)?;
    let label_array = parse_idx(&read_uncompressed(labels)?, labels)?;
    images_to_data(name.into(), image_array, label_array, (images, labels), layout)
}

/// Checks ranks and counts, scales pixels to [0, 1] and shapes them as `layout` says.
fn images_to_data(
    name: String,
    images: IdxArray,
    labels: IdxArray,
    (images_path, labels_path): (&Path, &Path),
    layout: ImageLayout,
) -> Result<Data> {
    let &[n, rows, cols] = images.dims.as_slice() else {
        return Err(Error::Format {
            path: images_path.to_owned(),
            offset: 3,
            expected: "an image file of rank 3 ([n, rows, cols])".into(),
            found: format!("rank {} (dimensions {:?})", images.dims.len(), images.dims),
        });
    };
    let &[n_labels] = labels.dims.as_slice() else {
        return Err(Error::Format {
            path: labels_path.to_owned(),
            offset: 3,
            expected: "a label file of rank 1 ([n])".into(),
            found: format!("rank {} (dimensions {:?})", labels.dims.len(), labels.dims),
        });
    };
    if n_labels != n {
        return Err(Error::Format {
            path: labels_path.to_owned(),
            offset: 4,
            expected: format!("{n} labels, the image count of {}", images_path.display()),
            found: format!("{n_labels} labels"),
        });
    }
    let features = images.data.iter().map(|&b| f32::from(b) / 255.0).collect();
    let shape = match layout {
        ImageLayout::Flat => vec![n, rows * cols],
        ImageLayout::Image => vec![n, 1, rows, cols],
    };
    let labels = labels.data.iter().map(|&l| i64::from(l)).collect();
    Data::new(name, features, shape, Some(labels))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() -> Result<()> {
        for ds in IdxDataset::ALL {
            assert_eq!(ds.name().parse::<IdxDataset>()?, ds);
            assert_eq!(ds.to_string(), ds.name());
        }
        assert_eq!("Fashion_MNIST".parse::<IdxDataset>()?, IdxDataset::FashionMnist);
        assert!("cifar".parse::<IdxDataset>().is_err());
        Ok(())
    }
}
