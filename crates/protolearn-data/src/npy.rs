//! NumPy `.npy` arrays and `.npz` archives (via `npyz`) read into [`Data`] features or class-index labels.
//!
//! Accepted dtypes: float32, float64, int8–int64, uint8–uint64 and bool, little- or big-endian,
//! in C or Fortran order. Every value becomes an `f32` feature: float64 values must fit the
//! `f32` range, integers are rounded to the nearest `f32` (exact up to 2²⁴). Features come back
//! in C (row-major) order whatever the file's order. Errors are [`Error::Npy`] and name the file,
//! the `.npz` key, what was expected and what was found; the whole file is checked (truncation,
//! trailing bytes) before any value is converted.

use std::io::Read;
use std::path::Path;

use npyz::{DType, NpyFile, NpyHeader, Order, TypeChar};

use crate::data::Data;
use crate::error::{Error, Result};

/// Magic string at the start of every `.npy` file.
const MAGIC: &[u8] = b"\x93NUMPY";

/// The dtypes this module reads, for error messages.
const ACCEPTED: &str = "one of float32, float64, int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool";

/// Reads a `.npy` file of features: shape `[n, ...]` with rank >= 2, every dimension >= 1.
///
/// The result has the file's shape (`[n, d]`, or `[n, h, w]` etc.), C-order `f32` features, no
/// labels, and is named after the file stem. A rank-1 array is an error rather than `n` samples
/// of one feature (as in scikit-learn, which asks for `x.reshape(-1, 1)`): a 1-D array is as
/// often one sample or a label vector. Non-finite values and float64 values beyond the `f32`
/// range are errors naming the row and the C-order flat index.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use npyz::WriterBuilder;
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("x.npy");
/// let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
/// let mut writer = npyz::WriteOptions::new().default_dtype().shape(&[2, 3]).writer(&mut file).begin_nd()?;
/// writer.extend([0.5f64, 1.0, 1.5, 2.0, 2.5, 3.0])?;
/// writer.finish()?;
/// drop(file);
///
/// let data = protolearn_data::load_npy(&path)?;
/// assert_eq!(data.shape, vec![2, 3]);
/// assert_eq!(data.row(1), Some(&[2.0f32, 2.5, 3.0][..]));
/// # Ok(()) }
/// ```
pub fn load_npy(path: &Path) -> Result<Data> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let src = Source { path, array: None };
    features_data(parse(&bytes, &src)?, &src)
}

/// Reads a `.npy` file of class labels: a 1-D array `[n]` of integers (any integer dtype or
/// bool), or of floats whose values are integral, every value `>= 0`.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("y.npy");
/// npyz::to_file_1d(&path, vec![2i64, 0, 1])?;
/// assert_eq!(protolearn_data::load_npy_labels(&path)?, vec![2, 0, 1]);
/// # Ok(()) }
/// ```
pub fn load_npy_labels(path: &Path) -> Result<Vec<i64>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let src = Source { path, array: None };
    labels(parse(&bytes, &src)?, &src)
}

/// Reads the features array `features_key` of an `.npz` archive (as [`load_npy`] reads a
/// `.npy` file) and, if `labels_key` is given, its labels array (as [`load_npy_labels`]),
/// which must hold one label per sample.
///
/// Archives from `np.savez` and `np.savez_compressed` are both read. A missing key is an error
/// listing the keys present.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use npyz::WriterBuilder;
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("xy.npz");
/// let mut npz = npyz::npz::NpzWriter::create(&path)?;
/// let mut x = npz.array("x", Default::default())?.default_dtype().shape(&[3, 2]).begin_nd()?;
/// x.extend([1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0])?;
/// x.finish()?;
/// let mut y = npz.array("y", Default::default())?.default_dtype().shape(&[3]).begin_nd()?;
/// y.extend([0u8, 1, 1])?;
/// y.finish()?;
/// drop(npz);
///
/// let data = protolearn_data::load_npz(&path, "x", Some("y"))?;
/// assert_eq!((data.shape.clone(), data.labels.clone()), (vec![3, 2], Some(vec![0, 1, 1])));
/// assert!(protolearn_data::load_npz(&path, "features", None).is_err()); // the keys are x, y
/// # Ok(()) }
/// ```
pub fn load_npz(path: &Path, features_key: &str, labels_key: Option<&str>) -> Result<Data> {
    let mut archive = open_npz(path)?;
    let (x_src, x_bytes) = npz_member(&mut archive, path, features_key)?;
    let x = parse(&x_bytes, &x_src)?;
    drop(x_bytes);
    let y = match labels_key {
        None => None,
        Some(key) => {
            let (y_src, y_bytes) = npz_member(&mut archive, path, key)?;
            Some(labels(parse(&y_bytes, &y_src)?, &y_src)?)
        }
    };
    let data = features_data(x, &x_src)?;
    match y {
        None => Ok(data),
        Some(y) => {
            let n = data.n_samples();
            if y.len() != n {
                return Err(Error::Npy {
                    path: path.to_owned(),
                    array: labels_key.map(str::to_owned),
                    expected: format!("{n} labels, one per sample of array {features_key:?}"),
                    found: format!("{} labels", y.len()),
                });
            }
            Data::new(data.name, data.features, data.shape, Some(y))
        }
    }
}

