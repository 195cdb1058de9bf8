//! `protolearn fit`, `predict` and `inspect` on the shipped flowers CSV and on bad input, through
//! the binary as a user runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn protolearn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_protolearn")).args(args).current_dir(repo()).output().expect("run protolearn")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn flowers() -> String {
    repo().join("examples/data/flowers.csv").display().to_string()
}

fn model(name: &str) -> String {
    repo().join("examples/models").join(name).display().to_string()
}

#[test]
fn fit_predict_inspect_walk_through() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("som");
    let out_s = out.display().to_string();
    let fit = protolearn(&["fit", "--model", &model("som.toml"), "--data", &flowers(), "--labels", "species", "--out", &out_s]);
    assert!(fit.status.success(), "{}", stderr(&fit));
    for file in ["model.safetensors", "history.csv", "assignments.csv", "summary.json", "figures/umatrix.png", "figures/hit_map.svg"] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    let assignments = std::fs::read_to_string(out.join("assignments.csv")).unwrap();
    let mut lines = assignments.lines();
    assert_eq!(lines.next(), Some("row,winner,unit_row,unit_col,distance,label"));
    assert_eq!(lines.clone().count(), 300);
    assert!(lines.all(|l| ["setosa", "versicolor", "virginica"].iter().any(|s| l.ends_with(s))));
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let purity = summary["summary"]["training"]["purity"].as_f64().expect("purity");
    assert!(purity > 0.9, "purity {purity}");
    assert_eq!(summary["input"]["feature_names"][1], "petal_width");
    let trust = summary["projection"]["trustworthiness"].as_f64().expect("trustworthiness of the map");
    assert!(trust > 0.8 && trust <= 1.0, "trustworthiness {trust}");
    let history = std::fs::read_to_string(out.join("history.csv")).unwrap();
    assert!(history.starts_with("phase,step,seconds,temperature,distortion,quantization_error,topographic_error"), "{history}");
    assert_eq!(history.lines().count(), 1 + 50, "one record per batch pass (50 passes)");

    let predictions = dir.path().join("predictions.csv");
    let predictions_s = predictions.display().to_string();
    let model_file = out.join("model.safetensors").display().to_string();
    let predict = protolearn(&["predict", "--model", &model_file, "--data", &flowers(), "--labels", "species", "--out", &predictions_s]);
    assert!(predict.status.success(), "{}", stderr(&predict));
    let text = std::fs::read_to_string(&predictions).unwrap();
    assert!(text.starts_with("row,winner,unit_row,unit_col,distance,label,predicted_label\n"));
    let right = text.lines().skip(1).filter(|l| {
        let cells: Vec<&str> = l.split(',').collect();
        cells[5] == cells[6]
    });
    assert!(right.count() as f64 >= 0.9 * 300.0);

    let inspect = protolearn(&["inspect", &model_file]);
    assert!(inspect.status.success(), "{}", stderr(&inspect));
    let text = String::from_utf8_lossy(&inspect.stdout);
    assert!(
        text.contains("kind = \"som\"")
            && text.contains("64 units")
            && text.contains("\"purity\":")
            && text.contains("Hexagonal")
            && text.contains("petal_length"),
        "{text}"
    );
}

#[test]
fn every_model_config_in_examples_trains() {
    let dir = tempfile::tempdir().unwrap();
    // DDCL on paper 001's protocol (from scratch, L_q alone) keeps 2 live prototypes of 3 on the
    // flowers (two species share one): above chance (1/3), below the others' 0.85.
    let models = [
        "som-online.toml",
        "som-gradient.toml",
        "desom.toml",
        "dcl.toml",
        "vcl.toml",
        "glvq.toml",
        "gmlvq.toml",
        "softmax.toml",
        "ddcl.toml",
    ];
    for (name, floor) in models.iter().map(|&m| (m, 0.85)).chain([("ddcl-paper001.toml", 0.6)]) {
        let out = dir.path().join(name).display().to_string();
        let fit = protolearn(&["fit", "--model", &model(name), "--data", &flowers(), "--labels", "species", "--out", &out]);
        assert!(fit.status.success(), "{name}: {}", stderr(&fit));
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(Path::new(&out).join("summary.json")).unwrap()).unwrap();
        let purity = summary["summary"]["training"]["purity"].as_f64().unwrap();
        assert!(purity > floor, "{name}: purity {purity}");
    }
}

