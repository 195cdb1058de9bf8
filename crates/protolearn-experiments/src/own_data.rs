//! `protolearn fit`, `predict` and `inspect`: a model of your own on a file of your own, from
//! the shell. `fit` trains with a progress bar and writes the model file, the history, the
//! per-sample assignments, a JSON summary and the SOM figures into one folder.

use crate::progress::EpochBar;
use anyhow::{bail, Context, Result};
use protolearn::data::categorical::Categorical;
use protolearn::data::csv::{ColumnRef, MissingCells};
use protolearn::data::{load_table, Table, TableOptions};
use protolearn::history::{history_csv, write_atomically, write_atomically_with};
use protolearn::{Estimator, EstimatorConfig, Fitted, MissingValues};
use protolearn_layers::rows::RowSource;
use protolearn_train::npy_source::NpySource;
use protolearn_train::run::Checkpointing;
use protolearn_train::DeviceChoice;
use std::collections::BTreeMap;
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
    /// How to read it (label column, NPZ keys, columns, categories, missing cells).
    pub table: TableOptions,
    /// Overrides the config's treatment of missing values.
    pub missing: Option<MissingValues>,
    /// The shape of one sample when the rows are images (`[H, W]` or `[C, H, W]`): prototypes
    /// are then drawn as images, and a convolutional backbone can read them.
    pub image_shape: Option<Vec<usize>>,
    /// Overrides the config's device.
    pub device: Option<DeviceChoice>,
    /// Overrides the config's seed.
    pub seed: Option<u64>,
    /// Where the training checkpoints, and whether it resumes.
    pub checkpointing: Checkpointing,
    /// Read the data (`.npy` rows) this many rows at a time instead of loading it.
    pub chunk_rows: Option<usize>,
    /// The output folder.
    pub out: PathBuf,
}

/// Whether this process writes results: a single process, or rank 0 of a data-parallel run.
pub fn writes_results() -> bool {
    protolearn_layers::collective::default_group().is_none_or(|g| g.rank() == 0)
}

/// Trains the model of `args.model` on `args.data` and writes the results under `args.out`;
/// returns the model and the figure files. The output folder is checked before training, so an
/// unwritable folder fails in a second, not after the training; every file is written whole or
/// not at all. A config that imputes or masks missing values reads missing cells as such.
///
/// In a data-parallel run (a default process group, see `protolearn_dist::init_from_env`) every
/// rank reads the file and trains on its part of each batch; only rank 0 writes.
pub fn fit(args: &FitArgs) -> Result<(Fitted, Vec<PathBuf>)> {
    let mut config = EstimatorConfig::load(&args.model)?;
    config.device = args.device.unwrap_or(config.device);
    config.seed = args.seed.unwrap_or(config.seed);
    config.missing = args.missing.unwrap_or(config.missing);
    if let Some(chunk_rows) = args.chunk_rows {
        return fit_chunked(config, args, chunk_rows);
    }
    let mut options = args.table.clone();
    if options.missing == MissingCells::Error && config.missing != MissingValues::Reject {
        options.missing = MissingCells::Keep;
    }
    let mut table = load_table(&args.data, &options).map_err(|e| with_drop_hint(e, &options))?;
    if let Some(shape) = &args.image_shape {
        table.data = table.data.reshaped(shape).with_context(|| format!("--image-shape for {}", args.data.display()))?;
    }
    let writer = writes_results();
    if writer {
        check_writable(&args.out)?;
    }
    let estimator = Estimator::new(config)?.with_checkpoints(args.checkpointing.clone());
    let mut bar = EpochBar::new("fit");
    let fitted = estimator.fit_table_observed(&table, &mut bar)?;
    let figures = if writer { write_results(&fitted, &table, &args.out)? } else { Vec::new() };
    Ok((fitted, figures))
}

