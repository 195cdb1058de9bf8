//! Where datasets are looked for: the search order of data roots and the files inside them.
//!
//! Search order: an explicit directory, then `$PROTOLEARN_DATA`, then `./data`, then
//! `/usr/share/datasets` (where Debian's `dataset-fashion-mnist` installs). Inside a root,
//! dataset `name` lives in `<root>/<name>/`, each standard file raw or gzipped (`.gz`).

use std::path::{Path, PathBuf};

use crate::checksum::verify_md5;
use crate::error::{Error, Result};
use crate::idx::read_uncompressed;
use crate::idx_dataset::IdxDataset;

/// Set to `1` (CI does, when the datasets sit beside the clone) to make tests that need a dataset
/// fail when it is missing instead of skipping.
pub const REQUIRE_DATA_ENV: &str = "PROTOLEARN_REQUIRE_DATA";

/// Whether [`REQUIRE_DATA_ENV`] is `1`: a test that cannot find its dataset must then fail.
pub fn data_required() -> bool {
    std::env::var(REQUIRE_DATA_ENV).is_ok_and(|v| v == "1")
}

/// Environment variable naming a data root.
pub const DATA_ENV: &str = "PROTOLEARN_DATA";

/// System-wide data root used by Debian dataset packages.
pub const SYSTEM_ROOT: &str = "/usr/share/datasets";

/// The data roots searched for datasets, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDirs {
    roots: Vec<PathBuf>,
}

/// The four files of a dataset found in one directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetFiles {
    /// Which dataset.
    pub dataset: IdxDataset,
    /// The dataset directory (`<root>/<name>`).
    pub dir: PathBuf,
    /// Paths in the order of [`IdxDataset::files`].
    pub paths: [PathBuf; 4],
}

/// What one dataset directory holds, as reported by [`DataDirs::status`].
#[derive(Debug)]
pub enum DirState {
    /// The directory does not exist.
    Absent,
    /// The directory exists but lacks these files (stems, neither raw nor `.gz` present).
    Incomplete(Vec<&'static str>),
    /// All four files are present and match their checksums.
    Verified(DatasetFiles),
    /// All four files are present but one cannot be read or fails its checksum.
    Invalid(Error),
}

impl DataDirs {
    /// The standard search order: `explicit` (if any), `$PROTOLEARN_DATA` (if set and
    /// non-empty), `./data` (absolute, from the current directory), `/usr/share/datasets`.
    pub fn new(explicit: Option<PathBuf>) -> Self {
        let env = std::env::var_os(DATA_ENV).map(PathBuf::from);
        Self::from_parts(explicit, env, local_root())
    }

    /// The standard search order from explicit values (for tests and callers that resolve the
    /// environment themselves); `local` stands for `./data`.
    pub fn from_parts(explicit: Option<PathBuf>, env: Option<PathBuf>, local: PathBuf) -> Self {
        let env = env.filter(|p| !p.as_os_str().is_empty());
        let roots = explicit.into_iter().chain(env).chain([local, PathBuf::from(SYSTEM_ROOT)]).collect();
        DataDirs { roots }
    }

    /// Exactly these roots, in this order.
    pub fn with_roots(roots: Vec<PathBuf>) -> Self {
        DataDirs { roots }
    }

    /// The roots, in search order.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// The files of `dataset` in the first root that holds all four (raw or gzipped), without
    /// verifying them (loaders verify while reading). Fails with [`Error::NotFound`].
    pub fn find(&self, dataset: IdxDataset) -> Result<DatasetFiles> {
        self.roots
            .iter()
            .find_map(|root| DatasetFiles::in_dir(dataset, &root.join(dataset.name())).ok())
            .ok_or_else(|| self.not_found(dataset))
    }

    /// Like [`find`](Self::find), then verifies the MD5 of every file: the dataset is
    /// found only if the first complete directory is also intact.
    pub fn locate(&self, dataset: IdxDataset) -> Result<DatasetFiles> {
        let files = self.find(dataset)?;
        files.verify()?;
        Ok(files)
    }