#[test]
fn bad_input_is_a_clear_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.display().to_string();
    let run = |args: &[&str]| {
        let output = protolearn(args);
        assert!(!output.status.success(), "{args:?} should fail");
        stderr(&output)
    };
    // A label column that does not exist.
    let err = run(&["fit", "--model", &model("som.toml"), "--data", &flowers(), "--labels", "colour", "--out", &out_s]);
    assert!(err.contains("flowers.csv") && err.contains("colour"), "{err}");
    assert!(!out.exists(), "nothing written");
    // An unknown key in MODEL.toml.
    let bad_model = dir.path().join("bad.toml");
    std::fs::write(&bad_model, "[model]\nkind = \"som\"\ngrid = { rows = 2, cols = 2, lattice = \"rectangular\" }\nepochs = 3\n").unwrap();
    let err = run(&["fit", "--model", &bad_model.display().to_string(), "--data", &flowers(), "--out", &out_s]);
    assert!(err.contains("bad.toml: line 4") && err.contains("epochs"), "{err}");
    // An output folder that cannot be written (a file is in the way).
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let inside = blocker.join("out").display().to_string();
    let err = run(&["fit", "--model", &model("som.toml"), "--data", &flowers(), "--labels", "species", "--out", &inside]);
    assert!(err.contains("output folder") && err.contains("cannot be created"), "{err}");
    // predict with data of another width.
    let fit = protolearn(&["fit", "--model", &model("vcl.toml"), "--data", &flowers(), "--labels", "species", "--out", &out_s]);
    assert!(fit.status.success(), "{}", stderr(&fit));
    let narrow = dir.path().join("narrow.csv");
    std::fs::write(&narrow, "a,b,c\n1,2,3\n").unwrap();
    let predictions = dir.path().join("p.csv");
    let err = run(&[
        "predict",
        "--model",
        &out.join("model.safetensors").display().to_string(),
        "--data",
        &narrow.display().to_string(),
        "--out",
        &predictions.display().to_string(),
    ]);
    assert!(err.contains("narrow.csv: line 1") && err.contains("in columns") && err.contains("[\"a\", \"b\", \"c\"]"), "{err}");
    assert!(!predictions.exists(), "nothing written");
    // A text column without --labels.
    let err = run(&["fit", "--model", &model("vcl.toml"), "--data", &flowers(), "--out", &out_s]);
    assert!(
        err.contains("flowers.csv: 1 feature column(s) hold text") && err.contains("\"species\" (column 4), line 2: \"virginica\""),
        "{err}"
    );
    assert!(err.contains("--drop species"), "the option that reads the file: {err}");
    // inspect of something that is not a model.
    let err = run(&["inspect", &flowers()]);
    assert!(err.contains("flowers.csv"), "{err}");
}

/// `protolearn fit` of the 8x8 SOM on `data` with labels `species`, `extra` options, into `out`.
fn fit_som(data: &str, extra: &[&str], out: &str) -> Output {
    let model = model("som.toml");
    let mut args = vec!["fit", "--model", &model, "--data", data, "--labels", "species", "--out", out];
    args.extend_from_slice(extra);
    protolearn(&args)
}

