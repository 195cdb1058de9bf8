//! Paper 003, experiment 7 of its issue: a 2-D picture of prototype heads — prototypes,
//! decision regions and reject regions of GLVQ, GMLVQ and RSLVQ heads (trained on the points,
//! no backbone) on moons and blobs. A grid point is rejected when it lies outside every n-ball
//! (radius: a quantile of the winning distances of the training points) or when its relative
//! similarity is below a threshold.

use super::heads::{self, HeadTraining};
use crate::context::RunContext;
use crate::report::{Section, Table};
use anyhow::{Context, Result};
use protolearn::config::ModelSpec;
use protolearn_data::tensor::Dataset;
use protolearn_data::{BlobsConfig, Data, MoonsConfig};
use protolearn_layers::lvq::reject::{fit_radii, inside_a_ball, relative_similarity};
use protolearn_layers::lvq::LvqConfig;
use protolearn_layers::precision::Precision;
use protolearn_layers::PrototypeLayer;
use protolearn_plot::{scatter, Layout, Prototypes, ScatterPanel};
use protolearn_train::classifier::ClassifierRecord;
use protolearn_train::lvq::HeadInit;
use protolearn_train::observer::Silent;
use protolearn_train::optim::OptimizerConfig;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use tch::{Kind, Tensor};

/// The experiment spec (benches/specs/paper003_toy.toml).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Two moons (2 classes).
    pub moons: MoonsSpec,
    /// Gaussian blobs (3 classes).
    pub blobs: BlobsSpec,
    /// The heads; their `classes` is set per dataset.
    pub models: Vec<NamedHead>,
    /// Optimizer.
    pub optimizer: OptimizerConfig,
    /// Batch size.
    pub batch_size: usize,
    /// Epochs.
    pub epochs: usize,
    /// Grid points per axis of the region picture.
    pub resolution: usize,
    /// Quantile of the winning distances that is a prototype's radius.
    pub radius_quantile: f64,
    /// Relative similarity below which a point is rejected.
    pub similarity_threshold: f64,
    /// Seed of data and training.
    pub seed: u64,
}

/// The moons.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoonsSpec {
    /// Points.
    pub n_samples: usize,
    /// Noise standard deviation.
    pub noise: f64,
}

/// The blobs.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlobsSpec {
    /// Points.
    pub n_samples: usize,
    /// Classes (blob centres).
    pub classes: usize,
    /// Standard deviation of each blob.
    pub cluster_std: f64,
}

/// A named head.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedHead {
    /// Panel name.
    pub name: String,
    /// The head.
    pub head: LvqConfig,
}

/// The spec shipped with the project.
pub const SPEC: &str = include_str!("../../../../benches/specs/paper003_toy.toml");

/// `[x, y]` rows of a `[n, 2]` tensor or feature vector.
fn points(values: &[f32]) -> Vec<[f64; 2]> {
    values.chunks(2).map(|p| [f64::from(p[0]), f64::from(p[1])]).collect()
}

/// A `resolution x resolution` grid over the data's bounding box, widened by 15% on each side.
fn grid(x: &[[f64; 2]], resolution: usize) -> Vec<f32> {
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in x {
        for a in 0..2 {
            lo[a] = lo[a].min(p[a]);
            hi[a] = hi[a].max(p[a]);
        }
    }
    let pad = [(hi[0] - lo[0]) * 0.15, (hi[1] - lo[1]) * 0.15];
    let step = |a: usize, i: usize| lo[a] - pad[a] + (hi[a] - lo[a] + 2.0 * pad[a]) * i as f64 / (resolution - 1).max(1) as f64;
    (0..resolution).flat_map(|i| (0..resolution).flat_map(move |j| [step(0, j) as f32, step(1, i) as f32])).collect()
}

