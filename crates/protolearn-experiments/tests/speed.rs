//! `protolearn speed` end to end on its smallest settings, with a Python that does not exist, so
//! every peer must become a "not run" row with its reason while our rows are measured: the
//! Lloyd-step comparison (2 steps, one seed; our row, the GEMM floor, both report files) and the
//! kernel-prototype CNN (256 images, one seed; soft and hard).

use protolearn_data::{DataDirs, IdxDataset};
use std::process::Command;

#[test]
fn lloyd_comparison_writes_our_rows_and_a_reason_for_every_peer_that_cannot_run() {
    if let Err(e) = DataDirs::new(None).find(IdxDataset::FashionMnist) {
        assert!(!protolearn_data::locate::data_required(), "Fashion-MNIST is required (PROTOLEARN_REQUIRE_DATA=1) but not found: {e}");
        eprintln!("skipping: Fashion-MNIST not found (set PROTOLEARN_DATA to a directory holding fashion-mnist/)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_protolearn"))
        .args(["speed", "--only", "lloyd", "--kmeans-seeds", "1", "--lloyd-steps", "2", "--out"])
        .arg(dir.path())
        .env("PROTOLEARN_PYTHON", dir.path().join("no-such-python"))
        .output()
        .expect("run protolearn speed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report = std::fs::read_to_string(dir.path().join("speed.md")).expect("speed.md");
    assert!(report.contains("## k-means, Lloyd steps from one start"), "{report}");
    let rows: Vec<&str> = report.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| tool") && !l.starts_with("| ---")).collect();
    assert_eq!(rows.len(), 4, "ours, the floor, FAISS and scikit-learn: {rows:#?}");
    assert!(rows[0].starts_with("| protolearn") && rows[0].contains("| 2.0000 |"), "two steps ran: {}", rows[0]);
    assert!(rows[1].contains("(floor)"), "{}", rows[1]);
    for peer in &rows[2..] {
        assert!(peer.starts_with("| not run |") && peer.contains("no-such-python"), "{peer}");
    }
    let jsonl = std::fs::read_to_string(dir.path().join("speed.jsonl")).expect("speed.jsonl");
    assert_eq!(jsonl.lines().count(), 1, "one comparison");
    assert!(!dir.path().join("lloyd_init.npy").exists(), "the shared start is removed after the run");
}

#[test]
fn kernel_prototype_comparison_trains_ours_and_says_why_the_twin_did_not_run() {
    if let Err(e) = DataDirs::new(None).find(IdxDataset::Mnist) {
        assert!(!protolearn_data::locate::data_required(), "MNIST is required (PROTOLEARN_REQUIRE_DATA=1) but not found: {e}");
        eprintln!("skipping: MNIST not found (set PROTOLEARN_DATA to a directory holding mnist/)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_protolearn"))
        .args(["speed", "--only", "kernel", "--kernel-samples", "256", "--kernel-seeds", "1", "--out"])
        .arg(dir.path())
        .env("PROTOLEARN_PYTHON", dir.path().join("no-such-python"))
        .output()
        .expect("run protolearn speed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report = std::fs::read_to_string(dir.path().join("speed.md")).expect("speed.md");
    for layer in ["soft", "hard"] {
        let section = report.split(&format!("## kernel-prototype CNN, {layer}\n")).nth(1).expect("a section per layer kind");
        let rows: Vec<&str> =
            section.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| tool") && !l.starts_with("| ---")).collect();
        assert!(rows[0].starts_with("| protolearn") && section.contains("first 256 MNIST training images"), "{layer}: {section}");
        let accuracy: f64 = rows[0].trim_end_matches(" |").rsplit("| ").next().expect("accuracy cell").parse().expect("a number");
        assert!((0.0..=1.0).contains(&accuracy), "{layer}: test accuracy {accuracy}");
        assert!(rows[1].starts_with("| not run |") && rows[1].contains("no-such-python"), "{}", rows[1]);
    }
}