/// An `.npz` archive on disk.
type Npz = npyz::npz::NpzArchive<std::io::BufReader<std::fs::File>>;

/// Opens an `.npz` archive: I/O errors are [`Error::Io`], anything not a zip file [`Error::Npy`].
fn open_npz(path: &Path) -> Result<Npz> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    npyz::npz::NpzArchive::new(std::io::BufReader::new(file)).map_err(|e| Error::Npy {
        path: path.to_owned(),
        array: None,
        expected: "an .npz archive (a zip file of .npy arrays)".into(),
        found: format!("an unreadable zip file ({e})"),
    })
}

/// The uncompressed bytes of the array `key` of `archive`, with the source naming it.
fn npz_member<'a>(archive: &mut Npz, path: &'a Path, key: &'a str) -> Result<(Source<'a>, Vec<u8>)> {
    let mut keys: Vec<String> = archive.array_names().map(str::to_owned).collect();
    if !keys.iter().any(|k| k == key) {
        keys.sort();
        let found = if keys.is_empty() {
            "no arrays".to_owned()
        } else {
            format!("only {}", keys.iter().map(|k| format!("{k:?}")).collect::<Vec<_>>().join(", "))
        };
        return Err(Error::Npy { path: path.to_owned(), array: None, expected: format!("an array named {key:?}"), found });
    }
    let src = Source { path, array: Some(key) };
    let unreadable = |e: &dyn std::fmt::Display| src.error(format!("a readable zip member {key}.npy"), e.to_string());
    let mut member = archive.zip_archive().by_name(&npyz::npz::file_name_from_array_name(key)).map_err(|e| unreadable(&e))?;
    let mut bytes = Vec::new();
    member.read_to_end(&mut bytes).map_err(|e| unreadable(&e))?;
    Ok((src, bytes))
}

/// Where an array comes from, to name it in errors.
struct Source<'a> {
    path: &'a Path,
    array: Option<&'a str>,
}

impl Source<'_> {
    fn error(&self, expected: impl Into<String>, found: impl Into<String>) -> Error {
        Error::Npy { path: self.path.to_owned(), array: self.array.map(str::to_owned), expected: expected.into(), found: found.into() }
    }
}

/// The values of an array, in C order, in the widest type of their kind.
enum Values {
    F32(Vec<f32>),
    F64(Vec<f64>),
    Int(Vec<i64>),
    UInt(Vec<u64>),
    Bool(Vec<bool>),
}

/// A parsed array: its shape and C-order values.
struct Array {
    shape: Vec<usize>,
    values: Values,
}

