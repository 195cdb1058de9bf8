//! Renders one of each figure from synthetic data into a folder, to look at the output:
//! `cargo run -p protolearn-plot --example gallery -- /tmp/protolearn-gallery`.

use std::f64::consts::{PI, TAU};

use protolearn_plot::{
    class_map, component_planes, curves, hit_map, image_grid, scatter, umatrix, CellShape, CurvePanel, GridShape, ImagePanel, Intensity,
    Layout, LegendPosition, Prototypes, Result, ScatterPanel, Series, UMatrixPanel,
};

/// Deterministic noise in `[-1, 1]` (no RNG dependency needed for a picture).
fn noise(i: usize) -> f64 {
    ((i as f64 * 12.9898).sin() * 43_758.545_3).fract()
}

/// A labelled 2-D toy dataset.
struct Dataset {
    name: &'static str,
    points: Vec<[f64; 2]>,
    labels: Vec<usize>,
}

/// Prototypes with a graph between them and the graph's connected components.
struct Graph {
    prototypes: Vec<[f64; 2]>,
    edges: Vec<(usize, usize)>,
    components: Vec<usize>,
}

/// Two interleaved spirals, two moons and two circles, 300 points each, with labels.
fn datasets() -> Vec<Dataset> {
    let n = 300;
    let jitter = |i: usize, s: f64| [s * noise(2 * i), s * noise(2 * i + 1)];
    let spiral = (0..n)
        .map(|i| {
            let (class, t) = (i % 2, 0.5 + 3.0 * (i / 2) as f64 / (n / 2) as f64);
            let a = t * 2.0 + PI * class as f64;
            let j = jitter(i, 0.08);
            [t * a.cos() + j[0], t * a.sin() + j[1]]
        })
        .collect();
    let moons = (0..n)
        .map(|i| {
            let (class, t) = (i % 2, PI * (i / 2) as f64 / (n / 2) as f64);
            let j = jitter(i, 0.07);
            if class == 0 {
                [t.cos() + j[0], t.sin() + j[1]]
            } else {
                [1.0 - t.cos() + j[0], 0.5 - t.sin() + j[1]]
            }
        })
        .collect();
    let circles = (0..n)
        .map(|i| {
            let (class, a) = (i % 2, TAU * (i / 2) as f64 / (n / 2) as f64);
            let r = if class == 0 { 1.0 } else { 0.5 };
            let j = jitter(i, 0.05);
            [r * a.cos() + j[0], r * a.sin() + j[1]]
        })
        .collect();
    let labels: Vec<usize> = (0..n).map(|i| i % 2).collect();
    [("spiral", spiral), ("moons", moons), ("circles", circles)]
        .into_iter()
        .map(|(name, points)| Dataset { name, points, labels: labels.clone() })
        .collect()
}

/// Prototypes every `step` points of each class, edges between prototypes closer than `reach`,
/// and the connected components of that graph.
fn prototype_graph(points: &[[f64; 2]], step: usize, reach: f64) -> Graph {
    let protos: Vec<[f64; 2]> = points.iter().step_by(step).copied().collect();
    let mut edges = Vec::new();
    for a in 0..protos.len() {
        for b in a + 1..protos.len() {
            let (dx, dy) = (protos[a][0] - protos[b][0], protos[a][1] - protos[b][1]);
            if dx.hypot(dy) < reach {
                edges.push((a, b));
            }
        }
    }
    let mut component: Vec<usize> = (0..protos.len()).collect();
    // Label propagation until stable: small graphs only.
    let mut changed = true;
    while changed {
        changed = false;
        for &(a, b) in &edges {
            let m = component[a].min(component[b]);
            if component[a] != m || component[b] != m {
                component[a] = m;
                component[b] = m;
                changed = true;
            }
        }
    }
    let mut ids: Vec<usize> = component.clone();
    ids.sort_unstable();
    ids.dedup();
    let dense = component.iter().map(|c| ids.iter().position(|i| i == c).unwrap_or(0)).collect();
    Graph { prototypes: protos, edges, components: dense }
}

