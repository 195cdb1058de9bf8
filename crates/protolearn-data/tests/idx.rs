//! IDX files: round trip raw and gzipped, and every corrupt-input case as a named, positioned error.

use std::path::{Path, PathBuf};

use protolearn_data::idx::{decode_idx, read_idx, write_idx, Compression, IdxArray, GZIP_MAGIC};
use protolearn_data::mnist::{load_pair, ImageLayout};
use protolearn_data::Error;

fn images(n: usize) -> IdxArray {
    IdxArray::new(vec![n, 2, 3], (0..n * 6).map(|v| (v * 37 % 256) as u8).collect()).expect("test fixture")
}

fn labels(n: usize) -> IdxArray {
    IdxArray::new(vec![n], (0..n).map(|v| (v % 10) as u8).collect()).expect("test fixture")
}

fn write(dir: &Path, name: &str, a: &IdxArray, c: Compression) -> PathBuf {
    let p = dir.join(name);
    write_idx(&p, a, c).expect("test fixture");
    p
}

/// The (path, offset, expected, found) of a format error, or a panic naming what came instead.
fn format_error<T: std::fmt::Debug>(r: protolearn_data::Result<T>) -> (PathBuf, u64, String, String) {
    match r {
        Err(Error::Format { path, offset, expected, found }) => (path, offset, expected, found),
        other => panic!("expected a format error, got {other:?}"),
    }
}

#[test]
fn round_trip_raw_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    for c in [Compression::None, Compression::Gzip] {
        let p = write(dir.path(), &format!("{c:?}"), &images(5), c);
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(bytes.starts_with(&GZIP_MAGIC), c == Compression::Gzip);
        assert_eq!(read_idx(&p).unwrap(), images(5));
        assert_eq!(decode_idx(bytes, &p).unwrap(), images(5));
    }
}

#[test]
fn pair_loads_scaled_images_in_both_layouts() {
    let dir = tempfile::tempdir().unwrap();
    let x = write(dir.path(), "x.gz", &images(4), Compression::Gzip);
    let y = write(dir.path(), "y", &labels(4), Compression::None);
    let flat = load_pair("toy", &x, &y, ImageLayout::Flat).unwrap();
    assert_eq!(flat.shape, vec![4, 6]);
    assert_eq!(flat.labels, Some(vec![0, 1, 2, 3]));
    assert_eq!(flat.features[1], 37.0 / 255.0);
    assert!(flat.features.iter().all(|v| (0.0..=1.0).contains(v)));
    let image = load_pair("toy", &x, &y, ImageLayout::Image).unwrap();
    assert_eq!(image.shape, vec![4, 1, 2, 3]);
    assert_eq!(image.features, flat.features);
}

#[test]
fn truncated_files_name_the_offset() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = images(4).encode().unwrap();
    for (cut, at) in [(2, 2), (10, 10), (bytes.len() - 1, bytes.len() - 1)] {
        let p = dir.path().join(format!("cut{cut}"));
        std::fs::write(&p, &bytes[..cut]).unwrap();
        let (path, offset, expected, found) = format_error(read_idx(&p));
        assert_eq!((path, offset), (p.clone(), at as u64));
        assert!(!expected.is_empty() && found.contains("end of file"), "{expected} / {found}");
        let msg = read_idx(&p).unwrap_err().to_string();
        assert!(msg.contains(&p.display().to_string()) && msg.contains(&format!("byte {at}")), "{msg}");
    }
}

#[test]
fn truncated_gzip_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let gz = write(dir.path(), "full.gz", &images(50), Compression::Gzip);
    let bytes = std::fs::read(&gz).unwrap();
    for cut in [3, bytes.len() / 2, bytes.len() - 4] {
        let p = dir.path().join(format!("cut{cut}.gz"));
        std::fs::write(&p, &bytes[..cut]).unwrap();
        let (path, _, _, _) = format_error(read_idx(&p));
        assert_eq!(path, p);
    }
}

