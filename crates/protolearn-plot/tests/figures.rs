//! Smoke tests through the public API: every figure writes a non-empty PNG of the right size and
//! a non-empty SVG; invalid input is a typed error and writes nothing.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use protolearn_plot::{
    class_map, component_planes, curves, hit_map, image_grid, scatter, umatrix, CellShape, CurvePanel, Error, FigureFiles, GridShape,
    ImagePanel, Intensity, Layout, LegendPosition, Prototypes, Result, ScatterPanel, Series, UMatrixPanel, COMPONENT_PLANES_PER_PAGE,
};

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let unique = format!("protolearn-plot-{name}-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        Self(std::env::temp_dir().join(unique))
    }

    fn stem(&self, name: &str) -> PathBuf {
        self.0.join("nested").join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Best effort: a leftover directory in the temp dir is harmless.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Width and height from a PNG's IHDR chunk (bytes 16..24, big endian).
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_default();
    assert!(bytes.len() > 24, "{} is not a PNG", path.display());
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&bytes[12..16], b"IHDR");
    let word = |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    (word(16), word(20))
}

fn assert_written(files: &FigureFiles, size: (u32, u32)) {
    for path in [&files.png, &files.svg] {
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        assert!(len > 0, "{} missing or empty", path.display());
    }
    assert_eq!(png_size(&files.png), size);
    let svg = std::fs::read_to_string(&files.svg).unwrap_or_default();
    assert!(svg.starts_with("<svg"), "not an SVG: {}", &svg[..svg.len().min(40)]);
}

fn ring(n: usize, radius: f64) -> Vec<[f64; 2]> {
    (0..n)
        .map(|i| {
            let a = i as f64 / n as f64 * std::f64::consts::TAU;
            [radius * a.cos(), radius * a.sin()]
        })
        .collect()
}

#[test]
fn scatter_single_panel() -> Result<()> {
    let dir = TempDir::new("scatter");
    let points = ring(50, 1.0);
    let labels: Vec<usize> = (0..50).map(|i| i % 3).collect();
    let panel = ScatterPanel::new(&points).labels(&labels).title("ring").axis_labels("x", "y");
    let files = scatter(dir.stem("ring"), &Layout::new(), &[panel])?;
    assert_written(&files, (640, 480));
    Ok(())
}

#[test]
fn scatter_grid_with_prototype_graphs() -> Result<()> {
    let dir = TempDir::new("scatter-grid");
    let points = ring(80, 1.0);
    let protos = ring(8, 1.1);
    let edges: Vec<(usize, usize)> = (0..7).map(|i| (i, i + 1)).collect();
    let components = [0, 0, 0, 0, 1, 1, 1, 1];
    let panels: Vec<ScatterPanel<'_>> = (0..6)
        .map(|i| {
            ScatterPanel::new(&points)
                .title(format!("panel {i}"))
                .prototypes(Prototypes::new(&protos).edges(&edges).components(&components))
        })
        .collect();
    let layout = Layout::new().title("grid").columns(3).panel_size(300, 260);
    let files = scatter(dir.stem("grid"), &layout, &panels)?;
    assert_written(&files, layout.figure_size(6));
    assert_eq!(layout.figure_size(6).0, 900);
    Ok(())
}

