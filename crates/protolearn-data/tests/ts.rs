//! `.ts` time-series files: layouts, padding, labels, gzip, and one error per kind of malformed input.

use std::io::Write;
use std::path::{Path, PathBuf};

use protolearn_data::{load_table, load_ts, parse_ts, Error, Sequences, TableOptions};

/// Writes `text` to `<dir>/<name>` and returns the path.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("test fixture");
    path
}

fn parse(text: &str) -> Result<Sequences, Error> {
    parse_ts(text.as_bytes(), "mem.ts")
}

/// The `Error::Ts` of `text`: its line and field (panics on any other outcome).
fn ts_error(text: &str) -> (u64, String, String) {
    match parse(text) {
        Err(Error::Ts { line, field, expected, found, .. }) => (line, field, format!("expected {expected}, found {found}")),
        other => panic!("expected Error::Ts, got {other:?}"),
    }
}

/// The `Error::Unsupported` of `text`: its line and field.
fn unsupported(text: &str) -> (u64, String) {
    match parse(text) {
        Err(Error::Unsupported { line, field, .. }) => (line, field),
        other => panic!("expected Error::Unsupported, got {other:?}"),
    }
}

const UNIVARIATE: &str = "\
@problemName Tiny
@timeStamps false
@missing false
@univariate true
@equalLength true
@seriesLength 3
@classLabel true b a
@data
1.0,2.0,3.0:a
4,5,6:b
-1.5,0,2.5e1:a
";

#[test]
fn univariate_equal_length_with_labels() {
    let dir = tempfile::tempdir().expect("test fixture");
    let s = load_ts(&write(dir.path(), "tiny_TRAIN.ts", UNIVARIATE)).unwrap();
    assert_eq!(s.name, "Tiny");
    assert_eq!((s.n, s.max_len, s.dims), (3, 3, 1));
    assert_eq!(s.lengths, vec![3, 3, 3]);
    assert_eq!(s.values, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, -1.5, 0.0, 25.0]);
    // Class indices follow the header order `b a`, not the order of appearance.
    assert_eq!(s.class_names, vec!["b", "a"]);
    assert_eq!(s.labels, Some(vec![1, 0, 1]));
    assert!(s.equal_length());
    let data = s.to_data();
    assert_eq!(data.shape, vec![3, 3, 1]);
    assert_eq!(data.labels, Some(vec![1, 0, 1]));
    assert_eq!(data.n_classes(), Some(2));
}

#[test]
fn multivariate_unequal_length_is_padded_with_nan() {
    let text = "\
@problemName Multi
@univariate false
@dimensions 2
@equalLength false
@classLabel true x y
@data
1,2,3:10,20,30:y
4:40:x
5,6,?,?:50,60,?,?:x
";
    let s = parse(text).unwrap();
    assert_eq!((s.n, s.max_len, s.dims), (3, 3, 2));
    assert_eq!(s.lengths, vec![3, 1, 2], "trailing `?` are padding");
    assert_eq!(s.labels, Some(vec![1, 0, 0]));
    assert!(!s.equal_length());
    // [n, max_len, dims]: case 0 interleaves the two dimensions step by step.
    assert_eq!(&s.values[..6], &[1.0, 10.0, 2.0, 20.0, 3.0, 30.0]);
    assert_eq!(&s.values[6..8], &[4.0, 40.0]);
    assert!(s.values[8..12].iter().all(|v| v.is_nan()), "case 1 padded after step 0");
    assert_eq!(&s.values[12..16], &[5.0, 50.0, 6.0, 60.0]);
    assert!(s.values[16..].iter().all(|v| v.is_nan()));
    let valid = s.values.iter().filter(|v| !v.is_nan()).count();
    assert_eq!(valid, s.lengths.iter().sum::<usize>() * s.dims);

    let padded = s.padded_to(5).unwrap();
    assert_eq!((padded.max_len, padded.lengths.clone()), (5, vec![3, 1, 2]));
    assert_eq!(padded.values.len(), 3 * 5 * 2);
    assert_eq!(&padded.values[10..12], &[4.0, 40.0]);
    assert_eq!(padded.to_data().shape, vec![3, 5, 2]);
    assert!(matches!(s.padded_to(2), Err(Error::InvalidParameter { name: "len", .. })));
}

