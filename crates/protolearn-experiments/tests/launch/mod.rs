//! Starting `protolearn fit` as one process or as a rank of a data-parallel run on 127.0.0.1
//! (the launcher variables torchrun sets), for the tests of the data-parallel and chunked paths.

use std::ffi::OsStr;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A limit no run here comes near (each takes seconds); a hang fails the test instead of the CI.
pub const RUN_LIMIT: Duration = Duration::from_secs(120);

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A port free on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free loopback port")
}

/// Rank `rank` of `world` ranks meeting at 127.0.0.1:`port`.
#[derive(Debug, Clone, Copy)]
pub struct Rank {
    /// This process's rank.
    pub rank: usize,
    /// The number of ranks.
    pub world: usize,
    /// The rendezvous port.
    pub port: u16,
}

/// `protolearn fit <args>` from the repository root, as `rank` (none: one process without
/// launcher variables), its output captured.
pub fn fit<S: AsRef<OsStr>>(args: &[S], rank: Option<Rank>) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_protolearn"));
    cmd.current_dir(repo()).arg("fit").args(args).env_remove("TORCHELASTIC_USE_AGENT_STORE").stdout(Stdio::piped()).stderr(Stdio::piped());
    match rank {
        Some(Rank { rank, world, port }) => cmd
            .env("MASTER_ADDR", "127.0.0.1")
            .env("MASTER_PORT", port.to_string())
            .env("RANK", rank.to_string())
            .env("WORLD_SIZE", world.to_string())
            .env("PROTOLEARN_DIST_TIMEOUT", "60"),
        None => cmd.env_remove("RANK").env_remove("WORLD_SIZE"),
    };
    cmd.spawn().expect("starting protolearn fit")
}

/// The output of `child` once it exits; kills it and fails the test past [`RUN_LIMIT`].
pub fn finish(mut child: Child) -> Output {
    let start = Instant::now();
    while child.try_wait().expect("polling protolearn").is_none() {
        if start.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            panic!("protolearn fit ran past {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("collecting protolearn")
}

/// [`finish`], failing the test with `what` and the error output unless `child` succeeded.
pub fn succeed(child: Child, what: &str) -> Output {
    let output = finish(child);
    assert!(output.status.success(), "{what}: {}", String::from_utf8_lossy(&output.stderr));
    output
}
