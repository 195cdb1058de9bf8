//! The CSV loader: labels by name/index/last, string and integer labels, and bad cells.

use std::path::PathBuf;

use protolearn_data::csv::{ColumnRef, CsvConfig, LabelColumn, LabelEncoding, MissingCells};
use protolearn_data::Error;

fn file(content: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("test fixture");
    let p = dir.path().join("iris.csv");
    std::fs::write(&p, content).expect("test fixture");
    (dir, p)
}

const IRIS: &str = "sepal,petal,species\n5.1, 1.4,setosa\n7.0,4.7,versicolor\n6.3,6.0,virginica\n4.9,1.4,setosa\n";

#[test]
fn string_labels_by_name_are_encoded_in_sorted_order() {
    let (_d, p) = file(IRIS);
    let cfg = CsvConfig { label: LabelColumn::Name("species".into()), ..Default::default() };
    let csv = cfg.load(&p).unwrap();
    assert_eq!(csv.data.name, "iris");
    assert_eq!(csv.data.shape, vec![4, 2]);
    assert_eq!(csv.data.features, vec![5.1, 1.4, 7.0, 4.7, 6.3, 6.0, 4.9, 1.4]);
    assert_eq!(csv.data.labels, Some(vec![0, 1, 2, 0]));
    assert_eq!(csv.classes, Some(vec!["setosa".into(), "versicolor".into(), "virginica".into()]));
    assert_eq!(csv.feature_names, vec!["sepal", "petal"]);
}

#[test]
fn label_by_index_and_last_without_header() {
    let (_d, p) = file("1,0.5,2\n10,1.5,3\n-1,2.5,4\n");
    let first = CsvConfig { has_header: false, label: LabelColumn::Index(0), ..Default::default() };
    let csv = first.load(&p).unwrap();
    // Integer-looking categories sort numerically: -1 < 1 < 10.
    assert_eq!(csv.data.labels, Some(vec![1, 2, 0]));
    assert_eq!(csv.classes, Some(vec!["-1".into(), "1".into(), "10".into()]));
    assert_eq!(csv.data.features, vec![0.5, 2.0, 1.5, 3.0, 2.5, 4.0]);
    let last = CsvConfig { has_header: false, label: LabelColumn::Last, encoding: LabelEncoding::Integer, ..Default::default() };
    let csv = last.load(&p).unwrap();
    assert_eq!(csv.data.labels, Some(vec![2, 3, 4]));
    assert_eq!(csv.classes, None);
    assert!(csv.feature_names.is_empty());
    let unlabelled = CsvConfig { has_header: false, ..Default::default() }.load(&p).unwrap();
    assert_eq!((unlabelled.data.shape, unlabelled.data.labels), (vec![3, 3], None));
}

/// The (line, column, found) of a CSV error.
fn csv_error(content: &str, cfg: CsvConfig) -> (u64, Option<usize>, String) {
    let (_d, p) = file(content);
    match cfg.load(&p) {
        Err(e @ Error::Csv { .. }) => {
            assert!(e.to_string().contains(&p.display().to_string()), "{e}");
            let Error::Csv { line, column, found, .. } = e else { unreachable!() };
            (line, column, found)
        }
        other => panic!("expected a CSV error, got {other:?}"),
    }
}

#[test]
fn bad_cells_name_line_and_column() {
    let plain = CsvConfig::default;
    assert_eq!(csv_error("a,b\n1,2\n3\n", plain()).0, 3);
    let ints = CsvConfig { label: LabelColumn::Last, encoding: LabelEncoding::Integer, ..Default::default() };
    assert_eq!(csv_error("a,y\n1,2\n3,cat\n", ints.clone()).0, 3);
    assert_eq!(csv_error("a,y\n1,-2\n", ints).0, 2);
    let missing = CsvConfig { label: LabelColumn::Name("y".into()), ..Default::default() };
    assert_eq!(csv_error("a,b\n1,2\n", missing).0, 1);
}

#[test]
fn label_index_out_of_range_is_invalid() {
    let (_d, p) = file("1,2\n");
    let cfg = CsvConfig { has_header: false, label: LabelColumn::Index(2), ..Default::default() };
    assert!(matches!(cfg.load(&p), Err(Error::InvalidParameter { name: "label", .. })));
}

