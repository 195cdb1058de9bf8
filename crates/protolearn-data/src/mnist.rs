//! MNIST and Fashion-MNIST loaded as `Data` (their files, checksums and mirrors are the catalogue
//! in `idx_dataset`, re-exported here).

use std::path::Path;

use crate::checksum::verify_md5;
use crate::data::{Data, TrainTest};
use crate::error::{Error, Result};
use crate::idx::{parse_idx, read_uncompressed, IdxArray};
pub use crate::idx_dataset::{IdxDataset, IdxFile};
use crate::locate::{DataDirs, DatasetFiles};

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