#[test]
fn text_columns_are_listed_then_dropped_and_predict_reads_the_fitted_columns() {
    let dir = tempfile::tempdir().unwrap();
    // The flowers with two text columns around the numbers: an id and a colour.
    let flowers = std::fs::read_to_string(flowers()).unwrap();
    let mut lines = flowers.lines();
    let mut text = format!("id,{},colour\n", lines.next().unwrap());
    for (i, line) in lines.enumerate() {
        text.push_str(&format!("f{i},{line},{}\n", ["red", "blue"][i % 2]));
    }
    let data = dir.path().join("shop.csv");
    std::fs::write(&data, text).unwrap();
    let (data_s, out) = (data.display().to_string(), dir.path().join("out"));
    let out_s = out.display().to_string();
    let fit = fit_som(&data_s, &[], &out_s);
    let err = stderr(&fit);
    assert!(!fit.status.success() && err.contains("2 feature column(s) hold text"), "{err}");
    assert!(err.contains("\"id\" (column 0), line 2: \"f0\"") && err.contains("\"colour\" (column 6), line 2: \"red\""), "{err}");
    assert!(err.contains("--drop id,colour") && !out.exists(), "{err}");
    let fit = fit_som(&data_s, &["--drop", "id,colour"], &out_s);
    assert!(fit.status.success(), "{}", stderr(&fit));
    // predict reads the columns the model was fitted on from the same file.
    let predictions = dir.path().join("p.csv");
    let model_file = out.join("model.safetensors").display().to_string();
    let predict = protolearn(&["predict", "--model", &model_file, "--data", &data_s, "--out", &predictions.display().to_string()]);
    assert!(predict.status.success(), "{}", stderr(&predict));
    assert_eq!(std::fs::read_to_string(&predictions).unwrap().lines().count(), 301, "a header and 300 rows");
}

