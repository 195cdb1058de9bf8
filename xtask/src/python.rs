//! `cargo xtask python`: protolearn's Python package. A venv (`.python-venv/`) that sees the
//! project's torch (a `.pth` file pointing at `.libtorch/site`, so no second 4.6 GB download)
//! gets the pinned build and test tools; maturin builds the wheel into `target/wheels/` (cargo
//! target `target/python`: the extension is its own workspace, see python/Cargo.toml); the wheel
//! is pip-installed into the venv like a user would (and into a fresh venv for a first fit), and
//! pytest runs `python/tests`.

use crate::process;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The venv's packages: the wheel's build tool and what the tests use (scikit-learn and pandas
/// for the compatibility tests). Pinned, like the speed peers.
const TOOLS: &[&str] = &["maturin==1.16.0", "numpy==2.4.6", "pandas==3.1.1", "scikit-learn==1.9.1", "scipy==1.17.1", "pytest==9.2.0"];

/// What `cargo xtask python` does after building the wheel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    /// Nothing more.
    Nothing,
    /// Install the wheel into the venv and run the pytest suite.
    Test,
    /// Install the wheel and time the batch SOM from Python against the release command line
    /// (`benches/python/python_vs_cli.py`, into docs/results/speed/python.md).
    Bench,
}

/// Builds the wheel and then does `then`.
pub fn run(root: &Path, libtorch: &Path, then: Then) -> Result<()> {
    let venv = ensure_venv(root, libtorch)?;
    let wheels = root.join("target/wheels");
    let wheel = build_wheel(root, libtorch, &venv, &wheels)?;
    println!("xtask: built {}", wheel.display());
    if then == Then::Nothing {
        return Ok(());
    }
    let python = venv.join("bin/python");
    process::run(Command::new(&python).args(["-m", "pip", "install", "--quiet", "--force-reinstall", "--no-deps"]).arg(&wheel))?;
    // The dependency check a user's pip does (torch==2.11.* and numpy present).
    process::run(Command::new(&python).args(["-m", "pip", "check"]))?;
    if then == Then::Bench {
        let cli = build_cli(root, libtorch, true)?;
        let data = std::env::var_os("PROTOLEARN_DATA").map_or_else(|| root.join("data"), PathBuf::from);
        return process::run(
            process::command(python.to_string_lossy().as_ref(), &root.join("benches/python"), libtorch)
                .args(["-P", "python_vs_cli.py", "--cli"])
                .arg(cli)
                .arg("--data")
                .arg(data)
                .arg("--out")
                .arg(root.join("docs/results/speed")),
        );
    }
    fresh_venv_check(root, libtorch, &wheel)?;
    let cli = build_cli(root, libtorch, false)?;
    process::run(
        process::command(python.to_string_lossy().as_ref(), &root.join("python/tests"), libtorch)
            // From tests/: the installed wheel is imported, not the source folder python/protolearn.
            .args(["-P", "-m", "pytest", "-q", "."])
            .env("PROTOLEARN_CLI", cli)
            .env("PROTOLEARN_EXAMPLES", root.join("examples")),
    )
}

/// What a user does: a fresh venv that has torch 2.11 (here: the project's, through a `.pth`
/// file), `pip install` of the wheel (pip resolves its requirements: torch is found, numpy comes
/// from PyPI) and a first fit.
fn fresh_venv_check(root: &Path, libtorch: &Path, wheel: &Path) -> Result<()> {
    let venv = root.join("target/python-fresh-venv");
    if venv.exists() {
        std::fs::remove_dir_all(&venv)?;
    }
    process::run(Command::new(process::python()).args(["-m", "venv"]).arg(&venv)).context("creating a fresh venv")?;
    let python = venv.join("bin/python");
    write_torch_pth(&python, libtorch)?;
    process::run(Command::new(&python).args(["-m", "pip", "install", "--quiet"]).arg(wheel))
        .context("pip install of the wheel into a fresh venv")?;
    let first_fit = "import numpy as np, protolearn; x = np.random.default_rng(0).normal(size=(200, 3)).astype('float32'); \
                     som = protolearn.SOM(rows=3, cols=3, verbose=False).fit(x); \
                     print('fresh venv: protolearn', protolearn.__version__, 'fitted a 3x3 SOM, QE', round(som.scores(x)['quantization_error'], 4))";
    process::run(Command::new(&python).args(["-P", "-c", first_fit]).current_dir(&venv))
}

/// Makes `python`'s venv see `.libtorch/site` (torch and its dependencies) through a `.pth` file.
fn write_torch_pth(python: &Path, libtorch: &Path) -> Result<()> {
    let site = crate::libtorch::site_dir(libtorch)?;
    let out = Command::new(python).args(["-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).output()?;
    let purelib = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    std::fs::write(purelib.join("protolearn-libtorch.pth"), format!("{}\n", site.display()))
        .with_context(|| format!("writing the torch .pth file into {}", purelib.display()))
}

/// The venv with the pinned tools, seeing `.libtorch/site` (torch and its dependencies).
fn ensure_venv(root: &Path, libtorch: &Path) -> Result<PathBuf> {
    let venv = root.join(".python-venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        process::run(Command::new(process::python()).args(["-m", "venv"]).arg(&venv)).context("creating .python-venv (python3 -m venv)")?;
    }
    write_torch_pth(&python, libtorch)?;
    let marker = venv.join("installed-tools");
    let pins = TOOLS.join(" ");
    if std::fs::read_to_string(&marker).ok().as_deref() != Some(pins.as_str()) {
        process::run(Command::new(&python).args(["-m", "pip", "install", "--quiet"]).args(TOOLS))
            .context("installing the Python package's build and test tools")?;
        std::fs::write(&marker, pins)?;
    }
    Ok(venv)
}

/// `maturin build --release` into `wheels`; returns the wheel for this venv's Python.
fn build_wheel(root: &Path, libtorch: &Path, venv: &Path, wheels: &Path) -> Result<PathBuf> {
    let bin = venv.join("bin");
    let path =
        std::env::join_paths(std::iter::once(bin.clone()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())))?;
    let tag_out =
        Command::new(bin.join("python")).args(["-c", "import sys; print(f'cp{sys.version_info[0]}{sys.version_info[1]}')"]).output()?;
    let tag = String::from_utf8_lossy(&tag_out.stdout).trim().to_owned();
    for entry in std::fs::read_dir(wheels).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().starts_with("protolearn-") {
            std::fs::remove_file(entry.path())?;
        }
    }
    process::run(
        process::command(bin.join("maturin").to_string_lossy().as_ref(), &root.join("python"), libtorch)
            .args(["build", "--release", "--interpreter"])
            .arg(bin.join("python"))
            .arg("--out")
            .arg(wheels)
            .env("VIRTUAL_ENV", venv)
            .env("PATH", path)
            .env("CARGO_TARGET_DIR", root.join("target/python")),
    )?;
    std::fs::read_dir(wheels)?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().contains(&format!("-{tag}-"))))
        .map_or_else(|| bail!("maturin reported success but no {tag} wheel is in {}", wheels.display()), Ok)
}

/// The `protolearn` command: the debug build for the tests that exchange model files with it,
/// the release build for the benchmark.
fn build_cli(root: &Path, libtorch: &Path, release: bool) -> Result<PathBuf> {
    let mut command = process::command(&process::cargo(), root, libtorch);
    command.args(["build", "--quiet", "-p", "protolearn-experiments", "--bin", "protolearn"]);
    if release {
        command.arg("--release");
    }
    process::run(&mut command)?;
    Ok(root.join(if release { "target/release/protolearn" } else { "target/debug/protolearn" }))
}