#[test]
fn curves_with_bands_linear_and_log() -> Result<()> {
    let dir = TempDir::new("curves");
    let x: Vec<f64> = (1..=50).map(f64::from).collect();
    let mean: Vec<f64> = x.iter().map(|e| 1.0 / e).collect();
    let lower: Vec<f64> = mean.iter().map(|m| m * 0.8).collect();
    let upper: Vec<f64> = mean.iter().map(|m| m * 1.2).collect();
    let features = [1.0, 2.0, 4.0, 8.0, 16.0];
    let accuracy = [0.5, 0.6, 0.7, 0.75, 0.8];
    let gmlvq = [("GMLVQ".to_owned(), features.to_vec(), accuracy.to_vec())];
    let panels = [
        CurvePanel::new(vec![Series::new("VCL", &x, &mean).band(&lower, &upper), Series::new("DCL", &x, &upper)])
            .title("quantization error")
            .axis_labels("epoch", "error"),
        CurvePanel::of_curves(&gmlvq).log_x(true).legend(LegendPosition::LowerRight).axis_labels("features", "accuracy"),
    ];
    let layout = Layout::new().columns(2).panel_size(400, 300);
    let files = curves(dir.stem("curves"), &layout, &panels)?;
    assert_written(&files, (800, 300));
    // The default key sits right of the first panel's plotting area (which ends near x = 319 of
    // 400 with a key for three-letter names), so it covers no curve.
    let svg = std::fs::read_to_string(&files.svg).unwrap_or_default();
    for name in ["VCL", "DCL"] {
        let end = svg.find(&format!(">\n{name}\n</text>")).unwrap_or_else(|| panic!("{name} in the key"));
        let start = svg[..end].rfind("<text").expect("a text element");
        let x: f64 = svg[start..end].split("x=\"").nth(1).and_then(|r| r.split('"').next()).and_then(|v| v.parse().ok()).expect("x");
        assert!((320.0..400.0).contains(&x), "{name} at x = {x}");
    }
    assert!(svg.contains(">\nGMLVQ\n</text>"), "the owned curve's name in its key");
    Ok(())
}

#[test]
fn prototype_image_grid() -> Result<()> {
    let dir = TempDir::new("images");
    let map = GridShape::new(4, 5);
    let image = GridShape::new(6, 6);
    let pixels: Vec<f64> = (0..map.cells() * image.cells()).map(|i| ((i * 7) % 13) as f64 - 3.0).collect();
    let labels: Vec<String> = (0..map.cells()).map(|i| format!("{}", i % 10)).collect();
    let panels = [
        ImagePanel::new(&pixels, map, image).intensity(Intensity::PerImage).labels(&labels).title("per image"),
        ImagePanel::new(&pixels, map, image).intensity(Intensity::Global),
    ];
    let layout = Layout::new().columns(2).panel_size(320, 280);
    let files = image_grid(dir.stem("images"), &layout, &panels)?;
    assert_written(&files, (640, 280));
    let svg = std::fs::read_to_string(&files.svg).unwrap_or_default();
    assert_eq!(svg.matches("href=\"data:image/png;base64,").count(), 2, "one embedded bitmap per mosaic");
    Ok(())
}

#[test]
fn umatrix_with_hits() -> Result<()> {
    let dir = TempDir::new("umatrix");
    let map = GridShape::new(5, 6);
    let prototypes: Vec<f64> = (0..map.cells())
        .flat_map(|i| {
            let (r, c) = ((i / 6) as f64, (i % 6) as f64);
            [r, c + if c > 2.0 { 4.0 } else { 0.0 }, 0.5 * r]
        })
        .collect();
    let labels: Vec<usize> = (0..map.cells()).map(|i| usize::from(i % 6 > 2)).collect();
    let counts: Vec<usize> = (0..map.cells()).map(|i| i % 4).collect();
    let panel = UMatrixPanel::new(&prototypes, map, 3).hits(&labels, &counts).title("U-matrix");
    let files = umatrix(dir.stem("umatrix"), &Layout::new().panel_size(420, 360), &[panel])?;
    assert_written(&files, (420, 360));
    Ok(())
}

/// The two maps every SOM figure is drawn on: 3x4 squares and 4x5 hexagons.
const SOM_MAPS: [(GridShape, CellShape); 2] =
    [(GridShape { rows: 3, cols: 4 }, CellShape::Square), (GridShape { rows: 4, cols: 5 }, CellShape::Hexagon)];

/// `dim`-dimensional prototypes varying smoothly over `map`, with a jump between the left and right halves.
fn som_prototypes(map: GridShape, dim: usize) -> Vec<f64> {
    (0..map.cells())
        .flat_map(|unit| {
            let (r, c) = ((unit / map.cols) as f64, (unit % map.cols) as f64);
            let jump = if c >= map.cols as f64 / 2.0 { 3.0 } else { 0.0 };
            (0..dim).map(move |k| r * (k % 3) as f64 + c * ((k + 1) % 2) as f64 + jump)
        })
        .collect()
}