/// The full message of a CSV error, with the file's path replaced by `FILE`.
fn csv_message(content: &str, cfg: CsvConfig) -> String {
    let (_d, p) = file(content);
    let msg = cfg.load(&p).expect_err("the CSV should be rejected").to_string();
    assert!(msg.starts_with(&p.display().to_string()), "{msg}");
    msg.replacen(&p.display().to_string(), "FILE", 1)
}

#[test]
fn empty_and_header_only_files_are_rejected() {
    let plain = CsvConfig::default;
    assert_eq!(csv_message("", plain()), "FILE: line 1: expected at least one data row, found an empty file");
    assert_eq!(csv_message("a,b\n", plain()), "FILE: line 2: expected at least one data row, found none");
    assert_eq!(csv_message("a,b", plain()), "FILE: line 2: expected at least one data row, found none");
    let labelled = CsvConfig { label: LabelColumn::Name("b".into()), ..Default::default() };
    assert_eq!(csv_message("a,b\n", labelled), "FILE: line 2: expected at least one data row, found none");
    let headerless = CsvConfig { has_header: false, ..Default::default() };
    assert_eq!(csv_message("", headerless), "FILE: line 1: expected at least one data row, found an empty file");
}

#[test]
fn messages_name_line_column_and_cell() {
    let plain = CsvConfig::default;
    let one = |content| csv_message(content, plain());
    assert_eq!(one("a,b\n1,2\n3,x\n"), "FILE: 1 feature column(s) hold text, not numbers: \"b\" (column 1), line 3: \"x\"");
    assert_eq!(one("a,b\n1,NaN\n"), "FILE: 1 column(s) have missing cells: \"b\" (column 1): 1 cell(s), first at line 2");
    assert_eq!(one("a,b\ninf,1\n"), "FILE: 1 feature column(s) hold text, not numbers: \"a\" (column 0), line 2: \"inf\"");
    assert_eq!(one("a,b\n1,\n2,\n"), "FILE: 1 column(s) have missing cells: \"b\" (column 1): 2 cell(s), first at line 2");
    let headerless = CsvConfig { has_header: false, ..Default::default() };
    assert_eq!(csv_message("1,x\n", headerless), "FILE: 1 feature column(s) hold text, not numbers: column 1, line 1: \"x\"");
    assert_eq!(csv_message("a,b\n1,2\n3\n", plain()), "FILE: line 3: expected 2 cells, like the first row, found 1 cells");
    assert_eq!(csv_message("a,b\n1,2,3\n", plain()), "FILE: line 2: expected 2 cells, like the first row, found 3 cells");
    let ints = CsvConfig { label: LabelColumn::Last, encoding: LabelEncoding::Integer, ..Default::default() };
    assert_eq!(csv_message("a,y\n1,2\n3,cat\n", ints), "FILE: line 3: expected an integer label >= 0, found \"cat\"");
}

#[test]
fn a_missing_label_column_is_named() {
    let missing = CsvConfig { label: LabelColumn::Name("species".into()), ..Default::default() };
    assert_eq!(
        csv_message("a,b\n1,2\n", missing.clone()),
        "FILE: line 1: expected a header with a label column named \"species\", found columns [\"a\", \"b\"]"
    );
    let headerless = CsvConfig { has_header: false, ..missing };
    assert_eq!(
        csv_message("1,2\n", headerless),
        "FILE: line 1: expected a header with a label column named \"species\", found no header (has_header is false)"
    );
}

#[test]
fn every_text_column_is_reported_at_once() {
    let (_d, p) = file("name,x,colour,y,size\nann,1,red,2,\nbob,3,blue,4,XL\n");
    let Err(Error::TextColumns { columns, .. }) = CsvConfig::default().load(&p) else { panic!("text columns") };
    let found: Vec<(usize, Option<&str>, u64, &str)> =
        columns.iter().map(|c| (c.index, c.name.as_deref(), c.line, c.cell.as_str())).collect();
    assert_eq!(
        found,
        vec![(0, Some("name"), 2, "ann"), (2, Some("colour"), 2, "red"), (4, Some("size"), 3, "XL")],
        "an empty cell is missing, not text"
    );
}