    /// The state of `dataset`'s directory in every root, in search order.
    pub fn status(&self, dataset: IdxDataset) -> Vec<(PathBuf, DirState)> {
        self.roots
            .iter()
            .map(|root| {
                let dir = root.join(dataset.name());
                let state = if !dir.is_dir() {
                    DirState::Absent
                } else {
                    match DatasetFiles::in_dir(dataset, &dir) {
                        Err(missing) => DirState::Incomplete(missing),
                        Ok(files) => match files.verify() {
                            Ok(()) => DirState::Verified(files),
                            Err(e) => DirState::Invalid(e),
                        },
                    }
                };
                (dir, state)
            })
            .collect()
    }

    /// The error for a dataset found nowhere, with the ways to fix it.
    fn not_found(&self, dataset: IdxDataset) -> Error {
        let name = dataset.name();
        let mut hint = format!(
            "run `cargo run --release -p protolearn-data --features cli -- fetch --dataset {name}` \
             (downloads into ./data), or copy the four IDX files ({}, raw or .gz) into data/{name}/, \
             or set {DATA_ENV} to a directory holding {name}/",
            dataset.files().map(|f| f.stem).join(", "),
        );
        if dataset == IdxDataset::FashionMnist {
            hint.push_str(", or `apt-get install dataset-fashion-mnist` (installs /usr/share/datasets/fashion-mnist)");
        }
        Error::NotFound { dataset: name.to_owned(), searched: self.roots.iter().map(|r| r.join(name)).collect(), hint }
    }
}

impl DatasetFiles {
    /// The four files of `dataset` in `dir` (each `<stem>` raw preferred, else `<stem>.gz`),
    /// or the stems that are missing.
    pub fn in_dir(dataset: IdxDataset, dir: &Path) -> std::result::Result<Self, Vec<&'static str>> {
        let found = dataset.files().map(|f| existing_file(dir, f.stem));
        let missing: Vec<&'static str> = dataset.files().iter().zip(&found).filter(|(_, p)| p.is_none()).map(|(f, _)| f.stem).collect();
        match found {
            [Some(a), Some(b), Some(c), Some(d)] => Ok(DatasetFiles { dataset, dir: dir.to_owned(), paths: [a, b, c, d] }),
            _ => Err(missing),
        }
    }

    /// Checks the MD5 of every file's uncompressed content against the pinned value.
    pub fn verify(&self) -> Result<()> {
        for (path, spec) in self.paths.iter().zip(self.dataset.files()) {
            verify_md5(path, &read_uncompressed(path)?, spec.md5)?;
        }
        Ok(())
    }
}

/// `./data` under the current directory: the third root of the search order and the
/// default destination of downloads.
pub fn local_root() -> PathBuf {
    std::env::current_dir().unwrap_or_default().join("data")
}

/// `<dir>/<stem>` if it is a file, else `<dir>/<stem>.gz` if that is a file.
pub(crate) fn existing_file(dir: &Path, stem: &str) -> Option<PathBuf> {
    [dir.join(stem), dir.join(format!("{stem}.gz"))].into_iter().find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_order() {
        let d = DataDirs::from_parts(Some("/x".into()), Some("/env".into()), "/cwd/data".into());
        let expected: Vec<PathBuf> = ["/x", "/env", "/cwd/data", "/usr/share/datasets"].iter().map(PathBuf::from).collect();
        assert_eq!(d.roots(), expected.as_slice());
        let d = DataDirs::from_parts(None, Some("".into()), "/cwd/data".into());
        assert_eq!(d.roots().len(), 2);
    }

    #[test]
    fn not_found_lists_dirs_and_fixes() {
        let d = DataDirs::with_roots(vec!["/nonexistent-protolearn".into()]);
        let msg = match d.find(IdxDataset::FashionMnist) {
            Err(e @ Error::NotFound { .. }) => e.to_string(),
            other => panic!("expected NotFound, got {other:?}"),
        };
        assert!(msg.contains("/nonexistent-protolearn/fashion-mnist"), "{msg}");
        assert!(msg.contains("apt-get install dataset-fashion-mnist"), "{msg}");
        assert!(msg.contains(DATA_ENV), "{msg}");
    }
}