#[test]
fn wrong_magic_and_type_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = labels(3).encode().unwrap();
    bytes[0] = 0x12;
    let p = dir.path().join("magic");
    std::fs::write(&p, &bytes).unwrap();
    let (_, offset, expected, found) = format_error(read_idx(&p));
    assert_eq!(offset, 0);
    assert!(expected.contains("00 00") && found.contains("12 00"), "{expected} / {found}");

    bytes[0] = 0;
    bytes[2] = 0x0D;
    std::fs::write(&p, &bytes).unwrap();
    let (_, offset, expected, found) = format_error(read_idx(&p));
    assert_eq!(offset, 2);
    assert!(expected.contains("08") && found.contains("f32"), "{expected} / {found}");
}

#[test]
fn trailing_bytes_are_reported() {
    let mut bytes = labels(3).encode().unwrap();
    bytes.extend_from_slice(&[1, 2]);
    let (_, offset, _, found) = format_error(decode_idx(bytes, Path::new("mem")));
    assert_eq!(offset, 8 + 3);
    assert!(found.contains("2 trailing bytes"), "{found}");
}

#[test]
fn image_label_count_mismatch_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let x = write(dir.path(), "x", &images(4), Compression::None);
    let y = write(dir.path(), "y", &labels(5), Compression::None);
    let (path, offset, expected, found) = format_error(load_pair("toy", &x, &y, ImageLayout::Flat));
    assert_eq!((path, offset), (y, 4));
    assert!(expected.contains("4 labels") && found.contains("5 labels"), "{expected} / {found}");
}

#[test]
fn wrong_ranks_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let x = write(dir.path(), "x", &labels(4), Compression::None);
    let y = write(dir.path(), "y", &labels(4), Compression::None);
    let (path, _, expected, _) = format_error(load_pair("toy", &x, &y, ImageLayout::Flat));
    assert_eq!(path, x);
    assert!(expected.contains("rank 3"), "{expected}");
    let x3 = write(dir.path(), "x3", &images(4), Compression::None);
    let (path, _, expected, _) = format_error(load_pair("toy", &x3, &x3, ImageLayout::Flat));
    assert_eq!(path, x3);
    assert!(expected.contains("rank 1"), "{expected}");
}

#[test]
fn missing_file_is_an_io_error_naming_it() {
    let p = Path::new("/nonexistent/protolearn/train-images-idx3-ubyte");
    match read_idx(p) {
        Err(e @ Error::Io { .. }) => assert!(e.to_string().contains(&p.display().to_string())),
        other => panic!("expected an I/O error, got {other:?}"),
    }
}

#[test]
fn random_mutations_never_panic() {
    // A CI-sized version of the cargo-fuzz target (fuzz/): seeded byte-level mutations of valid
    // raw and gzipped files must give an error or an array that re-encodes to itself.
    use rand::{Rng, SeedableRng};
    let raw = images(3).encode().expect("test fixture");
    let dir = tempfile::tempdir().expect("test fixture");
    let gz = std::fs::read(write(dir.path(), "s.gz", &images(3), Compression::Gzip)).expect("test fixture");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    for i in 0..4000 {
        let mut bytes = if i % 2 == 0 { raw.clone() } else { gz.clone() };
        for _ in 0..rng.random_range(1..4) {
            let at = rng.random_range(0..bytes.len());
            match rng.random_range(0..4) {
                0 => bytes[at] ^= 1 << rng.random_range(0..8),
                1 => bytes[at] = rng.random(),
                2 => bytes.truncate(at),
                _ => bytes.insert(at, rng.random()),
            }
            if bytes.is_empty() {
                break;
            }
        }
        if let Ok(a) = decode_idx(bytes, Path::new("mutant")) {
            let again = decode_idx(a.encode().expect("valid array"), Path::new("again"));
            assert_eq!(again.ok().as_ref(), Some(&a));
        }
    }
}
