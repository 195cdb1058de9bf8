//! UCR/UEA time-series classification datasets (`.ts` train/test files): locating, verifying, loading.
//!
//! A dataset `<Name>` lives in `<root>/ucr/<Name>/<Name>_TRAIN.ts` and `<Name>_TEST.ts` (raw or
//! `.gz`) under the roots of [`DataDirs`]. `cargo xtask setup` extracts the files listed in
//! [`UCR_FILES`] from the PyPI wheel `aeon==1.6.0` (which ships them) into `data/ucr/`.

use std::path::{Path, PathBuf};

use crate::checksum::verify_sha256;
use crate::error::{Error, Result};
use crate::idx::read_uncompressed;
use crate::locate::{existing_file, DataDirs, DATA_ENV};
use crate::ts::{parse_ts, Sequences};

/// The datasets `cargo xtask setup` makes available, i.e. those with pinned files in [`UCR_FILES`].
pub const UCR_DATASETS: &[&str] = &["GunPoint", "ItalyPowerDemand", "ArrowHead", "OSULeaf", "BasicMotions", "JapaneseVowels", "ACSF1"];

/// `(dataset, file name, SHA-256 of the file's uncompressed content)` of every pinned file:
/// the `_TRAIN.ts` and `_TEST.ts` of each of [`UCR_DATASETS`], as shipped in the `aeon==1.6.0`
/// wheel. xtask includes the same table (`src/ucr_files.in`), so setup and loading agree.
pub const UCR_FILES: &[(&str, &str, &str)] = include!("ucr_files.in");

/// The training and test series of a UCR/UEA dataset, padded to one common length.
#[derive(Debug, Clone)]
pub struct SequenceSplit {
    /// The `_TRAIN` file's cases.
    pub train: Sequences,
    /// The `_TEST` file's cases.
    pub test: Sequences,
}

/// Loads dataset `name` (e.g. `"GunPoint"`) from the first root of `dirs` holding both
/// `ucr/<name>/<name>_TRAIN.ts` and `_TEST.ts` (each raw or `.gz`). Files listed in
/// [`UCR_FILES`] are verified first ([`Error::Checksum`] on a mismatch); other datasets load
/// unverified. Both parts are padded ([`Sequences::padded_to`]) to the longer `max_len`.
///
/// Fails with [`Error::NotFound`] (saying to run `cargo xtask setup`) when no root holds both
/// files, with [`Error::Shape`] when the parts differ in dimensions or class names, and with
/// the parser's errors.
pub fn load_ucr(dirs: &DataDirs, name: &str) -> Result<SequenceSplit> {
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(Error::invalid("name", "a dataset name such as \"GunPoint\" (no path)", format!("{name:?}")));
    }
    let [train_stem, test_stem] = [format!("{name}_TRAIN.ts"), format!("{name}_TEST.ts")];
    let found = dirs
        .roots()
        .iter()
        .map(|root| root.join("ucr").join(name))
        .find_map(|dir| Some((existing_file(&dir, &train_stem)?, existing_file(&dir, &test_stem)?)));
    let Some((train_path, test_path)) = found else {
        return Err(not_found(dirs, name));
    };
    let train = read_verified(&train_path, name, &train_stem)?;
    let test = read_verified(&test_path, name, &test_stem)?;
    if train.dims != test.dims || train.class_names != test.class_names {
        return Err(Error::Shape {
            expected: format!(
                "{} with the training file's {} dimensions and classes {:?}",
                test_path.display(),
                train.dims,
                train.class_names
            ),
            got: format!("{} dimensions and classes {:?}", test.dims, test.class_names),
        });
    }
    let len = train.max_len.max(test.max_len);
    Ok(SequenceSplit { train: train.padded_to(len)?, test: test.padded_to(len)? })
}

/// Reads `path` (gunzipped if needed), checks it against [`UCR_FILES`] if listed, and parses it.
fn read_verified(path: &Path, name: &str, file: &str) -> Result<Sequences> {
    let bytes = read_uncompressed(path)?;
    if let Some((_, _, sha256)) = UCR_FILES.iter().find(|(d, f, _)| *d == name && *f == file) {
        verify_sha256(path, &bytes, sha256)?;
    }
    parse_ts(bytes.as_slice(), &path.display().to_string())
}

fn not_found(dirs: &DataDirs, name: &str) -> Error {
    let pinned = if UCR_DATASETS.contains(&name) {
        "run `cargo xtask setup` (extracts it from the PyPI wheel aeon==1.6.0 into data/ucr/), or "
    } else {
        ""
    };
    Error::NotFound {
        dataset: format!("ucr/{name}"),
        searched: dirs.roots().iter().map(|r| r.join("ucr").join(name)).collect::<Vec<PathBuf>>(),
        hint: format!(
            "{pinned}copy {name}_TRAIN.ts and {name}_TEST.ts (raw or .gz) into data/ucr/{name}/, \
             or set {DATA_ENV} to a directory holding ucr/{name}/"
        ),
    }
}
