//! Gloo's C++ headers for protolearn-dist's c10d shim. libtorch contains Gloo (compiled into
//! libtorch_cpu) and ships the headers of c10d's `ProcessGroupGloo`, but not Gloo's own headers
//! that it includes. They come from Debian's `libgloo-dev` package (declarations only: the code
//! that runs is libtorch's), downloaded from deb.debian.org, checked by SHA-256 and unpacked into
//! `.libtorch/gloo/include` (where `.cargo/config.toml` points `PROTOLEARN_GLOO_INCLUDE`).

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// The package file: Debian 12's libgloo-dev.
const DEB_URL: &str = "http://deb.debian.org/debian/pool/main/g/gloo/libgloo-dev_0.0~git20220518.5b14351-3_amd64.deb";
/// Its SHA-256, as in Debian's package index (`apt-cache show libgloo-dev`).
const DEB_SHA256: &str = "80529c9fd8af452faf489e686b94bf87075965c40673803810c4f41634b1e299";

/// Downloads, checks and unpacks (a Debian package is an `ar` archive holding `data.tar.xz`);
/// Python's standard library does all three, and setup needs Python for pip already.
const INSTALL_PY: &str = r#"
import hashlib, io, sys, tarfile, urllib.request
url, sha, dest = sys.argv[1:4]
deb = urllib.request.urlopen(url, timeout=120).read()
found = hashlib.sha256(deb).hexdigest()
if found != sha:
    sys.exit(f"{url}: SHA-256 {found}, expected {sha}")
if not deb.startswith(b"!<arch>\n"):
    sys.exit(f"{url}: not an ar archive")
pos, data = 8, None
while pos + 60 <= len(deb):
    name, size = deb[pos:pos + 16].decode().strip().rstrip("/"), int(deb[pos + 48:pos + 58])
    if name.startswith("data.tar"):
        data = deb[pos + 60:pos + 60 + size]
    pos += 60 + size + (size % 2)
if data is None:
    sys.exit(f"{url}: no data.tar member")
with tarfile.open(fileobj=io.BytesIO(data)) as tar:
    members = [m for m in tar.getmembers() if m.name.startswith("./usr/include/gloo/") and (m.isfile() or m.isdir())]
    for m in members:
        m.name = m.name[len("./usr/include/"):]
    tar.extractall(dest, members=members, filter="data")
"#;

/// The folder holding `gloo/context.h`.
pub fn include_dir(root: &Path) -> PathBuf {
    root.join(".libtorch/gloo/include")
}

/// Installs the headers unless present; atomic (a partial folder renamed at the end).
pub fn ensure(root: &Path, python: &str) -> Result<()> {
    let dest = include_dir(root);
    if dest.join("gloo/context.h").is_file() {
        println!("xtask: Gloo headers already at {}", dest.display());
        return Ok(());
    }
    let partial = dest.with_extension("partial");
    if partial.exists() {
        std::fs::remove_dir_all(&partial).with_context(|| format!("removing stale {}", partial.display()))?;
    }
    std::fs::create_dir_all(&partial).with_context(|| format!("creating {}", partial.display()))?;
    let status = std::process::Command::new(python)
        .args(["-c", INSTALL_PY, DEB_URL, DEB_SHA256])
        .arg(&partial)
        .status()
        .with_context(|| format!("starting {python}"))?;
    if !status.success() || !partial.join("gloo/context.h").is_file() {
        let _ = std::fs::remove_dir_all(&partial);
        bail!(
            "installing Gloo's headers from {DEB_URL} failed ({status}). protolearn-dist needs them to compile. \
             Fix: make deb.debian.org reachable and rerun `cargo xtask setup`, or unpack libgloo-dev's usr/include \
             and set PROTOLEARN_GLOO_INCLUDE to it"
        );
    }
    if dest.exists() {
        std::fs::remove_dir_all(&dest).with_context(|| format!("removing old {}", dest.display()))?;
    }
    std::fs::rename(&partial, &dest).with_context(|| format!("renaming {} to {}", partial.display(), dest.display()))?;
    println!("xtask: Gloo headers (Debian libgloo-dev, SHA-256 checked) installed at {}", dest.display());
    Ok(())
}
