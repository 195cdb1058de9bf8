//! The IDX file format of MNIST-like datasets (unsigned-byte arrays), raw or gzipped: reader and writer.
//!
//! Layout: two zero bytes, a type byte (`0x08` = unsigned byte, the only type used by MNIST and
//! Fashion-MNIST and the only one accepted here), a rank byte `r`, `r` big-endian `u32`
//! dimensions, then `prod(dims)` data bytes in row-major order. A file that starts with the gzip
//! magic `1f 8b` is decompressed first; byte offsets in errors count uncompressed bytes.

use std::io::{Read, Write};
use std::path::Path;

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use crate::error::{Error, Result};

/// First two bytes of every gzip stream.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// IDX type byte for unsigned bytes.
const TYPE_U8: u8 = 0x08;

/// An n-dimensional array of unsigned bytes, as stored in an IDX file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// Dimensions, outermost first (`[60000, 28, 28]` for MNIST training images).
    pub dims: Vec<usize>,
    /// Row-major values, `prod(dims)` bytes.
    pub data: Vec<u8>,
}

/// Whether an IDX file is written raw or gzipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain IDX bytes.
    None,
    /// Gzip-compressed IDX bytes (default compression level).
    Gzip,
}

impl IdxArray {
    /// Checks that `dims` has 1 to 255 entries, each fitting a `u32`, whose product is `data.len()`.
    pub fn new(dims: Vec<usize>, data: Vec<u8>) -> Result<Self> {
        check_dims(&dims, data.len())?;
        Ok(IdxArray { dims, data })
    }

    /// The IDX bytes of this array (uncompressed); fails if the fields break [`IdxArray::new`]'s rules.
    pub fn encode(&self) -> Result<Vec<u8>> {
        check_dims(&self.dims, self.data.len())?;
        let mut out = Vec::with_capacity(4 + 4 * self.dims.len() + self.data.len());
        // Rank <= 255 and every dimension fits u32: checked above.
        out.extend_from_slice(&[0, 0, TYPE_U8, self.dims.len() as u8]);
        for &d in &self.dims {
            out.extend_from_slice(&(d as u32).to_be_bytes());
        }
        out.extend_from_slice(&self.data);
        Ok(out)
    }
}

/// The rules of [`IdxArray::new`].
fn check_dims(dims: &[usize], len: usize) -> Result<()> {
    if dims.is_empty() || dims.len() > 255 {
        return Err(Error::Shape { expected: "1 to 255 dimensions".into(), got: format!("{} dimensions", dims.len()) });
    }
    if let Some(&d) = dims.iter().find(|&&d| u32::try_from(d).is_err()) {
        return Err(Error::invalid("dims", "dimensions that fit a u32", d));
    }
    let n = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    if n != Some(len) {
        return Err(Error::Shape {
            expected: format!("dimensions whose product is the data length {len}"),
            got: format!("dimensions {dims:?}"),
        });
    }
    Ok(())
}

/// Reads a whole file and decompresses it if it starts with the gzip magic.
pub fn read_uncompressed(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    decompress(bytes, path)
}

/// Returns `bytes` decompressed if they start with the gzip magic, unchanged otherwise.
/// `path` only names the source in errors.
pub fn decompress(bytes: Vec<u8>, path: &Path) -> Result<Vec<u8>> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(4));
    GzDecoder::new(bytes.as_slice()).read_to_end(&mut out).map_err(|e| Error::Format {
        path: path.to_owned(),
        offset: out.len() as u64,
        expected: "a valid gzip stream".into(),
        found: format!("a gzip error ({e})"),
    })?;
    Ok(out)
}