#[test]
fn columns_and_drop_choose_the_features() {
    let (_d, p) = file("name,x,colour,y,class\nann,1,red,2,a\nbob,3,blue,4,b\n");
    let name = |n: &str| ColumnRef::Name(n.into());
    let dropped = CsvConfig { drop: vec![name("name"), ColumnRef::Index(2)], label: LabelColumn::Last, ..Default::default() };
    let csv = dropped.load(&p).unwrap();
    assert_eq!((csv.data.shape.clone(), csv.feature_names.clone()), (vec![2, 2], vec!["x".to_owned(), "y".to_owned()]));
    assert_eq!(csv.data.features, vec![1.0, 2.0, 3.0, 4.0]);
    assert_eq!(csv.data.labels, Some(vec![0, 1]));
    let chosen = CsvConfig { columns: Some(vec![name("y"), ColumnRef::parse("1")]), ..Default::default() };
    let csv = chosen.load(&p).unwrap();
    assert_eq!(csv.feature_names, vec!["x", "y"], "the file's order");
    assert_eq!(ColumnRef::parse("7"), ColumnRef::Index(7));
    // Unknown columns, the label as a feature, and nothing left are errors.
    let unknown = CsvConfig { drop: vec![name("weight")], ..Default::default() };
    let msg = unknown.load(&p).unwrap_err().to_string();
    assert!(msg.contains("line 1") && msg.contains("a column weight (in drop)") && msg.contains("\"colour\""), "{msg}");
    let out_of_range = CsvConfig { columns: Some(vec![ColumnRef::Index(9)]), ..Default::default() };
    assert!(out_of_range.load(&p).unwrap_err().to_string().contains("a column 9 (in columns)"));
    let label = CsvConfig { columns: Some(vec![name("class")]), label: LabelColumn::Name("class".into()), ..Default::default() };
    assert!(matches!(label.load(&p), Err(Error::InvalidParameter { name: "columns", .. })));
    let nothing = CsvConfig { columns: Some(vec![name("x")]), drop: vec![name("x")], ..Default::default() };
    assert!(matches!(nothing.load(&p), Err(Error::InvalidParameter { name: "columns", .. })));
}

#[test]
fn missing_cells_are_listed_or_their_rows_dropped() {
    let (_d, p) = file("a,b,class\n1,NA,x\n2,3,?\n,5,y\n6,7,x\n8,null,y\n");
    let labelled = CsvConfig { label: LabelColumn::Last, ..Default::default() };
    let Err(Error::MissingCells { columns, .. }) = labelled.load(&p) else { panic!("missing cells") };
    let found: Vec<(usize, Option<&str>, usize, u64)> = columns.iter().map(|c| (c.index, c.name.as_deref(), c.count, c.line)).collect();
    assert_eq!(found, vec![(0, Some("a"), 1, 4), (1, Some("b"), 2, 2), (2, Some("class"), 1, 3)], "features and the label");
    let msg = labelled.load(&p).unwrap_err().to_string();
    assert!(msg.contains("3 column(s) have missing cells: \"a\" (column 0): 1 cell(s), first at line 4;"), "{msg}");
    let dropping = CsvConfig { missing: MissingCells::DropRows, ..labelled.clone() };
    let csv = dropping.load(&p).unwrap();
    assert_eq!((csv.rows.clone(), csv.dropped_rows), (vec![3], 4), "only the fourth data row is complete");
    assert_eq!(csv.data.features, vec![6.0, 7.0]);
    assert_eq!(csv.data.labels, Some(vec![0]));
    // The set of missing values is the caller's: without "NA" it is text.
    let strict = CsvConfig { missing_values: vec!["?".into()], ..labelled };
    assert!(matches!(strict.load(&p), Err(Error::TextColumns { .. })));
    let (_d, all) = file("a\nNA\n?\n");
    let msg = CsvConfig { missing: MissingCells::DropRows, ..Default::default() }.load(&all).unwrap_err().to_string();
    assert!(msg.ends_with("expected at least one data row, found none left after dropping 2 rows with missing cells"), "{msg}");
}

