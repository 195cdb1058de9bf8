//! NumPy files: fixtures written by real NumPy (tests/fixtures/npy/make_fixtures.py), round
//! trips of every accepted dtype and order through npyz, and every error with its message.

mod common;

use std::path::{Path, PathBuf};

use common::{write_npy, write_npz};
use npyz::{DType, Order, WriterBuilder};
use protolearn_data::{load_npy, load_npy_labels, load_npz, Error};

/// A fixture made by NumPy.
fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/npy").join(name)
}

/// The message of an [`Error::Npy`], checking it starts with the file name.
fn npy_message<T: std::fmt::Debug>(r: protolearn_data::Result<T>, path: &Path) -> String {
    match r {
        Err(e @ Error::Npy { .. }) => {
            let msg = e.to_string();
            assert!(msg.starts_with(&path.display().to_string()), "{msg}");
            msg
        }
        other => panic!("expected an Npy error, got {other:?}"),
    }
}

/// `path: rest` with the path of the file.
fn at(path: &Path, rest: &str) -> String {
    format!("{}{rest}", path.display())
}

/// A `.npy` file with the header of `descr`/`shape` followed by `body` as the data bytes.
fn raw_npy(path: &Path, descr: &str, shape: &[u64], body: &[u8]) {
    let mut bytes = Vec::new();
    let dtype = DType::Plain(descr.parse().expect("test fixture"));
    npyz::WriteOptions::new_header_only().dtype(dtype).shape(shape).writer(&mut bytes).write_header_only().expect("test fixture");
    bytes.extend_from_slice(body);
    std::fs::write(path, bytes).expect("test fixture");
}

#[test]
fn numpy_float32_c_order() {
    let data = load_npy(&fixture("f32_c.npy")).unwrap();
    assert_eq!(data.name, "f32_c");
    assert_eq!(data.shape, vec![3, 4]);
    let expected: Vec<f32> = (0..12).map(|v| v as f32 * 0.5 - 1.25).collect();
    assert_eq!(data.features, expected);
    assert_eq!(data.labels, None);
}

#[test]
fn numpy_float64_fortran_order_is_transposed() {
    let data = load_npy(&fixture("f64_fortran.npy")).unwrap();
    assert_eq!(data.shape, vec![2, 3]);
    assert_eq!(data.features, vec![0.1, 1.1, 2.1, 10.1, 11.1, 12.1]);
}

#[test]
fn numpy_rank3_fortran_and_big_endian_integers() {
    let data = load_npy(&fixture("i32_fortran3.npy")).unwrap();
    assert_eq!(data.shape, vec![2, 3, 2]);
    assert_eq!(data.features, vec![0.0, 1.0, 10.0, 11.0, 20.0, 21.0, 100.0, 101.0, 110.0, 111.0, 120.0, 121.0]);
    let data = load_npy(&fixture("i16_big_endian.npy")).unwrap();
    assert_eq!((data.shape, data.features), (vec![2, 2], vec![-3.0, 7.0, 300.0, -32768.0]));
}

#[test]
fn numpy_int64_labels_and_npz() {
    assert_eq!(load_npy_labels(&fixture("labels_i64.npy")).unwrap(), vec![2, 0, 1, 1, 0]);
    let data = load_npz(&fixture("xy.npz"), "x", Some("y")).unwrap();
    assert_eq!(data.name, "xy");
    assert_eq!(data.shape, vec![4, 3]);
    assert_eq!(data.features, (0..12).map(|v| v as f32).collect::<Vec<_>>());
    assert_eq!(data.labels, Some(vec![1, 0, 2, 1]));
    let unlabelled = load_npz(&fixture("xy.npz"), "x", None).unwrap();
    assert_eq!(unlabelled.labels, None);
    // np.savez stores its members uncompressed (and zip64-flagged); same arrays.
    assert_eq!(load_npz(&fixture("xy_stored.npz"), "x", Some("y")).unwrap().features, data.features);
    assert_eq!(load_npz(&fixture("xy_stored.npz"), "x", Some("y")).unwrap().labels, data.labels);
}

