//! `protolearn fit`, `predict` and `inspect`: a model of your own on a file of your own, from
//! the shell. `fit` trains with a progress bar and writes the model file, the history, the
//! per-sample assignments, a JSON summary and the SOM figures into one folder.

use crate::progress::EpochBar;
use anyhow::{bail, Context, Result};
use protolearn::data::{load_table, Table, TableOptions};
use protolearn::history::{history_csv, write_atomically};
use protolearn::{Estimator, EstimatorConfig, Fitted};
use protolearn_train::DeviceChoice;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// File names written by `fit` into its output folder.
pub const MODEL_FILE: &str = "model.safetensors";
/// The per-log-point training history.
pub const HISTORY_FILE: &str = "history.csv";
/// One row per training sample: winner, distance, label.
pub const ASSIGNMENTS_FILE: &str = "assignments.csv";
/// The summary of the fit.
pub const SUMMARY_FILE: &str = "summary.json";

/// Neighbours `k` of the map's trustworthiness / continuity / neighbourhood preservation in
/// `summary.json`.
pub const PROJECTION_NEIGHBOURS: usize = 10;
/// Above this many samples `fit` skips them (exact, `O(n^2)`: about a second for 10,000 here).
pub const PROJECTION_MAX_SAMPLES: usize = 20_000;

/// The options of `protolearn fit`.
#[derive(Debug, Clone)]
pub struct FitArgs {
    /// The `MODEL.toml`.
    pub model: PathBuf,
    /// The data file (CSV, TSV, `.npy`, `.npz`, IDX).
    pub data: PathBuf,
    /// How to read it (label column, NPZ keys).
    pub table: TableOptions,
    /// The shape of one sample when the rows are images (`[H, W]` or `[C, H, W]`): prototypes
    /// are then drawn as images, and a convolutional backbone can read them.
    pub image_shape: Option<Vec<usize>>,
    /// Overrides the config's device.
    pub device: Option<DeviceChoice>,
    /// Overrides the config's seed.
    pub seed: Option<u64>,
    /// The output folder.
    pub out: PathBuf,
}

/// Trains the model of `args.model` on `args.data` and writes the results under `args.out`.
/// The output folder is checked before training, so an unwritable folder fails in a second, not
/// after the training; every file is written whole or not at all.
pub fn fit(args: &FitArgs) -> Result<Fitted> {
    let mut config = EstimatorConfig::load(&args.model)?;
    config.device = args.device.unwrap_or(config.device);
    config.seed = args.seed.unwrap_or(config.seed);
    let mut table = load_table(&args.data, &args.table).map_err(with_drop_hint)?;
    if let Some(shape) = &args.image_shape {
        table.data = table.data.reshaped(shape).with_context(|| format!("--image-shape for {}", args.data.display()))?;
    }
    check_writable(&args.out)?;
    let estimator = Estimator::new(config)?;
    let mut bar = EpochBar::new("fit");
    let fitted = estimator.fit_named(&table.data, &table.feature_names, table.classes.as_deref(), &mut bar)?;
    write_results(&fitted, &table, &args.out)?;
    Ok(fitted)
}