fn main() -> Result<()> {
    let out = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "target/protolearn-gallery".to_owned()));
    let data = datasets();

    let previews: Vec<ScatterPanel<'_>> = data
        .iter()
        .map(|Dataset { name, points, labels }| ScatterPanel::new(points).labels(labels).title(*name).axis_labels("x1", "x2"))
        .collect();
    let layout = Layout::new().title("Datasets").columns(3).panel_size(380, 340);
    scatter(out.join("datasets"), &layout, &previews)?;

    let graphs: Vec<_> = [(7, 0.45), (5, 0.35)]
        .iter()
        .flat_map(|&(step, reach)| data.iter().map(move |d| prototype_graph(&d.points, step, reach)))
        .collect();
    let panels: Vec<ScatterPanel<'_>> = graphs
        .iter()
        .enumerate()
        .map(|(i, graph)| {
            let Dataset { name, points, .. } = &data[i % 3];
            let model = if i < 3 { "VCL" } else { "DCL" };
            ScatterPanel::new(points)
                .title(format!("{model} - {name}"))
                .prototypes(Prototypes::new(&graph.prototypes).edges(&graph.edges).components(&graph.components))
        })
        .collect();
    let layout = Layout::new().title("Prototypes and CHL graph, coloured by connected component").columns(3).panel_size(380, 340);
    scatter(out.join("fig4_chl_graphs"), &layout, &panels)?;

    let epochs: Vec<f64> = (1..=100).map(f64::from).collect();
    let curve = |scale: f64, rate: f64, spread: f64| {
        let mean: Vec<f64> = epochs.iter().map(|e| scale * (-rate * e).exp() + 0.1).collect();
        let lower = mean.iter().map(|m| m - spread * m).collect::<Vec<_>>();
        let upper = mean.iter().map(|m| m + spread * m).collect::<Vec<_>>();
        (mean, lower, upper)
    };
    let metrics = [("quantization error", (1.0, 0.05, 0.15), (1.2, 0.08, 0.1)), ("edge-matrix norm", (3.0, 0.02, 0.2), (2.0, 0.04, 0.1))];
    let bands: Vec<_> = metrics.iter().map(|(name, vcl, dcl)| (name, curve(vcl.0, vcl.1, vcl.2), curve(dcl.0, dcl.1, dcl.2))).collect();
    let epochs = &epochs;
    let panels: Vec<CurvePanel<'_>> = bands
        .iter()
        .flat_map(|(name, vcl, dcl)| {
            data.iter().map(move |dataset| {
                CurvePanel::new(vec![
                    Series::new("VCL", epochs, &vcl.0).band(&vcl.1, &vcl.2),
                    Series::new("DCL", epochs, &dcl.0).band(&dcl.1, &dcl.2),
                ])
                .title(dataset.name)
                .axis_labels("epoch", **name)
            })
        })
        .collect();
    let layout = Layout::new().title("Training curves (mean, min..max over 10 seeds)").columns(3).panel_size(380, 300);
    curves(out.join("fig3_curves"), &layout, &panels)?;

    let features = [2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];
    let acc = |base: f64| -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let mean: Vec<f64> = features.iter().map(|f: &f64| base + 0.05 * f.log2()).collect();
        (mean.clone(), mean.iter().map(|m| m - 0.03).collect(), mean.iter().map(|m| m + 0.03).collect())
    };
    let (a, b) = (acc(0.5), acc(0.45));
    let panel = CurvePanel::new(vec![
        Series::new("GMLVQ", &features, &a.0).band(&a.1, &a.2),
        Series::new("GLVQ", &features, &b.0).band(&b.1, &b.2),
    ])
    .log_x(true)
    .legend(LegendPosition::LowerRight)
    .title("Accuracy vs number of features")
    .axis_labels("number of features", "test accuracy");
    curves(out.join("fig5_accuracy"), &Layout::new(), &[panel])?;

    let map = GridShape::new(8, 8);
    let image = GridShape::new(28, 28);
    let pixels: Vec<f64> = (0..map.cells())
        .flat_map(|unit| {
            let (cy, cx) = (8.0 + (unit / 8) as f64 * 1.6, 8.0 + (unit % 8) as f64 * 1.6);
            (0..image.cells()).map(move |p| {
                let (y, x) = ((p / 28) as f64, (p % 28) as f64);
                let ring = ((y - cy).hypot(x - cx) - 6.0).abs();
                (-ring * ring / 4.0).exp()
            })
        })
        .collect();
    let labels: Vec<String> = (0..map.cells()).map(|u| format!("{}", u % 10)).collect();
    let panel = ImagePanel::new(&pixels, map, image)
        .intensity(Intensity::Fixed { low: 0.0, high: 1.0 })
        .labels(&labels)
        .title("Decoded prototypes (8x8 map)");
    image_grid(out.join("desom_prototypes"), &Layout::new().panel_size(620, 640), &[panel])?;

    let map = GridShape::new(10, 12);
    let prototypes: Vec<f64> = (0..map.cells())
        .flat_map(|u| {
            let (r, c) = ((u / 12) as f64, (u % 12) as f64);
            let cluster = if c < 6.0 { 0.0 } else { 5.0 } + if r < 5.0 { 0.0 } else { 3.0 };
            [r * 0.3 + cluster, c * 0.3, cluster]
        })
        .collect();
    let hit_labels: Vec<usize> = (0..map.cells()).map(|u| usize::from(u % 12 >= 6) + 2 * usize::from(u / 12 >= 5)).collect();
    let counts: Vec<usize> = (0..map.cells()).map(|u| (u * 7) % 11).collect();
    let panels = [CellShape::Square, CellShape::Hexagon]
        .map(|shape| UMatrixPanel::new(&prototypes, map, 3).cell_shape(shape).hits(&hit_labels, &counts).title(format!("{shape:?} cells")));
    let layout = Layout::new().title("U-matrix with majority-class hits").columns(2).panel_size(560, 460);
    umatrix(out.join("umatrix"), &layout, &panels)?;

    let shape = CellShape::Hexagon;
    hit_map(out.join("hit_map"), &Layout::new().title("Samples per unit"), map, shape, &counts)?;
    let names = ["row position", "column position", "cluster"].map(str::to_owned);
    let layout = Layout::new().title("Component planes").columns(3).panel_size(380, 320);
    component_planes(out.join("component_planes"), &layout, map, shape, &prototypes, 3, &names)?;
    let majority: Vec<Option<usize>> = hit_labels.iter().zip(&counts).map(|(&label, &n)| (n > 0).then_some(label)).collect();
    let purity: Vec<f64> = (0..map.cells()).map(|u| 0.4 + 0.6 * noise(u).abs()).collect();
    let classes = ["top left", "top right", "bottom left", "bottom right"].map(str::to_owned);
    class_map(
        out.join("class_map"),
        &Layout::new().title("Majority class (fill strength: purity)"),
        map,
        shape,
        &majority,
        &purity,
        &classes,
    )?;
    Ok(())
}