#[test]
fn unlabelled_files_comments_blank_lines_and_gzip() {
    let text = "\
# a comment before the header

% an aeon-style comment
@problemName Plain
@TIMESTAMPS False
@classLabel false
@data

# a comment between cases
1,2
  3,4  \r
";
    let dir = tempfile::tempdir().expect("test fixture");
    let path = write(dir.path(), "plain.ts", text);
    let s = load_ts(&path).unwrap();
    assert_eq!(s.labels, None);
    assert!(s.class_names.is_empty());
    assert_eq!(s.values, vec![1.0, 2.0, 3.0, 4.0]);
    assert_eq!(s.to_data().labels, None);

    let gz = dir.path().join("Gz_TEST.ts.gz");
    let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&gz).expect("test fixture"), flate2::Compression::default());
    enc.write_all(text.replace("@problemName Plain\n", "").as_bytes()).expect("test fixture");
    enc.finish().expect("test fixture");
    let z = load_ts(&gz).unwrap();
    assert_eq!(z.name, "Gz_TEST", "without @problemName the name is the file stem");
    assert_eq!(z.values, s.values);
}

#[test]
fn labels_must_be_declared() {
    let (line, field, msg) = ts_error("@classLabel true a b\n@data\n1,2:a\n3,4:c\n");
    assert_eq!((line, field.as_str()), (4, "class label"));
    assert!(msg.contains("\"c\""), "{msg}");
    let (line, field, _) = ts_error("@classLabel true a b\n@data\n1,2\n");
    assert_eq!((line, field.as_str()), (3, "case"), "a series without its label");
    let (line, field, _) = ts_error("@classLabel true a a\n@data\n1:a\n");
    assert_eq!((line, field.as_str()), (1, "@classLabel"));
}

#[test]
fn dimensions_of_a_case_must_share_a_length() {
    let (line, field, msg) = ts_error("@univariate false\n@data\n1,2:3,4\n1,2,3:4,5\n");
    assert_eq!((line, field.as_str()), (4, "lengths of case 1"));
    assert!(msg.contains("[3, 2]"), "{msg}");
}

#[test]
fn dimension_counts_must_agree() {
    // With the header's count.
    let (line, field, msg) = ts_error("@dimensions 2\n@data\n1,2:3,4\n1,2\n");
    assert_eq!((line, field.as_str()), (4, "dimensions"));
    assert!(msg.contains("@dimensions"), "{msg}");
    let (line, field, _) = ts_error("@univariate true\n@data\n1,2:3,4\n");
    assert_eq!((line, field.as_str()), (3, "dimensions"));
    // With the first case's.
    let (line, field, _) = ts_error("@data\n1:2:3\n1:2\n");
    assert_eq!((line, field.as_str()), (3, "dimensions"));
    // Contradictory header.
    let (line, field, _) = ts_error("@univariate true\n@dimensions 3\n@data\n1\n");
    assert_eq!((line, field.as_str()), (3, "@dimensions"));
}

#[test]
fn header_lengths_are_enforced() {
    let (line, field, _) = ts_error("@equalLength true\n@data\n1,2,3\n1,2\n");
    assert_eq!((line, field.as_str()), (4, "@equalLength"));
    let (line, field, msg) = ts_error("@seriesLength 3\n@data\n1,2,3\n1,2,3,4\n");
    assert_eq!((line, field.as_str()), (4, "@seriesLength"));
    assert!(msg.contains("expected 3 values") && msg.contains("found 4"), "{msg}");
    // `@equalLength false` makes `@seriesLength` informative only.
    assert!(parse("@equalLength false\n@seriesLength 3\n@data\n1,2,3\n1,2\n").is_ok());
}