#[test]
fn missing_cells_are_listed_then_their_rows_dropped() {
    let dir = tempfile::tempdir().unwrap();
    // The flowers with a missing cell in rows 3 and 10 (0-based data rows 2 and 9).
    let flowers = std::fs::read_to_string(flowers()).unwrap();
    let blank = |line: &str| line.split(',').enumerate().map(|(j, c)| if j == 1 { "NA" } else { c }).collect::<Vec<_>>().join(",");
    let text: Vec<String> = flowers.lines().enumerate().map(|(i, l)| if i == 3 || i == 10 { blank(l) } else { l.to_owned() }).collect();
    let data = dir.path().join("gaps.csv");
    std::fs::write(&data, text.join("\n") + "\n").unwrap();
    let (data_s, out) = (data.display().to_string(), dir.path().join("out"));
    let out_s = out.display().to_string();
    let fit = fit_som(&data_s, &[], &out_s);
    let err = stderr(&fit);
    assert!(
        !fit.status.success() && err.contains("1 column(s) have missing cells: \"petal_width\" (column 1): 2 cell(s), first at line 4"),
        "{err}"
    );
    assert!(err.contains("--missing drop-rows") && !out.exists(), "{err}");
    let fit = fit_som(&data_s, &["--missing", "drop-rows"], &out_s);
    assert!(fit.status.success(), "{}", stderr(&fit));
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["dropped_rows"], 2);
    assert_eq!(summary["summary"]["n_samples"], 298);
    // Assignments name the file's rows: 2 and 9 are missing.
    let rows: Vec<String> = std::fs::read_to_string(out.join("assignments.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_owned())
        .collect();
    assert_eq!(rows.len(), 298);
    assert!(!rows.contains(&"2".to_owned()) && !rows.contains(&"9".to_owned()) && rows.contains(&"299".to_owned()));
}

#[test]
fn a_mixed_table_with_categories_and_missing_cells_fits_masked_and_predicts_new_rows() {
    // examples/data/make_garden.py: a text id, two categorical columns, three measurements,
    // missing cells ("NA", "", "?") in every column but the id and the label.
    let (garden, new) = (repo().join("examples/data/garden.csv"), repo().join("examples/data/garden-new.csv"));
    let (garden, new) = (garden.display().to_string(), new.display().to_string());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("garden");
    let out_s = out.display().to_string();
    let model_toml = model("som.toml");
    let fit = |extra: &[&str]| {
        let mut args = vec!["fit", "--model", &model_toml, "--data", &garden, "--labels", "species", "--out", &out_s, "--drop", "id"];
        args.extend_from_slice(extra);
        protolearn(&args)
    };
    let err = stderr(&fit(&[]));
    assert!(err.contains("\"soil\" (column 1), line 2: \"loam\"") && err.contains("--categorical soil,colour"), "{err}");
    let done = fit(&["--categorical", "soil,colour", "--missing", "mask"]);
    assert!(done.status.success(), "{}", stderr(&done));
    let stdout = String::from_utf8_lossy(&done.stdout);
    assert!(stdout.contains(&format!("figures in {}", out.join("figures").display())), "{stdout}");
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["summary"]["n_samples"], 180, "every row kept");
    assert_eq!(summary["config"]["missing"], "mask");
    let names: Vec<&str> = summary["input"]["feature_names"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(names, ["soil=clay", "soil=loam", "soil=sand", "colour=green", "colour=red", "colour=white", "height", "width", "weight"]);
    let purity = summary["summary"]["training"]["purity"].as_f64().unwrap();
    assert!(purity > 0.9, "purity {purity}");
    // New rows, with missing cells, read with the model's columns, categories and masking.
    let model_file = out.join("model.safetensors").display().to_string();
    let predictions = dir.path().join("new.csv");
    let predict = protolearn(&[
        "predict",
        "--model",
        &model_file,
        "--data",
        &new,
        "--labels",
        "species",
        "--out",
        &predictions.display().to_string(),
    ]);
    assert!(predict.status.success(), "{}", stderr(&predict));
    let report = String::from_utf8_lossy(&predict.stdout);
    assert!(report.contains("predict: 30 samples assigned") && report.contains("accuracy ") && report.contains("thyme: "), "{report}");
    let csv = std::fs::read_to_string(&predictions).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 30);
    // A winner that won no training row predicts no class (an empty cell).
    assert!(rows.iter().all(|r| ["fern", "rose", "thyme", ""].contains(&r[6]) && r[4].parse::<f64>().unwrap().is_finite()), "{csv}");
    let correct = rows.iter().filter(|r| r[5] == r[6]).count();
    assert!(report.contains(&format!("accuracy {:.4}", correct as f64 / 30.0)), "{report}");
    // An unseen category: an error naming it, or an all-zero code on request.
    let unseen = dir.path().join("unseen.csv");
    std::fs::write(&unseen, std::fs::read_to_string(repo().join("examples/data/garden-new.csv")).unwrap().replacen(",red,", ",purple,", 1))
        .unwrap();
    let unseen = unseen.display().to_string();
    let refused = protolearn(&["predict", "--model", &model_file, "--data", &unseen, "--out", &predictions.display().to_string()]);
    assert!(
        stderr(&refused).contains("unknown category \"purple\" (known: green, red, white)")
            && stderr(&refused).contains("--unknown ignore")
    );
    let ignored = protolearn(&[
        "predict",
        "--model",
        &model_file,
        "--data",
        &unseen,
        "--unknown",
        "ignore",
        "--out",
        &predictions.display().to_string(),
    ]);
    assert!(ignored.status.success(), "{}", stderr(&ignored));
    let inspect = String::from_utf8_lossy(&protolearn(&["inspect", &model_file]).stdout).into_owned();
    assert!(inspect.contains("missing values: mask") && inspect.contains("categorical soil: clay, loam, sand"), "{inspect}");
}

