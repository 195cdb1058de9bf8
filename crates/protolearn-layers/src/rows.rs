//! Row sources: where a batch rule reads its samples when they need not all be in memory at
//! once. A tensor is one (its rows are views); protolearn-train's `NpySource` reads `.npy` files
//! chunk by chunk. The batch SOM and Lloyd's k-means sum their statistics chunk after chunk, so
//! the memory they need is bounded by the chunk, not by the data.

use crate::error::{Error, Result};
use std::fmt::Debug;
use std::ops::Range;
use tch::Tensor;

/// Rows of a `[n, d]` table that can be read in ranges.
pub trait RowSource: Debug {
    /// Rows `n`.
    fn n_rows(&self) -> usize;
    /// Columns `d`.
    fn n_cols(&self) -> usize;
    /// Rows `start..start + len` as a `[len, d]` float tensor (on the source's device).
    fn rows(&self, start: usize, len: usize) -> Result<Tensor>;

    /// The rows `indices` in that order, `[indices.len(), d]` (a random minibatch). The default
    /// reads them one at a time.
    fn gather(&self, indices: &[i64]) -> Result<Tensor> {
        let rows = indices.iter().map(|&i| self.rows(i as usize, 1)).collect::<Result<Vec<_>>>()?;
        Ok(Tensor::f_cat(&rows, 0)?)
    }
}

impl RowSource for Tensor {
    fn n_rows(&self) -> usize {
        self.size().first().copied().unwrap_or(0) as usize
    }

    fn n_cols(&self) -> usize {
        self.size().get(1).copied().unwrap_or(0) as usize
    }

    fn rows(&self, start: usize, len: usize) -> Result<Tensor> {
        if self.dim() != 2 {
            return Err(Error::Shape { what: "row source", expected: "[n, d]".into(), got: self.size() });
        }
        Ok(self.f_narrow(0, start as i64, len as i64)?)
    }

    fn gather(&self, indices: &[i64]) -> Result<Tensor> {
        Ok(self.f_index_select(0, &Tensor::f_from_slice(indices)?.f_to_device(self.device())?)?)
    }
}

/// The consecutive ranges of at most `chunk_rows` rows (at least 1) that cover `range`.
pub fn chunk_ranges(range: Range<usize>, chunk_rows: usize) -> impl Iterator<Item = Range<usize>> {
    let step = chunk_rows.max(1);
    range.clone().step_by(step).map(move |start| start..(start + step).min(range.end))
}

/// The rows a model starts from when its data is read from `source`: all rows (read in chunks of
/// `chunk_rows`, drawing nothing from `rng`) when there are at most `max_rows`, else a uniform
/// sample of `max_rows` distinct rows drawn from `rng`, in row order.
pub fn sample_rows(source: &dyn RowSource, chunk_rows: usize, max_rows: usize, rng: &mut impl rand::Rng) -> Result<Tensor> {
    let n = source.n_rows();
    if n <= max_rows {
        return Ok(Tensor::f_cat(&chunks(source, 0..n, chunk_rows).collect::<Result<Vec<_>>>()?, 0)?);
    }
    let mut picked: Vec<i64> = rand::seq::index::sample(rng, n, max_rows).into_iter().map(|i| i as i64).collect();
    picked.sort_unstable();
    source.gather(&picked)
}

/// The chunks of `range` of `source`, read one after another.
pub fn chunks<'a>(source: &'a dyn RowSource, range: Range<usize>, chunk_rows: usize) -> impl Iterator<Item = Result<Tensor>> + 'a {
    chunk_ranges(range, chunk_rows).map(move |r| source.rows(r.start, r.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_range_in_order() {
        let ranges: Vec<_> = chunk_ranges(3..10, 3).collect();
        assert_eq!(ranges, vec![3..6, 6..9, 9..10]);
        let x = Tensor::arange(12, (tch::Kind::Float, tch::Device::Cpu)).view([6, 2]);
        let parts: Vec<Tensor> = chunks(&x, 1..6, 2).collect::<Result<_>>().unwrap();
        assert_eq!(parts.iter().map(|p| p.size()[0]).collect::<Vec<_>>(), vec![2, 2, 1]);
        assert_eq!(Tensor::cat(&parts, 0), x.narrow(0, 1, 5));
    }
}