/// Parses uncompressed IDX bytes; `path` only names the source in errors.
pub fn parse_idx(bytes: &[u8], path: &Path) -> Result<IdxArray> {
    let err =
        |offset: usize, expected: String, found: String| Error::Format { path: path.to_owned(), offset: offset as u64, expected, found };
    let Some(header) = bytes.get(..4) else {
        return Err(err(bytes.len(), "a 4-byte IDX header (00 00, type, rank)".into(), format!("end of file after {} bytes", bytes.len())));
    };
    if header[..2] != [0, 0] {
        return Err(err(0, "the IDX magic 00 00".into(), format!("{:02x} {:02x}", header[0], header[1])));
    }
    if header[2] != TYPE_U8 {
        return Err(err(2, "type byte 08 (unsigned byte)".into(), format!("{:02x} ({})", header[2], type_name(header[2]))));
    }
    let rank = usize::from(header[3]);
    if rank == 0 {
        return Err(err(3, "a rank of at least 1".into(), "rank 0".into()));
    }
    let data_start = 4 + 4 * rank;
    let Some(dim_bytes) = bytes.get(4..data_start) else {
        return Err(err(
            bytes.len(),
            format!("{rank} big-endian u32 dimensions (a {data_start}-byte header)"),
            format!("end of file after {} bytes", bytes.len()),
        ));
    };
    let dims: Vec<usize> = dim_bytes.chunks_exact(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize).collect();
    let Some(n) = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)) else {
        return Err(err(4, "dimensions whose product fits in memory".into(), format!("{dims:?}")));
    };
    let body = bytes.len() - data_start;
    if body < n {
        return Err(err(
            bytes.len(),
            format!("{n} data bytes for dimensions {dims:?}"),
            format!("end of file after {body} data bytes (truncated)"),
        ));
    }
    if body > n {
        return Err(err(
            data_start + n,
            format!("end of file after {n} data bytes for dimensions {dims:?}"),
            format!("{} trailing bytes", body - n),
        ));
    }
    Ok(IdxArray { dims, data: bytes[data_start..].to_vec() })
}

/// Decompresses (if gzipped) and parses IDX bytes; `path` only names the source in errors.
pub fn decode_idx(bytes: Vec<u8>, path: &Path) -> Result<IdxArray> {
    parse_idx(&decompress(bytes, path)?, path)
}

/// Reads and parses an IDX file, raw or gzipped.
pub fn read_idx(path: &Path) -> Result<IdxArray> {
    parse_idx(&read_uncompressed(path)?, path)
}

/// Writes `array` as an IDX file at `path`, raw or gzipped.
pub fn write_idx(path: &Path, array: &IdxArray, compression: Compression) -> Result<()> {
    let bytes = array.encode()?;
    let io = |e| Error::io(path, e);
    let bytes = match compression {
        Compression::None => bytes,
        Compression::Gzip => {
            let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(&bytes).map_err(io)?;
            enc.finish().map_err(io)?
        }
    };
    std::fs::write(path, bytes).map_err(io)
}

/// Name of an IDX type byte, for error messages.
fn type_name(t: u8) -> &'static str {
    match t {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0B => "i16",
        0x0C => "i32",
        0x0D => "f32",
        0x0E => "f64",
        _ => "not an IDX type",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("mem.idx")
    }

    #[test]
    fn encode_parse_round_trip() -> Result<()> {
        let a = IdxArray::new(vec![2, 3], vec![1, 2, 3, 4, 5, 6])?;
        let bytes = a.encode()?;
        assert_eq!(&bytes[..12], &[0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3]);
        assert_eq!(parse_idx(&bytes, p())?, a);
        Ok(())
    }

    #[test]
    fn header_errors_name_offsets() -> Result<()> {
        let bytes = IdxArray::new(vec![2, 2], vec![0; 4])?.encode()?;
        let offset = |b: &[u8]| match parse_idx(b, p()) {
            Err(Error::Format { offset, .. }) => Some(offset),
            _ => None,
        };
        assert_eq!(offset(&bytes[..3]), Some(3));
        assert_eq!(offset(&[1, 0, 8, 1, 0, 0, 0, 0]), Some(0));
        assert_eq!(offset(&[0, 0, 0x0D, 1, 0, 0, 0, 0]), Some(2));
        assert_eq!(offset(&[0, 0, 8, 0]), Some(3));
        assert_eq!(offset(&bytes[..9]), Some(9));
        assert_eq!(offset(&bytes[..14]), Some(14));
        let mut long = bytes.clone();
        long.push(7);
        assert_eq!(offset(&long), Some(16));
        let huge = [0, 0, 8, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255];
        assert_eq!(offset(&huge), Some(4));
        Ok(())
    }

    #[test]
    fn new_checks_sizes() {
        assert!(IdxArray::new(vec![], vec![]).is_err());
        assert!(IdxArray::new(vec![2], vec![0; 3]).is_err());
        assert!(IdxArray::new(vec![1 << 33], vec![]).is_err());
        let bad = IdxArray { dims: vec![3], data: vec![0; 2] };
        assert!(bad.encode().is_err());
    }
}
