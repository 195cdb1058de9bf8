//! Data files shipped inside pinned PyPI wheels: download a wheel with pip, extract verified entries atomically.

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// One file to take from a wheel.
pub struct Entry<'a> {
    /// Its path inside the wheel (a zip archive), e.g. `aeon/datasets/data/GunPoint/GunPoint_TRAIN.ts`.
    pub archive_path: String,
    /// The SHA-256 (lowercase hex) of its bytes as stored in the wheel.
    pub sha256: &'a str,
    /// Where it is written (through `<dest>.partial`, then renamed).
    pub dest: PathBuf,
}

/// Where setup looks for existing copies of the data set folder `sub`: `$PROTOLEARN_DATA/<sub>`
/// (if set and non-empty), then `<root>/data/<sub>`, where it extracts missing files.
pub fn data_dirs(root: &Path, sub: &str) -> Vec<PathBuf> {
    let env = std::env::var_os("PROTOLEARN_DATA").filter(|v| !v.is_empty()).map(|v| PathBuf::from(v).join(sub));
    env.into_iter().chain([root.join("data").join(sub)]).collect()
}

/// Whether `path` is a readable file whose SHA-256 is `sha256`.
pub fn is_verified(path: &Path, sha256: &str) -> bool {
    std::fs::read(path).is_ok_and(|bytes| sha256_hex(&bytes) == sha256)
}

/// Downloads the wheel `spec` (`name==version`; `what` says its size and why, for the message)
/// into a temporary folder with `python -m pip download --no-deps`, extracts `entries`, and
/// removes the folder, whether or not that succeeded.
pub fn fetch(python: &str, spec: &str, what: &str, entries: &[Entry<'_>]) -> Result<()> {
    let tmp = std::env::temp_dir().join(format!("xtask-wheel-{}-{}", spec.replace("==", "-"), std::process::id()));
    println!("xtask: downloading the wheel {spec} ({what})");
    let result = download(python, spec, &tmp).and_then(|wheel| extract(&wheel, entries));
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

/// Downloads the wheel `spec` (no dependencies) into `dir` and returns its path.
fn download(python: &str, spec: &str, dir: &Path) -> Result<PathBuf> {
    let status = std::process::Command::new(python)
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check", "-d"])
        .arg(dir)
        .arg(spec)
        .status()
        .with_context(|| format!("starting `{python} -m pip`"))?;
    if !status.success() {
        bail!("`{python} -m pip download --no-deps {spec}` failed ({status})");
    }
    let listing = std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))?;
    let wheel = listing.filter_map(|e| e.ok().map(|e| e.path())).find(|p| p.extension().is_some_and(|x| x == "whl"));
    wheel.with_context(|| format!("pip reported success but {} holds no .whl", dir.display()))
}

/// Extracts every entry from `wheel` to its `dest`, each checked against its SHA-256 before
/// anything is written, and written atomically (`.partial`, then renamed).
fn extract(wheel: &Path, entries: &[Entry<'_>]) -> Result<()> {
    let reader = std::fs::File::open(wheel).with_context(|| format!("opening {}", wheel.display()))?;
    let mut archive = zip::ZipArchive::new(reader).with_context(|| format!("reading {} as a zip archive", wheel.display()))?;
    for Entry { archive_path, sha256, dest } in entries {
        let mut bytes = Vec::new();
        archive
            .by_name(archive_path)
            .with_context(|| format!("{}: no {archive_path}", wheel.display()))?
            .read_to_end(&mut bytes)
            .with_context(|| format!("{}: reading {archive_path}", wheel.display()))?;
        let found = sha256_hex(&bytes);
        if found != *sha256 {
            bail!("{}: {archive_path} has SHA-256 {found}, expected {sha256}", wheel.display());
        }
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let mut partial = dest.clone().into_os_string();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        std::fs::write(&partial, &bytes).with_context(|| format!("writing {}", partial.display()))?;
        std::fs::rename(&partial, dest).with_context(|| format!("renaming {} to {}", partial.display(), dest.display()))?;
    }
    Ok(())
}

/// Lowercase hexadecimal SHA-256 of `bytes`.
fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A fresh directory under the system temp dir for test `tag`.
    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-wheel-test-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A wheel-like zip holding `entries` (path, content), deflated.
    fn wheel(dir: &Path, entries: &[(&str, &[u8])]) -> PathBuf {
        let path = dir.join("pkg-0-py3-none-any.whl");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let options = zip::write::FileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, content) in entries {
            zip.start_file(*name, options).unwrap();
            zip.write_all(content).unwrap();
        }
        zip.finish().unwrap();
        path
    }

    fn entry<'a>(archive_path: &str, sha256: &'a str, dest: PathBuf) -> Entry<'a> {
        Entry { archive_path: archive_path.to_owned(), sha256, dest }
    }

    #[test]
    fn extracts_verified_files_only() {
        let dir = scratch("extract");
        let content = b"@data\n1,2\n";
        let whl = wheel(&dir, &[("pkg/data/Tiny/Tiny_TRAIN.ts", content), ("pkg/other.py", b"x")]);
        let sha = sha256_hex(content);
        let dest = dir.join("ucr/Tiny/Tiny_TRAIN.ts");
        extract(&whl, &[entry("pkg/data/Tiny/Tiny_TRAIN.ts", &sha, dest.clone())]).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), content);
        assert!(is_verified(&dest, &sha) && !is_verified(&dest, &"0".repeat(64)));
        assert!(!dir.join("ucr/other.py").exists() && !dir.join("ucr/Tiny/Tiny_TRAIN.ts.partial").exists());

        let wrong = "0".repeat(64);
        let bad = dir.join("bad/Tiny/Tiny_TRAIN.ts");
        let err = extract(&whl, &[entry("pkg/data/Tiny/Tiny_TRAIN.ts", &wrong, bad.clone())]).unwrap_err().to_string();
        assert!(err.contains("SHA-256") && err.contains(&sha), "{err}");
        assert!(!bad.exists() && !is_verified(&bad, &sha), "nothing written on a mismatch");
        let err = extract(&whl, &[entry("pkg/data/Tiny/Tiny_TEST.ts", &sha, dest)]).unwrap_err().to_string();
        assert!(err.contains("pkg/data/Tiny/Tiny_TEST.ts"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn data_dirs_end_with_the_repository_data_folder() {
        let dirs = data_dirs(Path::new("/repo"), "digits");
        assert_eq!(dirs.last(), Some(&PathBuf::from("/repo/data/digits")));
    }
}
