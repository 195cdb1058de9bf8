//! Paper 004 (the DESOM workshop paper), Table 1 on MNIST: online SOM ("minisom"), gradient SOM
//! ("kerasom"), AE + online SOM, AE + gradient SOM and DESOM, purity and NMI with the paper's
//! values beside ours, trained by `paper002_desom`'s models and evaluation.

use super::image_sets::ImageSet;
use super::paper002_desom::models::{check_order, Inputs, OnlineSomSpec};
use super::paper002_desom::report::dataset_label;
use super::paper002_desom::{self as desom, PresetSpec, Spec as BaseSpec};
use super::results::Results;
use super::significance::{legend, marks, Marks};
use crate::context::RunContext;
use crate::report::{Section, Table};
use anyhow::Result;
use serde::Deserialize;
use std::fmt::Write as _;
use std::time::Instant;

/// The experiment spec (benches/specs/paper004_table1.toml); the model settings are
/// `paper002_desom`'s spec.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The dataset (paper: MNIST and REUTERS-10k; only MNIST has an offline source).
    pub dataset: ImageSet,
    /// Train and evaluate on the concatenated training and test sets (paper 004's protocol).
    pub joined: bool,
    /// The online SOM of minisom and AE+minisom.
    pub online_som: OnlineSomSpec,
    /// The quick preset.
    pub quick: PresetSpec,
    /// The full preset.
    pub full: PresetSpec,
}

/// The spec shipped with the project.
pub const SPEC: &str = include_str!("../../../../benches/specs/paper004_table1.toml");

/// Paper 004, Table 1: (row label, model id or `None` if not implemented here, [MNIST purity,
/// MNIST NMI, REUTERS-10k purity, REUTERS-10k NMI]), mean ± std over 10 runs.
const PAPER: &[(&str, Option<&str>, [&str; 4])] = &[
    ("minisom (8x8)", Some("online-som"), ["0.637 ± 0.023", "0.430 ± 0.016", "0.690 ± 0.028", "0.230 ± 0.024"]),
    ("kerasom (8x8)", Some("som"), ["0.826 ± 0.005", "0.565 ± 0.003", "0.697 ± 0.067", "0.324 ± 0.051"]),
    ("AE+minisom (8x8)", Some("ae-online-som"), ["0.872 ± 0.017", "0.616 ± 0.010", "0.690 ± 0.021", "0.235 ± 0.015"]),
    ("AE+kerasom (8x8)", Some("ae-som"), ["0.939 ± 0.003", "0.661 ± 0.002", "0.777 ± 0.012", "0.306 ± 0.010"]),
    ("SOM-VAE (8x8)", None, ["0.868 ± 0.003", "0.595 ± 0.002", "-", "-"]),
    ("DESOM (8x8)", Some("desom"), ["0.939 ± 0.004", "0.657 ± 0.004", "0.849 ± 0.011", "0.381 ± 0.009"]),
];

/// Table 1 with our purity and NMI (marked by the t-test) beside the paper's, and the
/// REUTERS-10k and USPS rows that are not run.
fn table(results: &Results, dataset: &str) -> Result<(Table, bool)> {
    let mut t = Table::new(["dataset", "method", "Pur (ours)", "Pur (paper)", "NMI (ours)", "NMI (paper)", "NMI geom. (ours)"]);
    let get = |id: Option<&str>, metric: &str| -> &[f64] { id.map_or(&[], |id| results.values(dataset, id, metric)) };
    let column = |metric: &str| -> Vec<&[f64]> { PAPER.iter().map(|(_, id, _)| get(*id, metric)).collect() };
    let (pur, nmi, nmi_geo) = (column("purity"), column("nmi"), column("nmi_geo"));
    let (pur_marks, nmi_marks) = (marks(&pur, true)?, marks(&nmi, true)?);
    for (i, (label, id, paper)) in PAPER.iter().enumerate() {
        let ours = |m: &Marks, v: &[f64]| match id {
            None => "not implemented".to_owned(),
            Some(_) if v.is_empty() => "not run".to_owned(),
            Some(_) => m.cell(i, v, 3),
        };
        t.row([
            dataset_label(dataset),
            (*label).to_owned(),
            ours(&pur_marks, pur[i]),
            paper[0].into(),
            ours(&nmi_marks, nmi[i]),
            paper[1].into(),
            ours(&Marks::Untested, nmi_geo[i]),
        ]);
    }
    for (label, id, paper) in PAPER {
        let ours = if id.is_some() { "not run: no offline source" } else { "not implemented" };
        t.row(["REUTERS-10k", label, ours, paper[2], ours, paper[3], ours]);
    }
    let none = "not run: no offline source";
    t.row(["USPS", "all methods", none, "- (not in Table 1)", none, "- (not in Table 1)", none]);
    Ok((t, pur_marks != Marks::Untested))
}

