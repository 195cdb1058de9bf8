//! Tensor datasets on a libtorch device and seeded minibatch iterators over them (feature `tch`).
//!
//! The whole dataset lives on the training device; a batch is `index_select` of a slice of an
//! index tensor that was generated on the host by the caller's RNG (never libtorch's global
//! RNG) and moved to the device once per epoch, so no features cross the host-device
//! boundary per step.

use rand::Rng;
use tch::{Device, Kind, Tensor};

use crate::data::Data;
use crate::error::{Error, Result};
use crate::shuffle::permutation;

/// Features and optional labels as tensors on one device.
#[derive(Debug)]
pub struct Dataset {
    /// Features `[n, ...]`, `f32`.
    pub x: Tensor,
    /// Labels `[n]`, `i64`, if the data is labelled.
    pub y: Option<Tensor>,
}

/// What to do with the last, smaller batch of an epoch when `batch_size` does not divide `n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LastBatch {
    /// Yield it: every sample is seen exactly once per epoch (`ceil(n / batch_size)` batches).
    #[default]
    Keep,
    /// Skip it: every batch has exactly `batch_size` samples (`floor(n / batch_size)` batches).
    Drop,
}

/// One minibatch, on the dataset's device.
#[derive(Debug)]
pub struct Batch {
    /// Features `[b, ...]`.
    pub x: Tensor,
    /// Labels `[b]`, if the dataset has labels.
    pub y: Option<Tensor>,
    /// Row indices into the dataset `[b]`, `i64`.
    pub indices: Tensor,
}

impl Dataset {
    /// Wraps tensors after checking that `x` has at least one dimension and that `y`, if any,
    /// is `[n]` `i64` on the same device.
    pub fn new(x: Tensor, y: Option<Tensor>) -> Result<Self> {
        let n = *x.size().first().ok_or_else(|| Error::Shape { expected: "features [n, ...]".into(), got: "a scalar tensor".into() })?;
        if let Some(y) = &y {
            if y.size() != [n] || y.kind() != Kind::Int64 || y.device() != x.device() {
                return Err(Error::Shape {
                    expected: format!("labels [{n}] Int64 on {:?}", x.device()),
                    got: format!("{:?} {:?} on {:?}", y.size(), y.kind(), y.device()),
                });
            }
        }
        Ok(Dataset { x, y })
    }

    /// Copies `data` to `device`: `x` keeps `data.shape`, `y` holds the labels.
    pub fn from_data(data: &Data, device: Device) -> Result<Self> {
        let shape = data
            .shape
            .iter()
            .map(|&d| i64::try_from(d).map_err(|_| Error::invalid("shape", "dimensions < 2^63", d)))
            .collect::<Result<Vec<i64>>>()?;
        let x = Tensor::f_from_slice(&data.features)?.f_view(shape.as_slice())?.f_to_device(device)?;
        let y = match &data.labels {
            Some(l) => Some(Tensor::f_from_slice(l)?.f_to_device(device)?),
            None => None,
        };
        Self::new(x, y)
    }

    /// Number of samples `n`.
    pub fn n_samples(&self) -> usize {
        self.x.size().first().map_or(0, |&n| n as usize)
    }

    /// The device holding the tensors.
    pub fn device(&self) -> Device {
        self.x.device()
    }

    /// The samples at `indices` (`[b]` `i64` on the dataset's device).
    pub fn select(&self, indices: &Tensor) -> Result<Batch> {
        let x = self.x.f_index_select(0, indices)?;
        let y = match &self.y {
            Some(y) => Some(y.f_index_select(0, indices)?),
            None => None,
        };
        Ok(Batch { x, y, indices: indices.shallow_clone() })
    }

    /// One epoch in a random order: a permutation drawn from `rng`, cut into batches of
    /// `batch_size`; the same RNG state gives the same batches.
    pub fn shuffled_batches(&self, batch_size: usize, last: LastBatch, rng: &mut impl Rng) -> Result<Batches<'_>> {
        let order = permutation(self.n_samples(), rng);
        self.batches_in(order, batch_size, last)
    }

    /// One epoch in index order (for evaluation).
    pub fn sequential_batches(&self, batch_size: usize, last: LastBatch) -> Result<Batches<'_>> {
        self.batches_in((0..self.n_samples()).collect(), batch_size, last)
    }

    /// An endless stream of batches of `batch_size` distinct random samples each, for
    /// iteration-based training (DESOM); batches are independent of each other.
    pub fn random_batches<R: Rng>(&self, batch_size: usize, rng: R) -> Result<RandomBatches<'_, R>> {
        Ok(RandomBatches { data: self, indices: RandomIndices::new(self.n_samples(), batch_size, rng)?, chunk: None, next: 0 })
    }

    fn batches_in(&self, order: Vec<usize>, batch_size: usize, last: LastBatch) -> Result<Batches<'_>> {
        if batch_size == 0 {
            return Err(Error::invalid("batch_size", "at least 1", 0));
        }
        let n = order.len();
        let n_batches = match last {
            LastBatch::Keep => n.div_ceil(batch_size),
            LastBatch::Drop => n / batch_size,
        };
        let order: Vec<i64> = order.into_iter().map(|i| i as i64).collect();
        let order = Tensor::f_from_slice(&order)?.f_to_device(self.device())?;
        Ok(Batches { data: self, order, n, batch_size, n_batches, next: 0 })
    }
}

