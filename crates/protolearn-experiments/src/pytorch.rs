//! The Python side of a speed comparison (PyTorch, scikit-learn, minisom): runs a script that
//! ships inside the binary (`benches/python/*.py`, written next to the results so the run can be
//! repeated by hand) with `$PROTOLEARN_PYTHON` (default `python3`), with the site folder that
//! holds this build's libtorch (`$LIBTORCH/..`, set by `.cargo/config.toml`, else
//! `./.libtorch/site`) on `PYTHONPATH` so
//! that `import torch` finds the same torch 2.11. Each output line of the script that is a JSON object is one result.

use anyhow::{Context, Result};
use serde::de::DeserializeOwned;
use std::path::Path;
use std::process::Command;

/// The interpreter: `$PROTOLEARN_PYTHON`, else `python3`.
fn python() -> String {
    std::env::var("PROTOLEARN_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Runs `script` (its text, saved as `dir/name`) with `args`; every stdout line is parsed as a
/// `T`. `Ok(Err(reason))` when Python or one of the `modules` it needs cannot be imported, so
/// the comparison becomes a report row saying so instead of failing the run.
pub fn run_script<T: DeserializeOwned>(
    dir: &Path,
    name: &str,
    script: &str,
    modules: &[&str],
    args: &[String],
) -> Result<std::result::Result<Vec<T>, String>> {
    let path = dir.join(name);
    std::fs::write(&path, script).with_context(|| format!("writing {}", path.display()))?;
    let mut command = Command::new(python());
    // Under cargo, `$LIBTORCH` (.cargo/config.toml); a binary run by hand from the repository
    // root finds `.libtorch/site` itself.
    let site = std::env::var_os("LIBTORCH")
        .map(std::path::PathBuf::from)
        .and_then(|t| t.parent().map(Path::to_owned))
        .or_else(|| Some(std::path::PathBuf::from(".libtorch/site")).filter(|p| p.is_dir()));
    if let Some(site) = site {
        let joined = match std::env::var_os("PYTHONPATH") {
            Some(existing) => std::env::join_paths([site, existing.into()]).context("PYTHONPATH")?,
            None => site.into_os_string(),
        };
        command.env("PYTHONPATH", joined);
    }
    for module in modules {
        let probe = Command::new(python())
            .envs(command.get_envs().filter_map(|(k, v)| Some((k, v?))))
            .args(["-c", &format!("import {module}")])
            .output();
        match probe {
            Err(e) => return Ok(Err(format!("{} not runnable: {e}", python()))),
            Ok(out) if !out.status.success() => return Ok(Err(format!("{} cannot import {module}", python()))),
            Ok(_) => {}
        }
    }
    let out = command.arg(&path).args(args).output().with_context(|| format!("running {}", path.display()))?;
    if !out.status.success() {
        anyhow::bail!("{} failed ({}): {}", path.display(), out.status, String::from_utf8_lossy(&out.stderr));
    }
    let rows = String::from_utf8_lossy(&out.stdout)
        .lines()
        // A tool may print to stdout itself (XPySom warns that CuPy is missing): results are the JSON lines.
        .filter(|l| l.trim_start().starts_with('{'))
        .map(|l| serde_json::from_str(l).with_context(|| format!("{}: output line {l:?}", path.display())))
        .collect::<Result<Vec<T>>>()?;
    Ok(Ok(rows))
}
