//! The xtask tasks: setup, doctor, test, python, bench-all and speed.

use crate::args::{Command, USAGE};
use crate::{digits, gloo, libtorch, peers, process, python, ucr};
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Whether `setup` fails when a dataset cannot be made available.
#[derive(Clone, Copy, PartialEq, Eq)]
enum DataNeed {
    Required,
    Optional,
    Skip,
}

/// Runs one parsed command.
pub fn run(cmd: &Command) -> Result<()> {
    let root = workspace_root();
    match cmd {
        Command::Help => {
            print!("{USAGE}");
            Ok(())
        }
        Command::Setup { skip_data } => setup(&root, if *skip_data { DataNeed::Skip } else { DataNeed::Required }).map(|_| ()),
        Command::Doctor => doctor(&root),
        Command::Test { cargo_args } => {
            let libtorch = setup(&root, DataNeed::Optional)?;
            let start = Instant::now();
            process::run(
                process::command(&process::cargo(), &root, &libtorch).args(["test", "--workspace", "--no-fail-fast"]).args(cargo_args),
            )?;
            println!("xtask: Rust tests finished in {:.0} s", start.elapsed().as_secs_f64());
            let start = Instant::now();
            python::run(&root, &libtorch, python::Then::Test)?;
            println!("xtask: Python package built and tested in {:.0} s", start.elapsed().as_secs_f64());
            Ok(())
        }
        Command::Python { then } => {
            let libtorch = setup(&root, if *then == python::Then::Bench { DataNeed::Required } else { DataNeed::Optional })?;
            python::run(&root, &libtorch, *then)
        }
        Command::BenchAll { runner_args } => runner(&root, "bench-all", runner_args, None),
        Command::Speed { runner_args } => {
            let python = peers::ensure(&root)?;
            runner(&root, "speed", runner_args, Some(&python))
        }
    }
}

/// Setup (data required), then `protolearn <task> <args>` in release mode.
fn runner(root: &Path, task: &str, args: &[String], python: Option<&Path>) -> Result<()> {
    let libtorch = setup(root, DataNeed::Required)?;
    let mut command = process::command(&process::cargo(), root, &libtorch);
    if let Some(python) = python {
        command.env("PROTOLEARN_PYTHON", python);
    }
    process::run(command.args(["run", "--release", "-p", "protolearn-experiments", "--bin", "protolearn", "--"]).arg(task).args(args))
}

/// The workspace root: the parent of xtask's manifest folder.
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Makes libtorch (and, unless skipped, the datasets: MNIST, Fashion-MNIST, UCR/UEA, digits) available;
/// returns the libtorch folder.
fn setup(root: &Path, data: DataNeed) -> Result<PathBuf> {
    let start = Instant::now();
    let libtorch = ensure_libtorch(root)?;
    println!("xtask: libtorch ready in {:.0} s", start.elapsed().as_secs_f64());
    gloo::ensure(root, &process::python())?;
    if data != DataNeed::Skip {
        let start = Instant::now();
        let fetched = process::run(
            process::command(&process::cargo(), root, &libtorch)
                .args(["run", "--quiet", "-p", "protolearn-data", "--features", "cli", "--bin", "protolearn-data", "--"])
                .args(["fetch", "--dataset", "all"]),
        );
        match (fetched, data) {
            (Ok(()), _) => println!("xtask: datasets ready in {:.0} s", start.elapsed().as_secs_f64()),
            (Err(err), DataNeed::Required) => return Err(err),
            (Err(err), _) => eprintln!("xtask: warning: datasets are not all available ({err:#}); tests that need them will say they skip"),
        }
        // Only bench-all and the UCR and digits tests need these: a failure is a warning, whatever `data` says.
        if let Err(err) = ucr::ensure(root, &process::python()) {
            eprintln!(
                "xtask: warning: UCR/UEA datasets are not available ({err:#}); make PyPI reachable and rerun \
                 `cargo xtask setup`, or copy the .ts files into data/ucr/<Name>/"
            );
        }
        if let Err(err) = digits::ensure(root, &process::python()) {
            eprintln!(
                "xtask: warning: scikit-learn's digits are not available ({err:#}); only bench-all's paper001_ddcl and the \
                 digits tests need them: make PyPI reachable and rerun `cargo xtask setup`, or copy digits.csv.gz into data/digits/"
            );
        }
    }
    Ok(libtorch)
}

