//! k-means (the baseline of papers 001 and 002) as an estimator family, configured by the layer's
//! own [`KMeansConfig`]: greedy k-means++ seeds, Lloyd iterations, restarts; it can mask missing
//! input components.

use super::prototypes::{Prototypes, PROTOTYPES};
use super::{Family, FitContext, SavedModel, TrainedModel};
use crate::error::Result;
use protolearn_data::tensor::Dataset;
use protolearn_layers::kmeans::KMeansConfig;
use protolearn_layers::rows::RowSource;
use protolearn_train::kmeans::fit_runs;
use protolearn_train::observer::Observer;

impl Family for KMeansConfig {
    fn kind(&self) -> &'static str {
        "kmeans"
    }

    /// The counts and `tol`; a seed in the model table is an error, since the estimator's `seed`
    /// seeds every family.
    fn validate(&self) -> Result<()> {
        if self.seed != 0 {
            return Err(crate::Error::invalid("model.seed", "none: a k-means model is seeded by the top-level `seed`", self.seed));
        }
        Ok(KMeansConfig::validate(self)?)
    }

    fn compares_components(&self) -> bool {
        true
    }

    /// Every restart's Lloyd run steps on the trainer ([`fit_runs`]: a record per Lloyd step of
    /// every restart); no checkpoints (the runs keep their centroids to themselves and a fit is
    /// short: a resumed fit runs it again).
    fn fit(&self, data: &Dataset, context: &FitContext<'_>, observer: &mut dyn Observer) -> Result<Box<dyn TrainedModel>> {
        let config = KMeansConfig { seed: context.seed, ..*self };
        let fit = fit_runs(&config.runs(&data.x, context.components)?, self.max_iter, observer)?;
        Ok(Box::new(Prototypes::new(fit.centroids, context.components)))
    }

    /// [`KMeansConfig::runs_over_rows`], seeded from [`crate::streamed::INIT_ROWS`] sampled rows.
    fn fit_rows(
        &self,
        source: &dyn RowSource,
        chunk_rows: usize,
        context: &FitContext<'_>,
        observer: &mut dyn Observer,
    ) -> Result<Box<dyn TrainedModel>> {
        let config = KMeansConfig { seed: context.seed, ..*self };
        let fit = fit_runs(&config.runs_over_rows(source, chunk_rows, crate::streamed::INIT_ROWS)?, self.max_iter, observer)?;
        Ok(Box::new(Prototypes::new(fit.centroids, context.components)))
    }

    fn load(&self, saved: &SavedModel<'_>) -> Result<Box<dyn TrainedModel>> {
        Ok(Box::new(Prototypes::new(saved.tensor(PROTOTYPES)?.shallow_clone(), saved.components)))
    }
}
