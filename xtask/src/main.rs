//! `cargo xtask`: project automation that must run before libtorch exists.
//!
//! Depends on neither tch nor any workspace crate and builds in its own target dir
//! (`target/xtask`, see `.cargo/config.toml`). Tasks: `setup`, `doctor`, `test`, `python` (the Python package), `bench-all`, `speed` (with its venv of Python peers).
//! The UCR/UEA checksum table and the digits pin are shared with protolearn-data by `include!`, not by a dependency.

mod args;
mod digits;
mod gloo;
mod libtorch;
mod peers;
mod process;
mod python;
mod tasks;
mod ucr;
mod wheel;

use std::process::ExitCode;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match args::Command::parse(&argv).and_then(|cmd| tasks::run(&cmd)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