/// `fit` reading `.npy` rows `chunk_rows` at a time ([`Estimator::fit_rows`]): writes the model,
/// the history, the summary, the map figures its training summary allows
/// ([`Fitted::training_figures`]: no scatter of the samples) and the assignments, streamed.
fn fit_chunked(config: EstimatorConfig, args: &FitArgs, chunk_rows: usize) -> Result<(Fitted, Vec<PathBuf>)> {
    if chunk_rows == 0 {
        bail!("--chunk-rows 0: expected at least 1 row per read");
    }
    if args.table.labels.is_some() || args.image_shape.is_some() {
        bail!("--chunk-rows reads unlabelled .npy rows: drop --labels and --image-shape");
    }
    let device = config.device.resolve()?;
    let source = NpySource::open(&args.data, device)?;
    let writer = writes_results();
    if writer {
        check_writable(&args.out)?;
    }
    let estimator = Estimator::new(config)?.with_checkpoints(args.checkpointing.clone());
    let mut bar = EpochBar::new("fit");
    let fitted = estimator.fit_rows(&source, chunk_rows, &mut bar)?;
    if writer {
        fitted.save(&args.out.join(MODEL_FILE))?;
        write_atomically(&args.out.join(HISTORY_FILE), history_csv(fitted.history()).as_bytes())?;
        let figures: Vec<PathBuf> = fitted.training_figures(&args.out.join("figures"))?.into_iter().map(|f| f.png).collect();
        let summary = serde_json::json!({
            "data": args.data.display().to_string(),
            "chunk_rows": chunk_rows,
            "figures": figures.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
            "config": fitted.config(),
            "input": fitted.input(),
            "summary": fitted.summary(),
            "peak_rss_mib": peak_rss_mib(),
        });
        write_atomically(&args.out.join(SUMMARY_FILE), serde_json::to_string_pretty(&summary)?.as_bytes())?;
        // After the summary, whose peak memory is the fit's: streaming keeps this pass within a chunk.
        write_chunked_assignments(&fitted, &source, chunk_rows, &args.out.join(ASSIGNMENTS_FILE))?;
        return Ok((fitted, figures));
    }
    Ok((fitted, Vec::new()))
}

/// This process's peak resident memory so far in MiB (`VmHWM` of `/proc/self/status`; `None`
/// where there is no such file).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Writes the model, history, assignments, summary and figures of `fitted` on `table`; returns
/// the figure files.
fn write_results(fitted: &Fitted, table: &Table, out: &Path) -> Result<Vec<PathBuf>> {
    fitted.save(&out.join(MODEL_FILE))?;
    write_atomically(&out.join(HISTORY_FILE), history_csv(fitted.history()).as_bytes())?;
    write_table_assignments(fitted, table, &out.join(ASSIGNMENTS_FILE))?;
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
        "peak_rss_mib": peak_rss_mib(),
    });
    write_atomically(&out.join(SUMMARY_FILE), serde_json::to_string_pretty(&summary)?.as_bytes())?;
    Ok(figures.into_iter().map(|f| f.png).collect())
}

/// Writes `assignments.csv` of `table`'s rows: `row, winner[, unit_row, unit_col], distance[, label]`.
fn write_table_assignments(fitted: &Fitted, table: &Table, path: &Path) -> Result<()> {
    write_atomically_with(path, |w| table_assignments(w, fitted, table).map_err(|e| e.into_protolearn(path)))?;
    Ok(())
}

/// `row,winner[,unit_row,unit_col],distance[,label]` for every sample of `table`, as text.
fn assignments_csv(fitted: &Fitted, table: &Table) -> Result<String> {
    let mut bytes = Vec::new();
    table_assignments(&mut bytes, fitted, table).map_err(|e| e.into_protolearn(Path::new("assignments")))?;
    Ok(String::from_utf8(bytes)?)
}

/// The header and one line per sample of `table`.
fn table_assignments(w: &mut dyn std::io::Write, fitted: &Fitted, table: &Table) -> std::result::Result<(), WriteError> {
    let assignments = fitted.assign(&table.data)?;
    let labels = table.data.labels.as_deref();
    write_assignments_header(w, fitted, labels.is_some())?;
    let row = |i: usize| table.rows.get(i).copied().unwrap_or(i);
    let label = |i: usize| labels.and_then(|l| l.get(i)).map(|&l| csv_cell(&table_class(table, l)));
    Ok(write_assignment_lines(w, fitted, &assignments, row, label)?)
}

/// What writing assignments can fail with: the model's assignment or the writer.
#[derive(Debug)]
enum WriteError {
    Model(protolearn::Error),
    Io(std::io::Error),
}

impl From<protolearn::Error> for WriteError {
    fn from(e: protolearn::Error) -> Self {
        WriteError::Model(e)
    }
}

impl From<std::io::Error> for WriteError {
    fn from(e: std::io::Error) -> Self {
        WriteError::Io(e)
    }
}

impl WriteError {
    /// The library's error, an I/O one naming `path`.
    fn into_protolearn(self, path: &Path) -> protolearn::Error {
        match self {
            WriteError::Model(e) => e,
            WriteError::Io(source) => protolearn::Error::Io { path: path.to_owned(), source },
        }
    }
}