#[test]
fn empty_or_missing_data_sections_are_errors() {
    let (line, field, msg) = ts_error("@problemName X\n@data\n# nothing\n\n");
    assert_eq!((line, field.as_str()), (4, "@data"));
    assert!(msg.contains("at least one case"), "{msg}");
    let (line, field, _) = ts_error("@problemName X\n@univariate true\n");
    assert_eq!((line, field.as_str()), (2, "@data"));
    let (line, field, _) = ts_error("@problemName X\n1,2,3\n@data\n1\n");
    assert_eq!((line, field.as_str()), (2, "header"));
    let (line, field, _) = ts_error("@colour blue\n@data\n1\n");
    assert_eq!((line, field.as_str()), (1, "header"));
    let (line, field, _) = ts_error("@univariate maybe\n@data\n1\n");
    assert_eq!((line, field.as_str()), (1, "@univariate"));
}

#[test]
fn missing_values_inside_a_series_are_rejected() {
    let (line, field) = unsupported("@data\n1,2,3:4,5,6\n1,2,3:4,?,6\n");
    assert_eq!((line, field.as_str()), (3, "dimension 1, step 1"));
    let (line, field) = unsupported("@data\n1,NaN,3\n");
    assert_eq!((line, field.as_str()), (2, "dimension 0, step 1"));
    let msg = parse("@data\n1,?,3\n").unwrap_err().to_string();
    assert!(msg.contains("missing value inside a series") && msg.contains("mem.ts: line 2"), "{msg}");
    // A dimension that is missing altogether has no value to keep.
    let (line, field, _) = ts_error("@data\n1,2:?,?\n");
    assert_eq!((line, field.as_str()), (2, "dimension 1"));
}

#[test]
fn bad_values_name_line_dimension_step_and_text() {
    let (line, field, msg) = ts_error("@classLabel true a\n@data\n1,2:a\n1,x7:a\n");
    assert_eq!((line, field.as_str()), (4, "dimension 0, step 1"));
    assert!(msg.contains("\"x7\""), "{msg}");
    let (line, field, _) = ts_error("@data\n1,,3\n");
    assert_eq!((line, field.as_str()), (2, "dimension 0, step 1"));
    let (line, field, _) = ts_error("@data\n1,inf,3\n");
    assert_eq!((line, field.as_str()), (2, "dimension 0, step 1"));
    let err = parse("@data\n1,x7\n").unwrap_err().to_string();
    assert!(err.starts_with("mem.ts: line 2, dimension 0, step 1: expected"), "{err}");
}

#[test]
fn time_stamps_and_regression_targets_are_unsupported() {
    let (line, field) = unsupported("@problemName T\n@timeStamps true\n@data\n(0,1.0),(1,2.0)\n");
    assert_eq!((line, field.as_str()), (2, "@timeStamps"));
    let (line, field) = unsupported("@targetLabel true\n@data\n1,2:0.5\n");
    assert_eq!((line, field.as_str()), (1, "@targetLabel"));
}

#[test]
fn load_table_reads_equal_length_ts_flattened_only() {
    let dir = tempfile::tempdir().expect("test fixture");
    let table = load_table(&write(dir.path(), "tiny.ts", UNIVARIATE), &TableOptions::default()).unwrap();
    assert_eq!(table.data.shape, vec![3, 3]);
    assert_eq!(table.data.labels, Some(vec![1, 0, 1]));
    assert_eq!(table.classes, Some(vec!["b".to_owned(), "a".to_owned()]));
    assert_eq!(table.feature_names, vec!["x0", "x1", "x2"]);

    let unequal = write(dir.path(), "unequal.ts", "@data\n1,2,3\n4,5\n");
    let msg = load_table(&unequal, &TableOptions::default()).unwrap_err().to_string();
    assert!(msg.contains("load_ts"), "{msg}");
    let with_labels = TableOptions { labels: Some("y".into()), ..Default::default() };
    assert!(matches!(load_table(&write(dir.path(), "l.ts", UNIVARIATE), &with_labels), Err(Error::InvalidParameter { .. })));
}
