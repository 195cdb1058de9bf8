//! The Python tools `protolearn speed` races against, installed into a venv that xtask manages
//! (`.speed-venv/`, pinned versions, one `pip install` per tool so that one failing tool does not
//! stop the others): scikit-learn, FAISS, minisom, somoclu, XPySom and torchsom. torch itself is
//! not installed there: the speed runner puts `.libtorch/site` (the same torch 2.11 this build
//! links) on `PYTHONPATH`. A tool that fails to install is reported here and becomes a "not run"
//! row of the speed report, with the import error as its reason.

use crate::process;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One pip install step: its name in messages and the pip arguments after `install`.
struct Step {
    name: &'static str,
    args: &'static [&'static str],
}

/// The pinned tools in install order (somoclu builds from source against the venv's numpy, so
/// numpy, setuptools and wheel come first; torchsom's own requirement on torch is skipped with
/// `--no-deps` and its other requirements are listed).
const STEPS: &[Step] = &[
    Step { name: "numpy", args: &["numpy==2.4.6", "setuptools==65.5.0", "wheel==0.48.0"] },
    Step { name: "scikit-learn", args: &["scikit-learn==1.9.1", "scipy==1.17.1", "threadpoolctl==3.8.0"] },
    Step { name: "faiss-cpu", args: &["faiss-cpu==1.15.1"] },
    Step { name: "minisom", args: &["minisom==2.3.6"] },
    Step { name: "somoclu", args: &["--no-build-isolation", "somoclu==1.7.6"] },
    Step { name: "xpysom", args: &["xpysom==1.0.7"] },
    Step { name: "torchsom", args: &["--no-deps", "torchsom==1.3.1"] },
    Step {
        name: "torchsom's requirements",
        args: &["pydantic==2.14.4", "tqdm==4.70.1", "matplotlib==3.11.2", "hdbscan==0.8.44", "joblib==1.6.0"],
    },
];

/// Makes `.speed-venv` under `root` with every tool it can install; returns its interpreter.
/// A step that already succeeded (its marker file exists) is not repeated.
pub fn ensure(root: &Path) -> Result<PathBuf> {
    let venv = root.join(".speed-venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        process::run(Command::new(process::python()).args(["-m", "venv"]).arg(&venv))
            .context("creating the speed venv (python3 -m venv)")?;
    }
    for step in STEPS {
        let marker = venv.join(format!("installed-{}", step.name.replace(['\'', ' '], "-")));
        if marker.exists() {
            continue;
        }
        let out = Command::new(&python)
            .args(["-m", "pip", "install", "--quiet"])
            .args(step.args)
            .output()
            .with_context(|| format!("running pip in {}", venv.display()))?;
        if out.status.success() {
            std::fs::write(&marker, step.args.join(" "))?;
        } else {
            let reason = String::from_utf8_lossy(&out.stderr);
            let last = reason.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message");
            eprintln!("xtask: warning: pip could not install {} ({last}); its speed rows say \"not run\"", step.name);
        }
    }
    Ok(python)
}
