//! Rows of `.npy` files read on demand, for data larger than memory: one 2-D float32 or float64
//! array in C order, or a folder of such files with the same column count read as one table
//! (rows in file-name order). Only the header is read when opening; [`NpyRows::read_rows`]
//! reads a range of rows with positioned reads, so memory stays bounded by the range.
//!
//! (Positioned reads rather than a memory map: a map needs `unsafe` and turns a file truncated
//! under it into a crash; sequential chunked reads go through the page cache the same way.)

use std::fs::File;
use std::io::Seek;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use npyz::{Endianness, NpyFile, NpyHeader, Order, TypeChar};

use crate::error::{Error, Result};

/// One file of an [`NpyRows`] table.
#[derive(Debug, Clone)]
struct Part {
    path: PathBuf,
    /// The open file, read with positioned reads (shared by clones).
    file: Arc<File>,
    /// Byte offset of the first value.
    data_offset: u64,
    /// Rows in this file.
    rows: usize,
    /// Bytes per value (4: float32, 8: float64).
    item: usize,
    /// Index of this file's first row in the table.
    first_row: usize,
}

/// A table of rows spread over one or more `.npy` files, read on demand (see the module docs).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use npyz::WriterBuilder;
///
/// let dir = tempfile::tempdir()?;
/// for (name, values) in [("a.npy", [1.0f32, 2.0, 3.0, 4.0]), ("b.npy", [5.0, 6.0, 7.0, 8.0])] {
///     let mut file = std::io::BufWriter::new(std::fs::File::create(dir.path().join(name))?);
///     let mut w = npyz::WriteOptions::new().default_dtype().shape(&[2, 2]).writer(&mut file).begin_nd()?;
///     w.extend(values)?;
///     w.finish()?;
/// }
/// let rows = protolearn_data::npy_rows::NpyRows::open(dir.path())?;
/// assert_eq!((rows.n_rows(), rows.n_cols()), (4, 2));
/// assert_eq!(rows.read_rows(1, 2)?, vec![3.0, 4.0, 5.0, 6.0]); // across the two files
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct NpyRows {
    parts: Vec<Part>,
    cols: usize,
    rows: usize,
}

impl NpyRows {
    /// Opens a `.npy` file, or every `*.npy` file of a folder (sorted by name). Each must hold a
    /// 2-D little-endian float32 or float64 array in C order with at least one row; all must
    /// have the same column count.
    pub fn open(path: &Path) -> Result<NpyRows> {
        let files = if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| Error::io(path, e))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "npy"))
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(npy_error(path, "a folder holding .npy files", "none"));
            }
            files
        } else {
            vec![path.to_path_buf()]
        };
        let (mut parts, mut cols, mut rows) = (Vec::with_capacity(files.len()), None, 0);
        for file in files {
            let (part_rows, part_cols, item, data_offset) = header(&file)?;
            match cols {
                Some(c) if c != part_cols => {
                    return Err(npy_error(&file, format!("{c} columns, as the files before it"), format!("{part_cols} columns")));
                }
                _ => cols = Some(part_cols),
            }
            let handle = Arc::new(File::open(&file).map_err(|e| Error::io(&file, e))?);
            parts.push(Part { path: file, file: handle, data_offset, rows: part_rows, item, first_row: rows });
            rows += part_rows;
        }
        Ok(NpyRows { parts, cols: cols.unwrap_or(0), rows })
    }

    /// Rows of the table.
    pub fn n_rows(&self) -> usize {
        self.rows
    }

    /// Columns of every row.
    pub fn n_cols(&self) -> usize {
        self.cols
    }

    /// Rows `start..start + len` as float32 values in row order (`len * n_cols` of them);
    /// float64 files are converted (values beyond the float32 range become infinite and are an
    /// error, as are non-finite values).
    pub fn read_rows(&self, start: usize, len: usize) -> Result<Vec<f32>> {
        let end = start + len;
        if end > self.rows {
            let path = self.parts.first().map_or_else(PathBuf::new, |p| p.path.clone());
            return Err(npy_error(&path, format!("rows within 0..{}", self.rows), format!("rows {start}..{end}")));
        }
        let mut values = Vec::with_capacity(len * self.cols);
        for part in self.parts.iter().filter(|p| p.first_row < end && p.first_row + p.rows > start) {
            let from = start.max(part.first_row) - part.first_row;
            let to = end.min(part.first_row + part.rows) - part.first_row;
            self.read_part(part, from, to - from, &mut values)?;
        }
        Ok(values)
    }

    /// The rows `indices` (of the whole table, any order, repeats allowed) as float32 values in
    /// that order, `indices.len() * n_cols` of them: the random batches of minibatch training
    /// on data larger than memory (one positioned read per row).
    pub fn read_row_set(&self, indices: &[i64]) -> Result<Vec<f32>> {
        let mut values = Vec::with_capacity(indices.len() * self.cols);
        for &index in indices {
            let Some(row) = usize::try_from(index).ok().filter(|&r| r < self.rows) else {
                let path = self.parts.first().map_or_else(PathBuf::new, |p| p.path.clone());
                return Err(npy_error(&path, format!("row indices within 0..{}", self.rows), format!("row {index}")));
            };
            let part = &self.parts[self.parts.partition_point(|p| p.first_row + p.rows <= row)];
            self.read_part(part, row - part.first_row, 1, &mut values)?;
        }
        Ok(values)
    }

    /// Appends rows `from..from + len` of `part` (its own row numbers) to `values`.
    fn read_part(&self, part: &Part, from: usize, len: usize, values: &mut Vec<f32>) -> Result<()> {
        let mut bytes = vec![0u8; len * self.cols * part.item];
        let offset = part.data_offset + (from * self.cols * part.item) as u64;
        part.file.read_exact_at(&mut bytes, offset).map_err(|e| Error::io(&part.path, e))?;
        let first_value = values.len();
        match part.item {
            4 => values.extend(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))),
            _ => values.extend(bytes.chunks_exact(8).map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32)),
        }
        if let Some(bad) = values[first_value..].iter().position(|v| !v.is_finite()) {
            let row = part.first_row + from + bad / self.cols.max(1);
            return Err(npy_error(&part.path, "finite values within the float32 range", format!("a non-finite value in row {row}")));
        }
        Ok(())
    }
}

