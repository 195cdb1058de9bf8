//! Command-line parsing for xtask (plain std: xtask keeps its dependencies minimal).

use anyhow::{bail, Result};

/// Usage text printed by `cargo xtask help` and on bad arguments.
pub const USAGE: &str = "\
usage: cargo xtask <task> [options]

tasks:
  setup      install libtorch 2.11.0 into .libtorch/ (pip, torch==2.11.0) and make MNIST and
             Fashion-MNIST available (found locally or downloaded into data/), and the UCR/UEA
             .ts files (GunPoint, JapaneseVowels, ...; 8.2 MB from the PyPI wheel aeon==1.6.0) in data/ucr/
             options: --skip-data
  doctor     print the libtorch in use against the version tch needs, CUDA linkage and GPU
             visibility, and where each dataset was found; non-zero exit on a mismatch
  test       setup (data optional: data-dependent tests skip visibly) + the whole test suite:
             the Rust workspace, then the Python package (as `python` does)
             extra arguments after `--` go to `cargo test`
  python     build the Python package's wheel into target/wheels/ (maturin, in .python-venv/
             which sees .libtorch/site's torch), pip-install it there and run its pytest suite
             options: --build-only (the wheel, no tests), --bench (instead of the tests: the batch SOM
             on Fashion-MNIST from Python against `protolearn fit`, docs/results/speed/python.md)
  bench-all  setup + every experiment in release mode, results/figures/report under --out
             options: --preset quick|full (default quick), --device auto|cpu|cuda (default auto),
                      --out DIR (default docs/results/<preset>), --only NAME[,NAME...],
                      --set EXPERIMENT.KEY=VALUE (change a spec field, repeatable),
                      --spec [EXPERIMENT=]FILE (run a spec file of your own, repeatable),
                      --checkpoints, --resume DIR (resumable DESOM runs),
                      --data DIR (folder holding mnist/ and fashion-mnist/)
  speed      setup + protolearn against FAISS and scikit-learn (k-means), somoclu, XPySom, torchsom
             and minisom (SOM) and PyTorch (DESOM) on this machine in one run; writes
             docs/results/speed/speed.md and speed.jsonl. The Python tools are pip-installed
             (pinned) into .speed-venv/ (a tool that fails to install becomes a 'not run' row);
             torch comes from .libtorch/site; options after `--` go to `protolearn speed`
";

/// A parsed xtask invocation.
#[derive(Debug)]
pub enum Command {
    /// `setup`: libtorch and data.
    Setup {
        /// Do not look for or download datasets.
        skip_data: bool,
    },
    /// `doctor`: report the environment.
    Doctor,
    /// `test`: setup, then `cargo test` for the workspace.
    Test {
        /// Arguments passed through to `cargo test`.
        cargo_args: Vec<String>,
    },
    /// `python`: build the wheel, install it into the venv, then run the Python tests or the benchmark.
    Python {
        /// What follows the build.
        then: crate::python::Then,
    },
    /// `bench-all`: setup, then the experiment runner in release mode.
    BenchAll {
        /// Arguments passed through to `protolearn bench-all`.
        runner_args: Vec<String>,
    },
    /// `speed`: setup, then `protolearn speed` in release mode.
    Speed {
        /// Arguments passed through to `protolearn speed`.
        runner_args: Vec<String>,
    },
    /// `help`: print usage.
    Help,
}