#[test]
fn kept_missing_cells_are_nan_but_labels_and_empty_rows_are_errors() {
    let (_d, p) = file("a,b,class\n1,NA,x\n2,3,y\n,5,y\n");
    let keep = CsvConfig { label: LabelColumn::Last, missing: MissingCells::Keep, ..Default::default() };
    let csv = keep.load(&p).unwrap();
    assert_eq!(csv.data.missing_values(), 2);
    assert!(csv.data.features[1].is_nan() && csv.data.features[4].is_nan());
    assert_eq!((csv.data.features[0], csv.data.features[5]), (1.0, 5.0));
    let (_d, unlabelled) = file("a,b,class\n1,2,?\n");
    let Err(Error::MissingCells { columns, .. }) = keep.load(&unlabelled) else { panic!("a missing label is an error") };
    assert_eq!(columns.iter().map(|c| c.index).collect::<Vec<_>>(), vec![2]);
    let (_d, empty_row) = file("a,b\n1,2\nNA,?\n");
    let msg = CsvConfig { missing: MissingCells::Keep, ..Default::default() }.load(&empty_row).unwrap_err().to_string();
    assert!(msg.contains("line 3") && msg.contains("expected at least one observed feature cell"), "{msg}");
}

#[test]
fn categorical_columns_are_one_hot_in_place_with_fixed_or_learned_categories() {
    use protolearn_data::categorical::{Categorical, CategoryEncoding, UnknownCategory};
    let (_d, p) = file("size,colour,w,class\n1,red,0.5,a\n2,blue,NA,b\n3,NA,1.5,a\n");
    let cfg = CsvConfig {
        label: LabelColumn::Last,
        categorical: vec![Categorical::learned(ColumnRef::Name("colour".into()))],
        missing: MissingCells::Keep,
        ..Default::default()
    };
    let csv = cfg.load(&p).unwrap();
    assert_eq!(csv.feature_names, vec!["size", "colour=blue", "colour=red", "w"]);
    assert_eq!(csv.columns, vec!["size", "colour", "w"]);
    assert_eq!(csv.categorical, vec![CategoryEncoding { column: "colour".into(), categories: vec!["blue".into(), "red".into()] }]);
    let row = |i: usize| csv.data.row(i).unwrap().to_vec();
    assert_eq!(row(0), vec![1.0, 0.0, 1.0, 0.5]);
    assert_eq!((row(1)[1], row(1)[2]), (1.0, 0.0));
    assert!(row(1)[3].is_nan() && row(2)[1].is_nan() && row(2)[2].is_nan(), "a missing category is missing in every code");
    // Fixed categories (a fitted model's): order kept, unknown values an error or all zeros.
    let (_d, new) = file("size,colour,w\n4,green,1\n5,red,2\n");
    let fixed = vec![Categorical { column: ColumnRef::Name("colour".into()), categories: Some(vec!["red".into(), "blue".into()]) }];
    let strict = CsvConfig { categorical: fixed.clone(), ..Default::default() };
    let msg = strict.load(&new).unwrap_err().to_string();
    assert!(msg.contains("line 2, column \"colour\": unknown category \"green\" (known: red, blue)"), "{msg}");
    let ignoring = CsvConfig { categorical: fixed, unknown: UnknownCategory::Ignore, ..Default::default() }.load(&new).unwrap();
    assert_eq!(ignoring.data.features, vec![4.0, 0.0, 0.0, 1.0, 5.0, 1.0, 0.0, 2.0]);
    let label = CsvConfig {
        label: LabelColumn::Last,
        categorical: vec![Categorical::learned(ColumnRef::Name("class".into()))],
        ..Default::default()
    };
    assert!(label.load(&p).unwrap_err().to_string().contains("not the label column"));
}

#[test]
fn a_wrong_delimiter_is_named_and_decimal_commas_are_read_on_request() {
    let (_d, p) = file("a;b;class\n1,5;2;x\n3;4,25;y\n");
    let msg = CsvConfig::default().load(&p).unwrap_err().to_string();
    assert!(msg.contains("line 1") && msg.contains("the file looks separated by ';'"), "{msg}");
    let semicolon = CsvConfig { delimiter: b';', label: LabelColumn::Last, ..Default::default() };
    assert!(matches!(semicolon.load(&p), Err(Error::TextColumns { .. })), "1,5 is text without decimal_comma");
    let csv = CsvConfig { decimal_comma: true, ..semicolon }.load(&p).unwrap();
    assert_eq!(csv.data.features, vec![1.5, 2.0, 3.0, 4.25]);
    let msg = CsvConfig { decimal_comma: true, ..Default::default() }.load(&p).unwrap_err().to_string();
    assert!(msg.contains("decimal_comma") && msg.contains("other than ','"), "{msg}");
}