#[test]
fn hexagonal_umatrix_with_hits() -> Result<()> {
    let dir = TempDir::new("umatrix-hex");
    for (map, shape) in SOM_MAPS {
        let prototypes = som_prototypes(map, 3);
        let labels: Vec<usize> = (0..map.cells()).map(|u| usize::from(u % map.cols >= map.cols / 2)).collect();
        let counts: Vec<usize> = (0..map.cells()).map(|u| u % 4).collect();
        let panel = UMatrixPanel::new(&prototypes, map, 3).cell_shape(shape).hits(&labels, &counts).title(format!("{shape:?}"));
        let files = umatrix(dir.stem(&format!("umatrix-{shape:?}")), &Layout::new().panel_size(420, 360), &[panel])?;
        assert_written(&files, (420, 360));
    }
    Ok(())
}

#[test]
fn hit_maps_on_squares_and_hexagons() -> Result<()> {
    let dir = TempDir::new("hit-map");
    for (map, shape) in SOM_MAPS {
        let counts: Vec<usize> = (0..map.cells()).map(|u| (u * 37) % 23).collect();
        let layout = Layout::new().title("hits");
        let files = hit_map(dir.stem(&format!("hits-{shape:?}")), &layout, map, shape, &counts)?;
        assert_written(&files, layout.figure_size(1));
        let svg = std::fs::read_to_string(&files.svg).unwrap_or_default();
        let most = counts.iter().max().copied().unwrap_or_default();
        assert!(svg.lines().any(|line| line == most.to_string()), "the largest count is printed in its cell");
    }
    Ok(())
}

#[test]
fn component_planes_one_page_and_several() -> Result<()> {
    let dir = TempDir::new("planes");
    for (map, shape) in SOM_MAPS {
        let names: Vec<String> = ["length", "width", "height"].map(str::to_owned).to_vec();
        let layout = Layout::new().columns(3).panel_size(260, 220);
        let pages = component_planes(dir.stem(&format!("planes-{shape:?}")), &layout, map, shape, &som_prototypes(map, 3), 3, &names)?;
        assert_eq!(pages.len(), 1);
        assert!(pages[0].png.ends_with(format!("planes-{shape:?}.png")));
        assert_written(&pages[0], layout.figure_size(3));
    }
    let (map, shape) = SOM_MAPS[1];
    let dim = COMPONENT_PLANES_PER_PAGE + 2;
    let names: Vec<String> = (0..dim).map(|k| format!("feature {k}")).collect();
    let layout = Layout::new().columns(4).panel_size(200, 180);
    let pages = component_planes(dir.stem("many"), &layout, map, shape, &som_prototypes(map, dim), dim, &names)?;
    assert_eq!(pages.len(), 2);
    assert!(pages[0].png.ends_with("many-1.png") && pages[1].svg.ends_with("many-2.svg"));
    assert_written(&pages[0], layout.figure_size(COMPONENT_PLANES_PER_PAGE));
    assert_written(&pages[1], layout.figure_size(2));
    Ok(())
}

#[test]
fn class_maps_with_empty_units() -> Result<()> {
    let dir = TempDir::new("class-map");
    let names: Vec<String> = ["setosa", "versicolor", "virginica"].map(str::to_owned).to_vec();
    for (map, shape) in SOM_MAPS {
        let majority: Vec<Option<usize>> = (0..map.cells()).map(|u| (u % 5 != 4).then_some(u % map.cols * 3 / map.cols)).collect();
        let purity: Vec<f64> =
            (0..map.cells()).map(|u| if u % 5 == 4 { f64::NAN } else { 0.4 + 0.6 * ((u * 7) % 10) as f64 / 9.0 }).collect();
        let files = class_map(dir.stem(&format!("classes-{shape:?}")), &Layout::new(), map, shape, &majority, &purity, &names)?;
        assert_written(&files, (640, 480));
        let svg = std::fs::read_to_string(&files.svg).unwrap_or_default();
        assert!(names.iter().all(|name| svg.contains(name.as_str())), "the legend names every class");
    }
    Ok(())
}

