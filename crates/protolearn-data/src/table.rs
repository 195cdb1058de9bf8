//! One loader for "a table of numbers from a file": CSV/TSV, `.npy`, `.npz` or IDX, chosen by the file name.
//!
//! Whatever the format, the features come back flattened to `[n, d]` (an image file of shape
//! `[n, 28, 28]` gives `[n, 784]`), with `d` feature names.

use std::path::Path;

use crate::categorical::{Categorical, CategoryEncoding, UnknownCategory};
use crate::csv::{ColumnRef, CsvConfig, LabelColumn, LabelEncoding, MissingCells, MISSING_VALUES};
use crate::data::Data;
use crate::error::{Error, Result};
use crate::idx::read_idx;
use crate::npy::{load_npy, load_npy_labels, load_npz};
use crate::ts::load_ts;

/// The file names [`load_table`] accepts, for error messages.
const ACCEPTED: &str = "a name ending in .csv, .tsv, .txt (CSV with a header), .npy, .npz, \
                        a .ts time-series file (optionally followed by .gz), \
                        or an IDX name ending in -ubyte or .idx (optionally followed by .gz)";

/// How [`load_table`] reads a file; every field is optional and `Default` reads a plain,
/// unlabelled table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableOptions {
    /// Where the labels are.
    ///
    /// - CSV: the label column, by header name, or by 0-based index when the text parses as
    ///   an integer (so a column literally named `"0"` must be given by index).
    /// - `.npz`: the key of the labels array (a 1-D array of class indices).
    /// - `.npy` and IDX: the path of a separate labels file, `.npy` (as read by
    ///   [`load_npy_labels`]) or IDX of rank 1 (like `train-labels-idx1-ubyte`).
    ///
    /// `None`: the data is unlabelled.
    pub labels: Option<String>,
    /// `.npz` only: the key of the features array; `None` means `"x"`.
    pub features_key: Option<String>,
    /// CSV only: the field separator; `None` means a tab for `.tsv` and a comma otherwise.
    pub delimiter: Option<u8>,
    /// CSV only: the feature columns to read (header names, or 0-based indices when the text
    /// parses as an integer); `None`: every column but the label and `drop`.
    pub columns: Option<Vec<String>>,
    /// CSV only: columns not to read (names or indices, as `columns`).
    pub drop: Vec<String>,
    /// CSV only: the cells that mean "missing"; `None`: [`MISSING_VALUES`].
    pub missing_values: Option<Vec<String>>,
    /// CSV only: what rows with a missing cell do (default: an error listing the columns).
    pub missing: MissingCells,
    /// CSV only: columns read as categories and one-hot encoded, with their categories when
    /// fixed (a fitted model's), else learned from the file.
    pub categorical: Vec<Categorical>,
    /// CSV only: what a value outside fixed categories does (default: an error).
    pub unknown: UnknownCategory,
    /// CSV only: numbers have a decimal comma (`3,5`); needs a delimiter other than `,`.
    pub decimal_comma: bool,
}

/// A table read by [`load_table`]: features `[n, d]`, optional labels, and names.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Features of shape `[n, d]` (always flattened), labels if requested; named after the file stem.
    pub data: Data,
    /// `d` names: the CSV header's feature columns, else `x0, x1, ..., x{d-1}`.
    pub feature_names: Vec<String>,
    /// For CSV labels, `classes[k]` is the cell text of class `k` (categorical encoding, see
    /// [`LabelEncoding::Categorical`]); `None` for unlabelled data and for the numeric label
    /// arrays of the other formats, whose values are the class indices.
    pub classes: Option<Vec<String>>,
    /// The 0-based row of the file each row came from (`0..n` unless CSV rows were dropped).
    pub rows: Vec<usize>,
    /// CSV rows left out for a missing cell ([`MissingCells::DropRows`]).
    pub dropped_rows: usize,
    /// The CSV columns read as features, by header name in file order (before one-hot
    /// encoding); empty for the other formats and for CSV without a header.
    pub columns: Vec<String>,
    /// The encoding of every categorical CSV column.
    pub categorical: Vec<CategoryEncoding>,
}

/// The file formats [`load_table`] dispatches to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv { delimiter: u8 },
    Npy,
    Npz,
    Idx,
    Ts,
}

/// Picks the format from the file name (case-insensitive); `None` for an unknown name.
fn format_of(path: &Path) -> Option<Format> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let unzipped = name.strip_suffix(".gz").unwrap_or(&name);
    if unzipped.ends_with("-ubyte") || unzipped.ends_with(".idx") {
        return Some(Format::Idx);
    }
    if unzipped.ends_with(".ts") {
        return Some(Format::Ts);
    }
    if unzipped.len() != name.len() {
        return None; // only IDX and .ts files may be gzipped
    }
    match name.rsplit_once('.')?.1 {
        "csv" | "txt" => Some(Format::Csv { delimiter: b',' }),
        "tsv" => Some(Format::Csv { delimiter: b'\t' }),
        "npy" => Some(Format::Npy),
        "npz" => Some(Format::Npz),
        _ => None,
    }
}

