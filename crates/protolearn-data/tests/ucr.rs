//! UCR/UEA datasets: locating, verifying, padding train and test (fake files), and the real ones (skipped when absent).

mod common;

use std::path::Path;

use common::ucr_dirs;
use protolearn_data::ucr::UCR_FILES;
use protolearn_data::{load_ucr, DataDirs, Error, UCR_DATASETS};

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::create_dir_all(dir).expect("test fixture");
    std::fs::write(dir.join(name), text).expect("test fixture");
}

#[test]
fn the_table_pins_a_train_and_a_test_file_per_dataset() {
    assert_eq!(UCR_FILES.len(), 2 * UCR_DATASETS.len());
    for name in UCR_DATASETS {
        for part in ["TRAIN", "TEST"] {
            let file = format!("{name}_{part}.ts");
            let entry = UCR_FILES.iter().find(|(d, f, _)| d == name && *f == file);
            assert!(entry.is_some_and(|(_, _, sha)| sha.len() == 64), "{file}");
        }
    }
}

#[test]
fn train_and_test_are_padded_to_one_length() {
    let root = tempfile::tempdir().expect("test fixture");
    let dir = root.path().join("ucr/Tiny");
    write(&dir, "Tiny_TRAIN.ts", "@classLabel true a b\n@data\n1,2:a\n3,4,5:b\n");
    write(&dir, "Tiny_TEST.ts", "@classLabel true a b\n@data\n1,2,3,4:b\n");
    let empty = tempfile::tempdir().expect("test fixture");
    let split = load_ucr(&DataDirs::with_roots(vec![empty.path().to_owned(), root.path().to_owned()]), "Tiny").unwrap();
    assert_eq!((split.train.max_len, split.test.max_len), (4, 4));
    assert_eq!(split.train.lengths, vec![2, 3]);
    assert_eq!(split.test.labels, Some(vec![1]));
    assert_eq!(split.train.to_data().shape, vec![2, 4, 1]);

    write(&dir, "Tiny_TEST.ts", "@classLabel true a c\n@data\n1,2,3,4:c\n");
    assert!(matches!(load_ucr(&DataDirs::with_roots(vec![root.path().to_owned()]), "Tiny"), Err(Error::Shape { .. })));
}

#[test]
fn pinned_files_are_verified_and_missing_ones_explained() {
    let root = tempfile::tempdir().expect("test fixture");
    let dir = root.path().join("ucr/GunPoint");
    write(&dir, "GunPoint_TRAIN.ts", "@data\n1,2\n");
    write(&dir, "GunPoint_TEST.ts", "@data\n1,2\n");
    let dirs = DataDirs::with_roots(vec![root.path().to_owned()]);
    match load_ucr(&dirs, "GunPoint") {
        Err(Error::Checksum { path, algorithm: "SHA-256", .. }) => assert_eq!(path, dir.join("GunPoint_TRAIN.ts")),
        other => panic!("expected a SHA-256 mismatch, got {other:?}"),
    }
    let msg = load_ucr(&dirs, "OSULeaf").unwrap_err().to_string();
    assert!(msg.contains("cargo xtask setup") && msg.contains("ucr/OSULeaf"), "{msg}");
    assert!(matches!(load_ucr(&dirs, "../GunPoint"), Err(Error::InvalidParameter { name: "name", .. })));
}

#[test]
fn gunpoint_has_its_published_sizes() {
    let Some(dirs) = ucr_dirs("GunPoint loading") else {
        return;
    };
    let gp = load_ucr(&dirs, "GunPoint").unwrap();
    assert_eq!((gp.train.n, gp.test.n), (50, 150));
    assert_eq!((gp.train.max_len, gp.train.dims), (150, 1));
    assert!(gp.train.equal_length() && gp.test.equal_length());
    assert_eq!(gp.train.class_names, vec!["1", "2"]);
    assert_eq!(gp.test.to_data().shape, vec![150, 150, 1]);
}

#[test]
fn japanese_vowels_is_multivariate_and_unequal() {
    let Some(dirs) = ucr_dirs("JapaneseVowels loading") else {
        return;
    };
    let jv = load_ucr(&dirs, "JapaneseVowels").unwrap();
    assert_eq!((jv.train.n, jv.test.n), (270, 370));
    assert_eq!((jv.train.dims, jv.train.class_names.len()), (12, 9));
    assert!(!jv.train.equal_length() && !jv.test.equal_length());
    // Published lengths: 7 to 29 steps.
    let (lo, hi) = jv.train.lengths.iter().chain(&jv.test.lengths).fold((usize::MAX, 0), |(lo, hi), &l| (lo.min(l), hi.max(l)));
    assert_eq!((lo, hi), (7, 29));
    assert_eq!((jv.train.max_len, jv.test.max_len), (29, 29));
    assert_eq!(jv.train.to_data().class_counts(), Some(vec![30; 9]));
}

#[test]
fn every_pinned_dataset_loads() {
    let Some(dirs) = ucr_dirs("UCR/UEA loading") else {
        return;
    };
    for name in UCR_DATASETS {
        let split = load_ucr(&dirs, name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(split.train.max_len, split.test.max_len, "{name}");
        assert!(split.train.labels.is_some(), "{name}");
    }
}