#[test]
fn invalid_som_figure_input_is_a_typed_error_and_writes_nothing() {
    let dir = TempDir::new("invalid-som");
    let stem = dir.stem("bad");
    let (map, shape) = SOM_MAPS[1];
    let layout = Layout::new();

    let err = hit_map(&stem, &layout, map, shape, &[1; 19]);
    assert!(matches!(err, Err(Error::Shape { .. })), "{err:?}");
    let err = hit_map(&stem, &layout, GridShape::new(0, 5), shape, &[]);
    assert!(matches!(err, Err(Error::Empty { .. })), "{err:?}");

    let names = vec!["a".to_owned(), "b".to_owned()];
    let mut prototypes = som_prototypes(map, 2);
    let err = component_planes(&stem, &layout, map, shape, &prototypes[1..], 2, &names);
    assert!(matches!(err, Err(Error::Shape { .. })), "{err:?}");
    let err = component_planes(&stem, &layout, map, shape, &prototypes, 2, &names[..1]);
    assert!(matches!(err, Err(Error::Shape { .. })), "{err:?}");
    let err = component_planes(&stem, &layout, map, shape, &[], 0, &[]);
    assert!(matches!(err, Err(Error::Empty { .. })), "{err:?}");
    prototypes[7] = f64::NAN;
    let err = component_planes(&stem, &layout, map, shape, &prototypes, 2, &names);
    assert!(matches!(err, Err(Error::NonFinite { index: 7, .. })), "{err:?}");

    let mut majority = vec![Some(0); map.cells()];
    let mut purity = vec![1.0; map.cells()];
    let err = class_map(&stem, &layout, map, shape, &majority[1..], &purity, &names);
    assert!(matches!(err, Err(Error::Shape { .. })), "{err:?}");
    let err = class_map(&stem, &layout, map, shape, &majority, &purity, &[]);
    assert!(matches!(err, Err(Error::Empty { .. })), "{err:?}");
    majority[3] = Some(2);
    let err = class_map(&stem, &layout, map, shape, &majority, &purity, &names);
    assert!(matches!(err, Err(Error::IndexOutOfRange { index: 2, len: 2, .. })), "{err:?}");
    majority[3] = None;
    purity[3] = f64::NAN;
    purity[5] = f64::NAN;
    let err = class_map(&stem, &layout, map, shape, &majority, &purity, &names);
    assert!(matches!(err, Err(Error::NonFinite { index: 5, .. })), "NaN purity of an empty unit is ignored: {err:?}");
    purity[5] = 1.5;
    let err = class_map(&stem, &layout, map, shape, &majority, &purity, &names);
    assert!(matches!(err, Err(Error::Invalid { .. })), "{err:?}");

    let prototypes = som_prototypes(map, 2);
    let panel = UMatrixPanel::new(&prototypes, map, 2).cell_shape(shape).hits(&[0; 20], &[1; 19]);
    let err = umatrix(&stem, &layout, &[panel]);
    assert!(matches!(&err, Err(Error::Panel { source, .. }) if matches!(**source, Error::Shape { .. })), "{err:?}");

    assert!(!dir.0.exists(), "nothing is written for invalid input");
}

