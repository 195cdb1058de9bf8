//! The sktime/aeon `.ts` time-series format: a `@` header, then one case per line; read into [`Sequences`].
//!
//! ```text
//! # comment lines start with `#` (or `%`)
//! @problemName Example
//! @timeStamps false
//! @univariate false
//! @dimensions 2
//! @equalLength false
//! @classLabel true up down
//! @data
//! 1,2,3:4,5,6:up
//! 7,8:9,10:down
//! ```
//!
//! A case's dimensions are separated by `:`, the values of one dimension by `,`, and when
//! `@classLabel true` the class label is the last `:` field. Header tags and their `true`/`false`
//! values are read case-insensitively. Cases may differ in length; [`Sequences`] pads them with
//! `NaN` to the longest one, so `NaN` marks padding and nothing else: a missing value (`?` or
//! `NaN`) after a case's last value is padding (the case is shorter), one before it is rejected
//! with [`Error::Unsupported`]. Time-stamped data (`@timeStamps true`) and regression targets
//! (`@targetLabel true`) are rejected the same way.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use crate::data::Data;
use crate::error::{Error, Result};
use crate::idx::read_uncompressed;

/// A set of (possibly unequal-length, multivariate) series, padded to a common length.
///
/// Case `i`, step `t`, dimension `d` is `values[(i * max_len + t) * dims + d]`; the steps
/// `lengths[i]..max_len` of case `i` are `NaN` in every dimension, all other values are finite.
#[derive(Debug, Clone)]
pub struct Sequences {
    /// `@problemName`, else the file stem.
    pub name: String,
    /// Row-major `[n, max_len, dims]`; steps after a case's length are `NaN`.
    pub values: Vec<f32>,
    /// Number of cases.
    pub n: usize,
    /// Padded length: at least the longest case.
    pub max_len: usize,
    /// Number of dimensions (channels) of every case.
    pub dims: usize,
    /// Valid steps of each case (all dimensions of a case share it), each in `1..=max_len`.
    pub lengths: Vec<usize>,
    /// Class index of each case into `class_names`, when the file has `@classLabel true`.
    pub labels: Option<Vec<i64>>,
    /// Class names in `@classLabel` header order (class `k` is `class_names[k]`); empty when unlabelled.
    pub class_names: Vec<String>,
}

impl Sequences {
    /// The values as a [`Data`] of shape `[n, max_len, dims]` with the labels.
    ///
    /// Unlike data made by [`Data::new`], the features hold `NaN` where a case is padded (see
    /// [`Sequences`]); they are all finite exactly when [`equal_length`](Self::equal_length).
    pub fn to_data(&self) -> Data {
        Data {
            name: self.name.clone(),
            features: self.values.clone(),
            shape: vec![self.n, self.max_len, self.dims],
            labels: self.labels.clone(),
        }
    }

    /// Whether no case is padded: every length equals `max_len` (so no value is `NaN`).
    pub fn equal_length(&self) -> bool {
        self.lengths.iter().all(|&l| l == self.max_len)
    }

    /// The same cases padded with `NaN` to length `len` (so a training and a test set share one
    /// length: pad both to the larger `max_len`). Fails unless `len >= max_len`.
    pub fn padded_to(&self, len: usize) -> Result<Sequences> {
        if len < self.max_len {
            return Err(Error::invalid("len", format!("at least the longest case's length {} of {}", self.max_len, self.name), len));
        }
        let row = self.max_len * self.dims;
        let mut values = vec![f32::NAN; self.n * len * self.dims];
        for (dst, src) in values.chunks_exact_mut((len * self.dims).max(1)).zip(self.values.chunks_exact(row.max(1))) {
            dst[..row].copy_from_slice(src);
        }
        Ok(Sequences { values, max_len: len, ..self.clone() })
    }
}

/// Reads a `.ts` file (gzipped or not: a `.ts.gz` is detected by the gzip magic) with [`parse_ts`].
pub fn load_ts(path: &Path) -> Result<Sequences> {
    let bytes = read_uncompressed(path)?;
    parse_ts(bytes.as_slice(), &path.display().to_string())
}

