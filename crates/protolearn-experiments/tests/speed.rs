//! `protolearn speed` end to end on its smallest settings, with a Python that does not exist, so
//! every peer must become a "not run" row with its reason while our rows are measured: the
//! Lloyd-step comparison (2 steps, one seed; our row, the GEMM floor, both report files) and the
//! kernel-prototype CNN (256 images, one seed; soft and hard).

use protolearn_data::{DataDirs, IdxDataset};
use std::process::Command;

/// `protolearn speed` with `args` and an absent Python, into a temporary folder returned with
/// its `speed.md`; `None` (a skip) when `dataset` is missing and not required.
fn speed_without_python(dataset: IdxDataset, args: &[&str]) -> Option<(tempfile::TempDir, String)> {
    if let Err(e) = DataDirs::new(None).find(dataset) {
        assert!(!protolearn_data::locate::data_required(), "{dataset:?} is required (PROTOLEARN_REQUIRE_DATA=1) but not found: {e}");
        eprintln!("skipping: {dataset:?} not found (set PROTOLEARN_DATA)");
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_protolearn"))
        .arg("speed")
        .args(args)
        .arg("--out")
        .arg(dir.path())
        .env("PROTOLEARN_PYTHON", dir.path().join("no-such-python"))
        .output()
        .expect("run protolearn speed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report = std::fs::read_to_string(dir.path().join("speed.md")).expect("speed.md");
    Some((dir, report))
}

/// The table rows of a report part (header and rule left out).
fn table_rows(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| tool") && !l.starts_with("| ---")).collect()
}

#[test]
fn lloyd_comparison_writes_our_rows_and_a_reason_for_every_peer_that_cannot_run() {
    let args = ["--only", "lloyd", "--kmeans-seeds", "1", "--lloyd-steps", "2"];
    let Some((dir, report)) = speed_without_python(IdxDataset::FashionMnist, &args) else { return };
    assert!(report.contains("## k-means, Lloyd steps from one start"), "{report}");
    let rows = table_rows(&report);
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
    let args = ["--only", "kernel", "--kernel-samples", "256", "--kernel-seeds", "1"];
    let Some((_dir, report)) = speed_without_python(IdxDataset::Mnist, &args) else { return };
    for layer in ["soft", "hard"] {
        let section = report.split(&format!("## kernel-prototype CNN, {layer}\n")).nth(1).expect("a section per layer kind");
        let rows = table_rows(section);
        assert!(rows[0].starts_with("| protolearn") && section.contains("first 256 MNIST training images"), "{layer}: {section}");
        let accuracy: f64 = rows[0].trim_end_matches(" |").rsplit("| ").next().expect("accuracy cell").parse().expect("a number");
        assert!((0.0..=1.0).contains(&accuracy), "{layer}: test accuracy {accuracy}");
        assert!(rows[1].starts_with("| not run |") && rows[1].contains("no-such-python"), "{}", rows[1]);
    }
}
