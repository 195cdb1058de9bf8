//! The datasets experiment: every synthetic generator, MNIST and Fashion-MNIST loaded and
//! verified, a summary table and scatter plots of the 2-D sets.

use crate::context::RunContext;
use crate::report::{Section, Table};
use anyhow::{Context, Result};
use protolearn_data::{mnist, BlobsConfig, CirclesConfig, Data, IdxDataset, ImageLayout, MadelonConfig, MoonsConfig, SpiralConfig};
use protolearn_plot::{scatter, Layout, ScatterPanel};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

/// A named generator of one synthetic dataset.
type Generator = (&'static str, Box<dyn Fn(&mut ChaCha8Rng) -> protolearn_data::Result<Data>>);

/// Seed of every generator in this experiment.
const SEED: u64 = 0;

/// Generates, loads, tabulates and plots; returns the report section.
pub fn run(ctx: &RunContext) -> Result<Section> {
    let dir = ctx.experiment_dir("datasets")?;
    let mut table = Table::new(["dataset", "samples", "sample shape", "classes", "class counts", "feature range", "seconds"]);
    let mut planar = Vec::new();
    let generators: [Generator; 5] = [
        ("spiral", Box::new(|rng| SpiralConfig { n_samples: 500, ..Default::default() }.generate(rng))),
        ("moons", Box::new(|rng| MoonsConfig { n_samples: 500, ..Default::default() }.generate(rng))),
        ("circles", Box::new(|rng| CirclesConfig { n_samples: 500, ..Default::default() }.generate(rng))),
        ("blobs", Box::new(|rng| BlobsConfig { n_samples: 500, ..Default::default() }.generate(rng))),
        (
            "madelon",
            Box::new(|rng| {
                MadelonConfig { n_samples: 100, n_features: 1000, n_informative: 100, class_sep: 8.0, ..Default::default() }.generate(rng)
            }),
        ),
    ];
    for (name, generate) in &generators {
        let start = Instant::now();
        let data = generate(&mut ChaCha8Rng::seed_from_u64(SEED)).with_context(|| format!("generating {name}"))?;
        add_row(&mut table, name, &data, start.elapsed().as_secs_f64());
        if data.n_features() == 2 {
            planar.push((name.to_string(), data));
        }
    }
    for dataset in [IdxDataset::Mnist, IdxDataset::FashionMnist] {
        let start = Instant::now();
        let split = mnist::load(dataset, &ctx.data_dirs, ImageLayout::Flat)
            .with_context(|| format!("loading {} (run `cargo xtask setup` to fetch it)", dataset.name()))?;
        let seconds = start.elapsed().as_secs_f64();
        add_row(&mut table, &format!("{}-train", dataset.name()), &split.train, seconds);
        add_row(&mut table, &format!("{}-test", dataset.name()), &split.test, 0.0);
    }
    let points: Vec<(String, Vec<[f64; 2]>, Vec<usize>)> = planar
        .iter()
        .map(|(name, d)| {
            let pts = d.rows().map(|r| [f64::from(r[0]), f64::from(r[1])]).collect();
            let labels = d.labels.as_deref().unwrap_or(&[]).iter().map(|&l| l as usize).collect();
            (name.clone(), pts, labels)
        })
        .collect();
    let panels: Vec<ScatterPanel> =
        points.iter().map(|(name, pts, labels)| ScatterPanel::new(pts).labels(labels).title(name.clone())).collect();
    let files = scatter(
        dir.join("synthetic"),
        &Layout::new().title(format!("Synthetic datasets (seed {SEED})")).columns(2).panel_size(420, 380),
        &panels,
    )?;
    println!("{}", table.plain());
    let body = format!(
        "Every generator run with seed {SEED} (ChaCha8), MNIST and Fashion-MNIST loaded from verified IDX files.\n\n{}\n![synthetic datasets]({})\n",
        table.markdown(),
        ctx.link(&files.png)
    );
    Ok(Section { title: "Datasets".into(), body })
}

fn add_row(table: &mut Table, name: &str, data: &Data, seconds: f64) {
    let (lo, hi) = data.features.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let shape = format!("{:?}", &data.shape[1..]);
    let counts = data.class_counts().map(|c| format!("{c:?}")).unwrap_or_else(|| "-".into());
    let classes = data.n_classes().map(|c| c.to_string()).unwrap_or_else(|| "-".into());
    table.row([
        name.to_string(),
        data.n_samples().to_string(),
        shape,
        classes,
        counts,
        format!("[{lo:.3}, {hi:.3}]"),
        format!("{seconds:.2}"),
    ]);
}
