//! Where libtorch lives, which version tch needs, and how to install it (PyPI wheel `torch`).

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// libtorch version required by each torch-sys release this project has been pinned to.
const TORCH_FOR_TORCH_SYS: &[(&str, &str)] = &[("0.24.0", "2.11.0")];

/// The project-local libtorch: `LIBTORCH` as resolved by `.cargo/config.toml`
/// (cargo passes it to xtask), else `<root>/.libtorch/site/torch`.
pub fn libtorch_dir(root: &Path) -> PathBuf {
    std::env::var_os("LIBTORCH").map(PathBuf::from).unwrap_or_else(|| root.join(".libtorch/site/torch"))
}

/// The pip `--target` folder that holds `torch/` and its `nvidia-*` dependencies.
pub fn site_dir(libtorch: &Path) -> Result<PathBuf> {
    libtorch.parent().map(Path::to_path_buf).with_context(|| format!("LIBTORCH={} has no parent folder", libtorch.display()))
}

/// The libtorch version the locked torch-sys was built for, read from `Cargo.lock`.
pub fn required_version(root: &Path) -> Result<(String, String)> {
    let lock_path = root.join("Cargo.lock");
    let lock = std::fs::read_to_string(&lock_path).with_context(|| format!("reading {}", lock_path.display()))?;
    let mut lines = lock.lines();
    let mut torch_sys = None;
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"torch-sys\"" {
            torch_sys =
                lines.next().and_then(|v| v.trim().strip_prefix("version = \"")).and_then(|v| v.strip_suffix('"')).map(str::to_owned);
            break;
        }
    }
    let Some(torch_sys) = torch_sys else {
        bail!("{}: no torch-sys package entry (run `cargo generate-lockfile`)", lock_path.display());
    };
    match TORCH_FOR_TORCH_SYS.iter().find(|(sys, _)| *sys == torch_sys) {
        Some((_, torch)) => Ok((torch_sys, (*torch).to_owned())),
        None => bail!(
            "Cargo.lock pins torch-sys {torch_sys}, which xtask does not know; add its libtorch version \
             to TORCH_FOR_TORCH_SYS in xtask/src/libtorch.rs"
        ),
    }
}

/// The installed libtorch version (`2.11.0+cu130` → `2.11.0`, build tag returned separately),
/// read from `torch/version.py`; `None` when libtorch is not installed there.
pub fn installed_version(libtorch: &Path) -> Option<(String, String)> {
    if !libtorch.join("lib/libtorch_cpu.so").is_file() {
        return None;
    }
    let text = std::fs::read_to_string(libtorch.join("version.py")).ok()?;
    let full =
        text.lines().find_map(|l| l.strip_prefix("__version__ = ").map(|v| v.trim().trim_matches(|c| c == '\'' || c == '"').to_owned()))?;
    let (version, tag) = full.split_once('+').unwrap_or((full.as_str(), ""));
    Some((version.to_owned(), tag.to_owned()))
}

/// Whether this libtorch build ships CUDA (`libtorch_cuda.so`).
pub fn has_cuda_build(libtorch: &Path) -> bool {
    libtorch.join("lib/libtorch_cuda.so").is_file()
}

/// Installs `torch==<version>` with pip into `site` atomically: into `<site>.partial`, then renamed.
pub fn install(python: &str, version: &str, site: &Path) -> Result<()> {
    let partial = site.with_extension("partial");
    if partial.exists() {
        std::fs::remove_dir_all(&partial).with_context(|| format!("removing stale {}", partial.display()))?;
    }
    if let Some(parent) = partial.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    let spec = format!("torch=={version}");
    let status = std::process::Command::new(python)
        // No pip cache: the wheel is 4.6 GB and a second copy of it fills small CI disks.
        .args(["-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check", "--no-warn-script-location"])
        .arg("--target")
        .arg(&partial)
        .arg(&spec)
        .status()
        .with_context(|| format!("starting `{python} -m pip`: is python3 with pip installed? (apt-get install python3-pip)"))?;
    if !status.success() {
        let _ = std::fs::remove_dir_all(&partial);
        bail!(
            "`{python} -m pip install --target {} {spec}` failed ({status}).\n\
             libtorch is missing. Fix: make PyPI reachable and rerun `cargo xtask setup`, or install \
             torch {version} yourself and point LIBTORCH at its `torch` folder (the one holding lib/ and include/).",
            partial.display()
        );
    }
    if site.exists() {
        std::fs::remove_dir_all(site).with_context(|| format!("removing old {}", site.display()))?;
    }
    std::fs::rename(&partial, site).with_context(|| format!("renaming {} to {}", partial.display(), site.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_installed_version_and_tag() {
        let dir = std::env::temp_dir().join(format!("xtask-libtorch-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("lib")).unwrap();
        assert_eq!(installed_version(&dir), None, "no libtorch_cpu.so yet");
        std::fs::write(dir.join("lib/libtorch_cpu.so"), b"").unwrap();
        std::fs::write(dir.join("version.py"), "__version__ = '2.11.0+cu130'\ngit_version = 'x'\n").unwrap();
        assert_eq!(installed_version(&dir), Some(("2.11.0".into(), "cu130".into())));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn required_version_comes_from_the_lockfile() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let (sys, torch) = required_version(&root).unwrap();
        assert_eq!((sys.as_str(), torch.as_str()), ("0.24.0", "2.11.0"));
    }
}