/// Parses the bytes of a whole `.npy` file: prelude, header, dtype, size, values.
fn parse(bytes: &[u8], src: &Source) -> Result<Array> {
    let truncated = |what: &str| src.error(what, format!("end of file after {} bytes (truncated)", bytes.len()));
    let Some(magic) = bytes.get(..MAGIC.len()) else {
        return Err(truncated("the .npy magic \\x93NUMPY"));
    };
    if magic != MAGIC {
        let hex: Vec<String> = magic.iter().map(|b| format!("{b:02x}")).collect();
        return Err(src.error("the .npy magic \\x93NUMPY (93 4e 55 4d 50 59)", format!("bytes {}", hex.join(" "))));
    }
    let Some(&[major, minor]) = bytes.get(6..8) else {
        return Err(truncated("a .npy format version after the magic"));
    };
    let len_bytes = match major {
        1 => 2,
        2 | 3 => 4,
        _ => return Err(src.error(".npy format version 1, 2 or 3", format!("version {major}.{minor}"))),
    };
    let Some(len_field) = bytes.get(8..8 + len_bytes) else {
        return Err(truncated("the .npy header length"));
    };
    let header_len = len_field.iter().rev().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    let data_start = 8 + len_bytes + header_len;
    if bytes.len() < data_start {
        return Err(truncated(&format!("a {data_start}-byte .npy header")));
    }
    if let Some(dims) = bytes.get(8 + len_bytes..data_start).and_then(shape_in_header) {
        // npyz multiplies the dimensions unchecked (a panic in debug builds): refuse overflow first.
        let size = dims.iter().filter(|&&d| d != Some(0)).try_fold(1u64, |acc, &d| d.and_then(|d| acc.checked_mul(d)));
        if size.is_none() {
            return Err(src.error("a shape whose size fits in 64 bits", format!("shape {}", shape_text(&dims))));
        }
    }
    let mut cursor = bytes;
    let header =
        NpyHeader::from_reader(&mut cursor).map_err(|e| src.error("a valid .npy header dictionary", format!("an invalid one ({e})")))?;
    let data = cursor;

    let dtype = header.dtype();
    let kind = match &dtype {
        DType::Plain(t) => match (t.type_char(), t.size_field()) {
            (TypeChar::Float, 4 | 8) | (TypeChar::Int | TypeChar::Uint, 1 | 2 | 4 | 8) | (TypeChar::Bool, 1) => Some(t.clone()),
            _ => None,
        },
        _ => None,
    };
    let Some(type_str) = kind else {
        return Err(src.error(format!("a numeric dtype ({ACCEPTED})"), format!("dtype {}", dtype_name(&dtype))));
    };

    let shape = header.shape().iter().map(|&d| usize::try_from(d).ok()).collect::<Option<Vec<usize>>>();
    let count = shape.as_ref().and_then(|s| s.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)));
    let item = type_str.num_bytes().unwrap_or(1);
    let (Some(shape), Some(n_bytes)) = (shape, count.and_then(|c| c.checked_mul(item))) else {
        return Err(src.error("a shape whose size fits in memory", format!("shape {:?}", header.shape())));
    };
    let dtype_text = dtype_name(&dtype);
    if data.len() < n_bytes {
        return Err(src.error(
            format!("{n_bytes} data bytes after the {data_start}-byte header for shape {shape:?} of dtype {dtype_text}"),
            format!("end of file after {} data bytes (truncated)", data.len()),
        ));
    }
    if data.len() > n_bytes {
        return Err(src.error(
            format!("end of file after {n_bytes} data bytes for shape {shape:?} of dtype {dtype_text}"),
            format!("{} trailing bytes", data.len() - n_bytes),
        ));
    }
    let order = header.order();
    let npy = NpyFile::with_header(header, data);
    let read_error = |e: std::io::Error| src.error(format!("values of dtype {dtype_text}"), e.to_string());
    let values = match (type_str.type_char(), type_str.size_field()) {
        (TypeChar::Float, 4) => Values::F32(npy.into_vec().map_err(read_error)?),
        (TypeChar::Float, _) => Values::F64(npy.into_vec().map_err(read_error)?),
        (TypeChar::Int, 1) => Values::Int(widen::<i8, i64>(npy.into_vec()).map_err(read_error)?),
        (TypeChar::Int, 2) => Values::Int(widen::<i16, i64>(npy.into_vec()).map_err(read_error)?),
        (TypeChar::Int, 4) => Values::Int(widen::<i32, i64>(npy.into_vec()).map_err(read_error)?),
        (TypeChar::Int, _) => Values::Int(npy.into_vec().map_err(read_error)?),
        (TypeChar::Uint, 1) => Values::UInt(widen::<u8, u64>(npy.into_vec()).map_err(read_error)?),
        (TypeChar::Uint, 2) => Values::UInt(widen::<u16, u64>(npy.into_vec()).map_err(read_error)?),
        (TypeChar::Uint, 4) => Values::UInt(widen::<u32, u64>(npy.into_vec()).map_err(read_error)?),
        (TypeChar::Uint, _) => Values::UInt(npy.into_vec().map_err(read_error)?),
        _ => Values::Bool(npy.into_vec().map_err(read_error)?),
    };
    let values = match order {
        Order::C => values,
        Order::Fortran => values.fortran_to_c(&shape),
    };
    Ok(Array { shape, values })
}