#[test]
fn numpy_complex64_is_rejected_naming_the_dtypes() {
    let p = fixture("complex64.npy");
    let msg = npy_message(load_npy(&p), &p);
    assert_eq!(
        msg,
        at(
            &p,
            ": expected a numeric dtype (one of float32, float64, int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool), \
             found dtype complex64 ('<c8')"
        )
    );
    assert!(npy_message(load_npy_labels(&p), &p).contains("found dtype complex64"));
}

#[test]
fn every_accepted_dtype_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.npy");
    let shape = [2, 2];
    let expect = |values: &[f32]| {
        let data = load_npy(&p).unwrap();
        assert_eq!((data.shape, data.features.as_slice()), (vec![2, 2], values), "{}", p.display());
    };
    write_npy(&p, &shape, Order::C, &[1.5f32, -2.0, 0.0, 3.25]);
    expect(&[1.5, -2.0, 0.0, 3.25]);
    write_npy(&p, &shape, Order::C, &[1.5f64, -2.0, 1e-3, 3.25]);
    expect(&[1.5, -2.0, 1e-3, 3.25]);
    write_npy(&p, &shape, Order::C, &[-128i8, 127, 0, 1]);
    expect(&[-128.0, 127.0, 0.0, 1.0]);
    write_npy(&p, &shape, Order::C, &[-300i16, 300, 0, 1]);
    expect(&[-300.0, 300.0, 0.0, 1.0]);
    write_npy(&p, &shape, Order::C, &[-70000i32, 70000, 0, 1]);
    expect(&[-70000.0, 70000.0, 0.0, 1.0]);
    write_npy(&p, &shape, Order::C, &[-(1i64 << 40), 1 << 40, 0, 1]);
    expect(&[-(2f32.powi(40)), 2f32.powi(40), 0.0, 1.0]);
    write_npy(&p, &shape, Order::C, &[255u8, 0, 7, 1]);
    expect(&[255.0, 0.0, 7.0, 1.0]);
    write_npy(&p, &shape, Order::C, &[65535u16, 0, 7, 1]);
    expect(&[65535.0, 0.0, 7.0, 1.0]);
    write_npy(&p, &shape, Order::C, &[1u32 << 31, 0, 7, 1]);
    expect(&[2f32.powi(31), 0.0, 7.0, 1.0]);
    write_npy(&p, &shape, Order::C, &[u64::MAX, 0, 7, 1]);
    expect(&[u64::MAX as f32, 0.0, 7.0, 1.0]);
    write_npy(&p, &shape, Order::C, &[true, false, false, true]);
    expect(&[1.0, 0.0, 0.0, 1.0]);
}

#[test]
fn fortran_order_equals_c_order_for_every_rank() {
    let dir = tempfile::tempdir().unwrap();
    for shape in [vec![2u64, 3], vec![3, 1, 4], vec![1, 5], vec![2, 2, 2, 3], vec![4, 1]] {
        let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
        let n: usize = dims.iter().product();
        // Value of the element at C-order flat index i: i itself. Its Fortran storage position
        // is found by reversing the axes: the Fortran layout of `a` is the C layout of `a.T`.
        let c_values: Vec<f32> = (0..n).map(|i| i as f32).collect();
        let mut f_values = vec![0f32; n];
        for (i, &v) in c_values.iter().enumerate() {
            let (mut rest, mut offset, mut stride) = (i, 0, 1);
            let mut index = vec![0; dims.len()];
            for k in (0..dims.len()).rev() {
                index[k] = rest % dims[k];
                rest /= dims[k];
            }
            for k in 0..dims.len() {
                offset += index[k] * stride;
                stride *= dims[k];
            }
            f_values[offset] = v;
        }
        let c = dir.path().join("c.npy");
        let f = dir.path().join("f.npy");
        write_npy(&c, &shape, Order::C, &c_values);
        write_npy(&f, &shape, Order::Fortran, &f_values);
        let (c, f) = (load_npy(&c).unwrap(), load_npy(&f).unwrap());
        assert_eq!(c.features, c_values, "{shape:?}");
        assert_eq!((f.shape, f.features), (c.shape, c.features), "{shape:?}");
    }
}