#[test]
fn invalid_input_is_a_typed_error_and_writes_nothing() {
    let dir = TempDir::new("invalid");
    let stem = dir.stem("bad");
    let points = ring(4, 1.0);
    let short_labels = [0, 1, 2];
    let panels = [ScatterPanel::new(&points), ScatterPanel::new(&points).labels(&short_labels)];
    let err = scatter(&stem, &Layout::new(), &panels);
    assert!(matches!(&err, Err(Error::Panel { index: 1, source }) if matches!(**source, Error::Shape { .. })), "{err:?}");
    let message = err.err().map(|e| e.to_string()).unwrap_or_default();
    assert_eq!(message, "panel 1: labels: expected length 4 (one per point), found length 3");

    let nan = [[0.0, 0.0], [f64::NAN, 1.0]];
    let err = scatter(&stem, &Layout::new(), &[ScatterPanel::new(&nan)]);
    assert!(matches!(&err, Err(Error::Panel { source, .. }) if matches!(**source, Error::NonFinite { index: 1, .. })));

    let protos = [[0.0, 0.0]];
    let edges = [(0, 3)];
    let overlay = Prototypes::new(&protos).edges(&edges);
    let err = scatter(&stem, &Layout::new(), &[ScatterPanel::new(&points).prototypes(overlay)]);
    assert!(matches!(&err, Err(Error::Panel { source, .. }) if matches!(**source, Error::IndexOutOfRange { index: 3, len: 1, .. })));

    let err = scatter(&stem, &Layout::new(), &[]);
    assert!(matches!(err, Err(Error::Empty { .. })));
    let err = scatter(&stem, &Layout::new(), &[ScatterPanel::new(&[])]);
    assert!(matches!(&err, Err(Error::Panel { source, .. }) if matches!(**source, Error::Empty { .. })));

    let x = [0.0, 1.0];
    let y = [1.0, 2.0];
    let log_panel = CurvePanel::new(vec![Series::new("s", &x, &y)]).log_x(true);
    let err = curves(&stem, &Layout::new(), &[log_panel]);
    assert!(matches!(&err, Err(Error::Panel { source, .. }) if matches!(**source, Error::Invalid { .. })));
    let band_panel = CurvePanel::new(vec![Series::new("s", &x, &y).band(&y, &[1.0])]);
    let err = curves(&stem, &Layout::new(), &[band_panel]);
    assert!(matches!(&err, Err(Error::Panel { source, .. }) if matches!(**source, Error::Shape { .. })));
    let err = curves(&stem, &Layout::new(), &[CurvePanel::new(vec![])]);
    assert!(matches!(&err, Err(Error::Panel { source, .. }) if matches!(**source, Error::Empty { .. })));

    let pixels = [0.5; 10];
    let panel = ImagePanel::new(&pixels, GridShape::new(1, 2), GridShape::new(2, 3));
    let err = image_grid(&stem, &Layout::new(), &[panel]);
    assert!(matches!(&err, Err(Error::Panel { source, .. }) if matches!(**source, Error::Shape { .. })));
    let pixels = [0.5; 12];
    let panel = ImagePanel::new(&pixels, GridShape::new(1, 2), GridShape::new(2, 3)).intensity(Intensity::Fixed { low: 1.0, high: 1.0 });
    let err = image_grid(&stem, &Layout::new(), &[panel]);
    assert!(matches!(&err, Err(Error::Panel { source, .. }) if matches!(**source, Error::Invalid { .. })));

    let panel = UMatrixPanel::new(&[0.0; 4], GridShape::new(2, 2), 1).hits(&[0; 4], &[1; 3]);
    let err = umatrix(&stem, &Layout::new(), &[panel]);
    assert!(matches!(&err, Err(Error::Panel { source, .. }) if matches!(**source, Error::Shape { .. })));

    let err = scatter(&stem, &Layout::new().columns(0), &[ScatterPanel::new(&points)]);
    assert!(matches!(err, Err(Error::Invalid { .. })));

    assert!(!dir.0.exists(), "nothing is written for invalid input");
}

#[test]
fn image_map_larger_than_panel_is_a_draw_error() {
    let dir = TempDir::new("too-big");
    let map = GridShape::new(200, 1);
    let pixels = vec![0.0; map.cells()];
    let panel = ImagePanel::new(&pixels, map, GridShape::new(1, 1));
    let err = image_grid(dir.stem("big"), &Layout::new().panel_size(200, 120), &[panel]);
    assert!(matches!(err, Err(Error::Draw { .. })), "{err:?}");
}