/// The dimensions of the `'shape': (d0, d1, ...)` entry of a header dictionary as NumPy writes
/// it, `None` for a dimension beyond `u64`; `None` overall when the entry is not found or not
/// in that form (npyz then parses or rejects the header itself).
fn shape_in_header(header: &[u8]) -> Option<Vec<Option<u64>>> {
    let text = std::str::from_utf8(header).ok()?;
    // The key followed by a colon (a structured dtype may have a field named 'shape').
    let mut keys = text.match_indices("'shape'").chain(text.match_indices("\"shape\""));
    let value = keys.find_map(|(at, _)| text[at + 7..].trim_start().strip_prefix(':'))?;
    let rest = value.trim_start().strip_prefix('(')?;
    let tuple = &rest[..rest.find(')')?];
    let dims = tuple.split(',').map(str::trim).filter(|d| !d.is_empty());
    dims.map(|d| {
        let digits = d.strip_suffix('L').unwrap_or(d);
        (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then(|| digits.parse::<u64>().ok())
    })
    .collect()
}

/// `[d0, d1, ...]` with `>u64` for a dimension beyond `u64`.
fn shape_text(dims: &[Option<u64>]) -> String {
    let dims: Vec<String> = dims.iter().map(|d| d.map_or_else(|| ">u64".to_owned(), |d| d.to_string())).collect();
    format!("[{}]", dims.join(", "))
}

/// Widens every value of a read vector.
fn widen<T, U: From<T>>(values: std::io::Result<Vec<T>>) -> std::io::Result<Vec<U>> {
    values.map(|v| v.into_iter().map(U::from).collect())
}

impl Values {
    /// Reorders Fortran-order (first index fastest) values of `shape` into C order (last index fastest).
    fn fortran_to_c(self, shape: &[usize]) -> Values {
        match self {
            Values::F32(v) => Values::F32(fortran_to_c(&v, shape)),
            Values::F64(v) => Values::F64(fortran_to_c(&v, shape)),
            Values::Int(v) => Values::Int(fortran_to_c(&v, shape)),
            Values::UInt(v) => Values::UInt(fortran_to_c(&v, shape)),
            Values::Bool(v) => Values::Bool(fortran_to_c(&v, shape)),
        }
    }
}

/// Walks the C-order multi-index with an odometer, reading each element at its Fortran offset
/// `Σ index[k] · stride[k]`, where `stride[0] = 1` and `stride[k] = stride[k-1] · shape[k-1]`.
fn fortran_to_c<T: Copy>(values: &[T], shape: &[usize]) -> Vec<T> {
    let mut strides = Vec::with_capacity(shape.len());
    let mut stride = 1;
    for &d in shape {
        strides.push(stride);
        stride *= d;
    }
    let mut out = Vec::with_capacity(values.len());
    let mut index = vec![0usize; shape.len()];
    let mut offset = 0;
    for _ in 0..values.len() {
        out.push(values[offset]);
        for k in (0..shape.len()).rev() {
            index[k] += 1;
            offset += strides[k];
            if index[k] < shape[k] {
                break;
            }
            offset -= strides[k] * shape[k];
            index[k] = 0;
        }
    }
    out
}

/// Checks the rank and size of a features array and converts it to [`Data`].
fn features_data(array: Array, src: &Source) -> Result<Data> {
    let Array { shape, values } = array;
    if shape.len() < 2 {
        let found = match shape.as_slice() {
            [] => "shape [] (a scalar)".to_owned(),
            [n] => format!("shape [{n}]; to read {n} samples of one feature, save x.reshape(-1, 1)"),
            _ => format!("shape {shape:?}"),
        };
        return Err(src.error("a 2-D array [n, d] or more", found));
    }
    if shape.contains(&0) {
        return Err(src.error("a non-empty array (every dimension >= 1)", format!("shape {shape:?}")));
    }
    let d: usize = shape[1..].iter().product();
    let out_of_range = |i: usize, v: &dyn std::fmt::Display| {
        src.error(
            "finite values within the f32 range (|x| <= 3.4028235e38)",
            format!("{v} at row {}, element {} (C-order flat index {i})", i / d, i % d),
        )
    };
    let features: Vec<f32> = match values {
        Values::F32(v) => {
            if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                return Err(out_of_range(i, &format!("{:?}", v[i])));
            }
            v
        }
        Values::F64(v) => {
            let narrowed: Vec<f32> = v.iter().map(|&x| x as f32).collect();
            if let Some(i) = narrowed.iter().position(|x| !x.is_finite()) {
                return Err(out_of_range(i, &format!("{:?}", v[i])));
            }
            narrowed
        }
        // Rounded to the nearest f32; every i64 and u64 is within the f32 range.
        Values::Int(v) => v.into_iter().map(|x| x as f32).collect(),
        Values::UInt(v) => v.into_iter().map(|x| x as f32).collect(),
        Values::Bool(v) => v.into_iter().map(f32::from).collect(),
    };
    let name = src.path.file_stem().map_or_else(|| "npy".to_owned(), |s| s.to_string_lossy().into_owned());
    Data::new(name, features, shape, None)
}