/// Runs the experiment and returns its report section.
pub fn run(ctx: &RunContext) -> Result<Section> {
    let spec: Spec = ctx.spec("paper003_toy", SPEC)?;
    let dir = ctx.experiment_dir("paper003_toy")?;
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let sets: Vec<(&str, Data, usize)> = vec![
        ("moons", MoonsConfig { n_samples: spec.moons.n_samples, noise: spec.moons.noise, shuffle: true }.generate(&mut rng)?, 2),
        (
            "blobs",
            BlobsConfig {
                n_samples: spec.blobs.n_samples,
                n_features: 2,
                cluster_std: spec.blobs.cluster_std,
                centers: protolearn_data::BlobCenters::Random(spec.blobs.classes),
                ..BlobsConfig::default()
            }
            .generate(&mut rng)?,
            spec.blobs.classes,
        ),
    ];
    let mut owned = Vec::new();
    let mut table = Table::new(["dataset", "head", "training accuracy", "grid rejected"]);
    for (name, data, classes) in &sets {
        let train = Dataset::from_data(data, ctx.device)?;
        let xy = points(&data.features);
        let labels: Vec<usize> = data.labels.as_ref().context("labelled data")?.iter().map(|&c| c as usize).collect();
        owned.push((format!("{name}: data"), xy.clone(), labels, Vec::new(), Vec::new()));
        let grid_values = grid(&xy, spec.resolution);
        let grid_tensor = Tensor::from_slice(&grid_values).view([-1, 2]).to_device(ctx.device);
        let training = HeadTraining {
            optimizer: spec.optimizer,
            batch_size: spec.batch_size,
            epochs: spec.epochs,
            eigenvalue_weight: 0.0,
            precision: Precision::Fp32,
        };
        for model in &spec.models {
            let head = LvqConfig { classes: *classes as i64, ..model.head };
            let lvq = ModelSpec::Lvq(training.lvq(&head, HeadInit::Stratified, None)?);
            let fitted =
                heads::fit(lvq, spec.seed, &train, Some(&train), &mut Silent).with_context(|| format!("{name}: {}", model.name))?;
            let accuracy = ClassifierRecord::final_test_accuracy(fitted.history())?;
            let run = heads::lvq_model(&fitted)?;
            let _guard = tch::no_grad_guard();
            let radii = fit_radii(&run.head().distances(&train.x)?, spec.radius_quantile)?;
            let d = run.head().distances(&grid_tensor)?;
            let prototype_labels = run.head().prototype_labels().context("labels")?;
            let accepted = inside_a_ball(&d, &radii).logical_and(&relative_similarity(&d, &prototype_labels).ge(spec.similarity_threshold));
            let predicted = run.head().predict(&grid_tensor)?.masked_fill(&accepted.logical_not(), *classes as i64);
            let region: Vec<usize> = Vec::<i64>::try_from(predicted.to_device(tch::Device::Cpu))?.into_iter().map(|c| c as usize).collect();
            let rejected = region.iter().filter(|&&c| c == *classes).count() as f64 / region.len() as f64;
            table.row([(*name).to_owned(), model.name.clone(), format!("{accuracy:.3}"), format!("{:.1}%", 100.0 * rejected)]);
            let protos = points(&Vec::<f32>::try_from(
                run.head().prototypes(&grid_tensor).to_kind(Kind::Float).flatten(0, -1).to_device(tch::Device::Cpu),
            )?);
            let components: Vec<usize> =
                Vec::<i64>::try_from(prototype_labels.to_device(tch::Device::Cpu))?.into_iter().map(|c| c as usize).collect();
            owned.push((format!("{name}: {} (colour {classes} = reject)", model.name), points(&grid_values), region, protos, components));
        }
    }
    let panels: Vec<ScatterPanel> = owned
        .iter()
        .map(|(title, xy, labels, protos, components)| {
            let panel = ScatterPanel::new(xy).labels(labels).title(title.clone());
            if protos.is_empty() {
                panel
            } else {
                panel.prototypes(Prototypes::new(protos).components(components))
            }
        })
        .collect();
    let columns = spec.models.len() + 1;
    let figure = scatter(
        dir.join("regions"),
        &Layout::new().title("Prototypes, decision regions and reject regions").columns(columns).panel_size(360, 340),
        &panels,
    )?;
    let body = format!(
        "Settings (benches/specs/paper003_toy.toml): moons ({} points, noise {}) and {} Gaussian blobs ({} points, std {}), seed {}; each head \
         trained on the points for {} epochs (batch {}, {:?} lr {}). Grid points are rejected outside every n-ball (radius: the {} quantile \
         of the training points' winning distances) or below relative similarity {}; they take the extra colour.\n\n{}\n![Decision and reject regions]({})\n",
        spec.moons.n_samples,
        spec.moons.noise,
        spec.blobs.classes,
        spec.blobs.n_samples,
        spec.blobs.cluster_std,
        spec.seed,
        spec.epochs,
        spec.batch_size,
        spec.optimizer.kind,
        spec.optimizer.lr,
        spec.radius_quantile,
        spec.similarity_threshold,
        table.markdown(),
        ctx.link(&figure.png)
    );
    Ok(Section { title: "Paper 003: prototypes, decision and reject regions in 2-D".into(), body })
}