/// Parses `.ts` text (see the [module documentation](self)); `source` names the file in errors
/// and, without `@problemName`, gives the name (its file stem).
///
/// Errors ([`Error::Ts`] with the 1-based line unless noted): a malformed or unknown header
/// line, text before `@data` that is neither header nor comment, no `@data` line or no case after
/// it, a value that is not a finite number, `?` or `NaN` (field `dimension d, step t`, 0-based), a
/// class label not listed by `@classLabel` or a missing one, a case whose dimension count differs
/// from `@dimensions` (or 1 when `@univariate true`, else the first case's), a case whose
/// dimensions differ in length, a length other than `@seriesLength` or differing from the first
/// case's when `@equalLength true`, a dimension with no value; [`Error::Unsupported`] for
/// `@timeStamps true`, `@targetLabel true` and a missing value inside a series.
pub fn parse_ts(reader: impl BufRead, source: &str) -> Result<Sequences> {
    let path = PathBuf::from(source);
    let mut header = Header::default();
    let mut cases = Cases::default();
    let mut in_data = false;
    let mut last_line = 0;
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| Error::io(&path, e))?;
        let number = i as u64 + 1;
        last_line = number;
        let text = line.trim();
        if text.is_empty() || text.starts_with('#') || text.starts_with('%') {
            continue;
        }
        let at = Line { path: &path, number };
        if in_data {
            cases.push(&header, &at, text)?;
        } else if let Some(tag_line) = text.strip_prefix('@') {
            in_data = header.read(&at, tag_line)?;
        } else {
            return Err(at.ts("header", "a header line starting with @, a comment starting with #, or @data", quoted(text)));
        }
    }
    let end = Line { path: &path, number: last_line };
    if !in_data {
        return Err(end.ts("@data", "a @data line after the header", "the end of the file"));
    }
    if cases.lengths.is_empty() {
        return Err(end.ts("@data", "at least one case after @data", "none"));
    }
    let name = header.name.unwrap_or_else(|| file_stem(&path));
    Ok(cases.into_sequences(name, header.classes))
}

/// What the header says (`None`: not given).
#[derive(Debug, Default)]
struct Header {
    name: Option<String>,
    univariate: Option<bool>,
    dimensions: Option<usize>,
    equal_length: Option<bool>,
    series_length: Option<usize>,
    /// `Some` when `@classLabel true`.
    classes: Option<Vec<String>>,
}