/// Writes `assignments.csv` of every row of `source` (unlabelled), `chunk_rows` rows at a time,
/// streamed to the file: data larger than memory.
fn write_chunked_assignments(fitted: &Fitted, source: &dyn RowSource, chunk_rows: usize, path: &Path) -> Result<()> {
    let (n, d) = (source.n_rows(), source.n_cols());
    let chunks = |w: &mut dyn std::io::Write| -> std::result::Result<(), WriteError> {
        write_assignments_header(w, fitted, false)?;
        for start in (0..n).step_by(chunk_rows.max(1)) {
            let len = chunk_rows.min(n - start);
            let rows = source.rows(start, len).map_err(protolearn::Error::from)?.to_device(tch::Device::Cpu);
            let values = Vec::<f32>::try_from(rows.to_kind(tch::Kind::Float).flatten(0, -1)).map_err(protolearn::Error::from)?;
            let chunk = protolearn::data::Data::new("chunk", values, vec![len, d], None).map_err(protolearn::Error::from)?;
            write_assignment_lines(w, fitted, &fitted.assign(&chunk)?, |i| start + i, |_| None)?;
        }
        Ok(())
    };
    write_atomically_with(path, |w| chunks(w).map_err(|e| e.into_protolearn(path)))?;
    Ok(())
}

/// The header line of `assignments.csv`.
fn write_assignments_header(w: &mut dyn std::io::Write, fitted: &Fitted, labelled: bool) -> std::io::Result<()> {
    let grid = if fitted.grid().is_some() { ",unit_row,unit_col" } else { "" };
    writeln!(w, "row,winner{grid},distance{}", if labelled { ",label" } else { "" })
}

/// One line per assignment: its file row `row(i)`, winner (and grid cell), distance and label.
fn write_assignment_lines(
    w: &mut dyn std::io::Write,
    fitted: &Fitted,
    assignments: &[protolearn::Assignment],
    row: impl Fn(usize) -> usize,
    label: impl Fn(usize) -> Option<String>,
) -> std::io::Result<()> {
    let grid = fitted.grid();
    for (i, a) in assignments.iter().enumerate() {
        write!(w, "{},{}", row(i), a.winner)?;
        if let Some(grid) = &grid {
            let (r, c) = grid.coords(a.winner).map_err(std::io::Error::other)?;
            write!(w, ",{r},{c}")?;
        }
        write!(w, ",{}", a.distance)?;
        match label(i) {
            Some(label) => writeln!(w, ",{label}")?,
            None => writeln!(w)?,
        }
    }
    Ok(())
}

/// The name of class `label` of `table` (its text, else the number): a file read for `predict`
/// numbers its own classes.
fn table_class(table: &Table, label: i64) -> String {
    table.classes.as_ref().and_then(|c| usize::try_from(label).ok().and_then(|l| c.get(l))).cloned().unwrap_or_else(|| label.to_string())
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

/// What `predict` found: the sample count and, when the file has labels and the model predicts
/// classes, the accuracy and per-class counts.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictReport {
    /// Samples assigned.
    pub n_samples: usize,
    /// Rows left out for a missing cell (`--missing drop-rows`).
    pub dropped_rows: usize,
    /// Per true class: its name, its samples and how many were predicted as it (sorted by name).
    pub per_class: Vec<(String, usize, usize)>,
}

impl PredictReport {
    /// The fraction of labelled samples whose predicted class is their class; `None` without labels.
    pub fn accuracy(&self) -> Option<f64> {
        let (n, correct) = self.per_class.iter().fold((0, 0), |(n, c), (_, k, r)| (n + k, c + r));
        (n > 0).then(|| correct as f64 / n as f64)
    }

    /// The lines `protolearn predict` prints.
    pub fn text(&self, out: &Path) -> String {
        let mut text = format!("predict: {} samples assigned", self.n_samples);
        if self.dropped_rows > 0 {
            let _ = write!(text, " ({} rows with missing cells left out)", self.dropped_rows);
        }
        let _ = writeln!(text, "; {}", out.display());
        if let Some(accuracy) = self.accuracy() {
            let _ = writeln!(text, "accuracy {accuracy:.4}");
            for (class, n, correct) in &self.per_class {
                let _ = writeln!(text, "  {class}: {correct} of {n} correct");
            }
        }
        text
    }
}

/// Assigns every sample of `args.data` to its winner with a saved model and writes the CSV
/// (with the predicted class when the model was fitted on labels); with labels in the file, the
/// report has the accuracy and per-class counts (classes matched by name).
pub fn predict(args: &PredictArgs) -> Result<PredictReport> {
    let fitted = Fitted::load(&args.model)?;
    let options = fitted_columns(&fitted, &args.data, &args.table);
    let table = load_table(&args.data, &options).map_err(|e| with_drop_hint(e, &options))?;
    let on_data = || format!("{} with the model {}", args.data.display(), args.model.display());
    let mut text = assignments_csv(&fitted, &table).with_context(on_data)?;
    let mut per_class: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    if fitted.input().labelled {
        let predicted = fitted.predict_labels(&table.data).with_context(on_data)?;
        let mut lines = text.lines();
        let mut with_class = format!("{},predicted_label\n", lines.next().unwrap_or_default());
        for (i, (line, class)) in lines.zip(&predicted).enumerate() {
            let name = class.map(|c| fitted.input().class_name(c));
            writeln!(with_class, "{line},{}", name.as_deref().map(csv_cell).unwrap_or_default())?;
            if let Some(truth) = table.data.labels.as_ref().and_then(|l| l.get(i)) {
                let entry = per_class.entry(table_class(&table, *truth)).or_default();
                entry.0 += 1;
                entry.1 += usize::from(name.as_deref() == Some(table_class(&table, *truth).as_str()));
            }
        }
        text = with_class;
    }
    if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("output folder {}: cannot be created", parent.display()))?;
    }
    write_atomically(&args.out, text.as_bytes())?;
    Ok(PredictReport {
        n_samples: table.data.n_samples(),
        dropped_rows: table.dropped_rows,
        per_class: per_class.into_iter().map(|(class, (n, correct))| (class, n, correct)).collect(),
    })
}

