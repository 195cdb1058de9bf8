//! Generic CSV loader: numeric feature columns, chosen by name or index, and an optional label
//! column. Every text column is reported at once, not just the first bad cell.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::data::Data;
use crate::error::{Error, Result};

/// Which column holds the labels.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum LabelColumn {
    /// No labels: every column is a feature.
    #[default]
    None,
    /// The column at this 0-based index.
    Index(usize),
    /// The last column.
    Last,
    /// The column with this header name (needs `has_header`).
    Name(String),
}

/// A column named by its header or by its 0-based index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnRef {
    /// The column at this 0-based index.
    Index(usize),
    /// The column with this header name.
    Name(String),
}

impl ColumnRef {
    /// `"3"` is the index 3, any other text a header name (so a column literally named `"3"` is
    /// given by its index), as for the label column.
    pub fn parse(text: &str) -> Self {
        text.parse().map_or_else(|_| ColumnRef::Name(text.to_owned()), ColumnRef::Index)
    }

    /// The index of this column among `cols` columns with header `header` (empty: none).
    fn resolve(&self, header: &[String], cols: usize) -> Option<usize> {
        match self {
            ColumnRef::Index(i) => (*i < cols).then_some(*i),
            ColumnRef::Name(name) => header.iter().position(|h| h == name),
        }
    }
}

impl std::fmt::Display for ColumnRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ColumnRef::Index(i) => write!(f, "{i}"),
            ColumnRef::Name(name) => f.write_str(name),
        }
    }
}

/// A feature column holding a cell that is not a finite number, for [`Error::TextColumns`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextColumn {
    /// 0-based column index in the file.
    pub index: usize,
    /// Header name, if the file has a header.
    pub name: Option<String>,
    /// 1-based line of its first such cell.
    pub line: u64,
    /// That cell.
    pub cell: String,
}

/// A column with missing cells (one of [`CsvConfig::missing_values`]), for
/// [`Error::MissingCells`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingColumn {
    /// 0-based column index in the file.
    pub index: usize,
    /// Header name, if the file has a header.
    pub name: Option<String>,
    /// How many of its cells are missing.
    pub count: usize,
    /// 1-based line of the first.
    pub line: u64,
}

/// What to do with rows that have a missing cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingCells {
    /// Fail, listing every column with missing cells ([`Error::MissingCells`]).
    #[default]
    Error,
    /// Leave such rows out ([`CsvData::rows`] keeps the file's row of every row read).
    DropRows,
}

/// The cells read as missing by default (compared after trimming, ignoring ASCII case): empty,
/// `NA`, `N/A`, `NaN`, `null`, `?`.
pub const MISSING_VALUES: [&str; 6] = ["", "NA", "N/A", "NaN", "null", "?"];

/// How label cells become class indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LabelEncoding {
    /// Each distinct value is a class; classes are sorted (numerically if every value is an
    /// integer, else lexicographically) and numbered `0..C`, like scikit-learn's `LabelEncoder`.
    #[default]
    Categorical,
    /// Cells are integers `>= 0` used as class indices unchanged.
    Integer,
}

/// How to read a CSV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvConfig {
    /// The first row names the columns. Default `true`.
    pub has_header: bool,
    /// Field separator. Default `b','`.
    pub delimiter: u8,
    /// The label column, if any. Default [`LabelColumn::None`].
    pub label: LabelColumn,
    /// How labels are encoded. Default [`LabelEncoding::Categorical`].
    pub encoding: LabelEncoding,
    /// The feature columns to read, in the file's order (`None`, the default: every column but
    /// the label and `drop`).
    pub columns: Option<Vec<ColumnRef>>,
    /// Columns not to read (default: none).
    pub drop: Vec<ColumnRef>,
    /// Cells that mean "missing" (default [`MISSING_VALUES`]; compared ignoring ASCII case).
    pub missing_values: Vec<String>,
    /// What rows with a missing feature or label cell do (default [`MissingCells::Error`]).
    pub missing: MissingCells,
}

impl Default for CsvConfig {
    fn default() -> Self {
        CsvConfig {
            has_header: true,
            delimiter: b',',
            label: LabelColumn::None,
            encoding: LabelEncoding::Categorical,
            columns: None,
            drop: Vec::new(),
            missing_values: MISSING_VALUES.iter().map(|&v| v.to_owned()).collect(),
            missing: MissingCells::Error,
        }
    }
}

/// A CSV file read into [`Data`], with the column and class names.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvData {
    /// Features `[n_rows, n_feature_columns]` and labels; named after the file stem.
    pub data: Data,
    /// Header names of the feature columns (empty without a header).
    pub feature_names: Vec<String>,
    /// With [`LabelEncoding::Categorical`], `classes[k]` is the cell text of class `k`.
    pub classes: Option<Vec<String>>,
    /// The 0-based data row of the file each row came from (`0..n` unless rows were dropped).
    pub rows: Vec<usize>,
    /// Rows left out for a missing cell ([`MissingCells::DropRows`]).
    pub dropped_rows: usize,
}