impl Command {
    /// Parses `argv` (without the program name).
    pub fn parse(argv: &[String]) -> Result<Self> {
        let Some((task, rest)) = argv.split_first() else {
            return Ok(Command::Help);
        };
        match task.as_str() {
            "setup" => {
                let mut skip_data = false;
                for arg in rest {
                    match arg.as_str() {
                        "--skip-data" => skip_data = true,
                        other => bail!("setup: unknown option `{other}`\n\n{USAGE}"),
                    }
                }
                Ok(Command::Setup { skip_data })
            }
            "doctor" => {
                if let Some(other) = rest.first() {
                    bail!("doctor: unknown option `{other}`\n\n{USAGE}");
                }
                Ok(Command::Doctor)
            }
            "test" => {
                let cargo_args = match rest.split_first() {
                    None => Vec::new(),
                    Some((sep, tail)) if sep == "--" => tail.to_vec(),
                    Some(_) => rest.to_vec(),
                };
                Ok(Command::Test { cargo_args })
            }
            "python" => match rest {
                [] => Ok(Command::Python { then: crate::python::Then::Test }),
                [flag] if flag == "--build-only" => Ok(Command::Python { then: crate::python::Then::Nothing }),
                [flag] if flag == "--bench" => Ok(Command::Python { then: crate::python::Then::Bench }),
                [other, ..] => bail!("python: unknown option `{other}`\n\n{USAGE}"),
            },
            "bench-all" => Ok(Command::BenchAll { runner_args: validate_bench_args(rest)? }),
            "speed" => Ok(Command::Speed { runner_args: rest.strip_prefix(&["--".to_owned()]).unwrap_or(rest).to_vec() }),
            "help" | "--help" | "-h" => Ok(Command::Help),
            other => bail!("unknown task `{other}`\n\n{USAGE}"),
        }
    }
}

/// Checks the bench-all options early (before the release build) and returns them unchanged.
fn validate_bench_args(rest: &[String]) -> Result<Vec<String>> {
    let mut iter = rest.iter();
    while let Some(flag) = iter.next() {
        let allowed: &[&str] = match flag.as_str() {
            "--preset" => &["quick", "full"],
            "--device" => &[],
            "--out" | "--only" | "--set" | "--data" | "--spec" | "--resume" => &[],
            "--checkpoints" => continue, // a switch without a value
            other => bail!("bench-all: unknown option `{other}`\n\n{USAGE}"),
        };
        let Some(value) = iter.next() else {
            bail!("bench-all: option `{flag}` needs a value");
        };
        if !allowed.is_empty() && !allowed.contains(&value.as_str()) {
            bail!("bench-all: `{flag} {value}`: expected one of {allowed:?}");
        }
        if flag == "--device" && !is_device(value) {
            bail!("bench-all: `--device {value}`: expected auto, cpu, cuda or cuda:N");
        }
    }
    Ok(rest.to_vec())
}

fn is_device(value: &str) -> bool {
    matches!(value, "auto" | "cpu" | "cuda") || value.strip_prefix("cuda:").is_some_and(|n| n.parse::<usize>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_tasks_and_rejects_unknown_options() {
        assert!(matches!(Command::parse(&args(&["setup", "--skip-data"])), Ok(Command::Setup { skip_data: true })));
        assert!(Command::parse(&args(&["setup", "--bogus"])).is_err());
        assert!(Command::parse(&args(&["frobnicate"])).is_err());
        assert!(matches!(Command::parse(&args(&[])), Ok(Command::Help)));
    }

    #[test]
    fn bench_all_options_are_checked() {
        assert!(Command::parse(&args(&["bench-all", "--preset", "full", "--device", "cuda:1"])).is_ok());
        assert!(Command::parse(&args(&["bench-all", "--preset", "huge"])).is_err());
        assert!(Command::parse(&args(&["bench-all", "--device", "tpu"])).is_err());
        assert!(Command::parse(&args(&["bench-all", "--out"])).is_err());
        assert!(Command::parse(&args(&["bench-all", "--set", "paper002_desom.full.seeds=[0]"])).is_ok());
        assert!(Command::parse(&args(&["bench-all", "--set"])).is_err());
        let own = ["bench-all", "--spec", "paper003_lvq=my.toml", "--checkpoints", "--resume", "out", "--only", "paper003_lvq"];
        assert!(Command::parse(&args(&own)).is_ok());
        assert!(Command::parse(&args(&["bench-all", "--spec"])).is_err());
    }

    #[test]
    fn test_passes_cargo_args_through() {
        match Command::parse(&args(&["test", "--", "-p", "protolearn-data"])) {
            Ok(Command::Test { cargo_args }) => assert_eq!(cargo_args, args(&["-p", "protolearn-data"])),
            other => panic!("unexpected parse: {other:?}"),
        }
    }
}
