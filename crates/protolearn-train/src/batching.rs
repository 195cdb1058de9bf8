//! How the one trainer draws its batches from a [`Dataset`]: the whole set every step, shuffled
//! epochs, or independent random draws, all from a seeded `ChaCha8Rng` (never libtorch's RNG).

use crate::error::{Error, Result};
use protolearn_data::tensor::{Batch, Batches, Dataset, LastBatch, RandomBatches};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// Which samples one training step sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Batching {
    /// Every step sees the whole dataset (paper 000's full-batch training; the batch SOM). This is
    /// also the mode for seed-batched replicas, whose features are `[replicas, n, d]`.
    Full,
    /// Consecutive batches of a permutation redrawn every epoch; the last, smaller batch of an
    /// epoch is dropped, so every batch has exactly `batch_size` samples.
    Shuffled {
        /// Samples per batch, at most the sample count.
        batch_size: usize,
    },
    /// Every batch is an independent uniform draw of `batch_size` distinct samples (paper 002,
    /// Algorithm 3: "draw a minibatch").
    Random {
        /// Samples per batch, at most the sample count.
        batch_size: usize,
    },
}

impl Batching {
    /// Steps in one epoch of `n_samples` samples: 1 for [`Batching::Full`], `n / batch_size`
    /// (the last, smaller batch dropped; at least 1) for shuffled and random batches.
    pub fn steps_per_epoch(&self, n_samples: usize) -> usize {
        match self.batch_size() {
            None => 1,
            Some(b) => (n_samples / b.max(1)).max(1),
        }
    }

    /// Samples per batch, `None` for [`Batching::Full`].
    pub fn batch_size(&self) -> Option<usize> {
        match *self {
            Batching::Full => None,
            Batching::Shuffled { batch_size } | Batching::Random { batch_size } => Some(batch_size),
        }
    }
}

/// Batches per epoch of `batch_size` shuffled samples of `data` (the last, smaller batch dropped).
pub fn steps_per_epoch(data: &Dataset, batch_size: usize) -> usize {
    Batching::Shuffled { batch_size }.steps_per_epoch(data.n_samples())
}

/// An endless stream of batches of one dataset in one [`Batching`] mode.
#[derive(Debug)]
pub(crate) enum BatchStream<'d> {
    /// The whole set, with its row indices `[n]`.
    Full { data: &'d Dataset, indices: Tensor },
    /// Shuffled epochs: the current epoch's remaining batches.
    Shuffled { data: &'d Dataset, batch_size: usize, rng: ChaCha8Rng, epoch: Option<Batches<'d>> },
    /// Independent random draws.
    Random(RandomBatches<'d, ChaCha8Rng>),
    /// One stream per replica, their batches stacked (`x` `[S, b, ...]`, `y` and `indices` `[S, b]`).
    Replicas(Vec<BatchStream<'d>>),
}

impl<'d> BatchStream<'d> {
    /// The stream of `data` in mode `batching`, its order drawn from `ChaCha8Rng::seed_from_u64(seed)`.
    pub(crate) fn new(data: &'d Dataset, batching: Batching, seed: u64) -> Result<Self> {
        let n = data.n_samples();
        if let Some(b) = batching.batch_size() {
            if b == 0 || b > n {
                return Err(Error::InvalidConfig {
                    field: "batch_size".into(),
                    expected: format!("a value in 1..={n} (the sample count)"),
                    found: b.to_string(),
                });
            }
        }
        let rng = ChaCha8Rng::seed_from_u64(seed);
        Ok(match batching {
            Batching::Full => BatchStream::Full { data, indices: Tensor::arange(n as i64, (Kind::Int64, data.device())) },
            Batching::Shuffled { batch_size } => BatchStream::Shuffled { data, batch_size, rng, epoch: None },
            Batching::Random { batch_size } => BatchStream::Random(data.random_batches(batch_size, rng)?),
        })
    }

    /// One stream per seed, in mode `batching`, whose batches are stacked along a leading replica
    /// dimension: replica `r` sees the batches of `BatchStream::new(data, batching, seeds[r])`.
    pub(crate) fn replicas(data: &'d Dataset, batching: Batching, seeds: &[u64]) -> Result<Self> {
        if seeds.is_empty() {
            return Err(Error::InvalidConfig { field: "seeds".into(), expected: "at least one seed".into(), found: "none".into() });
        }
        Ok(BatchStream::Replicas(seeds.iter().map(|&seed| BatchStream::new(data, batching, seed)).collect::<Result<_>>()?))
    }

    /// The next batch.
    pub(crate) fn next_batch(&mut self) -> Result<Batch> {
        match self {
            BatchStream::Full { data, indices } => {
                Ok(Batch { x: data.x.shallow_clone(), y: data.y.as_ref().map(Tensor::shallow_clone), indices: indices.shallow_clone() })
            }
            BatchStream::Shuffled { data, batch_size, rng, epoch } => loop {
                if let Some(batch) = epoch.as_mut().and_then(Iterator::next) {
                    return Ok(batch?);
                }
                *epoch = Some(data.shuffled_batches(*batch_size, LastBatch::Drop, rng)?);
            },
            BatchStream::Random(stream) => Ok(stream.next_batch()?),
            BatchStream::Replicas(streams) => {
                let batches = streams.iter_mut().map(BatchStream::next_batch).collect::<Result<Vec<_>>>()?;
                let stack = |parts: Vec<&Tensor>| Tensor::f_stack(&parts, 0);
                let x = stack(batches.iter().map(|b| &b.x).collect())?;
                let indices = stack(batches.iter().map(|b| &b.indices).collect())?;
                let y = batches.iter().map(|b| b.y.as_ref()).collect::<Option<Vec<_>>>().map(stack).transpose()?;
                Ok(Batch { x, y, indices })
            }
        }
    }
}
