//! `load_table`: dispatch by file name to CSV/TSV, .npy, .npz and IDX, flattened features,
//! feature names, labels, and the errors for unknown names and options that do not apply.

mod common;

use std::path::{Path, PathBuf};

use common::{write_npy, write_npz};
use npyz::Order;
use protolearn_data::idx::{write_idx, Compression, IdxArray};
use protolearn_data::{load_table, Error, TableOptions};

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).expect("test fixture");
    p
}

fn labels(key: &str) -> TableOptions {
    TableOptions { labels: Some(key.into()), ..Default::default() }
}

fn names(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn csv_labels_by_name_or_index() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "iris.csv", "sepal,petal,species\n5.1,1.4,setosa\n7.0,4.7,versicolor\n4.9,1.5,setosa\n");
    let by_name = load_table(&p, &labels("species")).unwrap();
    assert_eq!(by_name.data.shape, vec![3, 2]);
    assert_eq!(by_name.data.features, vec![5.1, 1.4, 7.0, 4.7, 4.9, 1.5]);
    assert_eq!(by_name.data.labels, Some(vec![0, 1, 0]));
    assert_eq!(by_name.feature_names, names(&["sepal", "petal"]));
    assert_eq!(by_name.classes, Some(names(&["setosa", "versicolor"])));
    assert_eq!(load_table(&p, &labels("2")).unwrap(), by_name);

    let p = write(dir.path(), "first.csv", "y,a,b\n1,0.5,2\n0,1.5,3\n");
    let by_index = load_table(&p, &labels("0")).unwrap();
    assert_eq!((by_index.data.labels, by_index.classes), (Some(vec![1, 0]), Some(names(&["0", "1"]))));
    assert_eq!(by_index.feature_names, names(&["a", "b"]));

    let unlabelled = load_table(&p, &TableOptions::default()).unwrap();
    assert_eq!((unlabelled.data.shape, unlabelled.data.labels, unlabelled.classes), (vec![2, 3], None, None));
    assert_eq!(unlabelled.feature_names, names(&["y", "a", "b"]));
}

#[test]
fn tsv_txt_and_explicit_delimiters() {
    let dir = tempfile::tempdir().unwrap();
    let tsv = write(dir.path(), "t.TSV", "a\tb\n1\t2\n3\t4\n");
    let table = load_table(&tsv, &TableOptions::default()).unwrap();
    assert_eq!((table.data.shape, table.data.features), (vec![2, 2], vec![1.0, 2.0, 3.0, 4.0]));
    let txt = write(dir.path(), "t.txt", "a,b\n1,2\n");
    assert_eq!(load_table(&txt, &TableOptions::default()).unwrap().data.features, vec![1.0, 2.0]);
    let semi = write(dir.path(), "s.csv", "a;b;c\n1;2;x\n");
    let table = load_table(&semi, &TableOptions { delimiter: Some(b';'), labels: Some("c".into()), ..Default::default() }).unwrap();
    assert_eq!((table.data.features, table.classes), (vec![1.0, 2.0], Some(names(&["x"]))));
}

#[test]
fn csv_errors_come_through() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "d.csv", "a,b\n1,2\n");
    let msg = load_table(&p, &labels("species")).unwrap_err().to_string();
    assert_eq!(
        msg,
        format!("{}: line 1: expected a header with a label column named \"species\", found columns [\"a\", \"b\"]", p.display())
    );
    assert!(matches!(load_table(&p, &labels("5")), Err(Error::InvalidParameter { name: "label", .. })));
    let msg = load_table(&p, &labels("-1")).unwrap_err().to_string();
    assert_eq!(msg, "invalid parameter `labels`: expected a 0-based column index >= 0 or a column name, found -1");
    let header_only = write(dir.path(), "h.csv", "a,b\n");
    let msg = load_table(&header_only, &TableOptions::default()).unwrap_err().to_string();
    assert_eq!(msg, format!("{}: line 2: expected at least one data row, found none", header_only.display()));
}

#[test]
fn npy_is_flattened_with_generated_names_and_a_labels_file() {
    let dir = tempfile::tempdir().unwrap();
    let x = dir.path().join("images.npy");
    let values: Vec<u8> = (0..12).collect();
    write_npy(&x, &[3, 2, 2], Order::C, &values);
    let y = dir.path().join("y.npy");
    write_npy(&y, &[3], Order::C, &[1i64, 0, 1]);
    let table = load_table(&x, &labels(&y.display().to_string())).unwrap();
    assert_eq!(table.data.name, "images");
    assert_eq!(table.data.shape, vec![3, 4]);
    assert_eq!(table.data.features, (0..12).map(|v| v as f32).collect::<Vec<_>>());
    assert_eq!(table.data.labels, Some(vec![1, 0, 1]));
    assert_eq!(table.feature_names, names(&["x0", "x1", "x2", "x3"]));
    assert_eq!(table.classes, None);

    let short = dir.path().join("short.npy");
    write_npy(&short, &[2], Order::C, &[1i64, 0]);
    let msg = load_table(&x, &labels(&short.display().to_string())).unwrap_err().to_string();
    assert_eq!(msg, format!("{}: expected 3 labels, one per sample of {}, found 2 labels", short.display(), x.display()));
    let csv = write(dir.path(), "y.csv", "y\n1\n");
    let msg = load_table(&x, &labels(&csv.display().to_string())).unwrap_err().to_string();
    assert_eq!(msg, format!("invalid parameter `labels`: expected the path of a .npy or IDX labels file, found {}", csv.display()));
}

