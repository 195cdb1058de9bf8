//! Generic CSV loader: numeric feature columns, chosen by name or index, and an optional label
//! column. Every text column is reported at once, not just the first bad cell.

use std::collections::BTreeMap;
use std::path::Path;

use crate::categorical::{push_one_hot, sorted_values, Categorical, Categories, CategoryEncoding, Code, UnknownCategory};
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
    /// Keep them: a missing feature cell becomes `NaN` (every feature of a missing categorical
    /// cell), for an estimator that imputes or masks it. A missing label cell is still an error,
    /// and so is a row with no observed feature.
    Keep,
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
    /// Columns read as categories and one-hot encoded (default: none); they are features even
    /// when `columns` does not list them.
    pub categorical: Vec<Categorical>,
    /// What a value outside a categorical column's fixed categories does (default: an error).
    pub unknown: UnknownCategory,
    /// Numbers are written with a decimal comma (`3,5`; default `false`); needs another
    /// delimiter than `,`.
    pub decimal_comma: bool,
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
            categorical: Vec::new(),
            unknown: UnknownCategory::Error,
            decimal_comma: false,
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
    /// The header names of the columns read as features, in file order (before one-hot
    /// encoding; empty without a header): what a model fitted on the file reads from new files.
    pub columns: Vec<String>,
    /// The encoding of every categorical column, in file order.
    pub categorical: Vec<CategoryEncoding>,
}

/// How one feature column of the file becomes features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Not read.
    Skip,
    /// The label column.
    Label,
    /// A number.
    Number,
    /// The `c`-th of [`CsvConfig::categorical`].
    Category(usize),
}

