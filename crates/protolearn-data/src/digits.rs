//! scikit-learn's 8x8 handwritten digits (1,797 images, 10 classes): locating, verifying, parsing.
//!
//! The dataset lives in `<root>/digits/digits.csv.gz` (as shipped) or `digits.csv` (uncompressed;
//! preferred when both exist) under the roots of [`DataDirs`]. `cargo xtask setup` extracts it
//! from the PyPI wheel `scikit-learn==1.9.1` ([`SKLEARN_VERSION`], entry [`DIGITS_WHEEL_ENTRY`])
//! into `data/digits/`. The file holds one image per line: 64 comma-separated pixel values
//! `0..=16` (the 8x8 image, row by row), then the class label `0..=9`.

use std::path::{Path, PathBuf};

use crate::checksum::verify_sha256;
use crate::data::Data;
use crate::error::{Error, Result};
use crate::idx::read_uncompressed;
use crate::locate::{existing_file, DataDirs, DATA_ENV};

include!("digits_file.in");

/// Number of images in the pinned file.
pub const DIGITS_ROWS: usize = 1797;

/// Pixels per image (8x8), i.e. features per sample.
pub const DIGITS_PIXELS: usize = 64;

/// The largest pixel value in the file; [`parse_digits`] divides by it.
pub const DIGITS_MAX_PIXEL: u8 = 16;

/// The largest class label (the classes are the digits `0..=9`).
const MAX_LABEL: u8 = 9;

/// Loads the digits from the first root of `dirs` holding `digits/digits.csv` (raw or `.gz`),
/// after checking the SHA-256 of its uncompressed content against [`DIGITS_SHA256`].
///
/// Returns [`Data`] named `"digits"` with shape `[1797, 64]` and labels `0..=9`. The features
/// are the pixel values **divided by 16**, so they lie in `[0, 1]`; scikit-learn's
/// `load_digits` returns the raw values `0..=16` (multiply by 16 to get them back exactly).
///
/// Fails with [`Error::NotFound`] (saying to run `cargo xtask setup`) when no root holds the
/// file, with [`Error::Checksum`] when it differs from the pinned one, and otherwise with the
/// errors of [`parse_digits`].
pub fn load_digits(dirs: &DataDirs) -> Result<Data> {
    let Some(path) = dirs.roots().iter().find_map(|root| existing_file(&root.join("digits"), DIGITS_FILE)) else {
        return Err(not_found(dirs));
    };
    let bytes = read_uncompressed(&path)?;
    verify_sha256(&path, &bytes, DIGITS_SHA256)?;
    parse_digits(&bytes, &path, Some(DIGITS_ROWS))
}

/// Parses the uncompressed content of a digits file (no checksum); `path` only names the source
/// in errors. With `rows = Some(n)` the content must hold exactly `n` lines.
///
/// Each line (`\n` or `\r\n`; a final newline is optional) holds 65 comma-separated integers:
/// 64 pixel values `0..=16`, then a label `0..=9`. Returns [`Data`] named `"digits"` with shape
/// `[lines, 64]`, features scaled to `[0, 1]` (divided by [`DIGITS_MAX_PIXEL`]) and `i64` labels.
///
/// Fails with [`Error::Csv`] naming the 1-based line and, for a bad cell, its 0-based column
/// (`0..=63` a pixel, `64` the label): a line that is not UTF-8 or has another field count, a
/// cell that is not an integer in its range, or (with `rows`) another number of lines.
pub fn parse_digits(bytes: &[u8], path: &Path, rows: Option<usize>) -> Result<Data> {
    let err = |line: usize, column: Option<usize>, expected: String, found: String| Error::Csv {
        path: path.to_owned(),
        line: line as u64,
        column,
        expected,
        found,
    };
    let text = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let lines: Vec<&[u8]> = if text.is_empty() { Vec::new() } else { text.split(|&b| b == b'\n').collect() };
    if let Some(n) = rows.filter(|&n| n != lines.len()) {
        let line = (n + 1).min(lines.len() + 1);
        return Err(err(line, None, format!("{n} lines (one image each)"), format!("{} lines", lines.len())));
    }
    let mut features = Vec::with_capacity(lines.len() * DIGITS_PIXELS);
    let mut labels = Vec::with_capacity(lines.len());
    for (i, raw) in lines.iter().enumerate() {
        let line = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let text = std::str::from_utf8(raw)
            .map_err(|e| err(line, None, "UTF-8 text".into(), format!("a non-UTF-8 byte at offset {}", e.valid_up_to())))?;
        let fields: Vec<&str> = text.split(',').collect();
        if fields.len() != DIGITS_PIXELS + 1 {
            let expected = format!("{} comma-separated fields ({DIGITS_PIXELS} pixels, then the label)", DIGITS_PIXELS + 1);
            return Err(err(line, None, expected, format!("{} fields", fields.len())));
        }
        for (column, field) in fields.iter().enumerate() {
            let (what, max) = if column < DIGITS_PIXELS { ("a pixel value", DIGITS_MAX_PIXEL) } else { ("a class label", MAX_LABEL) };
            let Some(value) = field.trim().parse::<u8>().ok().filter(|&v| v <= max) else {
                return Err(err(line, Some(column), format!("{what}: an integer in 0..={max}"), format!("{field:?}")));
            };
            if column < DIGITS_PIXELS {
                features.push(f32::from(value) / f32::from(DIGITS_MAX_PIXEL));
            } else {
                labels.push(i64::from(value));
            }
        }
    }
    Data::new("digits", features, vec![labels.len(), DIGITS_PIXELS], Some(labels))
}