/// Writes the model, history, assignments, summary and figures of `fitted` on `table`.
fn write_results(fitted: &Fitted, table: &Table, out: &Path) -> Result<()> {
    fitted.save(&out.join(MODEL_FILE))?;
    write_atomically(&out.join(HISTORY_FILE), history_csv(fitted.history()).as_bytes())?;
    write_atomically(&out.join(ASSIGNMENTS_FILE), assignments_csv(fitted, table)?.as_bytes())?;
    let figures = fitted.figures(&table.data, &out.join("figures"))?;
    let n = table.data.n_samples();
    let projection = match fitted.grid() {
        Some(_) if n > 2 * PROJECTION_NEIGHBOURS && n <= PROJECTION_MAX_SAMPLES => {
            match fitted.neighbourhood_scores(&table.data, PROJECTION_NEIGHBOURS)? {
                Some(s) => serde_json::json!({
                    "trustworthiness": s.trustworthiness,
                    "continuity": s.continuity,
                    "neighbourhood_preservation": s.neighbourhood_preservation,
                }),
                None => serde_json::Value::Null,
            }
        }
        Some(_) => serde_json::json!(format!(
            "not computed: {n} samples (computed for {}..={PROJECTION_MAX_SAMPLES}; the cost grows as n^2, call Fitted::neighbourhood_scores)",
            2 * PROJECTION_NEIGHBOURS + 1
        )),
        None => serde_json::Value::Null,
    };
    let summary = serde_json::json!({
        "data": table.data.name,
        "dropped_rows": table.dropped_rows,
        "config": fitted.config(),
        "input": fitted.input(),
        "summary": fitted.summary(),
        "projection_k": PROJECTION_NEIGHBOURS,
        "projection": projection,
        "figures": figures.iter().map(|f| f.png.display().to_string()).collect::<Vec<_>>(),
    });
    write_atomically(&out.join(SUMMARY_FILE), serde_json::to_string_pretty(&summary)?.as_bytes())?;
    Ok(())
}

/// `row,winner[,unit_row,unit_col],distance[,label]` for every sample of `table`.
fn assignments_csv(fitted: &Fitted, table: &Table) -> Result<String> {
    let assignments = fitted.assign(&table.data)?;
    let grid = fitted.grid();
    let labels = table.data.labels.as_deref();
    let mut text = String::from("row,winner");
    if grid.is_some() {
        text.push_str(",unit_row,unit_col");
    }
    text.push_str(",distance");
    if labels.is_some() {
        text.push_str(",label");
    }
    text.push('\n');
    for (i, a) in assignments.iter().enumerate() {
        write!(text, "{},{}", table.rows.get(i).copied().unwrap_or(i), a.winner)?;
        if let Some(grid) = &grid {
            let (r, c) = grid.coords(a.winner)?;
            write!(text, ",{r},{c}")?;
        }
        write!(text, ",{}", a.distance)?;
        if let Some(label) = labels.and_then(|l| l.get(i)) {
            write!(text, ",{}", csv_cell(&fitted.input().class_name(*label)))?;
        }
        text.push('\n');
    }
    Ok(text)
}

/// A CSV cell, quoted when it holds a comma, a quote or a line break.
fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// Creates `dir` and proves it writable with a probe file.
fn check_writable(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("output folder {}: cannot be created", dir.display()))?;
    let probe = dir.join(".protolearn-write-probe");
    std::fs::write(&probe, b"").with_context(|| format!("output folder {}: cannot be written", dir.display()))?;
    std::fs::remove_file(&probe).with_context(|| format!("output folder {}: cannot remove the probe file", dir.display()))?;
    Ok(())
}

/// The options of `protolearn predict`.
#[derive(Debug, Clone)]
pub struct PredictArgs {
    /// The model file written by `fit`.
    pub model: PathBuf,
    /// The data file.
    pub data: PathBuf,
    /// How to read it.
    pub table: TableOptions,
    /// The CSV to write.
    pub out: PathBuf,
}

/// Assigns every sample of `args.data` to its winner with a saved model and writes the CSV
/// (with the predicted class when the model was fitted on labels).
pub fn predict(args: &PredictArgs) -> Result<usize> {
    let fitted = Fitted::load(&args.model)?;
    let table = load_table(&args.data, &fitted_columns(&fitted, &args.data, &args.table)).map_err(with_drop_hint)?;
    let on_data = || format!("{} with the model {}", args.data.display(), args.model.display());
    let mut text = assignments_csv(&fitted, &table).with_context(on_data)?;
    if fitted.input().labelled {
        let predicted = fitted.predict_labels(&table.data).with_context(on_data)?;
        let mut lines = text.lines();
        let mut with_class = format!("{},predicted_label\n", lines.next().unwrap_or_default());
        for (line, class) in lines.zip(&predicted) {
            let class = class.map(|c| csv_cell(&fitted.input().class_name(c))).unwrap_or_default();
            writeln!(with_class, "{line},{class}")?;
        }
        text = with_class;
    }
    if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("output folder {}: cannot be created", parent.display()))?;
    }
    write_atomically(&args.out, text.as_bytes())?;
    Ok(table.data.n_samples())
}

