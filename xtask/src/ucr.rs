//! UCR/UEA `.ts` files from the PyPI wheel of aeon (pinned), extracted into `data/ucr/` and verified.

use crate::wheel::{self, Entry};
use anyhow::Result;
use std::path::Path;

/// The aeon release whose wheel ships the `.ts` files pinned in [`UCR_FILES`].
pub const AEON_VERSION: &str = "1.6.0";

/// `(dataset, file, SHA-256)`: the same table as `protolearn_data::ucr::UCR_FILES` (one file, two includes).
const UCR_FILES: &[(&str, &str, &str)] = include!("../../crates/protolearn-data/src/ucr_files.in");

/// Makes every file of [`UCR_FILES`] available: those already in `$PROTOLEARN_DATA/ucr` or
/// `<root>/data/ucr` with the right digest are kept, the others are extracted from the aeon
/// wheel (downloaded with `python -m pip download`) into `<root>/data/ucr/<dataset>/`.
pub fn ensure(root: &Path, python: &str) -> Result<()> {
    let dirs = wheel::data_dirs(root, "ucr");
    let missing: Vec<Entry<'_>> = UCR_FILES
        .iter()
        .filter(|(name, file, sha)| !dirs.iter().any(|d| wheel::is_verified(&d.join(name).join(file), sha)))
        .map(|(name, file, sha)| Entry {
            archive_path: format!("aeon/datasets/data/{name}/{file}"),
            sha256: sha,
            dest: root.join("data/ucr").join(name).join(file),
        })
        .collect();
    if missing.is_empty() {
        println!("xtask: UCR/UEA datasets already present ({} files)", UCR_FILES.len());
        return Ok(());
    }
    wheel::fetch(python, &format!("aeon=={AEON_VERSION}"), "about 6.4 MB, for its UCR/UEA .ts files", &missing)?;
    println!("xtask: extracted {} UCR/UEA files from aeon {AEON_VERSION} into {}", missing.len(), root.join("data/ucr").display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shared_table_pins_train_and_test_of_each_dataset() {
        assert_eq!(UCR_FILES.len(), 14);
        assert!(UCR_FILES.iter().all(|(name, file, sha)| file.starts_with(name) && file.ends_with(".ts") && sha.len() == 64));
        assert!(UCR_FILES.iter().any(|(_, file, _)| *file == "GunPoint_TRAIN.ts"));
    }
}
