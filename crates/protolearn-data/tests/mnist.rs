//! MNIST / Fashion-MNIST: locating, verifying and loading the real files (skipped when absent).

mod common;

use std::path::{Path, PathBuf};

use common::shared_datasets;
use protolearn_data::checksum::md5_hex;
use protolearn_data::idx::read_uncompressed;
use protolearn_data::locate::DirState;
use protolearn_data::mnist::{load, load_files};
use protolearn_data::{DataDirs, Error, IdxDataset, ImageLayout};

/// A root holding `dataset` as symlinks to the shared `.gz` files, except the file `replace`
/// (stem), written raw with `content` instead.
fn root_with(shared: &Path, dataset: IdxDataset, replace: &str, content: &[u8]) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("test fixture");
    let dir = root.path().join(dataset.name());
    std::fs::create_dir(&dir).expect("test fixture");
    for f in dataset.files() {
        if f.stem == replace {
            std::fs::write(dir.join(f.stem), content).expect("test fixture");
        } else {
            let name = format!("{}.gz", f.stem);
            std::os::unix::fs::symlink(shared.join(dataset.name()).join(&name), dir.join(name)).expect("test fixture");
        }
    }
    root
}

fn labels_file(shared: &Path, dataset: IdxDataset) -> (&'static str, Vec<u8>) {
    let stem = dataset.files()[3].stem;
    let gz = shared.join(dataset.name()).join(format!("{stem}.gz"));
    (stem, read_uncompressed(&gz).expect("test fixture"))
}

#[test]
fn mnist_loads_with_the_standard_split() {
    let Some(shared) = shared_datasets("MNIST loading") else {
        return;
    };
    let dirs = DataDirs::with_roots(vec![shared]);
    let mnist = load(IdxDataset::Mnist, &dirs, ImageLayout::Flat).unwrap();
    assert_eq!(mnist.train.shape, vec![60000, 784]);
    assert_eq!(mnist.test.shape, vec![10000, 784]);
    assert_eq!(mnist.train.name, "mnist-train");
    assert_eq!(mnist.train.class_counts(), Some(vec![5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]));
    assert_eq!(mnist.test.n_classes(), Some(10));
    assert_eq!(mnist.train.labels.as_ref().map(|l| l[..5].to_vec()), Some(vec![5, 0, 4, 1, 9]));
    let (lo, hi) = mnist.test.features.iter().fold((1.0f32, 0.0f32), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    assert_eq!((lo, hi), (0.0, 1.0));
}

#[test]
fn fashion_mnist_loads_as_images() {
    let Some(shared) = shared_datasets("Fashion-MNIST loading") else {
        return;
    };
    let dirs = DataDirs::with_roots(vec![shared]);
    let files = dirs.find(IdxDataset::FashionMnist).unwrap(); // load_files verifies
    let fashion = load_files(&files, ImageLayout::Image).unwrap();
    assert_eq!(fashion.train.shape, vec![60000, 1, 28, 28]);
    assert_eq!(fashion.test.shape, vec![10000, 1, 28, 28]);
    assert_eq!(fashion.train.class_counts(), Some(vec![6000; 10]));
    assert_eq!(fashion.test.class_counts(), Some(vec![1000; 10]));
    assert_eq!(fashion.train.labels.as_ref().map(|l| l[0]), Some(9));
}

#[test]
fn pinned_checksums_match_the_shared_files() {
    let Some(shared) = shared_datasets("checksum pinning") else {
        return;
    };
    for dataset in IdxDataset::ALL {
        for f in dataset.files() {
            let p = shared.join(dataset.name()).join(format!("{}.gz", f.stem));
            assert_eq!(md5_hex(&read_uncompressed(&p).unwrap()), f.md5, "{}", p.display());
        }
    }
}

#[test]
fn corrupt_file_is_a_checksum_error_naming_it() {
    let Some(shared) = shared_datasets("corrupt-file detection") else {
        return;
    };
    let (stem, mut content) = labels_file(&shared, IdxDataset::Mnist);
    content[100] ^= 1;
    let root = root_with(&shared, IdxDataset::Mnist, stem, &content);
    // The corrupt copy comes first in the search order: it is an error, not skipped.
    let dirs = DataDirs::with_roots(vec![root.path().to_owned(), shared]);
    let bad = root.path().join("mnist").join(stem);
    for result in [dirs.locate(IdxDataset::Mnist).map(|_| ()), load(IdxDataset::Mnist, &dirs, ImageLayout::Flat).map(|_| ())] {
        match result {
            Err(Error::Checksum { path, algorithm, expected, found }) => {
                assert_eq!(algorithm, "MD5");
                assert_eq!(path, bad);
                assert_eq!(expected, "27ae3e4e09519cfbb04c329615203637");
                assert_eq!(found, md5_hex(&content));
            }
            other => panic!("expected a checksum error, got {other:?}"),
        }
    }
    let status = dirs.status(IdxDataset::Mnist);
    assert!(matches!(status[0].1, DirState::Invalid(Error::Checksum { .. })));
    assert!(matches!(status[1].1, DirState::Verified(_)));
}

#[test]
fn raw_files_are_accepted_and_incomplete_dirs_skipped() {
    let Some(shared) = shared_datasets("raw-file acceptance") else {
        return;
    };
    let (stem, content) = labels_file(&shared, IdxDataset::FashionMnist);
    let raw_root = root_with(&shared, IdxDataset::FashionMnist, stem, &content);
    let incomplete = tempfile::tempdir().unwrap();
    std::fs::create_dir(incomplete.path().join("fashion-mnist")).unwrap();
    std::fs::write(incomplete.path().join("fashion-mnist").join(stem), &content).unwrap();
    let dirs =
        DataDirs::with_roots(vec![PathBuf::from("/nonexistent/protolearn"), incomplete.path().to_owned(), raw_root.path().to_owned()]);
    let files = dirs.locate(IdxDataset::FashionMnist).unwrap();
    assert_eq!(files.dir, raw_root.path().join("fashion-mnist"));
    assert_eq!(files.paths[3], files.dir.join(stem));
    let status = dirs.status(IdxDataset::FashionMnist);
    assert!(matches!(status[0].1, DirState::Absent));
    assert!(matches!(&status[1].1, DirState::Incomplete(missing) if missing.len() == 3));
    assert!(matches!(status[2].1, DirState::Verified(_)));
}

#[test]
fn debian_package_location_is_found() {
    let system = Path::new(protolearn_data::locate::SYSTEM_ROOT);
    if !system.join("fashion-mnist").is_dir() {
        eprintln!("skipping: {}/fashion-mnist is absent (apt-get install dataset-fashion-mnist)", system.display());
        return;
    }
    let dirs = DataDirs::from_parts(None, None, PathBuf::from("/nonexistent/protolearn/data"));
    let files = dirs.locate(IdxDataset::FashionMnist).unwrap();
    assert_eq!(files.dir, system.join("fashion-mnist"));
}
