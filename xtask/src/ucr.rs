//! UCR/UEA `.ts` files from the PyPI wheel of aeon (pinned), extracted into `data/ucr/` and verified.

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The aeon release whose wheel ships the `.ts` files pinned in [`UCR_FILES`].
pub const AEON_VERSION: &str = "1.6.0";

/// `(dataset, file, SHA-256)`: the same table as `protolearn_data::ucr::UCR_FILES` (one file, two includes).
const UCR_FILES: &[(&str, &str, &str)] = include!("../../crates/protolearn-data/src/ucr_files.in");

/// Makes every file of [`UCR_FILES`] available: those already in `$PROTOLEARN_DATA/ucr` or
/// `<root>/data/ucr` with the right digest are kept, the others are extracted from the aeon
/// wheel (downloaded with `python -m pip download`) into `<root>/data/ucr/<dataset>/`.
pub fn ensure(root: &Path, python: &str) -> Result<()> {
    let dest = root.join("data/ucr");
    let env = std::env::var_os("PROTOLEARN_DATA").filter(|v| !v.is_empty()).map(|v| PathBuf::from(v).join("ucr"));
    let roots: Vec<PathBuf> = env.into_iter().chain([dest.clone()]).collect();
    let missing: Vec<(&str, &str, &str)> = UCR_FILES
        .iter()
        .copied()
        .filter(|(name, file, sha)| !roots.iter().any(|r| std::fs::read(r.join(name).join(file)).is_ok_and(|b| sha256_hex(&b) == *sha)))
        .collect();
    if missing.is_empty() {
        println!("xtask: UCR/UEA datasets already present ({} files)", UCR_FILES.len());
        return Ok(());
    }
    let tmp = std::env::temp_dir().join(format!("xtask-aeon-{}", std::process::id()));
    let result = download_wheel(python, &tmp).and_then(|wheel| extract(&wheel, &missing, &dest));
    let _ = std::fs::remove_dir_all(&tmp);
    result?;
    println!("xtask: extracted {} UCR/UEA files from aeon {AEON_VERSION} into {}", missing.len(), dest.display());
    Ok(())
}

/// Downloads the aeon wheel (no dependencies) into `dir` and returns its path.
fn download_wheel(python: &str, dir: &Path) -> Result<PathBuf> {
    let spec = format!("aeon=={AEON_VERSION}");
    println!("xtask: downloading the wheel {spec} (about 6.4 MB) for its UCR/UEA .ts files");
    let status = std::process::Command::new(python)
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check", "-d"])
        .arg(dir)
        .arg(&spec)
        .status()
        .with_context(|| format!("starting `{python} -m pip`"))?;
    if !status.success() {
        bail!("`{python} -m pip download --no-deps {spec}` failed ({status})");
    }
    let entries = std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))?;
    let wheel = entries.filter_map(|e| e.ok().map(|e| e.path())).find(|p| p.extension().is_some_and(|x| x == "whl"));
    wheel.with_context(|| format!("pip reported success but {} holds no .whl", dir.display()))
}

/// Extracts `files` (`aeon/datasets/data/<dataset>/<file>`) from the wheel into
/// `<dest>/<dataset>/<file>`, each checked against its SHA-256 and written atomically
/// (`.partial`, then renamed).
fn extract(wheel: &Path, files: &[(&str, &str, &str)], dest: &Path) -> Result<()> {
    let reader = std::fs::File::open(wheel).with_context(|| format!("opening {}", wheel.display()))?;
    let mut archive = zip::ZipArchive::new(reader).with_context(|| format!("reading {} as a zip archive", wheel.display()))?;
    for (name, file, sha) in files {
        let entry = format!("aeon/datasets/data/{name}/{file}");
        let mut bytes = Vec::new();
        archive
            .by_name(&entry)
            .with_context(|| format!("{}: no {entry}", wheel.display()))?
            .read_to_end(&mut bytes)
            .with_context(|| format!("{}: reading {entry}", wheel.display()))?;
        let found = sha256_hex(&bytes);
        if found != *sha {
            bail!("{}: {entry} has SHA-256 {found}, expected {sha}", wheel.display());
        }
        let dir = dest.join(name);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let partial = dir.join(format!("{file}.partial"));
        std::fs::write(&partial, &bytes).with_context(|| format!("writing {}", partial.display()))?;
        let path = dir.join(file);
        std::fs::rename(&partial, &path).with_context(|| format!("renaming {} to {}", partial.display(), path.display()))?;
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
        let dir = std::env::temp_dir().join(format!("xtask-ucr-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A wheel-like zip holding `entries` (path, content), deflated.
    fn wheel(dir: &Path, entries: &[(&str, &[u8])]) -> PathBuf {
        let path = dir.join("aeon-0-py3-none-any.whl");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let options = zip::write::FileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, content) in entries {
            zip.start_file(*name, options).unwrap();
            zip.write_all(content).unwrap();
        }
        zip.finish().unwrap();
        path
    }

    #[test]
    fn the_shared_table_pins_train_and_test_of_each_dataset() {
        assert_eq!(UCR_FILES.len(), 14);
        assert!(UCR_FILES.iter().all(|(name, file, sha)| file.starts_with(name) && file.ends_with(".ts") && sha.len() == 64));
        assert!(UCR_FILES.iter().any(|(_, file, _)| *file == "GunPoint_TRAIN.ts"));
    }

    #[test]
    fn extracts_verified_files_only() {
        let dir = scratch("extract");
        let content = b"@data\n1,2\n";
        let whl = wheel(&dir, &[("aeon/datasets/data/Tiny/Tiny_TRAIN.ts", content), ("aeon/other.py", b"x")]);
        let sha = sha256_hex(content);
        let dest = dir.join("ucr");
        extract(&whl, &[("Tiny", "Tiny_TRAIN.ts", &sha)], &dest).unwrap();
        assert_eq!(std::fs::read(dest.join("Tiny/Tiny_TRAIN.ts")).unwrap(), content);
        assert!(!dest.join("other.py").exists() && !dest.join("Tiny/Tiny_TRAIN.ts.partial").exists());

        let wrong = "0".repeat(64);
        let err = extract(&whl, &[("Tiny", "Tiny_TRAIN.ts", &wrong)], &dir.join("bad")).unwrap_err().to_string();
        assert!(err.contains("SHA-256") && err.contains(&sha), "{err}");
        assert!(!dir.join("bad/Tiny/Tiny_TRAIN.ts").exists(), "nothing written on a mismatch");
        let err = extract(&whl, &[("Tiny", "Tiny_TEST.ts", &sha)], &dest).unwrap_err().to_string();
        assert!(err.contains("aeon/datasets/data/Tiny/Tiny_TEST.ts"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
