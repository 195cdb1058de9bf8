//! The c10d binding on the loopback interface: two ranks sum, broadcast and meet; a peer that
//! never joins, a wrong WORLD_SIZE, a missing MASTER_ADDR and a killed peer are errors within a
//! bounded time. Each rank is a `protolearn-dist-check` process.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A port free on 127.0.0.1 right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free loopback port")
}

/// Rank `rank` of `world` with rendezvous at 127.0.0.1:`port` and a `timeout_s` second bound.
fn rank(rank: usize, world: usize, port: u16, timeout_s: u32, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_protolearn-dist-check"))
        .args(args)
        .env("MASTER_ADDR", "127.0.0.1")
        .env("MASTER_PORT", port.to_string())
        .env("RANK", rank.to_string())
        .env("WORLD_SIZE", world.to_string())
        .env("PROTOLEARN_DIST_TIMEOUT", timeout_s.to_string())
        .env_remove("TORCHELASTIC_USE_AGENT_STORE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting protolearn-dist-check")
}

/// Waits for `child` at most `limit`; kills it and fails the test when it runs longer.
fn finish(mut child: Child, limit: Duration) -> (Output, Duration) {
    let start = Instant::now();
    while child.try_wait().expect("polling a rank").is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let output = child.wait_with_output().expect("collecting a killed rank");
            panic!("a rank ran past {limit:?}: {}", String::from_utf8_lossy(&output.stderr));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (child.wait_with_output().expect("collecting a rank"), start.elapsed())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn two_ranks_sum_broadcast_and_meet_on_the_loopback_interface() {
    let port = free_port();
    let children: Vec<Child> = (0..2).map(|r| rank(r, 2, port, 30, &["--rounds", "3", "--elements", "100000"])).collect();
    for (r, child) in children.into_iter().enumerate() {
        let (output, _) = finish(child, Duration::from_secs(60));
        let stdout = text(&output.stdout);
        assert!(output.status.success(), "rank {r}: {stdout}{}", text(&output.stderr));
        assert!(stdout.contains(&format!("rank {r} of 2 joined")), "{stdout}");
        assert!(stdout.contains("every result verified"), "{stdout}");
    }
}

#[test]
fn a_peer_that_never_joins_is_an_error_within_the_timeout() {
    let (output, took) = finish(rank(0, 2, free_port(), 3, &[]), Duration::from_secs(30));
    let stderr = text(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("rank 0 of 2 could not join the process group at 127.0.0.1:"), "{stderr}");
    assert!(stderr.contains("within 3 s"), "{stderr}");
    assert!(took >= Duration::from_secs(2), "failed before the timeout: {took:?}: {stderr}");
}

#[test]
fn a_wrong_world_size_is_an_error_on_every_rank() {
    let port = free_port();
    let children: Vec<Child> = (0..2).map(|r| rank(r, 3, port, 3, &[])).collect();
    for (r, child) in children.into_iter().enumerate() {
        let (output, _) = finish(child, Duration::from_secs(30));
        let stderr = text(&output.stderr);
        assert!(!output.status.success(), "rank {r} succeeded with WORLD_SIZE=3 and 2 processes");
        assert!(stderr.contains(&format!("rank {r} of 3 could not join")), "{stderr}");
    }
}

#[test]
fn a_missing_master_addr_is_named() {
    let output = Command::new(env!("CARGO_BIN_EXE_protolearn-dist-check"))
        .env_remove("MASTER_ADDR")
        .env("MASTER_PORT", "29500")
        .env("RANK", "0")
        .env("WORLD_SIZE", "2")
        .output()
        .expect("starting protolearn-dist-check");
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("MASTER_ADDR is not set, but RANK is"), "{}", text(&output.stderr));
}

#[test]
fn a_killed_peer_stops_the_other_rank_with_an_error() {
    let port = free_port();
    let args = ["--rounds", "1000000", "--elements", "1000"];
    let mut survivor = rank(0, 2, port, 5, &args);
    let mut victim = rank(1, 2, port, 5, &args);
    let mut lines = BufReader::new(victim.stdout.take().expect("rank 1's stdout")).lines();
    let joined = lines.next().and_then(Result::ok).unwrap_or_default();
    assert!(joined.starts_with("rank 1 of 2 joined"), "rank 1 did not join: {joined}");
    std::thread::sleep(Duration::from_millis(300));
    victim.kill().expect("killing rank 1");
    let _ = victim.wait();
    let _ = survivor.stdout.take();
    let (output, took) = finish(survivor, Duration::from_secs(30));
    let stderr = text(&output.stderr);
    assert!(!output.status.success(), "rank 0 went on after its peer died");
    assert!(stderr.contains("across processes failed"), "{stderr}");
    assert!(took < Duration::from_secs(20), "rank 0 took {took:?} to notice");
}