#[test]
fn rank_below_two_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("v.npy");
    write_npy(&p, &[4], Order::C, &[1f32, 2.0, 3.0, 4.0]);
    assert_eq!(
        npy_message(load_npy(&p), &p),
        at(&p, ": expected a 2-D array [n, d] or more, found shape [4]; to read 4 samples of one feature, save x.reshape(-1, 1)")
    );
    write_npy(&p, &[], Order::C, &[1f32]);
    assert_eq!(npy_message(load_npy(&p), &p), at(&p, ": expected a 2-D array [n, d] or more, found shape [] (a scalar)"));
    write_npy::<f32>(&p, &[0, 3], Order::C, &[]);
    assert_eq!(npy_message(load_npy(&p), &p), at(&p, ": expected a non-empty array (every dimension >= 1), found shape [0, 3]"));
}

#[test]
fn non_finite_and_out_of_range_values_name_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.npy");
    write_npy(&p, &[2, 2], Order::C, &[0f64, 1.0, 1e300, 2.0]);
    assert_eq!(
        npy_message(load_npy(&p), &p),
        at(
            &p,
            ": expected finite values within the f32 range (|x| <= 3.4028235e38), found 1e300 at row 1, element 0 (C-order flat index 2)"
        )
    );
    // Row and element are those of the C-order array even when the file is in Fortran order.
    write_npy(&p, &[2, 3], Order::Fortran, &[0f32, 0.0, 0.0, 0.0, 0.0, f32::NAN]);
    assert!(npy_message(load_npy(&p), &p).ends_with("found NaN at row 1, element 2 (C-order flat index 5)"));
    write_npy(&p, &[1, 2], Order::C, &[f64::NEG_INFINITY, 0.0]);
    assert!(npy_message(load_npy(&p), &p).ends_with("found -inf at row 0, element 0 (C-order flat index 0)"));
}

#[test]
fn labels_must_be_non_negative_integers_of_rank_one() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("y.npy");
    write_npy(&p, &[3], Order::C, &[0f32, 2.0, 1.0]);
    assert_eq!(load_npy_labels(&p).unwrap(), vec![0, 2, 1]);
    write_npy(&p, &[3], Order::C, &[7u16, 0, 1]);
    assert_eq!(load_npy_labels(&p).unwrap(), vec![7, 0, 1]);
    write_npy(&p, &[2], Order::C, &[true, false]);
    assert_eq!(load_npy_labels(&p).unwrap(), vec![1, 0]);

    write_npy(&p, &[3], Order::C, &[0i32, -1, 1]);
    assert_eq!(npy_message(load_npy_labels(&p), &p), at(&p, ": expected class indices: integers >= 0, found -1 at index 1"));
    write_npy(&p, &[3], Order::C, &[0f64, 1.0, 1.5]);
    assert!(npy_message(load_npy_labels(&p), &p).ends_with("found 1.5 at index 2"));
    write_npy(&p, &[1], Order::C, &[u64::MAX]);
    assert!(npy_message(load_npy_labels(&p), &p).ends_with(&format!("found {} at index 0", u64::MAX)));
    write_npy(&p, &[3, 1], Order::C, &[0i64, 1, 2]);
    assert_eq!(npy_message(load_npy_labels(&p), &p), at(&p, ": expected a 1-D array [n] of class indices, found shape [3, 1]"));
}

#[test]
fn other_dtypes_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("odd.npy");
    for (descr, size, found) in [("<f2", 2, "float16 ('<f2')"), ("|S4", 4, "bytes ('|S4')"), ("<M8[s]", 8, "datetime64 ('<M8[s]')")] {
        raw_npy(&p, descr, &[2, 1], &vec![0; 2 * size]);
        let msg = npy_message(load_npy(&p), &p);
        assert!(msg.contains("expected a numeric dtype (one of float32, ") && msg.ends_with(&format!("found dtype {found}")), "{msg}");
    }
    // A structured dtype, written by hand: npyz parses its header without reading it.
    handmade_npy(&p, "{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }", &[0; 8]);
    let msg = npy_message(load_npy(&p), &p);
    assert!(msg.ends_with("found dtype a structured dtype [('a', '<f4'), ('b', '<i4'), ]"), "{msg}");
}

