//! The report of the sweeps: Tables 4-6 with the paper's values beside ours and the bold marks
//! of the t-test, Fig. 2 (latent QE and TE against `γ`) and Fig. 3 (latent QE against `L` with
//! the fitted `c sqrt(L)`).

use super::fit::sqrt_fit;
use super::paper::{dataset_index, CONV, GAMMA, LATENT};
use super::{variants, BaseSpec, SweepPreset, Variant};
use crate::context::RunContext;
use crate::experiments::paper002_desom::models::Model;
use crate::experiments::paper002_desom::report::dataset_label;
use crate::experiments::results::Results;
use crate::experiments::significance::{legend, marks, Marks};
use crate::report::{mean_std, Section, Table};
use anyhow::Result;
use protolearn_metrics::{mean, std_dev};
use protolearn_plot::{curves, CurvePanel, Layout, Series};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One sweep table (Table 4 or 5): per dataset a row per grid value with purity and NMI (ours,
/// marked; the paper's), our geometric NMI and our latent QE / TE. `rows` are (label, run key, the paper's four
/// columns if the paper has the value). Returns the table and whether every column was tested.
fn sweep_table(results: &Results, first: &str, rows: &[(String, String, Option<[&str; 4]>)]) -> Result<(Table, bool)> {
    let mut t = Table::new([
        "dataset",
        first,
        "Pur (ours)",
        "Pur (paper)",
        "NMI (ours)",
        "NMI (paper)",
        "NMI geom. (ours)",
        "latent QE (ours)",
        "latent TE (ours)",
    ]);
    let mut tested = true;
    for dataset in results.datasets() {
        let column = |metric: &str| -> Vec<&[f64]> { rows.iter().map(|(_, key, _)| results.values(dataset, key, metric)).collect() };
        let (pur, nmi) = (column("purity"), column("nmi"));
        let (pur_marks, nmi_marks) = (marks(&pur, true)?, marks(&nmi, true)?);
        tested &= pur_marks != Marks::Untested;
        let d = dataset_index(dataset);
        for (i, (label, key, paper)) in rows.iter().enumerate() {
            let paper_cell = |c: usize| d.zip(*paper).map_or("-".to_owned(), |(d, p)| p[2 * d + c].to_owned());
            t.row([
                dataset_label(dataset),
                label.clone(),
                pur_marks.cell(i, pur[i], 3),
                paper_cell(0),
                nmi_marks.cell(i, nmi[i], 3),
                paper_cell(1),
                mean_std(results.values(dataset, key, "nmi_geo"), 3),
                mean_std(results.values(dataset, key, "qe_latent"), 3),
                mean_std(results.values(dataset, key, "te_latent"), 3),
            ]);
        }
    }
    Ok((t, tested))
}

/// Table 6: DESOM (the default variant) and ConvDESOM, purity, NMI, QE and TE (pixel space).
fn conv_table(results: &Results, desom_key: &str) -> Table {
    let metrics = [("purity", "Pur", 3), ("nmi", "NMI", 3), ("qe", "QE", 3), ("te", "TE", 3)];
    let mut header = vec!["dataset".to_owned(), "model".to_owned()];
    for (_, name, _) in metrics {
        header.extend([format!("{name} (ours)"), format!("{name} (paper)")]);
    }
    header.push("NMI geom. (ours)".to_owned());
    let mut t = Table::new(header);
    for dataset in results.datasets() {
        for (id, key, label) in [("desom", desom_key, "DESOM"), ("conv-desom", Model::ConvDesom.id(), "ConvDESOM")] {
            let paper = CONV.iter().find(|(m, _)| *m == id).zip(dataset_index(dataset)).map(|((_, p), d)| p[d]);
            let mut row = vec![dataset_label(dataset), label.to_owned()];
            for (c, (metric, _, digits)) in metrics.iter().enumerate() {
                let ours = results.values(dataset, key, metric);
                row.push(if ours.is_empty() { "not run".into() } else { mean_std(ours, *digits) });
                row.push(paper.map_or("-".into(), |p| p[c].to_owned()));
            }
            let geo = results.values(dataset, key, "nmi_geo");
            row.push(if geo.is_empty() { "not run".into() } else { mean_std(geo, 3) });
            t.row(row);
        }
    }
    t
}

/// Mean and mean ± std (the std is 0 for one seed) of `metric` over seeds per key.
fn curve(results: &Results, dataset: &str, keys: &[String], metric: &str) -> Result<[Vec<f64>; 3]> {
    let mut out = [Vec::new(), Vec::new(), Vec::new()];
    for key in keys {
        let v = results.values(dataset, key, metric);
        let (m, s) = (mean(v)?, std_dev(v).unwrap_or(0.0));
        out[0].push(m);
        out[1].push(m - s);
        out[2].push(m + s);
    }
    Ok(out)
}

/// Fig. 2: latent QE and TE against `γ` (log axis), one series per dataset, band mean ± std.
fn gamma_figure(dir: &Path, results: &Results, base: &BaseSpec, gammas: &[f64]) -> Result<Option<PathBuf>> {
    if gammas.len() < 2 {
        return Ok(None);
    }
    let keys: Vec<String> = gammas.iter().map(|&gamma| Variant { gamma, latent: base.dense.latent_dim }.key()).collect();
    let metrics = [("qe_latent", "latent QE"), ("te_latent", "latent TE")];
    let mut data = Vec::new();
    for (metric, _) in metrics {
        let per: Vec<(String, [Vec<f64>; 3])> =
            results.datasets().map(|d| Ok((dataset_label(d), curve(results, d, &keys, metric)?))).collect::<Result<_>>()?;
        data.push(per);
    }
    let panels: Vec<CurvePanel> = metrics
        .iter()
        .zip(&data)
        .map(|((_, name), per)| {
            let series = per.iter().map(|(d, [m, lo, hi])| Series::new(d.clone(), gammas, m).band(lo, hi)).collect();
            CurvePanel::new(series).title(format!("{name} against gamma")).axis_labels("gamma", *name).log_x(true)
        })
        .collect();
    let layout =
        Layout::new().title("Fig. 2 analogue: DESOM latent QE and TE against gamma (test set, mean ± std)").columns(2).panel_size(460, 320);
    Ok(Some(curves(dir.join("fig2_gamma"), &layout, &panels)?.png))
}

/// Per dataset of Fig. 3: label, fitted `c` and `R²`.
type SqrtFits = Vec<(String, f64, f64)>;

/// Fig. 3: latent QE against `L` per dataset with the fitted `c sqrt(L)`; returns the figure and
/// per dataset (label, c, R²).
fn latent_figure(dir: &Path, results: &Results, base: &BaseSpec, latents: &[i64]) -> Result<Option<(PathBuf, SqrtFits)>> {
    if latents.len() < 2 {
        return Ok(None);
    }
    let keys: Vec<String> = latents.iter().map(|&latent| Variant { gamma: base.gamma, latent }.key()).collect();
    let x: Vec<f64> = latents.iter().map(|&l| l as f64).collect();
    let (lo, hi) = (x[0].min(x[x.len() - 1]), x[0].max(x[x.len() - 1]));
    let dense: Vec<f64> = (0..=50).map(|i| lo + (hi - lo) * f64::from(i) / 50.0).collect();
    let mut per = Vec::new();
    for d in results.datasets() {
        let c = curve(results, d, &keys, "qe_latent")?;
        let (coef, r2) = sqrt_fit(&x, &c[0])?;
        let fitted: Vec<f64> = dense.iter().map(|l| coef * l.sqrt()).collect();
        per.push((dataset_label(d), c, coef, r2, fitted));
    }
    let mut series = Vec::new();
    for (d, [m, lo, hi], coef, _, fitted) in &per {
        series.push(Series::new(format!("{d} (ours)"), &x, m).band(lo, hi));
        series.push(Series::new(format!("{coef:.3} sqrt(L), {d}"), &dense, fitted));
    }
    let panel = CurvePanel::new(series).title("latent QE against L").axis_labels("latent dimension L", "latent QE");
    let layout = Layout::new().title("Fig. 3 analogue: latent QE against L, fitted c sqrt(L)").columns(1).panel_size(640, 380);
    let files = curves(dir.join("fig3_latent"), &layout, &[panel])?;
    Ok(Some((files.png, per.into_iter().map(|(d, _, c, r2, _)| (d, c, r2)).collect())))
}

/// The report section.
pub fn section(ctx: &RunContext, dir: &Path, base: &BaseSpec, preset: &SweepPreset, results: &Results, wall: f64) -> Result<Section> {
    let gamma_rows: Vec<_> = preset
        .gammas
        .iter()
        .map(|&gamma| {
            let paper = GAMMA.iter().find(|(g, _)| (g - gamma).abs() <= 1e-9 * gamma.abs()).map(|(_, p)| *p);
            (format!("{gamma}"), Variant { gamma, latent: base.dense.latent_dim }.key(), paper)
        })
        .collect();
    let latent_rows: Vec<_> = preset
        .latent_dims
        .iter()
        .map(|&latent| {
            (latent.to_string(), Variant { gamma: base.gamma, latent }.key(), LATENT.iter().find(|(l, _)| *l == latent).map(|(_, p)| *p))
        })
        .collect();
    let (t4, tested4) = sweep_table(results, "gamma", &gamma_rows)?;
    let (t5, tested5) = sweep_table(results, "L", &latent_rows)?;
    let runs = variants(base, preset).len() + usize::from(preset.conv_iterations > 0);
    let mut body = format!(
        "Settings (benches/specs/paper002_sweeps.toml, preset {}; every other setting from paper002_desom's spec, Table 2): \
         datasets {:?}, seeds {:?}, {} DESOM iterations (paper: 10000), gamma grid {:?} at L = {} (paper: 1e-4, 1e-3, 1e-2, \
         0.1, 0.5, 1, 10), L grid {:?} at gamma = {} (paper: 2, 5, 10, 20, 50, 100), ConvDESOM {}; {runs} trainings per \
         dataset and seed, gamma = {} with L = {} trained once for Tables 4, 5 and 6; device {:?}, {} threads; {wall:.0} s \
         in all. Trained on the 60000 training images, every number on the 10000 test images; mean ± std over seeds. Paper \
         values: mean ± std over 10 runs (its USPS and Reuters-10k columns are left out: no offline source). {}\n\n",
        ctx.preset.name(),
        preset.datasets,
        preset.seeds,
        preset.iterations,
        preset.gammas,
        base.dense.latent_dim,
        preset.latent_dims,
        base.gamma,
        match preset.conv_iterations {
            0 => "not run (about 1.2 s per iteration on 2 CPU threads)".to_owned(),
            n => format!("{n} iterations (paper: 10000)"),
        },
        base.gamma,
        base.dense.latent_dim,
        ctx.device,
        tch::get_num_threads(),
        legend(tested4 && tested5),
    );
    let _ = write!(body, "{}\n\n", crate::experiments::paper002_desom::NMI_NORMALISATIONS);
    let _ = write!(body, "### Table 4: purity and NMI against gamma (L = {})\n\n{}\n", base.dense.latent_dim, t4.markdown());
    if let Some(path) = gamma_figure(dir, results, base, &preset.gammas)? {
        let _ = write!(body, "![Fig. 2 analogue: latent QE and TE against gamma]({})\n\n", ctx.link(&path));
    }
    let _ = write!(body, "### Table 5: purity and NMI against the latent dimension L (gamma = {})\n\n{}\n", base.gamma, t5.markdown());
    if let Some((path, fits)) = latent_figure(dir, results, base, &preset.latent_dims)? {
        let _ = write!(body, "![Fig. 3 analogue: latent QE against L]({})\n\n", ctx.link(&path));
        for (d, c, r2) in fits {
            let _ = writeln!(body, "- {d}: least-squares latent QE ≈ {c:.4} sqrt(L) over the mean QE per L, R² = {r2:.3}");
        }
        body.push('\n');
    }
    let desom_key = Variant { gamma: base.gamma, latent: base.dense.latent_dim }.key();
    let _ = write!(
        body,
        "### Table 6: DESOM vs ConvDESOM (QE, TE in pixel space; DESOM is the gamma = {}, L = {} run above)\n\n{}\n",
        base.gamma,
        base.dense.latent_dim,
        conv_table(results, &desom_key).markdown()
    );
    Ok(Section { title: "Paper 002: DESOM against gamma and L, DESOM vs ConvDESOM (Tables 4-6, Figs. 2-3)".into(), body })
}
