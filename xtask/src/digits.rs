//! scikit-learn's 8x8 digits from the PyPI wheel of scikit-learn (pinned), extracted into `data/digits/` and verified.

use crate::wheel::{self, Entry};
use anyhow::Result;
use std::path::Path;

// SKLEARN_VERSION, DIGITS_WHEEL_ENTRY, DIGITS_FILE, DIGITS_SHA256, DIGITS_GZ_SHA256: the same
// items as in `protolearn_data::digits` (one file, two includes).
include!("../../crates/protolearn-data/src/digits_file.in");

/// Makes the digits available: kept if `$PROTOLEARN_DATA/digits` or `<root>/data/digits` holds
/// `digits.csv.gz` as shipped or `digits.csv` with the pinned digest, otherwise extracted from the
/// scikit-learn wheel (downloaded with `python -m pip download`) into `<root>/data/digits/digits.csv.gz`.
pub fn ensure(root: &Path, python: &str) -> Result<()> {
    if let Some(dir) = wheel::data_dirs(root, "digits").into_iter().find(|d| has_verified_copy(d)) {
        println!("xtask: scikit-learn digits already present in {}", dir.display());
        return Ok(());
    }
    let dest = root.join("data/digits").join(format!("{DIGITS_FILE}.gz"));
    let entry = Entry { archive_path: DIGITS_WHEEL_ENTRY.to_owned(), sha256: DIGITS_GZ_SHA256, dest };
    wheel::fetch(python, &format!("scikit-learn=={SKLEARN_VERSION}"), "about 9.3 MB, for its 8x8 digits", &[entry])?;
    println!("xtask: extracted the digits from scikit-learn {SKLEARN_VERSION} into {}", root.join("data/digits").display());
    Ok(())
}

/// Whether `dir` holds the digits as shipped (`digits.csv.gz`) or uncompressed (`digits.csv`),
/// either with its pinned SHA-256 (a recompressed `.gz` does not count: xtask does not gunzip).
fn has_verified_copy(dir: &Path) -> bool {
    wheel::is_verified(&dir.join(format!("{DIGITS_FILE}.gz")), DIGITS_GZ_SHA256)
        || wheel::is_verified(&dir.join(DIGITS_FILE), DIGITS_SHA256)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shared_pin_names_the_wheel_entry_and_both_digests() {
        assert_eq!(SKLEARN_VERSION, "1.9.1");
        assert_eq!(DIGITS_WHEEL_ENTRY, format!("sklearn/datasets/data/{DIGITS_FILE}.gz"));
        assert!(DIGITS_SHA256.len() == 64 && DIGITS_GZ_SHA256.len() == 64 && DIGITS_SHA256 != DIGITS_GZ_SHA256);
    }

    #[test]
    fn only_a_copy_with_the_pinned_digest_counts() {
        let dir = std::env::temp_dir().join(format!("xtask-digits-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(!has_verified_copy(&dir));
        std::fs::write(dir.join("digits.csv.gz"), b"not the shipped file").unwrap();
        std::fs::write(dir.join("digits.csv"), b"0,1\n").unwrap();
        assert!(!has_verified_copy(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
