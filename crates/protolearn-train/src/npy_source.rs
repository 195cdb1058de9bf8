//! `.npy` files as a [`RowSource`]: protolearn-data's [`NpyRows`] (positioned reads of a file or
//! a folder of files) turned into float32 tensors on a device, one chunk at a time.

use protolearn_data::npy_rows::NpyRows;
use protolearn_layers::rows::RowSource;
use tch::{Device, Tensor};

/// Rows of `.npy` files read on demand onto `device` (see [`NpyRows`]).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use protolearn_layers::rows::RowSource;
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("x.npy");
/// npyz::to_file_1d(&path, vec![0.0f32])?; // a 1-D file is refused: rows need columns
/// assert!(protolearn_train::npy_source::NpySource::open(&path, tch::Device::Cpu).is_err());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct NpySource {
    rows: NpyRows,
    device: Device,
}

impl NpySource {
    /// Opens a `.npy` file or a folder of them (see [`NpyRows::open`]); chunks land on `device`.
    pub fn open(path: &std::path::Path, device: Device) -> protolearn_data::Result<NpySource> {
        Ok(NpySource { rows: NpyRows::open(path)?, device })
    }
}

impl RowSource for NpySource {
    fn n_rows(&self) -> usize {
        self.rows.n_rows()
    }

    fn n_cols(&self) -> usize {
        self.rows.n_cols()
    }

    fn rows(&self, start: usize, len: usize) -> protolearn_layers::Result<Tensor> {
        let values = self.rows.read_rows(start, len).map_err(|e| protolearn_layers::Error::InvalidConfig {
            field: "rows",
            expected: "readable .npy rows".into(),
            found: e.to_string(),
        })?;
        Ok(Tensor::from_slice(&values).f_view([len as i64, self.rows.n_cols() as i64])?.f_to_device(self.device)?)
    }

    fn gather(&self, indices: &[i64]) -> protolearn_layers::Result<Tensor> {
        let values = self.rows.read_row_set(indices).map_err(|e| protolearn_layers::Error::InvalidConfig {
            field: "rows",
            expected: "readable .npy rows".into(),
            found: e.to_string(),
        })?;
        Ok(Tensor::from_slice(&values).f_view([indices.len() as i64, self.rows.n_cols() as i64])?.f_to_device(self.device)?)
    }
}