#[test]
fn npz_default_and_custom_keys() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("d.npz");
    let x: Vec<f32> = (0..8).map(|v| v as f32).collect();
    write_npz(&p, &[("x", &[2, 2, 2], &x), ("x_test", &[1, 4], &[9.0, 8.0, 7.0, 6.0])], &[("y", &[2], &[0, 3])]);
    let table = load_table(&p, &labels("y")).unwrap();
    assert_eq!((table.data.shape.clone(), table.data.features.clone()), (vec![2, 4], x));
    assert_eq!(table.data.labels, Some(vec![0, 3]));
    assert_eq!(table.feature_names, names(&["x0", "x1", "x2", "x3"]));
    let test = load_table(&p, &TableOptions { features_key: Some("x_test".into()), ..Default::default() }).unwrap();
    assert_eq!((test.data.shape, test.data.labels), (vec![1, 4], None));
    let msg = load_table(&p, &labels("labels")).unwrap_err().to_string();
    assert_eq!(msg, format!("{}: expected an array named \"labels\", found only \"x\", \"x_test\", \"y\"", p.display()));
}

#[test]
fn idx_images_are_flattened_raw_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let images = IdxArray::new(vec![3, 2, 2], vec![0, 1, 2, 255, 4, 5, 6, 7, 8, 9, 10, 11]).unwrap();
    let x = dir.path().join("train-images-idx3-ubyte.gz");
    write_idx(&x, &images, Compression::Gzip).unwrap();
    let y = dir.path().join("train-labels-idx1-ubyte");
    write_idx(&y, &IdxArray::new(vec![3], vec![7, 0, 9]).unwrap(), Compression::None).unwrap();
    let table = load_table(&x, &labels(&y.display().to_string())).unwrap();
    assert_eq!(table.data.name, "train-images-idx3-ubyte");
    assert_eq!(table.data.shape, vec![3, 4]);
    assert_eq!(&table.data.features[..4], &[0.0, 1.0, 2.0, 255.0]);
    assert_eq!(table.data.labels, Some(vec![7, 0, 9]));
    assert_eq!(table.feature_names.len(), 4);

    let plain = dir.path().join("x.idx");
    write_idx(&plain, &images, Compression::None).unwrap();
    assert_eq!(load_table(&plain, &TableOptions::default()).unwrap().data.features, table.data.features);

    let msg = load_table(&y, &TableOptions::default()).unwrap_err().to_string();
    assert_eq!(
        msg,
        format!("{}: at byte 3: expected an IDX array of rank >= 2 ([n, ...]) for features, found rank 1 (dimensions [3])", y.display())
    );
    let y4 = dir.path().join("four-labels-idx1-ubyte");
    write_idx(&y4, &IdxArray::new(vec![4], vec![0; 4]).unwrap(), Compression::None).unwrap();
    let msg = load_table(&x, &labels(&y4.display().to_string())).unwrap_err().to_string();
    assert_eq!(msg, format!("{}: at byte 4: expected 3 labels, one per sample of {}, found 4 labels", y4.display(), x.display()));
    let msg = load_table(&x, &labels(&x.display().to_string())).unwrap_err().to_string();
    assert_eq!(msg, format!("{}: at byte 3: expected a label file of rank 1 ([n]), found rank 3 (dimensions [3, 2, 2])", x.display()));
}

#[test]
fn unknown_names_and_misplaced_options_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let parquet = write(dir.path(), "d.parquet", "");
    let msg = load_table(&parquet, &TableOptions::default()).unwrap_err().to_string();
    assert_eq!(
        msg,
        format!(
            "invalid parameter `path`: expected a name ending in .csv, .tsv, .txt (CSV with a header), .npy, .npz, \
             a .ts time-series file (optionally followed by .gz), \
             or an IDX name ending in -ubyte or .idx (optionally followed by .gz), found {}",
            parquet.display()
        )
    );
    let gz = write(dir.path(), "d.csv.gz", "");
    assert!(matches!(load_table(&gz, &TableOptions::default()), Err(Error::InvalidParameter { name: "path", .. })));

    let csv = write(dir.path(), "d.csv", "a\n1\n");
    let msg = load_table(&csv, &TableOptions { features_key: Some("x".into()), ..Default::default() }).unwrap_err().to_string();
    assert_eq!(
        msg,
        format!("invalid parameter `features_key`: expected None unless the file is an .npz archive, found \"x\" for {}", csv.display())
    );
    let npy = dir.path().join("d.npy");
    write_npy(&npy, &[1, 1], Order::C, &[1f32]);
    let msg = load_table(&npy, &TableOptions { delimiter: Some(b';'), ..Default::default() }).unwrap_err().to_string();
    assert_eq!(
        msg,
        format!("invalid parameter `delimiter`: expected None unless the file is CSV (.csv, .tsv, .txt), found ';' for {}", npy.display())
    );
    let drop = TableOptions { drop: vec!["x0".into()], ..Default::default() };
    let msg = load_table(&npy, &drop).unwrap_err().to_string();
    assert!(
        msg.starts_with("invalid parameter `columns / drop / missing / categorical / decimal_comma`: expected none unless the file is CSV"),
        "{msg}"
    );
    let columns = TableOptions { columns: Some(vec!["a".into()]), ..Default::default() };
    assert_eq!(load_table(&csv, &columns).unwrap().feature_names, vec!["a"], "CSV: the column chosen");
}