#[test]
fn semicolons_decimal_commas_and_missing_labels_get_the_option_that_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let semi = dir.path().join("semi.csv");
    let rows: String = (0..40).map(|i| format!("{},{};{};{}\n", i % 7, i % 3, i % 5, ["x", "y"][i % 2])).collect();
    std::fs::write(&semi, format!("a;b;class\n{rows}")).unwrap();
    let (semi, out) = (semi.display().to_string(), dir.path().join("out").display().to_string());
    let model = model("som.toml");
    let fit = |extra: &[&str]| {
        let mut args = vec!["fit", "--model", &model, "--data", &semi, "--out", &out];
        args.extend_from_slice(extra);
        protolearn(&args)
    };
    let err = stderr(&fit(&[]));
    assert!(
        err.contains("line 1: expected cells separated by ',', found one column \"a;b;class\": the file looks separated by ';'"),
        "{err}"
    );
    let err = stderr(&fit(&["--delimiter", ";", "--labels", "class"]));
    assert!(err.contains("\"a\" (column 0), line 2: \"0,0\"") && err.contains("--decimal-comma (with --delimiter ';')"), "{err}");
    let done = fit(&["--delimiter", ";", "--labels", "class", "--decimal-comma"]);
    assert!(done.status.success(), "{}", stderr(&done));
    let unlabelled = dir.path().join("unlabelled.csv");
    std::fs::write(&unlabelled, "a,b,class\n1,2,x\n3,4,?\n5,6,y\n").unwrap();
    let unlabelled = unlabelled.display().to_string();
    let args = ["fit", "--model", &model, "--data", &unlabelled, "--labels", "class", "--missing", "mask", "--out", &out];
    let err = stderr(&protolearn(&args));
    assert!(
        err.contains("\"class\" (column 2): 1 cell(s)") && err.contains("A row without a label cannot be used: --missing drop-rows"),
        "{err}"
    );
}

#[test]
fn sequence_desoms_fit_a_ts_file_and_predict() {
    // Two classes of univariate series of 12 steps: rising ramps and falling ramps, with noise.
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("@problemName Ramps\n@univariate true\n@equalLength true\n@classLabel true up down\n@data\n");
    for i in 0..24 {
        let (class, sign) = if i % 2 == 0 { ("up", 1.0) } else { ("down", -1.0) };
        let values: Vec<String> = (0..12).map(|t| format!("{:.3}", sign * t as f64 / 6.0 + ((i * 7 + t) % 5) as f64 * 0.02)).collect();
        text.push_str(&format!("{}:{class}\n", values.join(",")));
    }
    let data = dir.path().join("Ramps_TRAIN.ts");
    std::fs::write(&data, text).unwrap();
    let data = data.display().to_string();
    let lstm = model("lstm-desom.toml");
    let temporal = dir.path().join("temporal.toml");
    let config = std::fs::read_to_string(&lstm).unwrap().replace(
        "autoencoder = { kind = \"lstm\", hidden = [16], latent_dim = 4 }",
        "autoencoder = { kind = \"temporal-conv\", filters = [8, 8], latent_dim = 4 }",
    );
    assert!(config.contains("temporal-conv"));
    std::fs::write(&temporal, config).unwrap();
    for model_toml in [lstm, temporal.display().to_string()] {
        let out = dir.path().join("out");
        let out_s = out.display().to_string();
        let fit = protolearn(&["fit", "--model", &model_toml, "--data", &data, "--out", &out_s]);
        assert!(fit.status.success(), "{model_toml}: {}", stderr(&fit));
        let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
        assert_eq!(summary["input"]["sample_shape"], serde_json::json!([12]));
        let purity = summary["summary"]["training"]["purity"].as_f64().unwrap();
        assert!(purity >= 0.9, "{model_toml}: the ramps' direction separates the map (purity {purity})");
        let predictions = dir.path().join("p.csv").display().to_string();
        let model_file = out.join("model.safetensors").display().to_string();
        let predict = protolearn(&["predict", "--model", &model_file, "--data", &data, "--out", &predictions]);
        assert!(predict.status.success() && String::from_utf8_lossy(&predict.stdout).contains("accuracy"), "{}", stderr(&predict));
    }
}