impl CsvConfig {
    /// Reads `path`: there must be at least one data row, every cell of a feature column must
    /// parse as a finite `f32`, every row must have the same number of cells; errors name the line
    /// and column. Feature columns that hold text are all reported at once
    /// ([`Error::TextColumns`]), with the first such cell of each; a column in `columns` or
    /// `drop` that the file does not have is an error listing the columns it has. Missing cells
    /// ([`CsvConfig::missing_values`]) are not text: they fail as [`Error::MissingCells`] (every
    /// such column, its count and first line) or drop their rows, as [`CsvConfig::missing`] says.
    pub fn load(&self, path: &Path) -> Result<CsvData> {
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(self.has_header)
            .delimiter(self.delimiter)
            .trim(::csv::Trim::All)
            .from_path(path)
            .map_err(|e| csv_error(path, e))?;
        let header: Vec<String> = if self.has_header {
            let h = reader.headers().map_err(|e| csv_error(path, e))?;
            h.iter().map(str::to_owned).collect()
        } else {
            Vec::new()
        };
        if self.has_header && header.is_empty() {
            return Err(no_rows(path, 1, "an empty file"));
        }
        let mut features = Vec::new();
        let mut label_cells = Vec::new();
        // Column count, label index and the feature columns: from the header, else the first row.
        let mut layout = if self.has_header { Some(self.layout(path, &header, header.len())?) } else { None };
        let mut text: Vec<TextColumn> = Vec::new();
        let mut missing: Vec<MissingColumn> = Vec::new();
        let (mut rows, mut dropped_rows, mut row_values) = (Vec::new(), 0, Vec::new());
        for (row, record) in reader.records().enumerate() {
            let record = record.map_err(|e| csv_error(path, e))?;
            let line = record.position().map_or(0, |p| p.line());
            let (_, li, keep) = match &layout {
                Some(l) => l,
                None => layout.insert(self.layout(path, &header, record.len())?),
            };
            let (mut label, mut complete) = (None, true);
            row_values.clear();
            for (j, cell) in record.iter().enumerate() {
                if Some(j) != *li && !keep[j] {
                    continue;
                }
                if self.is_missing(cell) {
                    complete = false;
                    match missing.iter_mut().find(|m| m.index == j) {
                        Some(m) => m.count += 1,
                        None => missing.push(MissingColumn { index: j, name: header.get(j).cloned(), count: 1, line }),
                    }
                } else if Some(j) == *li {
                    label = Some(cell.to_owned());
                } else {
                    match cell.parse::<f32>() {
                        Ok(v) if v.is_finite() => row_values.push(v),
                        _ if text.iter().any(|t| t.index == j) => {}
                        _ => text.push(TextColumn { index: j, name: header.get(j).cloned(), line, cell: cell.to_owned() }),
                    }
                }
            }
            if !complete && self.missing == MissingCells::DropRows {
                dropped_rows += 1;
                continue;
            }
            features.extend_from_slice(&row_values);
            label_cells.extend(label.map(|l| (line, l)));
            rows.push(row);
        }
        if !text.is_empty() {
            text.sort_by_key(|t| t.index);
            return Err(Error::TextColumns { path: path.to_owned(), columns: text });
        }
        if !missing.is_empty() && self.missing == MissingCells::Error {
            missing.sort_by_key(|m| m.index);
            return Err(Error::MissingCells { path: path.to_owned(), columns: missing });
        }
        let n_rows = rows.len();
        if n_rows == 0 {
            // The line after the header, also when the header has no line break.
            let line = reader.position().line().max(if self.has_header { 2 } else { 1 });
            let found = match (dropped_rows, self.has_header) {
                (0, true) => "none".to_owned(),
                (0, false) => "an empty file".to_owned(),
                (d, _) => format!("none left after dropping {d} rows with missing cells"),
            };
            return Err(no_rows(path, line, &found));
        }
        let (_, li, keep) = layout.unwrap_or((0, None, Vec::new()));
        let d = keep.iter().filter(|&&k| k).count();
        let feature_names = header.iter().zip(&keep).filter(|(_, &k)| k).map(|(h, _)| h.clone()).collect();
        let (labels, classes) = match li {
            None => (None, None),
            Some(_) => {
                let (labels, classes) = encode_labels(path, &label_cells, self.encoding)?;
                (Some(labels), classes)
            }
        };
        let name = path.file_stem().map_or_else(|| "csv".to_owned(), |s| s.to_string_lossy().into_owned());
        Ok(CsvData { data: Data::new(name, features, vec![n_rows, d], labels)?, feature_names, classes, rows, dropped_rows })
    }

    /// Whether `cell` is one of [`CsvConfig::missing_values`] (ignoring ASCII case).
    fn is_missing(&self, cell: &str) -> bool {
        self.missing_values.iter().any(|m| m.eq_ignore_ascii_case(cell))
    }