/// Reads a table of numbers from `path`, choosing the reader by the file name:
///
/// | file name | reader | labels (`options.labels`) |
/// | --- | --- | --- |
/// | `.csv`, `.txt` (comma), `.tsv` (tab) | [`CsvConfig::load`] with a header row | column name or index; categorical |
/// | `.npy` | [`load_npy`] | path of a labels file |
/// | `.npz` | [`load_npz`], key `features_key` (default `"x"`) | key of the labels array |
/// | `*-ubyte`, `*.idx`, either + `.gz` | [`read_idx`]: raw byte values `0..=255`, not rescaled | path of a labels file |
/// | `.ts`, `.ts.gz` | [`load_ts`], equal-length series only, `[n, T, D]` flattened to `[n, T·D]` (time-major) | none: `@classLabel` of the file |
///
/// The features always come back flattened to `[n, d]`, `feature_names` always has `d`
/// entries. An option that does not apply to the format (`features_key` outside `.npz`,
/// `delimiter` outside CSV) is an error rather than silently ignored, and so is an unknown
/// file name (the message lists the accepted ones).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use protolearn_data::{load_table, TableOptions};
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("iris.csv");
/// std::fs::write(&path, "sepal,petal,species\n5.1,1.4,setosa\n7.0,4.7,versicolor\n6.3,6.0,virginica\n")?;
///
/// let table = load_table(&path, &TableOptions { labels: Some("species".into()), ..Default::default() })?;
/// assert_eq!(table.data.shape, vec![3, 2]);
/// assert_eq!(table.data.labels, Some(vec![0, 1, 2]));
/// assert_eq!(table.feature_names, vec!["sepal", "petal"]);
/// assert_eq!(table.classes, Some(vec!["setosa".into(), "versicolor".into(), "virginica".into()]));
/// # Ok(()) }
/// ```
pub fn load_table(path: &Path, options: &TableOptions) -> Result<Table> {
    let Some(format) = format_of(path) else {
        return Err(Error::invalid("path", ACCEPTED, path.display()));
    };
    if let (Some(key), false) = (&options.features_key, format == Format::Npz) {
        return Err(Error::invalid("features_key", "None unless the file is an .npz archive", format!("{key:?} for {}", path.display())));
    }
    if let (Some(d), false) = (options.delimiter, matches!(format, Format::Csv { .. })) {
        return Err(Error::invalid(
            "delimiter",
            "None unless the file is CSV (.csv, .tsv, .txt)",
            format!("{:?} for {}", char::from(d), path.display()),
        ));
    }
    let csv_only = options.columns.is_some()
        || !options.drop.is_empty()
        || options.missing_values.is_some()
        || options.missing != MissingCells::Error
        || !options.categorical.is_empty()
        || options.decimal_comma;
    if csv_only && !matches!(format, Format::Csv { .. }) {
        return Err(Error::invalid(
            "columns / drop / missing / categorical / decimal_comma",
            "none unless the file is CSV (.csv, .tsv, .txt)",
            format!(
                "{:?} / {:?} / {:?} / {:?} / {} for {}",
                options.columns,
                options.drop,
                options.missing,
                options.categorical,
                options.decimal_comma,
                path.display()
            ),
        ));
    }
    if let (Some(labels), Format::Ts) = (&options.labels, format) {
        return Err(Error::invalid(
            "labels",
            "None for a .ts file (its labels come from its @classLabel header)",
            format!("{labels:?} for {}", path.display()),
        ));
    }
    let (data, feature_names, classes, kept) = match format {
        Format::Csv { delimiter } => {
            let cfg = CsvConfig {
                has_header: true,
                delimiter: options.delimiter.unwrap_or(delimiter),
                label: csv_label(options.labels.as_deref())?,
                encoding: LabelEncoding::Categorical,
                columns: options.columns.as_ref().map(|c| c.iter().map(|t| ColumnRef::parse(t)).collect()),
                drop: options.drop.iter().map(|t| ColumnRef::parse(t)).collect(),
                missing_values: options.missing_values.clone().unwrap_or_else(|| MISSING_VALUES.iter().map(|&v| v.to_owned()).collect()),
                missing: options.missing,
                categorical: options.categorical.clone(),
                unknown: options.unknown,
                decimal_comma: options.decimal_comma,
            };
            let csv = cfg.load(path)?;
            (csv.data, csv.feature_names, csv.classes, Some((csv.rows, csv.dropped_rows, csv.columns, csv.categorical)))
        }
        Format::Npy => (with_label_file(load_npy(path)?, path, options.labels.as_deref())?, Vec::new(), None, None),
        Format::Npz => {
            let key = options.features_key.as_deref().unwrap_or("x");
            (load_npz(path, key, options.labels.as_deref())?, Vec::new(), None, None)
        }
        Format::Idx => (with_label_file(load_idx_features(path)?, path, options.labels.as_deref())?, Vec::new(), None, None),
        Format::Ts => {
            let seqs = load_ts(path)?;
            if !seqs.equal_length() {
                let (lo, hi) = seqs.lengths.iter().fold((usize::MAX, 0), |(lo, hi), &l| (lo.min(l), hi.max(l)));
                return Err(Error::invalid(
                    "path",
                    "a .ts file of equal-length series (padding would become features; read unequal lengths with `load_ts`)",
                    format!("{} with lengths {lo}..={hi}", path.display()),
                ));
            }
            let classes = seqs.labels.is_some().then(|| seqs.class_names.clone());
            (seqs.to_data(), Vec::new(), classes, None)
        }
    };
    let data = data.flattened();
    let d = data.n_features();
    let feature_names = if feature_names.len() == d { feature_names } else { (0..d).map(|j| format!("x{j}")).collect() };
    let (rows, dropped_rows, columns, categorical) = kept.unwrap_or_else(|| ((0..data.n_samples()).collect(), 0, Vec::new(), Vec::new()));
    Ok(Table { data, feature_names, classes, rows, dropped_rows, columns, categorical })
}