impl CsvConfig {
    /// Reads `path`: there must be at least one data row, every cell of a feature column must
    /// parse as a finite `f32`, every row must have the same number of cells; errors name the line
    /// and column. Feature columns that hold text are all reported at once
    /// ([`Error::TextColumns`]), with the first such cell of each; a column in `columns` or
    /// `drop` that the file does not have is an error listing the columns it has. Missing cells
    /// ([`CsvConfig::missing_values`]) are not text: they fail as [`Error::MissingCells`] (every
    /// such column, its count and first line), drop their rows, or become `NaN`, as
    /// [`CsvConfig::missing`] says. [`CsvConfig::categorical`] columns become one-hot features
    /// in their place; a value outside fixed categories is [`Error::UnknownCategory`] or all
    /// zeros ([`CsvConfig::unknown`]). A header that is one cell holding another common
    /// delimiter is an error naming it.
    pub fn load(&self, path: &Path) -> Result<CsvData> {
        if self.decimal_comma && self.delimiter == b',' {
            return Err(Error::invalid("decimal_comma", "a delimiter other than ',' (e.g. ';')", "the delimiter ','"));
        }
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
        check_delimiter(path, &header, self.delimiter)?;
        // What every column is: from the header, else the first row.
        let mut layout = if self.has_header { Some(self.layout(path, &header, header.len())?) } else { None };
        let mut categories: Vec<Categories> = self.categorical.iter().map(|c| Categories::new(c.categories.as_deref())).collect();
        let (mut numbers, mut codes, mut label_cells) = (Vec::new(), Vec::new(), Vec::new());
        let mut text: Vec<TextColumn> = Vec::new();
        let mut missing: Vec<MissingColumn> = Vec::new();
        let (mut rows, mut dropped_rows) = (Vec::new(), 0);
        let (mut row_numbers, mut row_codes) = (Vec::new(), Vec::new());
        for (row, record) in reader.records().enumerate() {
            let record = record.map_err(|e| csv_error(path, e))?;
            let line = record.position().map_or(0, |p| p.line());
            let roles = match &layout {
                Some(l) => l,
                None => layout.insert(self.layout(path, &header, record.len())?),
            };
            let (mut label, mut complete, mut observed) = (None, true, false);
            row_numbers.clear();
            row_codes.clear();
            for (j, cell) in record.iter().enumerate() {
                let role = roles[j];
                if role == Role::Skip {
                    continue;
                }
                if self.is_missing(cell) {
                    complete = false;
                    match missing.iter_mut().find(|m| m.index == j) {
                        Some(m) => m.count += 1,
                        None => missing.push(MissingColumn { index: j, name: header.get(j).cloned(), count: 1, line }),
                    }
                    match role {
                        Role::Number => row_numbers.push(f32::NAN),
                        Role::Category(_) => row_codes.push(Code::Missing),
                        Role::Label | Role::Skip => {}
                    }
                    continue;
                }
                observed |= role != Role::Label;
                match role {
                    Role::Label => label = Some(cell.to_owned()),
                    Role::Number => {
                        let value = self.number(cell);
                        if value.is_none() && !text.iter().any(|t| t.index == j) {
                            text.push(TextColumn { index: j, name: header.get(j).cloned(), line, cell: cell.to_owned() });
                        }
                        row_numbers.push(value.unwrap_or(f32::NAN));
                    }
                    Role::Category(c) => row_codes.push(match categories[c].id(cell) {
                        Some(id) => Code::Id(id),
                        None if self.unknown == UnknownCategory::Ignore => Code::Unknown,
                        None => {
                            return Err(Error::UnknownCategory {
                                path: path.to_owned(),
                                line,
                                column: column_label(&header, j),
                                value: cell.to_owned(),
                                known: categories[c].values().to_vec(),
                            })
                        }
                    }),
                    Role::Skip => {}
                }
            }
            if !complete && self.missing == MissingCells::DropRows {
                dropped_rows += 1;
                continue;
            }
            if !observed && self.missing == MissingCells::Keep {
                return Err(Error::Csv {
                    path: path.to_owned(),
                    line,
                    column: None,
                    expected: "at least one observed feature cell".into(),
                    found: "every feature cell missing".into(),
                });
            }
            numbers.extend_from_slice(&row_numbers);
            codes.extend_from_slice(&row_codes);
            label_cells.extend(label.map(|l| (line, l)));
            rows.push(row);
        }
        let roles = layout.unwrap_or_default();
        let li = roles.iter().position(|&r| r == Role::Label);
        if !text.is_empty() {
            text.sort_by_key(|t| t.index);
            return Err(Error::TextColumns { path: path.to_owned(), columns: text });
        }
        // Kept missing cells are features' NaN; a missing label is still an error.
        missing.retain(|m| self.missing == MissingCells::Error || (self.missing == MissingCells::Keep && Some(m.index) == li));
        if !missing.is_empty() {
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
        let encodings: Vec<(Vec<String>, Vec<usize>)> = categories.into_iter().map(Categories::finish).collect();
        let categorical: Vec<CategoryEncoding> = roles
            .iter()
            .enumerate()
            .filter_map(|(j, r)| match *r {
                Role::Category(c) => Some(CategoryEncoding { column: column_label(&header, j), categories: encodings[c].0.clone() }),
                _ => None,
            })
            .collect();
        let features = one_hot_rows(&roles, &numbers, &codes, &encodings, n_rows);
        let d = features.len() / n_rows;
        let feature_names = feature_names(&roles, &header, &categorical);
        let columns =
            roles.iter().zip(&header).filter(|(r, _)| matches!(r, Role::Number | Role::Category(_))).map(|(_, h)| h.clone()).collect();
        let (labels, classes) = match li {
            None => (None, None),
            Some(_) => {
                let (labels, classes) = encode_labels(path, &label_cells, self.encoding)?;
                (Some(labels), classes)
            }
        };
        let name = path.file_stem().map_or_else(|| "csv".to_owned(), |s| s.to_string_lossy().into_owned());
        let data = Data::with_missing(name, features, vec![n_rows, d], labels)?;
        Ok(CsvData { data, feature_names, classes, rows, dropped_rows, columns, categorical })
    }

    /// Whether `cell` is one of [`CsvConfig::missing_values`] (ignoring ASCII case).
    fn is_missing(&self, cell: &str) -> bool {
        self.missing_values.iter().any(|m| m.eq_ignore_ascii_case(cell))
    }

    /// The finite number in `cell` (with a decimal comma when configured), else `None`.
    fn number(&self, cell: &str) -> Option<f32> {
        let value = if self.decimal_comma { cell.replace(',', ".").parse::<f32>() } else { cell.parse::<f32>() };
        value.ok().filter(|v| v.is_finite())
    }

    /// What every column is (label, number, category, not read), resolved against the header
    /// and the column count.
    fn layout(&self, path: &Path, header: &[String], cols: usize) -> Result<Vec<Role>> {
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
        let mut roles = match &self.columns {
            None => vec![Role::Number; cols],
            Some(refs) => {
                let mut roles = vec![Role::Skip; cols];
                for j in resolve(refs, "in columns")? {
                    if Some(j) == li {
                        return Err(Error::invalid("columns", "feature columns, not the label column", refs_text(refs)));
                    }
                    roles[j] = Role::Number;
                }
                roles
            }
        };
        for j in resolve(&self.drop, "in drop")? {
            roles[j] = Role::Skip;
        }
        for (c, categorical) in self.categorical.iter().enumerate() {
            for j in resolve(std::slice::from_ref(&categorical.column), "in categorical")? {
                if Some(j) == li {
                    return Err(Error::invalid("categorical", "feature columns, not the label column", &categorical.column));
                }
                roles[j] = Role::Category(c);
            }
        }
        if let Some(l) = li {
            roles[l] = Role::Label;
        }
        if !roles.iter().any(|r| matches!(r, Role::Number | Role::Category(_))) {
            return Err(Error::invalid("columns", "at least one feature column", format!("none left of {cols} columns")));
        }
        Ok(roles)
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

/// The header name of column `j`, or its index as text without a header.
fn column_label(header: &[String], j: usize) -> String {
    header.get(j).cloned().unwrap_or_else(|| j.to_string())
}

/// A header of one cell that holds another common delimiter: the file was read with the wrong
/// one, and the error names the one it seems to use.
fn check_delimiter(path: &Path, header: &[String], delimiter: u8) -> Result<()> {
    let [only] = header else {
        return Ok(());
    };
    match [b';', b'\t', b'|', b','].into_iter().find(|&d| d != delimiter && only.contains(char::from(d))) {
        Some(seems) => Err(Error::Csv {
            path: path.to_owned(),
            line: 1,
            column: None,
            expected: format!("cells separated by {:?}", char::from(delimiter)),
            found: format!("one column {only:?}: the file looks separated by {:?} (set the delimiter to it)", char::from(seems)),
        }),
        None => Ok(()),
    }
}

/// The feature rows in file column order: numbers as read, categories one-hot.
fn one_hot_rows(roles: &[Role], numbers: &[f32], codes: &[Code], encodings: &[(Vec<String>, Vec<usize>)], n_rows: usize) -> Vec<f32> {
    let n_numbers = numbers.len() / n_rows;
    let n_codes = codes.len() / n_rows;
    let mut features = Vec::with_capacity(numbers.len() + n_rows * encodings.iter().map(|(c, _)| c.len()).sum::<usize>());
    for r in 0..n_rows {
        let (mut a, mut b) = (r * n_numbers, r * n_codes);
        for role in roles {
            match *role {
                Role::Number => {
                    features.push(numbers[a]);
                    a += 1;
                }
                Role::Category(c) => {
                    let (categories, position) = &encodings[c];
                    push_one_hot(&mut features, codes[b], position, categories.len());
                    b += 1;
                }
                Role::Label | Role::Skip => {}
            }
        }
    }
    features
}

/// The feature names: header names of numbers, `column=category` of categories (none without a
/// header).
fn feature_names(roles: &[Role], header: &[String], categorical: &[CategoryEncoding]) -> Vec<String> {
    if header.is_empty() {
        return Vec::new();
    }
    let mut encodings = categorical.iter();
    let mut names = Vec::new();
    for (role, name) in roles.iter().zip(header) {
        match role {
            Role::Number => names.push(name.clone()),
            Role::Category(_) => names.extend(encodings.next().into_iter().flat_map(CategoryEncoding::feature_names)),
            Role::Label | Role::Skip => {}
        }
    }
    names
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
            let classes = sorted_values(cells.iter().map(|(_, c)| c.as_str()));
            let index: BTreeMap<&str, i64> = classes.iter().zip(0..).map(|(c, k)| (c.as_str(), k)).collect();
            let labels = cells.iter().map(|(_, c)| index.get(c.as_str()).copied().unwrap_or_default()).collect();
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