impl Header {
    /// Reads one header line (without its `@`); returns whether it was `@data`.
    fn read(&mut self, at: &Line, line: &str) -> Result<bool> {
        let (tag, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim();
        let field = format!("@{tag}");
        let flag = || parse_bool(at, &field, rest);
        let count = || rest.parse::<usize>().ok().filter(|&v| v >= 1).ok_or_else(|| at.ts(&field, "an integer >= 1", quoted(rest)));
        match tag.to_ascii_lowercase().as_str() {
            "problemname" => self.name = Some(rest.to_owned()).filter(|n| !n.is_empty()),
            "timestamps" => {
                if flag()? {
                    return Err(at.unsupported(&field, "time-stamped series (@timeStamps true)"));
                }
            }
            "missing" => {
                flag()?; // informative only: `?`/`NaN` are handled whatever it says
            }
            "univariate" => self.univariate = Some(flag()?),
            "dimensions" => self.dimensions = Some(count()?),
            "equallength" => self.equal_length = Some(flag()?),
            "serieslength" => self.series_length = Some(count()?),
            "classlabel" => {
                let (value, names) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                if !parse_bool(at, &field, value)? {
                    if !names.trim().is_empty() {
                        return Err(at.ts(&field, "no class names after `false`", quoted(names.trim())));
                    }
                    self.classes = None;
                    return Ok(false);
                }
                let names: Vec<String> = names.split_whitespace().map(str::to_owned).collect();
                if names.is_empty() {
                    return Err(at.ts(&field, "`true` followed by the class names", "no class name"));
                }
                if let Some((k, dup)) = names.iter().enumerate().find(|(k, n)| names[..*k].contains(n)) {
                    return Err(at.ts(&field, "distinct class names", format!("{} repeated at position {k}", quoted(dup))));
                }
                self.classes = Some(names);
            }
            "targetlabel" => {
                if flag()? {
                    return Err(at.unsupported(&field, "regression targets (@targetLabel true); only class labels are read"));
                }
            }
            "data" => {
                if !rest.is_empty() {
                    return Err(at.ts(&field, "nothing after @data on its line", quoted(rest)));
                }
                if let (Some(true), Some(d)) = (self.univariate, self.dimensions.filter(|&d| d != 1)) {
                    return Err(at.ts("@dimensions", "1 dimension, as @univariate true says", d.to_string()));
                }
                return Ok(true);
            }
            _ => {
                return Err(at.ts(
                    "header",
                    "one of @problemName, @timeStamps, @missing, @univariate, @dimensions, @equalLength, \
                     @seriesLength, @classLabel, @targetLabel, @data",
                    quoted(&field),
                ))
            }
        }
        Ok(false)
    }

    /// The dimension count every case must have, when the header fixes it.
    fn expected_dims(&self) -> Option<(usize, &'static str)> {
        match (self.dimensions, self.univariate) {
            (Some(d), _) => Some((d, "@dimensions")),
            (None, Some(true)) => Some((1, "@univariate true")),
            _ => None,
        }
    }
}

/// The cases read so far, each stored `[dims, length]` (dimension-major) until padding.
#[derive(Debug, Default)]
struct Cases {
    series: Vec<Vec<f32>>,
    lengths: Vec<usize>,
    labels: Vec<i64>,
    dims: Option<usize>,
}

impl Cases {
    /// Parses one data line into a case.
    fn push(&mut self, header: &Header, at: &Line, text: &str) -> Result<()> {
        let case = self.lengths.len();
        let mut fields: Vec<&str> = text.split(':').collect();
        if let Some(classes) = &header.classes {
            let label = fields.pop().map(str::trim).unwrap_or_default();
            if fields.is_empty() {
                return Err(at.ts("case", "dimensions followed by `:` and a class label (@classLabel true)", quoted(text)));
            }
            let Some(k) = classes.iter().position(|c| c == label) else {
                return Err(at.ts("class label", format!("one of the @classLabel names {classes:?}"), quoted(label)));
            };
            self.labels.push(k as i64);
        }
        let (dims, source) = match (header.expected_dims(), self.dims) {
            (Some((d, source)), _) => (d, source.to_owned()),
            (None, Some(d)) => (d, "the first case".to_owned()),
            (None, None) => (fields.len(), String::new()),
        };
        if fields.len() != dims {
            return Err(at.ts("dimensions", format!("{dims} dimensions (as {source} says)"), format!("{} in case {case}", fields.len())));
        }
        self.dims = Some(dims);
        let mut parsed = Vec::with_capacity(dims);
        for (d, field) in fields.iter().enumerate() {
            parsed.push(parse_dimension(at, d, field)?);
        }
        let lengths: Vec<usize> = parsed.iter().map(Vec::len).collect();
        let length = lengths[0];
        if lengths.iter().any(|&l| l != length) {
            return Err(at.ts(
                format!("lengths of case {case}"),
                "the same length in every dimension",
                format!("dimension lengths {lengths:?}"),
            ));
        }
        if header.equal_length != Some(false) {
            if let Some(n) = header.series_length.filter(|&n| n != length) {
                return Err(at.ts("@seriesLength", format!("{n} values per dimension"), format!("{length} in case {case}")));
            }
        }
        if let (Some(true), Some(&first)) = (header.equal_length, self.lengths.first()) {
            if length != first {
                return Err(at.ts(
                    "@equalLength",
                    format!("every case as long as the first ({first} values, @equalLength true)"),
                    format!("{length} in case {case}"),
                ));
            }
        }
        self.series.push(parsed.concat());
        self.lengths.push(length);
        Ok(())
    }