/// `(rows, cols, bytes per value, data offset)` of a `.npy` file, from its header alone; the
/// file's length must match.
fn header(path: &Path) -> Result<(usize, usize, usize, u64)> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let header = NpyHeader::from_reader(&mut file).map_err(|e| npy_error(path, "a .npy file", e.to_string()))?;
    let data_offset = file.stream_position().map_err(|e| Error::io(path, e))?;
    let length = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let npy = NpyFile::with_header(header, std::io::empty());
    let shape = npy.shape().to_vec();
    let [rows, cols] = shape[..] else {
        return Err(npy_error(path, "a 2-D array [rows, columns]", format!("shape {shape:?}")));
    };
    let item = match npy.dtype() {
        npyz::DType::Plain(t)
            if t.type_char() == TypeChar::Float && matches!(t.size_field(), 4 | 8) && t.endianness() == Endianness::Little =>
        {
            t.size_field() as usize
        }
        other => {
            return Err(npy_error(path, "little-endian float32 or float64 (np.save(path, x.astype('float32')))", other.descr()));
        }
    };
    if npy.order() != Order::C {
        return Err(npy_error(path, "C order (np.ascontiguousarray)", "Fortran order"));
    }
    let (rows, cols) = (rows as usize, cols as usize);
    if rows == 0 || cols == 0 {
        return Err(npy_error(path, "at least one row and one column", format!("shape {shape:?}")));
    }
    let expected = data_offset + (rows * cols * item) as u64;
    if length != expected {
        return Err(npy_error(
            path,
            format!("{expected} bytes for shape {shape:?}"),
            format!("{length} bytes (truncated or with trailing data)"),
        ));
    }
    Ok((rows, cols, item, data_offset))
}

fn npy_error(path: &Path, expected: impl Into<String>, found: impl Into<String>) -> Error {
    Error::Npy { path: path.to_path_buf(), array: None, expected: expected.into(), found: found.into() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use npyz::WriterBuilder;

    fn write_f64(path: &Path, shape: &[u64], values: &[f64]) {
        let mut file = std::io::BufWriter::new(File::create(path).unwrap());
        let mut w = npyz::WriteOptions::new().default_dtype().shape(shape).writer(&mut file).begin_nd().unwrap();
        w.extend(values.iter().copied()).unwrap();
        w.finish().unwrap();
    }

    #[test]
    fn float64_rows_are_read_as_float32_in_ranges() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.npy");
        write_f64(&path, &[3, 2], &[0.5, 1.5, 2.5, 3.5, 4.5, 5.5]);
        let rows = NpyRows::open(&path).unwrap();
        assert_eq!(rows.read_rows(0, 3).unwrap(), vec![0.5, 1.5, 2.5, 3.5, 4.5, 5.5]);
        assert_eq!(rows.read_rows(2, 1).unwrap(), vec![4.5, 5.5]);
        assert!(rows.read_rows(2, 2).unwrap_err().to_string().contains("rows 2..4"));
        assert_eq!(rows.read_row_set(&[2, 0, 2]).unwrap(), vec![4.5, 5.5, 0.5, 1.5, 4.5, 5.5]);
        assert!(rows.read_row_set(&[3]).unwrap_err().to_string().contains("row 3"));
    }

    #[test]
    fn bad_files_are_named_with_what_they_hold() {
        let dir = tempfile::tempdir().unwrap();
        let one_d = dir.path().join("v.npy");
        npyz::to_file_1d(&one_d, vec![1.0f32, 2.0]).unwrap();
        assert!(NpyRows::open(&one_d).unwrap_err().to_string().contains("a 2-D array"));
        let ints = dir.path().join("i.npy");
        let mut file = std::io::BufWriter::new(File::create(&ints).unwrap());
        let mut w = npyz::WriteOptions::new().default_dtype().shape(&[1, 2]).writer(&mut file).begin_nd().unwrap();
        w.extend([1i64, 2]).unwrap();
        w.finish().unwrap();
        drop(file);
        assert!(NpyRows::open(&ints).unwrap_err().to_string().contains("float32 or float64"));
        let good = dir.path().join("g.npy");
        write_f64(&good, &[2, 2], &[1.0, 2.0, 3.0, 4.0]);
        let bytes = std::fs::read(&good).unwrap();
        std::fs::write(&good, &bytes[..bytes.len() - 8]).unwrap();
        assert!(NpyRows::open(&good).unwrap_err().to_string().contains("truncated"));
        let other = dir.path().join("folder");
        std::fs::create_dir(&other).unwrap();
        write_f64(&other.join("a.npy"), &[1, 2], &[1.0, 2.0]);
        write_f64(&other.join("b.npy"), &[1, 3], &[1.0, 2.0, 3.0]);
        assert!(NpyRows::open(&other).unwrap_err().to_string().contains("2 columns, as the files before it"));
    }
}