/// Installs libtorch into the project when missing or of the wrong version.
fn ensure_libtorch(root: &Path) -> Result<PathBuf> {
    let dir = libtorch::libtorch_dir(root);
    let (torch_sys, required) = libtorch::required_version(root)?;
    let project_local = dir.starts_with(root.join(".libtorch"));
    match libtorch::installed_version(&dir) {
        Some((version, tag)) if version == required => {
            println!("xtask: libtorch {version}+{tag} (needed by torch-sys {torch_sys}) already at {}", dir.display());
            Ok(dir)
        }
        Some((version, _)) if !project_local => bail!(
            "LIBTORCH={} holds libtorch {version}, but torch-sys {torch_sys} needs {required}.\n\
             Fix: unset LIBTORCH to use the project-local install, or point it at a torch {required}.",
            dir.display()
        ),
        None if !project_local => bail!(
            "LIBTORCH={} holds no libtorch (lib/libtorch_cpu.so missing).\n\
             Fix: unset LIBTORCH to let `cargo xtask setup` install torch {required} into .libtorch/.",
            dir.display()
        ),
        found => {
            if let Some((version, _)) = found {
                println!("xtask: libtorch {version} at {} is not {required}: reinstalling", dir.display());
            }
            let site = libtorch::site_dir(&dir)?;
            let python = process::python();
            println!(
                "xtask: installing libtorch {required} (PyPI wheel torch=={required}, about 4.6 GB with its CUDA \
                 libraries) into {} with {python} -m pip",
                site.display()
            );
            libtorch::install(&python, &required, &site)?;
            match libtorch::installed_version(&dir) {
                Some((version, tag)) if version == required => {
                    println!("xtask: installed libtorch {version}+{tag} at {}", dir.display());
                    Ok(dir)
                }
                other => bail!("pip installed torch, but {} holds {other:?} instead of libtorch {required}", dir.display()),
            }
        }
    }
}

/// Prints the environment and fails on a libtorch mismatch or a missing install; absent optional
/// datasets are a warning with the fix.
fn doctor(root: &Path) -> Result<()> {
    let dir = libtorch::libtorch_dir(root);
    let (torch_sys, required) = libtorch::required_version(root)?;
    println!("workspace        {}", root.display());
    println!("LIBTORCH         {}", dir.display());
    println!("required         libtorch {required} (locked torch-sys {torch_sys})");
    let installed = libtorch::installed_version(&dir);
    match &installed {
        Some((version, tag)) => println!("installed        libtorch {version}+{tag}"),
        None => println!("installed        none (run `cargo xtask setup`)"),
    }
    println!(
        "CUDA build       {}",
        if libtorch::has_cuda_build(&dir) { "yes (libtorch_cuda.so present)" } else { "no (CPU-only libtorch)" }
    );
    let Some((version, _)) = installed else {
        bail!("libtorch is not installed at {}: run `cargo xtask setup`", dir.display());
    };
    if version != required {
        bail!("libtorch {version} at {} does not match the required {required}: run `cargo xtask setup`", dir.display());
    }
    println!("\n-- as seen by a binary linked against it (protolearn doctor) --");
    process::run(process::command(&process::cargo(), root, &dir).args([
        "run",
        "--quiet",
        "-p",
        "protolearn-experiments",
        "--bin",
        "protolearn",
        "--",
        "doctor",
    ]))?;
    println!("\n-- datasets (protolearn-data status) --");
    // The IDX datasets are optional: tests that need them skip with a message unless
    // PROTOLEARN_REQUIRE_DATA=1, and only bench-all's MNIST rows need them. A warning, not a failure.
    let status = process::run(process::command(&process::cargo(), root, &dir).args([
        "run",
        "--quiet",
        "-p",
        "protolearn-data",
        "--features",
        "cli",
        "--bin",
        "protolearn-data",
        "--",
        "status",
    ]));
    if status.is_err() {
        println!(
            "warning: a dataset above is not available. It is optional for `cargo xtask test`; bench-all's \
             MNIST / Fashion-MNIST rows need it. Fix: `cargo run -p protolearn-data --features cli -- fetch`, \
             or point PROTOLEARN_DATA at a folder holding mnist/ and fashion-mnist/"
        );
    }
    Ok(())
}