/// The CSV label column: an index when the text parses as an integer, else a header name.
fn csv_label(labels: Option<&str>) -> Result<LabelColumn> {
    let Some(text) = labels else {
        return Ok(LabelColumn::None);
    };
    match text.trim().parse::<i64>() {
        Ok(i) => usize::try_from(i)
            .map(LabelColumn::Index)
            .map_err(|_| Error::invalid("labels", "a 0-based column index >= 0 or a column name", i)),
        Err(_) => Ok(LabelColumn::Name(text.to_owned())),
    }
}

/// Reads an IDX file of rank >= 2 as features `[n, ...]`: raw byte values, not rescaled.
fn load_idx_features(path: &Path) -> Result<Data> {
    let array = read_idx(path)?;
    if array.dims.len() < 2 {
        return Err(Error::Format {
            path: path.to_owned(),
            offset: 3,
            expected: "an IDX array of rank >= 2 ([n, ...]) for features".into(),
            found: format!("rank {} (dimensions {:?})", array.dims.len(), array.dims),
        });
    }
    let name = path.file_name().map_or_else(|| "idx".to_owned(), |s| s.to_string_lossy().trim_end_matches(".gz").to_owned());
    Data::new(name, array.data.into_iter().map(f32::from).collect(), array.dims, None)
}

/// Attaches the labels of the separate file `labels` (if any) to `data` read from `features`.
fn with_label_file(data: Data, features: &Path, labels: Option<&str>) -> Result<Data> {
    let Some(labels) = labels else {
        return Ok(data);
    };
    let path = Path::new(labels);
    let n = data.n_samples();
    let expected = || format!("{n} labels, one per sample of {}", features.display());
    let y = match format_of(path) {
        Some(Format::Npy) => {
            let y = load_npy_labels(path)?;
            if y.len() != n {
                return Err(Error::Npy { path: path.to_owned(), array: None, expected: expected(), found: format!("{} labels", y.len()) });
            }
            y
        }
        Some(Format::Idx) => {
            let array = read_idx(path)?;
            let &[count] = array.dims.as_slice() else {
                return Err(Error::Format {
                    path: path.to_owned(),
                    offset: 3,
                    expected: "a label file of rank 1 ([n])".into(),
                    found: format!("rank {} (dimensions {:?})", array.dims.len(), array.dims),
                });
            };
            if count != n {
                return Err(Error::Format { path: path.to_owned(), offset: 4, expected: expected(), found: format!("{count} labels") });
            }
            array.data.into_iter().map(i64::from).collect()
        }
        _ => return Err(Error::invalid("labels", "the path of a .npy or IDX labels file", labels)),
    };
    Data::new(data.name, data.features, data.shape, Some(y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_follow_the_file_name() {
        let f = |name: &str| format_of(Path::new(name));
        assert_eq!(f("a/iris.CSV"), Some(Format::Csv { delimiter: b',' }));
        assert_eq!(f("iris.txt"), Some(Format::Csv { delimiter: b',' }));
        assert_eq!(f("iris.tsv"), Some(Format::Csv { delimiter: b'\t' }));
        assert_eq!(f("x.npy"), Some(Format::Npy));
        assert_eq!(f("xy.npz"), Some(Format::Npz));
        for idx in ["train-images-idx3-ubyte", "train-images.idx3-ubyte.gz", "x.idx", "x.idx.gz"] {
            assert_eq!(f(idx), Some(Format::Idx), "{idx}");
        }
        assert_eq!(f("GunPoint_TRAIN.ts"), Some(Format::Ts));
        assert_eq!(f("GunPoint_TRAIN.TS.gz"), Some(Format::Ts));
        for unknown in ["x.parquet", "x.csv.gz", "x.npy.gz", "README", ""] {
            assert_eq!(f(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn csv_labels_are_indices_or_names() -> Result<()> {
        assert_eq!(csv_label(None)?, LabelColumn::None);
        assert_eq!(csv_label(Some("2"))?, LabelColumn::Index(2));
        assert_eq!(csv_label(Some("species"))?, LabelColumn::Name("species".into()));
        assert!(csv_label(Some("-1")).is_err());
        Ok(())
    }
}
