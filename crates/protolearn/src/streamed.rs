//! Fits on rows read chunk by chunk, for data larger than memory ([`crate::Estimator::fit_rows`]):
//! the rows scaled on the fly by the fitted scaler, the sample a model starts from, and the
//! training scores accumulated over the chunks.

use crate::error::Result;
use crate::families::TrainedModel;
use crate::scaler::FittedScaler;
use crate::scores::Scores;
use protolearn_layers::rows::{chunks, sample_rows, RowSource};
use protolearn_metrics::quantization_error_from;
use protolearn_train::quality::{best_units, map_quality};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::Tensor;

/// Rows sampled to start a model fitted on rows read in chunks (SOM initialisation, k-means++
/// seeding): all rows when there are fewer. Ten thousand rows fix the principal axes and the
/// seeds of maps and codebooks of the sizes the papers use (at most a few hundred units) while
/// staying a small read.
pub const INIT_ROWS: usize = 10_000;

/// The rows of a source scaled by a fitted scaler, `(x - offset) / scale` per chunk (the same
/// float32 operations as [`FittedScaler::apply`]).
#[derive(Debug)]
pub struct ScaledRows<'a> {
    source: &'a dyn RowSource,
    offset: Tensor,
    scale: Tensor,
}

impl<'a> ScaledRows<'a> {
    /// `source` scaled by `scaler`.
    pub fn new(source: &'a dyn RowSource, scaler: &FittedScaler) -> Self {
        ScaledRows { source, offset: Tensor::from_slice(&scaler.offset), scale: Tensor::from_slice(&scaler.scale) }
    }
}

impl RowSource for ScaledRows<'_> {
    fn n_rows(&self) -> usize {
        self.source.n_rows()
    }

    fn n_cols(&self) -> usize {
        self.source.n_cols()
    }

    fn rows(&self, start: usize, len: usize) -> protolearn_layers::Result<Tensor> {
        let x = self.source.rows(start, len)?;
        let (offset, scale) = (self.offset.to_device(x.device()), self.scale.to_device(x.device()));
        Ok((x - offset) / scale)
    }
}

/// The rows a model starts from: all rows when at most `max_rows`, else a seeded uniform sample
/// of `max_rows` of them in file order.
pub fn init_sample(source: &dyn RowSource, chunk_rows: usize, max_rows: usize, seed: u64) -> Result<Tensor> {
    Ok(sample_rows(source, chunk_rows, max_rows, &mut ChaCha8Rng::seed_from_u64(seed))?)
}

/// The training scores of `model` over all rows of `source` (QE and, on a grid, TE, each a mean
/// over the rows accumulated chunk by chunk) and every row's winning unit. Without labels:
/// purity, NMI and accuracy are `None`.
pub fn score_rows(model: &dyn TrainedModel, source: &dyn RowSource, chunk_rows: usize) -> Result<(Scores, Vec<usize>)> {
    let n = source.n_rows();
    let (mut units, mut qe, mut te) = (Vec::with_capacity(n), 0.0, 0.0);
    for x in chunks(source, 0..n, chunk_rows) {
        let distances = model.distances(&x?)?;
        let rows = distances.size()[0] as f64;
        match model.grid() {
            Some(grid) => {
                let q = map_quality(&distances, grid)?;
                qe += q.quantization_error * rows;
                te += q.topographic_error.unwrap_or(0.0) * rows;
                units.extend(q.units);
            }
            None => {
                let best = best_units(&distances)?;
                qe += quantization_error_from(&best)? * rows;
                units.extend(best.iter().map(|b| b.first.unit));
            }
        }
    }
    let rows = n.max(1) as f64;
    let topographic_error = model.grid().filter(|g| g.n_units() >= 2).map(|_| te / rows);
    let scores = Scores { n_samples: n, quantization_error: qe / rows, topographic_error, purity: None, nmi: None, accuracy: None };
    Ok((scores, units))
}