/// Checks the rank of a labels array and converts its values to class indices.
fn labels(array: Array, src: &Source) -> Result<Vec<i64>> {
    if array.shape.len() != 1 {
        return Err(src.error("a 1-D array [n] of class indices", format!("shape {:?}", array.shape)));
    }
    let bad = |i: usize, v: &dyn std::fmt::Display| src.error("class indices: integers >= 0", format!("{v} at index {i}"));
    let from_float = |i: usize, x: f64| {
        // 2^63 is the first float beyond i64::MAX.
        if x.is_finite() && x.fract() == 0.0 && (0.0..9.223_372_036_854_776e18).contains(&x) {
            Ok(x as i64)
        } else {
            Err(bad(i, &format!("{x:?}")))
        }
    };
    match array.values {
        Values::F32(v) => v.iter().enumerate().map(|(i, &x)| from_float(i, f64::from(x))).collect(),
        Values::F64(v) => v.iter().enumerate().map(|(i, &x)| from_float(i, x)).collect(),
        Values::Int(v) => match v.iter().position(|&x| x < 0) {
            Some(i) => Err(bad(i, &v[i])),
            None => Ok(v),
        },
        Values::UInt(v) => v.iter().enumerate().map(|(i, &x)| i64::try_from(x).map_err(|_| bad(i, &x))).collect(),
        Values::Bool(v) => Ok(v.into_iter().map(i64::from).collect()),
    }
}

/// NumPy's name of a dtype with its type string, e.g. `complex64 ('<c8')`.
fn dtype_name(dtype: &DType) -> String {
    let DType::Plain(t) = dtype else {
        return format!("a structured dtype {}", dtype.descr());
    };
    let bits = t.size_field().saturating_mul(8);
    let name = match t.type_char() {
        TypeChar::Bool => "bool".to_owned(),
        TypeChar::Int => format!("int{bits}"),
        TypeChar::Uint => format!("uint{bits}"),
        TypeChar::Float => format!("float{bits}"),
        TypeChar::Complex => format!("complex{bits}"),
        TypeChar::TimeDelta => "timedelta64".to_owned(),
        TypeChar::DateTime => "datetime64".to_owned(),
        TypeChar::ByteStr => "bytes".to_owned(),
        TypeChar::UnicodeStr => "str".to_owned(),
        TypeChar::Object => "object".to_owned(),
        TypeChar::RawData => "void".to_owned(),
        _ => "unknown".to_owned(),
    };
    format!("{name} ('{t}')")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fortran_to_c_transposes_every_rank() {
        // A [2, 3] array a[i][j] = 10 i + j stored column by column.
        let fortran = [0, 10, 1, 11, 2, 12];
        assert_eq!(fortran_to_c(&fortran, &[2, 3]), vec![0, 1, 2, 10, 11, 12]);
        // A [2, 2, 2] array a[i][j][k] = 100 i + 10 j + k, first index fastest.
        let fortran = [0, 100, 10, 110, 1, 101, 11, 111];
        assert_eq!(fortran_to_c(&fortran, &[2, 2, 2]), vec![0, 1, 10, 11, 100, 101, 110, 111]);
        assert_eq!(fortran_to_c(&[7, 8], &[2]), vec![7, 8]);
    }

    #[test]
    fn dtype_names_follow_numpy() {
        let name = |descr: &str| DType::parse(descr).map(|d| dtype_name(&d)).unwrap_or_default();
        assert_eq!(name("'<c8'"), "complex64 ('<c8')");
        assert_eq!(name("'>f2'"), "float16 ('>f2')");
        assert_eq!(name("'<U3'"), "str ('<U3')");
        assert_eq!(name("'|O'"), "object ('|O')");
        assert!(name("[('a', '<f4')]").starts_with("a structured dtype"));
    }
}