/// A CSV holding text columns, missing cells or unseen categories: the data crate's error (every
/// such column) and the option that reads the file anyway.
fn with_drop_hint(err: protolearn::data::Error, options: &TableOptions) -> anyhow::Error {
    let named = |name: &Option<String>, index: usize| name.clone().unwrap_or_else(|| index.to_string());
    let hint = match &err {
        protolearn::data::Error::TextColumns { columns, .. } => {
            let names: Vec<String> = columns.iter().map(|c| named(&c.name, c.index)).collect();
            let numbers_with_commas = columns.iter().all(|c| c.cell.replace(',', ".").parse::<f64>().is_ok());
            let comma = if numbers_with_commas {
                " The cells look like numbers with a decimal comma: --decimal-comma (with --delimiter ';')."
            } else {
                ""
            };
            format!(
                "To read the file without them: --drop {0} (or choose the features with --columns); to one-hot encode them: --categorical {0}.{comma}",
                names.join(",")
            )
        }
        protolearn::data::Error::MissingCells { columns, .. }
            if columns
                .iter()
                .all(|c| options.labels.as_deref().is_some_and(|l| Some(l) == c.name.as_deref() || l == c.index.to_string())) =>
        {
            "A row without a label cannot be used: --missing drop-rows leaves those rows out".to_owned()
        }
        protolearn::data::Error::MissingCells { columns, .. } => {
            let names: Vec<String> = columns.iter().map(|c| named(&c.name, c.index)).collect();
            format!(
                "To leave those rows out: --missing drop-rows; to fill them with the training means: --missing impute-mean; \
                 to leave them out of the distances (som, kmeans, lvq): --missing mask; or those columns: --drop {}",
                names.join(",")
            )
        }
        protolearn::data::Error::UnknownCategory { .. } => "To encode unseen categories as all zeros: --unknown ignore".to_owned(),
        _ => return err.into(),
    };
    anyhow::anyhow!("{err}\n{hint}")
}

/// The table options of `predict`: a CSV is read with the columns the model was fitted on (by
/// header name), unless `--columns` or `--drop` says otherwise, so a file with the text columns
/// that `fit --drop` left out still predicts; categorical columns with the model's categories;
/// missing cells kept when the model imputes or masks them (unless `--missing` says otherwise).
fn fitted_columns(fitted: &Fitted, data: &Path, options: &TableOptions) -> TableOptions {
    let csv = data.extension().is_some_and(|e| ["csv", "tsv", "txt"].contains(&e.to_string_lossy().to_ascii_lowercase().as_str()));
    if !csv {
        return options.clone();
    }
    let input = fitted.input();
    let mut options = options.clone();
    if options.missing == MissingCells::Error && fitted.config().missing != MissingValues::Reject {
        options.missing = MissingCells::Keep;
    }
    // The model's categories, by column name: new data is encoded the same way.
    options.categorical = input
        .categorical
        .iter()
        .map(|e| Categorical { column: ColumnRef::Name(e.column.clone()), categories: Some(e.categories.clone()) })
        .collect();
    // Columns read before one-hot encoding (older models: the feature names). A header name
    // that parses as an integer would be read as a column index.
    let names = if input.columns.is_empty() { &input.feature_names } else { &input.columns };
    if options.columns.is_none() && options.drop.is_empty() && !names.iter().any(|n| n.parse::<usize>().is_ok()) {
        options.columns = Some(names.clone());
    }
    options
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
    let missing = fitted.missing();
    match missing.kind {
        MissingValues::ImputeMean => writeln!(text, "missing values: impute-mean (means {:?})", missing.means)?,
        kind => writeln!(text, "missing values: {}", serde_json::to_value(kind)?.as_str().unwrap_or_default())?,
    }
    for e in &input.categorical {
        writeln!(text, "categorical {}: {}", e.column, e.categories.join(", "))?;
    }
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
