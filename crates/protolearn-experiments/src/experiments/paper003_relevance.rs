//! Paper 003, experiment 4 of its issue: GMLVQ and GRLVQ on MADELON-style tabular data with a
//! few informative features among many useless ones. The relevances `diag(Lambda)` should rank
//! the informative features first (paper 003, Sec. 8, "feature importance"); the report gives
//! the rank of every informative feature, the test accuracy, and a heat map of `Lambda`.

use super::heads::{self, HeadTraining};
use crate::context::RunContext;
use crate::report::{mean_std, Section, Table};
use anyhow::{Context, Result};
use protolearn::config::ModelSpec;
use protolearn_data::tensor::Dataset;
use protolearn_data::{FeatureRole, MadelonConfig, SplitConfig, Standardizer};
use protolearn_layers::lvq::LvqConfig;
use protolearn_layers::precision::Precision;
use protolearn_plot::{image_grid, GridShape, ImagePanel, Intensity, Layout};
use protolearn_train::classifier::ClassifierRecord;
use protolearn_train::lvq::HeadInit;
use protolearn_train::observer::Silent;
use protolearn_train::optim::OptimizerConfig;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use std::fmt::Write as _;

/// MADELON-style tabular data: a few informative columns among `N(0, 1)` noise columns,
/// split and standardised (shared with the reject-option experiment).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TabularData {
    /// Samples.
    pub n_samples: usize,
    /// Columns.
    pub n_features: usize,
    /// Informative columns (the rest is `N(0, 1)` noise).
    pub n_informative: usize,
    /// Gaussian clusters per class.
    pub n_clusters_per_class: usize,
    /// Half the hypercube side.
    pub class_sep: f64,
    /// Test fraction of the stratified split.
    pub test_fraction: f64,
}

impl TabularData {
    /// The training and test sets of `seed` (generator, split), standardised on the training
    /// part, and the role of every column.
    pub fn load(&self, seed: u64, device: tch::Device) -> Result<(Dataset, Dataset, Vec<FeatureRole>)> {
        let config = MadelonConfig {
            n_samples: self.n_samples,
            n_features: self.n_features,
            n_informative: self.n_informative,
            n_redundant: 0,
            n_repeated: 0,
            n_clusters_per_class: self.n_clusters_per_class,
            class_sep: self.class_sep,
            ..MadelonConfig::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let madelon = config.generate_with_roles(&mut rng).context("MADELON data")?;
        let mut parts = SplitConfig { test_fraction: self.test_fraction, stratify: true }.split(&madelon.data, &mut rng)?;
        let scaler = Standardizer::fit_transform(&mut parts.train)?;
        scaler.transform(&mut parts.test)?;
        Ok((Dataset::from_data(&parts.train, device)?, Dataset::from_data(&parts.test, device)?, madelon.roles))
    }

    /// One line of settings for a report.
    pub fn describe(&self) -> String {
        format!(
            "MADELON generator (scikit-learn's make_classification), {} samples, {} columns of which {} informative and the rest N(0, 1) \
             noise, {} clusters per class, class_sep {}; stratified {:.0}/{:.0} split, standardised on the training part",
            self.n_samples,
            self.n_features,
            self.n_informative,
            self.n_clusters_per_class,
            self.class_sep,
            100.0 * (1.0 - self.test_fraction),
            100.0 * self.test_fraction
        )
    }
}

/// The experiment spec (benches/specs/paper003_relevance.toml).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The data.
    pub data: TabularData,
    /// Optimizer.
    pub optimizer: OptimizerConfig,
    /// Batch size.
    pub batch_size: usize,
    /// Weight of the eigenvalue regulariser.
    pub eigenvalue_weight: f64,
    /// The heads (named); each must have a relevance matrix (Omega or relevance dissimilarity).
    pub models: Vec<NamedHead>,
    /// The quick preset.
    pub quick: PresetSpec,
    /// The full preset.
    pub full: PresetSpec,
}

/// A named head.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedHead {
    /// Row name.
    pub name: String,
    /// The head.
    pub head: LvqConfig,
}

/// The sizes of one preset.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetSpec {
    /// Seeds (data, split and training).
    pub seeds: Vec<u64>,
    /// Epochs.
    pub epochs: usize,
}

/// The spec shipped with the project.
pub const SPEC: &str = include_str!("../../../../benches/specs/paper003_relevance.toml");