/// Runs the experiment and returns its report section.
pub fn run(ctx: &RunContext) -> Result<Section> {
    let spec: Spec = ctx.spec("paper004_table1", SPEC)?;
    let preset = ctx.pick(&spec.quick, &spec.full);
    check_order(&preset.models)?;
    let (base, base_text): (BaseSpec, String) = ctx.resolve_spec("paper002_desom", desom::SPEC)?;
    let dir = ctx.experiment_dir("paper004_table1")?;
    crate::context::write_file(&dir.join("paper002_desom_spec.toml"), base_text.as_bytes())?;
    let start = Instant::now();
    let data = desom::load(ctx, &base, spec.dataset, spec.joined)?;
    let dataset = spec.dataset.id();
    let mut results = Results::new();
    for &seed in &preset.seeds {
        let checkpoints = ctx.checkpoints.then(|| ctx.out.join("paper004_table1").join("checkpoints").join(dataset));
        let inputs = Inputs {
            spec: &base,
            preset,
            train: &data.train,
            test: &data.test,
            seed,
            checkpoints,
            resume: ctx.resume,
            online: Some(spec.online_som),
        };
        let mut run = desom::SeedRun::default();
        for &model in &preset.models {
            let (_, metrics, _) = run.fit_evaluate(&inputs, model, false, &data, dataset, &mut results)?;
            desom::record(&mut results, dataset, model.id(), &metrics);
        }
    }
    let wall = start.elapsed().as_secs_f64();
    crate::context::write_json(&dir.join("summary.json"), &results)?;
    let (t, tested) = table(&results, dataset)?;
    let samples = data.labels.len();
    let mut body = format!(
        "Settings (benches/specs/paper004_table1.toml, preset {}; map, AE, gamma, optimizer and batch from paper002_desom's \
         spec): seeds {:?}, {} DESOM iterations (paper: 10000), {} iterations of the gradient SOMs (paper: 10000), {} AE \
         pretraining iterations for AE+ models (paper: 200 epochs = 54688), online SOMs as many sample \
         presentations, learning rate {} -> {} and T {} -> {} (minisom's defaults, exponential instead of minisom's \
         asymptotic decay; prototypes drawn from data samples); {}; device {:?}, {} threads; {wall:.0} s in all. Paper values: mean ± std \
         over 10 runs. {}\n\n",
        ctx.preset.name(),
        preset.seeds,
        preset.iterations,
        preset.som_iterations,
        preset.ae_pretrain_iterations,
        spec.online_som.lr.start,
        spec.online_som.lr.end,
        spec.online_som.temperature.start,
        spec.online_som.temperature.end,
        if spec.joined {
            format!("trained and evaluated on all {samples} images (training and test sets concatenated, as in paper 004)")
        } else {
            format!("trained on the training set, evaluated on the {samples} test images")
        },
        ctx.device,
        tch::get_num_threads(),
        legend(tested),
    );
    let _ = write!(body, "{}\n\n", crate::experiments::paper002_desom::NMI_NORMALISATIONS);
    let _ = write!(body, "### Table 1: clustering of SOM-based models (8x8 map)\n\n{}\n", t.markdown());
    let _ = writeln!(
        body,
        "minisom: the online Kohonen SOM (paper 002, Algorithm 1) with minisom's default schedules; kerasom: the gradient \
         SOM (paper 002, Sec. 3.4), as in paper002_desom."
    );
    Ok(Section { title: "Paper 004: SOM-based models on MNIST (Table 1)".into(), body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_spec_parses_and_orders_models() {
        let spec: Spec = toml::from_str(SPEC).unwrap();
        for preset in [&spec.quick, &spec.full] {
            check_order(&preset.models).unwrap();
            assert!(preset.models.iter().all(|m| PAPER.iter().any(|(_, id, _)| *id == Some(m.id()))), "every model has a paper row");
        }
    }
}
