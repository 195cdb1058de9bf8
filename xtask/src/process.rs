//! Spawning cargo and other tools with the loader path pointed at libtorch.

use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::Command;

/// A command that runs in `root` with `<libtorch>/lib` prepended to `LD_LIBRARY_PATH`.
pub fn command(program: &str, root: &Path, libtorch: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(root);
    let lib = libtorch.join("lib");
    let joined = match std::env::var_os("LD_LIBRARY_PATH") {
        Some(old) if !old.is_empty() => {
            let mut paths = vec![lib];
            paths.extend(std::env::split_paths(&old));
            std::env::join_paths(paths).unwrap_or_else(|_| old.clone())
        }
        _ => lib.into_os_string(),
    };
    cmd.env("LD_LIBRARY_PATH", joined);
    cmd
}

/// Runs `cmd` with inherited stdio and fails with the command line when it exits non-zero.
pub fn run(cmd: &mut Command) -> Result<()> {
    let args: Vec<String> = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
    let line = format!("`{} {}`", cmd.get_program().to_string_lossy(), args.join(" "));
    let status = cmd.status().with_context(|| format!("starting {line}"))?;
    if !status.success() {
        bail!("{line} failed ({status})");
    }
    Ok(())
}

/// The Python that runs pip: `PYTHON`, else `python3`.
pub fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// The cargo that started xtask (`CARGO`), else `cargo` from PATH.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}