    /// Pads every case with `NaN` to the longest and lays the values out `[n, max_len, dims]`.
    fn into_sequences(self, name: String, classes: Option<Vec<String>>) -> Sequences {
        let n = self.lengths.len();
        let dims = self.dims.unwrap_or(1);
        let max_len = self.lengths.iter().copied().max().unwrap_or(0);
        let mut values = vec![f32::NAN; n * max_len * dims];
        for (i, (series, &len)) in self.series.iter().zip(&self.lengths).enumerate() {
            for d in 0..dims {
                for t in 0..len {
                    values[(i * max_len + t) * dims + d] = series[d * len + t];
                }
            }
        }
        let labels = classes.is_some().then_some(self.labels);
        Sequences { name, values, n, max_len, dims, lengths: self.lengths, labels, class_names: classes.unwrap_or_default() }
    }
}

/// The valid values of dimension `d` (`,`-separated, `?`/`NaN` missing): the steps up to the
/// last present value (trailing missing values are padding and dropped).
fn parse_dimension(at: &Line, d: usize, field: &str) -> Result<Vec<f32>> {
    let mut values = Vec::new();
    for (t, token) in field.split(',').enumerate() {
        let token = token.trim();
        let value = if token == "?" || token.eq_ignore_ascii_case("nan") {
            f32::NAN
        } else {
            match token.parse::<f32>() {
                Ok(v) if v.is_finite() => v,
                _ => return Err(at.ts(format!("dimension {d}, step {t}"), "a finite number, `?` or `NaN`", quoted(token))),
            }
        };
        values.push(value);
    }
    let length = values.iter().rposition(|v| !v.is_nan()).map_or(0, |t| t + 1);
    if length == 0 {
        return Err(at.ts(format!("dimension {d}"), "at least one value that is not missing", quoted(field.trim())));
    }
    if let Some(t) = values[..length].iter().position(|v| v.is_nan()) {
        return Err(at.unsupported(
            &format!("dimension {d}, step {t}"),
            "a missing value inside a series (NaN is reserved to mark padding after a series' last value)",
        ));
    }
    values.truncate(length);
    Ok(values)
}

/// `true` or `false`, case-insensitive.
fn parse_bool(at: &Line, field: &str, text: &str) -> Result<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(at.ts(field, "`true` or `false`", quoted(text))),
    }
}

/// The file stem of `path` without a `.ts` (of `name.ts.gz`).
fn file_stem(path: &Path) -> String {
    let name = path.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    name.strip_suffix(".ts").unwrap_or(name).to_owned()
}

/// `text` quoted, cut to 60 characters.
fn quoted(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(60).collect();
    if chars.next().is_some() {
        format!("{head:?}...")
    } else {
        format!("{head:?}")
    }
}

/// A position in the source, for errors.
struct Line<'a> {
    path: &'a Path,
    number: u64,
}

impl Line<'_> {
    fn ts(&self, field: impl Into<String>, expected: impl Into<String>, found: impl Into<String>) -> Error {
        Error::Ts { path: self.path.to_owned(), line: self.number, field: field.into(), expected: expected.into(), found: found.into() }
    }

    fn unsupported(&self, field: &str, reason: &str) -> Error {
        Error::Unsupported { path: self.path.to_owned(), line: self.number, field: field.to_owned(), reason: reason.to_owned() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_and_quotes() {
        assert_eq!(file_stem(Path::new("a/GunPoint_TRAIN.ts")), "GunPoint_TRAIN");
        assert_eq!(file_stem(Path::new("a/x.ts.gz")), "x");
        assert_eq!(quoted("ab"), "\"ab\"");
        assert!(quoted(&"x".repeat(100)).ends_with("..."));
    }

    #[test]
    fn padded_to_moves_rows() -> Result<()> {
        let s = parse_ts("@data\n1,2:3,4\n5:6\n".as_bytes(), "t.ts")?;
        assert_eq!((s.n, s.max_len, s.dims), (2, 2, 2));
        let p = s.padded_to(3)?;
        assert_eq!(p.max_len, 3);
        assert_eq!(&p.values[..4], &[1.0, 3.0, 2.0, 4.0]);
        assert!(p.values[4..6].iter().all(|v| v.is_nan()));
        assert_eq!(&p.values[6..8], &[5.0, 6.0]);
        assert!(p.values[8..].iter().all(|v| v.is_nan()));
        assert!(s.padded_to(1).is_err());
        Ok(())
    }
}