/// 1-based ranks (by decreasing relevance) of the columns with role `Informative`.
fn informative_ranks(relevance: &[f32], roles: &[FeatureRole]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..relevance.len()).collect();
    order.sort_by(|&a, &b| relevance[b].total_cmp(&relevance[a]).then(a.cmp(&b)));
    let mut ranks: Vec<usize> =
        order.iter().enumerate().filter(|(_, &j)| roles[j] == FeatureRole::Informative).map(|(r, _)| r + 1).collect();
    ranks.sort_unstable();
    ranks
}

/// Runs the experiment and returns its report section.
pub fn run(ctx: &RunContext) -> Result<Section> {
    let spec: Spec = ctx.spec("paper003_relevance", SPEC)?;
    let preset = ctx.pick(&spec.quick, &spec.full);
    let dir = ctx.experiment_dir("paper003_relevance")?;
    let mut table =
        Table::new(["head", "seed", "test accuracy", "ranks of the informative features", "informative in the top n_informative"]);
    let mut kept: Vec<(String, Vec<f64>, usize)> = Vec::new();
    let mut hits: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for &seed in &preset.seeds {
        let (train, test, roles) = spec.data.load(seed, ctx.device)?;
        let training = HeadTraining {
            optimizer: spec.optimizer,
            batch_size: spec.batch_size,
            epochs: preset.epochs,
            eigenvalue_weight: spec.eigenvalue_weight,
            precision: Precision::Fp32,
        };
        for model in &spec.models {
            let lvq = ModelSpec::Lvq(training.lvq(&model.head, HeadInit::Stratified, None)?);
            let fitted = heads::fit(lvq, seed, &train, Some(&test), &mut Silent).with_context(|| model.name.clone())?;
            let accuracy = ClassifierRecord::final_test_accuracy(fitted.history())?;
            let head = heads::lvq_model(&fitted)?.head();
            let lambda =
                head.dissimilarity.relevance_matrix().with_context(|| format!("{}: the head has no relevance matrix", model.name))?;
            let lambda = if lambda.dim() == 3 { lambda.mean_dim(0, false, tch::Kind::Float) } else { lambda };
            let diagonal = Vec::<f32>::try_from(lambda.diagonal(0, 0, 1).to_device(tch::Device::Cpu))?;
            let ranks = informative_ranks(&diagonal, &roles);
            let top = ranks.iter().filter(|&&r| r <= spec.data.n_informative).count();
            println!("  seed {seed}: {} test accuracy {accuracy:.3}, informative ranks {ranks:?}", model.name);
            hits.entry(model.name.clone()).or_default().push(top as f64 / spec.data.n_informative as f64);
            table.row([
                model.name.clone(),
                seed.to_string(),
                format!("{accuracy:.3}"),
                format!("{ranks:?}"),
                format!("{top} / {}", spec.data.n_informative),
            ]);
            if seed == preset.seeds[0] {
                let values = Vec::<f32>::try_from(lambda.flatten(0, -1).to_device(tch::Device::Cpu))?.into_iter().map(f64::from).collect();
                kept.push((model.name.clone(), values, diagonal.len()));
            }
        }
    }
    let panels: Vec<ImagePanel> = kept
        .iter()
        .map(|(name, values, d)| {
            ImagePanel::new(values, GridShape::new(1, 1), GridShape::new(*d, *d))
                .intensity(Intensity::PerImage)
                .title(format!("{name}: Lambda"))
        })
        .collect();
    let figure = image_grid(
        dir.join("relevance_matrices"),
        &Layout::new().title("Relevance matrices (first seed; white = high)").columns(kept.len().max(1)).panel_size(360, 380),
        &panels,
    )?;
    let mut body = format!(
        "Settings (benches/specs/paper003_relevance.toml, preset {}): {}; {} epochs, batch {}, {:?} lr {}, eigenvalue regulariser \
         weight {}. A rank is the position of an informative column when all columns are sorted by their relevance diag(Lambda) \
         (1 = most relevant).\n\n{}\n",
        ctx.preset.name(),
        spec.data.describe(),
        preset.epochs,
        spec.batch_size,
        spec.optimizer.kind,
        spec.optimizer.lr,
        spec.eigenvalue_weight,
        table.markdown()
    );
    for (name, h) in &hits {
        let _ = writeln!(body, "- {name}: fraction of the informative features in the top {}: {}", spec.data.n_informative, mean_std(h, 2));
    }
    let _ = write!(body, "\n![Relevance matrices]({})\n", ctx.link(&figure.png));
    Ok(Section { title: "Paper 003: GMLVQ / GRLVQ relevances on MADELON-style data".into(), body })
}