fn not_found(dirs: &DataDirs) -> Error {
    Error::NotFound {
        dataset: "digits".to_owned(),
        searched: dirs.roots().iter().map(|r| r.join("digits")).collect::<Vec<PathBuf>>(),
        hint: format!(
            "run `cargo xtask setup` (extracts {DIGITS_WHEEL_ENTRY} from the PyPI wheel scikit-learn=={SKLEARN_VERSION} \
             into data/digits/), or copy {DIGITS_FILE} (raw or .gz) into data/digits/, or set {DATA_ENV} to a \
             directory holding digits/"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum::sha256_hex;
    use crate::locate::data_required;
    use std::io::Write;

    /// 65 comma-separated fields: pixel `k` is `(k + offset) % 17`, then `label`.
    fn row(offset: usize, label: u8) -> String {
        let pixels: Vec<String> = (0..DIGITS_PIXELS).map(|k| ((k + offset) % 17).to_string()).collect();
        format!("{},{label}", pixels.join(","))
    }

    fn parse(text: &str, rows: Option<usize>) -> Result<Data> {
        parse_digits(text.as_bytes(), Path::new("d.csv"), rows)
    }

    /// The (line, column, expected, found) of a CSV error, or a panic naming what came instead.
    fn csv_error(result: Result<Data>) -> (u64, Option<usize>, String, String) {
        match result {
            Err(Error::Csv { path, line, column, expected, found }) => {
                assert_eq!(path, Path::new("d.csv"));
                (line, column, expected, found)
            }
            other => panic!("expected a CSV error, got {other:?}"),
        }
    }

    #[test]
    fn the_shared_pin_is_well_formed() {
        assert!([DIGITS_SHA256, DIGITS_GZ_SHA256].iter().all(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())));
        assert_eq!(DIGITS_WHEEL_ENTRY.rsplit('/').next(), Some(format!("{DIGITS_FILE}.gz").as_str()));
        assert_eq!(SKLEARN_VERSION, "1.9.1");
    }

    #[test]
    fn parses_three_rows_scaled_to_unit_range() {
        let text = format!("{}\n{}\r\n{}", row(0, 3), row(5, 0), row(16, 9));
        let data = parse(&text, Some(3)).unwrap();
        assert_eq!((data.name.as_str(), data.shape.as_slice()), ("digits", [3, 64].as_slice()));
        assert_eq!(data.labels, Some(vec![3, 0, 9]));
        assert_eq!(&data.row(0).unwrap()[..3], &[0.0, 1.0 / 16.0, 2.0 / 16.0]);
        assert_eq!(data.row(1).unwrap()[11], 1.0, "pixel 11 of row 1 is 16");
        assert_eq!(data.row(2).unwrap()[0], 1.0);
        assert_eq!(parse(&format!("{text}\n"), None).unwrap(), data, "a final newline changes nothing");
        assert_eq!(parse("", None).unwrap().shape, vec![0, 64]);
    }

    #[test]
    fn bad_cells_name_line_and_column() {
        let good = row(0, 1);
        let with = |column: usize, value: &str| {
            let mut fields: Vec<&str> = good.split(',').collect();
            fields[column] = value;
            format!("{good}\n{}\n{good}\n", fields.join(","))
        };
        let (line, column, expected, found) = csv_error(parse(&with(7, "3.5"), None));
        assert_eq!((line, column, found.as_str()), (2, Some(7), "\"3.5\""));
        assert!(expected.contains("pixel") && expected.contains("0..=16"), "{expected}");
        let (line, column, _, found) = csv_error(parse(&with(0, "17"), None));
        assert_eq!((line, column, found.as_str()), (2, Some(0), "\"17\""));
        let (line, column, _, found) = csv_error(parse(&with(63, "-1"), None));
        assert_eq!((line, column, found.as_str()), (2, Some(63), "\"-1\""));
        let (line, column, expected, found) = csv_error(parse(&with(64, "10"), None));
        assert_eq!((line, column, found.as_str()), (2, Some(64), "\"10\""));
        assert!(expected.contains("label") && expected.contains("0..=9"), "{expected}");
        let (line, column, _, found) = csv_error(parse(&with(64, ""), None));
        assert_eq!((line, column, found.as_str()), (2, Some(64), "\"\""));
    }

    #[test]
    fn bad_lines_name_the_line() {
        let good = row(0, 1);
        let (line, column, expected, found) = csv_error(parse(&format!("{good}\n{good},4\n"), None));
        assert_eq!((line, column, found.as_str()), (2, None, "66 fields"));
        assert!(expected.starts_with("65 comma-separated fields"), "{expected}");
        let (line, _, _, found) = csv_error(parse(&format!("{good}\n\n{good}"), None));
        assert_eq!((line, found.as_str()), (2, "1 fields"), "an empty line inside");
        let mut bytes = format!("{good}\n").into_bytes();
        bytes.extend_from_slice(&[0xff, b'\n']);
        let result = parse_digits(&bytes, Path::new("d.csv"), None);
        assert_eq!(csv_error(result).0, 2);
    }

    #[test]
    fn a_wrong_line_count_is_reported() {
        let text = format!("{}\n{}\n{}\n", row(0, 1), row(1, 2), row(2, 3));
        let (line, column, expected, found) = csv_error(parse(&text, Some(4)));
        assert_eq!((line, column, expected.as_str(), found.as_str()), (4, None, "4 lines (one image each)", "3 lines"));
        let (line, _, expected, found) = csv_error(parse(&text, Some(2)));
        assert_eq!((line, expected.as_str(), found.as_str()), (3, "2 lines (one image each)", "3 lines"));
    }

    #[test]
    fn the_uncompressed_content_is_verified() {
        let root = tempfile::tempdir().expect("test fixture");
        let dir = root.path().join("digits");
        std::fs::create_dir_all(&dir).expect("test fixture");
        let content = format!("{}\n", row(0, 1));
        let path = dir.join("digits.csv.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(content.as_bytes()).expect("test fixture");
        std::fs::write(&path, gz.finish().expect("test fixture")).expect("test fixture");
        let empty = tempfile::tempdir().expect("test fixture");
        let dirs = DataDirs::with_roots(vec![empty.path().to_owned(), root.path().to_owned()]);
        match load_digits(&dirs) {
            Err(Error::Checksum { path: p, algorithm: "SHA-256", expected, found }) => {
                assert_eq!((p, expected.as_str()), (path, DIGITS_SHA256));
                assert_eq!(found, sha256_hex(content.as_bytes()), "the digest of the gunzipped content");
            }
            other => panic!("expected a SHA-256 mismatch, got {other:?}"),
        }
        std::fs::write(dir.join("digits.csv"), "x").expect("test fixture");
        match load_digits(&dirs) {
            Err(Error::Checksum { path, .. }) => assert_eq!(path, dir.join("digits.csv"), "the raw file is preferred"),
            other => panic!("expected a SHA-256 mismatch, got {other:?}"),
        }
    }

    #[test]
    fn a_missing_file_says_how_to_get_it() {
        let empty = tempfile::tempdir().expect("test fixture");
        let msg = load_digits(&DataDirs::with_roots(vec![empty.path().to_owned()])).unwrap_err().to_string();
        assert!(msg.contains("cargo xtask setup") && msg.contains("scikit-learn==1.9.1"), "{msg}");
        assert!(msg.contains(&empty.path().join("digits").display().to_string()), "{msg}");
    }

    /// The real file, looked for in `$PROTOLEARN_DATA` and the repository's `data/` (where
    /// `cargo xtask setup` puts it; `cargo test` runs in the crate folder, so `./data` would miss
    /// it), then `/usr/share/datasets`; skipped when absent unless `PROTOLEARN_REQUIRE_DATA=1`.
    #[test]
    fn the_real_digits_have_scikit_learns_class_counts() {
        let repo_data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data");
        let dirs = DataDirs::from_parts(None, std::env::var_os(DATA_ENV).map(PathBuf::from), repo_data);
        let data = match load_digits(&dirs) {
            Err(e @ Error::NotFound { .. }) => {
                assert!(!data_required(), "the digits are required (PROTOLEARN_REQUIRE_DATA=1) but not found: {e}");
                eprintln!("skipping the real digits: {e}");
                return;
            }
            other => other.unwrap(),
        };
        assert_eq!((data.name.as_str(), data.shape.as_slice()), ("digits", [DIGITS_ROWS, DIGITS_PIXELS].as_slice()));
        assert_eq!(data.n_classes(), Some(10));
        let mut counts = [0usize; 10];
        data.labels.iter().flatten().for_each(|&l| counts[l as usize] += 1);
        assert_eq!(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
        assert!(data.features.iter().all(|v| (0.0..=1.0).contains(v)));
        assert_eq!(&data.row(0).unwrap()[..4], &[0.0, 0.0, 5.0 / 16.0, 13.0 / 16.0], "scikit-learn's first image");
    }
}
