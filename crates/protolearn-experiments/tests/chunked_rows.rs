//! `protolearn fit --chunk-rows`: a `.npy` file larger than one chunk fits the batch SOM and
//! k-means to what the in-memory fit of the same file gives, in one process and on two ranks,
//! and streams the assignments of every row to `assignments.csv`.

mod launch;

use launch::{finish, free_port, repo, succeed, Rank};
use npyz::WriterBuilder;
use protolearn_experiments::own_data::{predict, PredictArgs};
use std::path::Path;
use std::process::Child;

/// Largest relative difference of a training score (QE, TE) between the in-memory fit and the
/// fit reading chunks: the same float32 member sums grouped by chunk, and the scaler's moments
/// combined chunk by chunk in float64 (relative differences of order `n * 2^-24` per pass).
const CHUNKED_TOLERANCE: f64 = 1e-4;

/// 1,000 rows of 5 features: four blobs of half-width 1 around centres 3 apart, the noise from
/// a fixed linear congruential sequence (distinct rows, so no BMU ties decided by rounding).
fn write_rows(path: &Path) {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut noise = move || {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    };
    let values: Vec<f32> = (0..1000).flat_map(|i| (0..5).map(move |j| if j == i % 4 { 3.0 } else { 0.0 })).map(|c| c + noise()).collect();
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).expect("creates the .npy"));
    let mut w = npyz::WriteOptions::new().default_dtype().shape(&[1000, 5]).writer(&mut file).begin_nd().expect("header");
    w.extend(values).expect("values");
    w.finish().expect("finishes");
}

/// `protolearn fit` of `model` on the `.npy` `data` into `out`, plus `extra`, as `rank`.
fn fit(model: &Path, data: &Path, out: &Path, extra: &[&str], rank: Option<Rank>) -> Child {
    let mut args = vec!["--model".as_ref(), model.as_os_str(), "--data".as_ref(), data.as_os_str(), "--out".as_ref(), out.as_os_str()];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    launch::fit(&args, rank)
}

/// `summary.training.<name>` of a fit's summary.json.
fn score(out: &Path, name: &str) -> f64 {
    let text = std::fs::read_to_string(out.join("summary.json")).expect("summary.json");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    json["summary"]["training"][name].as_f64().unwrap_or_else(|| panic!("no training.{name} in {text}"))
}

fn assert_close(name: &str, a: f64, b: f64) {
    assert!((a - b).abs() <= CHUNKED_TOLERANCE * a.abs().max(1e-3), "{name}: {a} (in memory) vs {b} (chunks)");
}