/// The batches of one epoch ([`Dataset::shuffled_batches`], [`Dataset::sequential_batches`]).
#[derive(Debug)]
pub struct Batches<'a> {
    data: &'a Dataset,
    /// Sample order `[n]` on the dataset's device.
    order: Tensor,
    n: usize,
    batch_size: usize,
    n_batches: usize,
    next: usize,
}

impl Iterator for Batches<'_> {
    type Item = Result<Batch>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.n_batches {
            return None;
        }
        let start = self.next * self.batch_size;
        let len = self.batch_size.min(self.n - start);
        self.next += 1;
        Some(self.order.f_narrow(0, start as i64, len as i64).map_err(Error::from).and_then(|idx| self.data.select(&idx)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.n_batches - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Batches<'_> {}

/// Batches whose indices are drawn on the host per upload (see [`RandomBatches`]).
const BATCHES_PER_UPLOAD: usize = 64;

/// An endless stream of random batches ([`Dataset::random_batches`]).
///
/// Each batch is a uniformly random set of `batch_size` distinct samples (a partial
/// Fisher–Yates shuffle of a persistent index pool). Indices for 64 batches are drawn and
/// moved to the device at once, so the host-device traffic is one small index upload per 64
/// steps.
#[derive(Debug)]
pub struct RandomBatches<'a, R> {
    data: &'a Dataset,
    indices: RandomIndices<R>,
    /// Indices `[64 · batch_size]` on the device, consumed `batch_size` at a time.
    chunk: Option<Tensor>,
    next: usize,
}

/// The sample indices of random batches: each batch a uniformly random set of `batch_size`
/// distinct indices of `0..n`, from a partial Fisher–Yates shuffle of a persistent pool (the
/// draws of [`RandomBatches`], also used for rows read from disk).
#[derive(Debug, Clone)]
pub struct RandomIndices<R> {
    rng: R,
    pool: Vec<i64>,
    batch_size: usize,
}

impl<R: Rng> RandomIndices<R> {
    /// Batches of `batch_size` (in `1..=n`) distinct indices of `0..n`, drawn from `rng`.
    pub fn new(n: usize, batch_size: usize, rng: R) -> Result<Self> {
        if batch_size == 0 || batch_size > n {
            return Err(Error::invalid("batch_size", format!("a value in 1..={n} (the sample count)"), batch_size));
        }
        Ok(RandomIndices { rng, pool: (0..n as i64).collect(), batch_size })
    }

    /// The next batch's indices, in draw order.
    pub fn next_indices(&mut self) -> &[i64] {
        let (n, k) = (self.pool.len(), self.batch_size);
        for j in 0..k {
            let r = self.rng.random_range(j as u64..n as u64) as usize;
            self.pool.swap(j, r);
        }
        &self.pool[..k]
    }
}

impl<R: Rng> RandomBatches<'_, R> {
    fn refill(&mut self) -> Result<Tensor> {
        let mut indices = Vec::with_capacity(BATCHES_PER_UPLOAD * self.indices.batch_size);
        for _ in 0..BATCHES_PER_UPLOAD {
            indices.extend_from_slice(self.indices.next_indices());
        }
        Ok(Tensor::f_from_slice(&indices)?.f_to_device(self.data.device())?)
    }

    /// The next batch (the stream never ends; [`Iterator::next`] wraps this in `Some`).
    pub fn next_batch(&mut self) -> Result<Batch> {
        if self.next == BATCHES_PER_UPLOAD {
            self.chunk = None;
        }
        let chunk = match self.chunk.take() {
            Some(c) => c,
            None => {
                self.next = 0;
                self.refill()?
            }
        };
        let k = self.indices.batch_size as i64;
        let idx = chunk.f_narrow(0, self.next as i64 * k, k)?;
        self.chunk = Some(chunk);
        self.next += 1;
        self.data.select(&idx)
    }
}

impl<R: Rng> Iterator for RandomBatches<'_, R> {
    type Item = Result<Batch>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(self.next_batch())
    }
}