#[test]
fn truncated_files_say_how_much_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full.npy");
    write_npy(&full, &[20, 8], Order::C, &[0.5f32; 160]);
    let bytes = std::fs::read(&full).unwrap();
    assert_eq!(bytes.len(), 128 + 640);
    let half = dir.path().join("half.npy");
    std::fs::write(&half, &bytes[..bytes.len() / 2]).unwrap();
    assert_eq!(
        npy_message(load_npy(&half), &half),
        at(
            &half,
            ": expected 640 data bytes after the 128-byte header for shape [20, 8] of dtype float32 ('<f4'), \
             found end of file after 256 data bytes (truncated)"
        )
    );
    // The NumPy fixture cut in half loses part of its header.
    let numpy = std::fs::read(fixture("f32_c.npy")).unwrap();
    std::fs::write(&half, &numpy[..numpy.len() / 2]).unwrap();
    assert_eq!(
        npy_message(load_npy(&half), &half),
        at(&half, ": expected a 128-byte .npy header, found end of file after 88 bytes (truncated)")
    );
    std::fs::write(&half, &numpy[..7]).unwrap();
    assert!(npy_message(load_npy(&half), &half).ends_with("found end of file after 7 bytes (truncated)"));
    // Trailing bytes are reported too.
    let mut long = bytes.clone();
    long.extend_from_slice(&[1, 2, 3]);
    std::fs::write(&half, long).unwrap();
    assert_eq!(
        npy_message(load_npy(&half), &half),
        at(&half, ": expected end of file after 640 data bytes for shape [20, 8] of dtype float32 ('<f4'), found 3 trailing bytes")
    );
}

#[test]
fn files_that_are_not_npy_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("iris.npy");
    std::fs::write(&p, "a,b\n1,2\n").unwrap();
    assert_eq!(
        npy_message(load_npy(&p), &p),
        at(&p, ": expected the .npy magic \\x93NUMPY (93 4e 55 4d 50 59), found bytes 61 2c 62 0a 31 2c")
    );
    let mut version = std::fs::read(fixture("f32_c.npy")).unwrap();
    version[6] = 9;
    std::fs::write(&p, version).unwrap();
    assert_eq!(npy_message(load_npy(&p), &p), at(&p, ": expected .npy format version 1, 2 or 3, found version 9.0"));
    let mut bad_dict = std::fs::read(fixture("f32_c.npy")).unwrap();
    bad_dict[10] = b'[';
    std::fs::write(&p, bad_dict).unwrap();
    assert!(npy_message(load_npy(&p), &p)
        .contains(": expected a valid .npy header dictionary, found an invalid one (could not parse Python expression"));
    let missing = dir.path().join("absent.npy");
    match load_npy(&missing) {
        Err(e @ Error::Io { .. }) => assert!(e.to_string().starts_with(&missing.display().to_string())),
        other => panic!("expected an I/O error, got {other:?}"),
    }
}

#[test]
fn npz_round_trip_and_key_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("train.npz");
    let x: Vec<f32> = (0..6).map(|v| v as f32 / 4.0).collect();
    write_npz(&p, &[("features", &[3, 2], &x)], &[("labels", &[3], &[2, 0, 1]), ("short", &[2], &[0, 1])]);
    let data = load_npz(&p, "features", Some("labels")).unwrap();
    assert_eq!((data.name.as_str(), data.shape.clone(), data.features.clone()), ("train", vec![3, 2], x));
    assert_eq!(data.labels, Some(vec![2, 0, 1]));

    assert_eq!(
        npy_message(load_npz(&p, "x", Some("labels")), &p),
        at(&p, ": expected an array named \"x\", found only \"features\", \"labels\", \"short\"")
    );
    assert_eq!(
        npy_message(load_npz(&p, "features", Some("y")), &p),
        at(&p, ": expected an array named \"y\", found only \"features\", \"labels\", \"short\"")
    );
    assert_eq!(
        npy_message(load_npz(&p, "features", Some("short")), &p),
        at(&p, ", array \"short\": expected 3 labels, one per sample of array \"features\", found 2 labels")
    );
    assert_eq!(
        npy_message(load_npz(&p, "labels", None), &p),
        at(&p, ", array \"labels\": expected a 2-D array [n, d] or more, found shape [3]; to read 3 samples of one feature, save x.reshape(-1, 1)")
    );
    let empty = dir.path().join("empty.npz");
    write_npz(&empty, &[], &[]);
    assert_eq!(npy_message(load_npz(&empty, "x", None), &empty), at(&empty, ": expected an array named \"x\", found no arrays"));
}