#[test]
fn a_npy_larger_than_a_chunk_fits_as_in_memory_in_one_process_and_on_two_ranks() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("rows.npy");
    write_rows(&data);
    for (model, scores) in [("som.toml", &["quantization_error", "topographic_error"][..]), ("kmeans.toml", &["quantization_error"][..])] {
        let model = repo().join("examples/models").join(model);
        let memory = dir.path().join("memory");
        succeed(fit(&model, &data, &memory, &[], None), "in memory");
        // 96-row chunks: 11 reads per pass over 1,000 rows, the last one short.
        let chunked = dir.path().join("chunked");
        succeed(fit(&model, &data, &chunked, &["--chunk-rows", "96"], None), "chunks");
        let (port, two) = (free_port(), dir.path().join("two"));
        let ranks: Vec<Child> =
            (0..2).map(|rank| fit(&model, &data, &two, &["--chunk-rows", "96"], Some(Rank { rank, world: 2, port }))).collect();
        ranks.into_iter().for_each(|r| drop(succeed(r, "rank")));
        for name in scores {
            assert_close(name, score(&memory, name), score(&chunked, name));
            assert_close(name, score(&memory, name), score(&two, name));
        }
        // The map figures come from the training summary (the hits counted chunk by chunk); a
        // model without a map draws none (its scatter plots the samples).
        let listed = |out: &Path| -> Vec<String> {
            let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
            json["figures"].as_array().expect("a figures list").iter().map(|f| f.as_str().unwrap().to_owned()).collect()
        };
        let figures = listed(&chunked);
        if model.ends_with("som.toml") {
            for name in ["umatrix.png", "hit_map.png", "component_planes.png"] {
                assert!(figures.iter().any(|f| f.ends_with(name)), "{name} in {figures:?}");
            }
            assert!(figures.iter().all(|f| Path::new(f).is_file()), "{figures:?}");
        } else {
            assert!(figures.is_empty(), "{figures:?}");
        }
        // The assignments streamed chunk by chunk are those of `predict` on the whole file.
        let predicted = dir.path().join("predicted.csv");
        let args =
            PredictArgs { model: chunked.join("model.safetensors"), data: data.clone(), table: Default::default(), out: predicted.clone() };
        predict(&args).expect("predict");
        let (streamed, whole) = (assignment_rows(&chunked.join("assignments.csv")), assignment_rows(&predicted));
        assert_eq!(streamed.len(), 1000);
        for (i, (a, b)) in streamed.iter().zip(&whole).enumerate() {
            assert_eq!((a.0, &a.1), (i, &b.1), "row {i}: file row and winner (and grid cell)");
            // The same distance kernel on a 96-row chunk and on all rows: float32 GEMM blocking.
            assert!((a.2 - b.2).abs() <= 1e-5 * b.2.max(1.0), "row {i}: distance {} vs {}", a.2, b.2);
        }
    }
}

/// `(row, winner and grid cell, distance)` of every line of an `assignments.csv`.
fn assignment_rows(path: &Path) -> Vec<(usize, String, f64)> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            let (last, middle) = (cells.len() - 1, &cells[1..cells.len() - 1]);
            (cells[0].parse().expect("row"), middle.join(","), cells[last].parse().expect("distance"))
        })
        .collect()
}

#[test]
fn desom_reading_its_minibatches_from_a_npy_follows_the_in_memory_fit() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("rows.npy");
    write_rows(&data);
    // Unscaled rows, so both fits see the same bits; all 1,000 rows are the starting sample.
    let model = dir.path().join("desom.toml");
    std::fs::write(
        &model,
        "seed = 0\n[model]\nkind = \"desom\"\ngrid = { rows = 4, cols = 4 }\nautoencoder = { kind = \"dense\", hidden = [16], latent_dim = 2 }\n\
         iterations = 200\nbatch_size = 32\n",
    )
    .unwrap();
    let (memory, chunked) = (dir.path().join("memory"), dir.path().join("chunked"));
    succeed(fit(&model, &data, &memory, &[], None), "in memory");
    succeed(fit(&model, &data, &chunked, &["--chunk-rows", "96"], None), "chunks");
    for name in ["quantization_error", "topographic_error"] {
        assert_close(name, score(&memory, name), score(&chunked, name));
    }
    let history = |out: &Path| std::fs::read_to_string(out.join("history.csv")).expect("history.csv");
    let losses = |text: String| text.lines().skip(1).map(|l| l.split(',').nth(3).unwrap_or_default().to_owned()).collect::<Vec<_>>();
    assert_eq!(losses(history(&memory)), losses(history(&chunked)), "the same batches give the same losses at every log point");
}

#[test]
fn chunked_reading_refuses_labels_and_families_without_a_batch_sum() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("rows.npy");
    write_rows(&data);
    let run = |model: &str, extra: &[&str]| {
        let mut all = vec!["--chunk-rows", "64"];
        all.extend_from_slice(extra);
        let output = finish(fit(&repo().join("examples/models").join(model), &data, &dir.path().join("out"), &all, None));
        assert!(!output.status.success());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    assert!(run("som.toml", &["--labels", "y"]).contains("drop --labels"));
    assert!(run("vcl.toml", &[]).contains("the batch SOM, k-means or DESOM"));
    assert!(run("som-online.toml", &[]).contains("the batch rule"));
}