    /// The column count, the label column and which columns are features (`keep[j]`), resolved
    /// against the header and the column count.
    fn layout(&self, path: &Path, header: &[String], cols: usize) -> Result<(usize, Option<usize>, Vec<bool>)> {
        let li = self.label_index(path, header, cols)?;
        let resolve = |refs: &[ColumnRef], option: &str| -> Result<Vec<usize>> {
            refs.iter()
                .map(|r| {
                    r.resolve(header, cols).ok_or_else(|| Error::Csv {
                        path: path.to_owned(),
                        line: 1,
                        column: None,
                        expected: format!("a column {r} ({option})"),
                        found: if header.is_empty() { format!("{cols} columns without a header") } else { format!("columns {header:?}") },
                    })
                })
                .collect()
        };
        let mut keep = match &self.columns {
            None => vec![true; cols],
            Some(refs) => {
                let mut keep = vec![false; cols];
                for j in resolve(refs, "in columns")? {
                    if Some(j) == li {
                        return Err(Error::invalid("columns", "feature columns, not the label column", refs_text(refs)));
                    }
                    keep[j] = true;
                }
                keep
            }
        };
        for j in resolve(&self.drop, "in drop")? {
            keep[j] = false;
        }
        if let Some(l) = li {
            keep[l] = false;
        }
        if !keep.contains(&true) {
            return Err(Error::invalid("columns", "at least one feature column", format!("none left of {cols} columns")));
        }
        Ok((cols, li, keep))
    }

    /// Resolves the label column against the header and the column count.
    fn label_index(&self, path: &Path, header: &[String], cols: usize) -> Result<Option<usize>> {
        let index = match &self.label {
            LabelColumn::None => return Ok(None),
            LabelColumn::Index(i) => *i,
            LabelColumn::Last => cols.saturating_sub(1),
            LabelColumn::Name(name) => header.iter().position(|h| h == name).ok_or_else(|| Error::Csv {
                path: path.to_owned(),
                line: 1,
                column: None,
                expected: format!("a header with a label column named {name:?}"),
                found: if header.is_empty() { "no header (has_header is false)".to_owned() } else { format!("columns {header:?}") },
            })?,
        };
        if index >= cols {
            return Err(Error::invalid("label", format!("a column index < {cols}"), index));
        }
        Ok(Some(index))
    }
}

/// `a, b, c` of column references.
fn refs_text(refs: &[ColumnRef]) -> String {
    refs.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// The error for a file without data rows; `line` is where the first one should be.
fn no_rows(path: &Path, line: u64, found: &str) -> Error {
    Error::Csv { path: path.to_owned(), line, column: None, expected: "at least one data row".into(), found: found.into() }
}

/// Turns label cells into class indices (and the class names for categorical labels).
fn encode_labels(path: &Path, cells: &[(u64, String)], encoding: LabelEncoding) -> Result<(Vec<i64>, Option<Vec<String>>)> {
    match encoding {
        LabelEncoding::Integer => {
            let labels = cells
                .iter()
                .map(|(line, cell)| match cell.parse::<i64>() {
                    Ok(v) if v >= 0 => Ok(v),
                    _ => Err(Error::Csv {
                        path: path.to_owned(),
                        line: *line,
                        column: None,
                        expected: "an integer label >= 0".into(),
                        found: format!("{cell:?}"),
                    }),
                })
                .collect::<Result<_>>()?;
            Ok((labels, None))
        }
        LabelEncoding::Categorical => {
            let distinct: BTreeSet<&str> = cells.iter().map(|(_, c)| c.as_str()).collect();
            let mut classes: Vec<&str> = distinct.into_iter().collect();
            if classes.iter().all(|c| c.parse::<i64>().is_ok()) {
                classes.sort_by_key(|c| c.parse::<i64>().unwrap_or_default());
            }
            let index: BTreeMap<&str, i64> = classes.iter().zip(0..).map(|(&c, k)| (c, k)).collect();
            let labels = cells.iter().map(|(_, c)| index.get(c.as_str()).copied().unwrap_or_default()).collect();
            let classes = classes.into_iter().map(str::to_owned).collect();
            Ok((labels, Some(classes)))
        }
    }
}

/// Converts an error of the `csv` crate, keeping its line when it has one.
fn csv_error(path: &Path, e: ::csv::Error) -> Error {
    let line = e.position().map_or(0, |p| p.line());
    match e.into_kind() {
        ::csv::ErrorKind::Io(source) => Error::io(path, source),
        ::csv::ErrorKind::UnequalLengths { expected_len, len, .. } => Error::Csv {
            path: path.to_owned(),
            line,
            column: None,
            expected: format!("{expected_len} cells, like the first row"),
            found: format!("{len} cells"),
        },
        kind => Error::Csv { path: path.to_owned(), line, column: None, expected: "well-formed CSV".into(), found: format!("{kind:?}") },
    }
}