/// A CSV holding text columns or missing cells: the data crate's error (every such column) and
/// the option that reads the file anyway.
fn with_drop_hint(err: protolearn::data::Error) -> anyhow::Error {
    let named = |name: &Option<String>, index: usize| name.clone().unwrap_or_else(|| index.to_string());
    let hint = match &err {
        protolearn::data::Error::TextColumns { columns, .. } => {
            let names: Vec<String> = columns.iter().map(|c| named(&c.name, c.index)).collect();
            format!("To read the file without them: --drop {} (or choose the features with --columns)", names.join(","))
        }
        protolearn::data::Error::MissingCells { columns, .. } => {
            let names: Vec<String> = columns.iter().map(|c| named(&c.name, c.index)).collect();
            format!("To leave those rows out: --missing drop-rows (or those columns: --drop {})", names.join(","))
        }
        _ => return err.into(),
    };
    anyhow::anyhow!("{err}\n{hint}")
}

/// The table options of `predict`: a CSV is read with the columns the model was fitted on
/// (by header name), unless `--columns` or `--drop` says otherwise, so a file with the text
/// columns that `fit --drop` left out still predicts.
fn fitted_columns(fitted: &Fitted, data: &Path, options: &TableOptions) -> TableOptions {
    let csv = data.extension().is_some_and(|e| ["csv", "tsv", "txt"].contains(&e.to_string_lossy().to_ascii_lowercase().as_str()));
    // A header name that parses as an integer would be read as a column index.
    let names = &fitted.input().feature_names;
    if !csv || options.columns.is_some() || !options.drop.is_empty() || names.iter().any(|n| n.parse::<usize>().is_ok()) {
        return options.clone();
    }
    TableOptions { columns: Some(names.clone()), ..options.clone() }
}

/// What `protolearn inspect` prints: the config, the input, the shapes and the summary.
pub fn inspect(path: &Path) -> Result<String> {
    if !path.is_file() {
        bail!("{}: no such model file", path.display());
    }
    let fitted = Fitted::load(path)?;
    let mut text = String::new();
    writeln!(text, "model file: {}", path.display())?;
    writeln!(text, "\n[config]\n{}", toml::to_string(fitted.config())?)?;
    let input = fitted.input();
    writeln!(text, "[input]\nsample shape {:?}, features {}", input.sample_shape, input.feature_names.join(", "))?;
    if let Some(classes) = &input.classes {
        writeln!(text, "classes {}", classes.join(", "))?;
    }
    writeln!(text, "scaling {:?}", fitted.scaler().kind)?;
    let prototypes = fitted.prototypes()?;
    writeln!(text, "\n[shapes]\n{} units, prototypes {:?} in the model's space", fitted.n_units(), prototypes.shape)?;
    if let Some(grid) = fitted.grid() {
        writeln!(text, "grid {} x {} {:?} {:?}", grid.rows(), grid.cols(), grid.lattice(), grid.boundary())?;
    }
    let s = fitted.summary();
    let used = s.units.hits.iter().filter(|&&h| h > 0).count();
    writeln!(
        text,
        "\n[training]\n{} on {} samples in {:.1} s on {} (protolearn {})",
        s.kind, s.n_samples, s.seconds, s.device, s.library_version
    )?;
    writeln!(text, "units with samples: {used} of {}", s.units.hits.len())?;
    writeln!(text, "scores: {}", serde_json::to_string(&s.training)?)?;
    Ok(text)
}

/// Parses `--image-shape`: `HxW` or `CxHxW`, every size at least 1.
pub fn parse_image_shape(text: &str) -> Result<Vec<usize>> {
    let sizes = text.split('x').map(|p| p.trim().parse::<usize>().ok().filter(|&s| s > 0)).collect::<Option<Vec<_>>>();
    match sizes {
        Some(sizes) if (2..=3).contains(&sizes.len()) => Ok(sizes),
        _ => bail!("--image-shape {text:?}: expected HxW or CxHxW with sizes >= 1, e.g. 28x28"),
    }
}