#[test]
fn numpy_npz_errors_name_the_array() {
    let dir = tempfile::tempdir().unwrap();
    let p = fixture("xy.npz");
    // The labels as features, the features as labels.
    assert!(npy_message(load_npz(&p, "y", None), &p).starts_with(&at(&p, ", array \"y\": expected a 2-D array")));
    assert_eq!(
        npy_message(load_npz(&p, "x", Some("x")), &p),
        at(&p, ", array \"x\": expected a 1-D array [n] of class indices, found shape [4, 3]")
    );
    // Cut in half, the archive loses its central directory.
    let bytes = std::fs::read(&p).unwrap();
    let half = dir.path().join("half.npz");
    std::fs::write(&half, &bytes[..bytes.len() / 2]).unwrap();
    let msg = npy_message(load_npz(&half, "x", Some("y")), &half);
    assert!(msg.starts_with(&at(&half, ": expected an .npz archive (a zip file of .npy arrays), found an unreadable zip file (")), "{msg}");
    // A .npy file is not an archive.
    let npy = fixture("f32_c.npy");
    assert!(npy_message(load_npz(&npy, "x", None), &npy).contains("expected an .npz archive"));
}

/// A `.npy` file whose header dictionary is `dict` (padded to a 128-byte header), then `body`.
fn handmade_npy(path: &Path, dict: &str, body: &[u8]) {
    let header = format!("{dict:<117}\n");
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(body);
    std::fs::write(path, bytes).expect("test fixture");
}

#[test]
fn huge_shapes_are_rejected_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("huge.npy");
    handmade_npy(&p, "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 0, 4294967296), }", &[]);
    assert_eq!(
        npy_message(load_npy(&p), &p),
        at(&p, ": expected a shape whose size fits in 64 bits, found shape [4294967296, 4294967296, 0, 4294967296]")
    );
    handmade_npy(&p, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 99999999999999999999999), }", &[]);
    assert!(npy_message(load_npy(&p), &p).ends_with("found shape [2, >u64]"));
    handmade_npy(&p, "{'descr': [('shape', '<f4')], 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }", &[]);
    assert!(npy_message(load_npy(&p), &p).ends_with("found shape [4294967296, 4294967296, 4294967296]"));
    // Large but representable: the size check against the file comes first.
    handmade_npy(&p, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }", &[0; 8]);
    assert!(npy_message(load_npy(&p), &p).ends_with("found end of file after 8 data bytes (truncated)"));
}

#[test]
fn random_mutations_never_panic() {
    // Seeded byte-level mutations of valid files (header and data) must give an error or data.
    use rand::{Rng, SeedableRng};
    let dir = tempfile::tempdir().unwrap();
    let seeds = [fixture("f32_c.npy"), fixture("f64_fortran.npy"), fixture("i32_fortran3.npy"), fixture("labels_i64.npy")];
    let seeds: Vec<Vec<u8>> = seeds.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let p = dir.path().join("mutant.npy");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    for i in 0..3000 {
        let mut bytes = seeds[i % seeds.len()].clone();
        for _ in 0..rng.random_range(1..4) {
            let at = rng.random_range(0..bytes.len());
            match rng.random_range(0..5) {
                0 => bytes[at] ^= 1 << rng.random_range(0..8),
                1 => bytes[at] = rng.random(),
                2 => bytes.truncate(at),
                3 => bytes[at] = b"0123456789(),'L"[rng.random_range(0..15)],
                _ => bytes.insert(at, rng.random()),
            }
            if bytes.is_empty() {
                break;
            }
        }
        std::fs::write(&p, &bytes).unwrap();
        let _ = load_npy(&p);
        let _ = load_npy_labels(&p);
    }
}
