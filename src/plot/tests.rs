//! Rendering tests: every plot kind as PNG and SVG, decoded back and inspected; bad inputs
//! give errors (never panics) and leave no files behind.
use super::*;
use ndarray::Array2;
use std::path::{Path, PathBuf};

/// A fresh, empty folder under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("fdtlab_plot_{}_{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn join(&self, f: impl AsRef<Path>) -> PathBuf {
        self.0.join(f)
    }
    /// Names of all entries (hidden temp files included).
    fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Decodes a PNG, checks its size, and returns it.
fn decode(path: &Path, w: u32, h: u32) -> image::RgbImage {
    let img = image::open(path).expect("PNG decodes").to_rgb8();
    assert_eq!(img.dimensions(), (w, h), "{}", path.display());
    img
}

/// Number of dark (text-like) pixels in rows [y0, y1).
fn dark_pixels(img: &image::RgbImage, y0: u32, y1: u32) -> usize {
    (y0..y1.min(img.height()))
        .flat_map(|y| (0..img.width()).map(move |x| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y).0.iter().all(|&c| c < 100))
        .count()
}

fn sample_figure(title: &str) -> Figure {
    let x: Vec<f64> = (0..60).map(|i| i as f64 * 0.1).collect();
    let decay = |r: f64| x.iter().map(|t| (-r * t).exp()).collect::<Vec<_>>();
    let osc: Vec<f64> = x
        .iter()
        .map(|t| (-0.5 * t).exp() * (2.0 * t).cos())
        .collect();
    let err = vec![0.05; x.len()];
    let panel = |name: &str| {
        Panel::new(name, "lag t [time units]", "response R(t)")
            .with_series(Series::new("exact", x.clone(), decay(1.0)))
            .with_series(
                Series::new("GFDT", x.clone(), decay(0.9))
                    .with_err(err.clone())
                    .style(LineStyle::Dashed),
            )
            .with_series(
                Series::new("perturbation", x.clone(), osc.clone())
                    .with_err(err.clone())
                    .style(LineStyle::Dotted)
                    .markers(true),
            )
    };
    Figure::new(title)
        .with_panel(panel("mode k = 1"))
        .with_panel(panel("mode k = 2"))
        .with_panel(panel("mode k = 3"))
        .with_panel(panel("mode k = 4"))
}

#[test]
fn lines_png_and_svg_render_with_text() {
    let dir = TempDir::new("lines");
    let fig = sample_figure("Response check");
    save_lines(&dir.join("f.png"), &fig).unwrap();
    let img = decode(&dir.join("f.png"), 1200, 900);
    assert!(dark_pixels(&img, 0, 30) > 100, "figure title rendered");
    save_lines(&dir.join("f.SVG"), &fig).unwrap();
    let svg = std::fs::read_to_string(dir.join("f.SVG")).unwrap();
    assert!(
        svg.contains("Response check")
            && svg.contains("mode k = 3")
            && svg.contains("perturbation")
    );
    assert_eq!(dir.entries(), ["f.SVG", "f.png"], "no temp files left");
}

#[test]
fn lines_degenerate_ranges_render() {
    let dir = TempDir::new("degenerate");
    let fig = Figure::new("")
        .cols(0)
        .with_panel(Panel::new("one point", "x", "y").with_series(Series::new(
            "p",
            vec![1.0],
            vec![2.0],
        )))
        .with_panel(Panel::new("flat zero", "x", "y").with_series(Series::new(
            "z",
            vec![0.0, 1.0],
            vec![0.0, 0.0],
        )))
        .with_panel(Panel::new("tiny", "x", "y").with_series(Series::new(
            "t",
            vec![0.0, 1e-9],
            vec![1e-12, 3e-12],
        )));
    save_lines(&dir.join("d.png"), &fig).unwrap();
    decode(&dir.join("d.png"), 1200, 900);
}

#[test]
fn lines_bad_inputs_are_errors_and_write_nothing() {
    let dir = TempDir::new("lines_bad");
    let p = dir.join("bad.png");
    let ok = || Series::new("s", vec![0.0, 1.0], vec![1.0, 2.0]);
    let fig = |s: Series| Figure::new("f").with_panel(Panel::new("P", "x", "y").with_series(s));
    let cases: Vec<(Figure, &str)> = vec![
        (Figure::new("f"), "no panels"),
        (
            Figure::new("f").with_panel(Panel::new("P", "x", "y")),
            "no series",
        ),
        (
            fig(Series::new("s", vec![0.0, 1.0], vec![1.0])),
            "x has 2 points but y has 1",
        ),
        (fig(ok().with_err(vec![0.1])), "err has 1 points"),
        (
            fig(Series::new("s", vec![0.0, 1.0], vec![1.0, f64::NAN])),
            "series 's' in panel 'P': y[1] = NaN",
        ),
        (
            fig(Series::new("s", vec![f64::INFINITY, 1.0], vec![1.0, 2.0])),
            "x[0] = inf",
        ),
        (
            fig(ok().with_err(vec![0.1, -0.1])),
            "err[1] = -0.1 is negative",
        ),
        (fig(Series::new("", vec![0.0], vec![0.0])), "empty label"),
        (fig(Series::new("s", vec![], vec![])), "no points"),
        (fig(ok()).size(10, 900), "width = 10"),
    ];
    for (f, want) in cases {
        let e = save_lines(&p, &f).unwrap_err().to_string();
        assert!(e.contains(want), "'{e}' should contain '{want}'");
    }
    for ext in ["bad.jpg", "bad"] {
        let e = save_lines(&dir.join(ext), &fig(ok()))
            .unwrap_err()
            .to_string();
        assert!(e.contains(".png or .svg"), "{e}");
    }
    assert!(dir.entries().is_empty(), "{:?}", dir.entries());
}

#[test]
fn failed_write_leaves_no_temp_file() {
    let dir = TempDir::new("write_fail");
    // The target is an existing folder: the final rename fails after rendering.
    std::fs::create_dir(dir.join("taken.png")).unwrap();
    let fig = Figure::new("f").with_panel(Panel::new("P", "x", "y").with_series(Series::new(
        "s",
        vec![0.0, 1.0],
        vec![0.0, 1.0],
    )));
    assert!(save_lines(&dir.join("taken.png"), &fig).is_err());
    assert_eq!(dir.entries(), ["taken.png"]);
}

#[test]
fn heatmap_orientation_and_text() {
    let dir = TempDir::new("heat");
    // Bright (1) in the top-left quadrant: small x (axis 0), large y (axis 1).
    let (nx, ny) = (32, 32);
    let f = Array2::from_shape_fn(
        (nx, ny),
        |(i, j)| if i < nx / 2 && j >= ny / 2 { 1.0 } else { 0.0 },
    );
    let opts = HeatmapOpts {
        title: "Orientation".into(),
        ..Default::default()
    };
    save_heatmap(&dir.join("h.png"), f.view(), &opts).unwrap();
    let img = decode(&dir.join("h.png"), opts.width, opts.height);
    assert!(dark_pixels(&img, 0, 30) > 50, "title rendered");
    let yellow = |x0: u32, x1: u32, y0: u32, y1: u32| {
        (y0..y1)
            .flat_map(|y| (x0..x1).map(move |x| (x, y)))
            .filter(|&(x, y)| {
                let p = img.get_pixel(x, y).0;
                p[0] > 200 && p[1] > 200 && p[2] < 100
            })
            .count()
    };
    let (w2, h2) = (opts.width / 2, opts.height / 2);
    assert!(yellow(0, w2, 0, h2) > 50_000, "top-left is bright");
    assert_eq!(yellow(0, w2, h2, opts.height), 0, "bottom-left is dark");
    save_heatmap(&dir.join("h.svg"), f.view(), &opts).unwrap();
    assert!(std::fs::read_to_string(dir.join("h.svg"))
        .unwrap()
        .contains("Orientation"));
}

#[test]
fn heatmap_diverging_has_blue_and_red_and_handles_constant_fields() {
    let dir = TempDir::new("heat_div");
    let f = Array2::from_shape_fn((20, 10), |(i, _)| i as f64 - 9.5);
    let opts = HeatmapOpts {
        diverging: true,
        title: "signed".into(),
        ..Default::default()
    };
    save_heatmap(&dir.join("d.png"), f.view(), &opts).unwrap();
    let img = decode(&dir.join("d.png"), opts.width, opts.height);
    let count = |pred: &dyn Fn([u8; 3]) -> bool| img.pixels().filter(|p| pred(p.0)).count();
    assert!(count(&|p| p[2] > 150 && p[0] < 80) > 1000, "blue present");
    assert!(count(&|p| p[0] > 150 && p[2] < 80) > 1000, "red present");
    for diverging in [false, true] {
        let opts = HeatmapOpts {
            diverging,
            ..Default::default()
        };
        save_heatmap(&dir.join("c.png"), Array2::zeros((4, 4)).view(), &opts).unwrap();
    }
}

#[test]
fn heatmap_bad_inputs() {
    let dir = TempDir::new("heat_bad");
    let mut f = Array2::<f64>::zeros((3, 4));
    f[[2, 1]] = f64::NAN;
    let e = save_heatmap(&dir.join("h.png"), f.view(), &HeatmapOpts::default()).unwrap_err();
    assert!(e.to_string().contains("field[2, 1] = NaN"), "{e}");
    let empty = Array2::<f64>::zeros((0, 4));
    assert!(save_heatmap(&dir.join("h.png"), empty.view(), &HeatmapOpts::default()).is_err());
    let ok = Array2::<f64>::zeros((3, 4));
    assert!(save_heatmap(&dir.join("h.pdf"), ok.view(), &HeatmapOpts::default()).is_err());
    assert!(dir.entries().is_empty());
}

/// Deterministic standard-normal-ish samples (sum of 12 uniforms − 6) from a fixed LCG.
fn normals(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    let mut u = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .map(|_| (0..12).map(|_| u()).sum::<f64>() - 6.0)
        .collect()
}

#[test]
fn histogram_png_svg_and_overlay() {
    let dir = TempDir::new("hist");
    let opts = HistOpts {
        title: "Marginal".into(),
        xlabel: "u".into(),
        gaussian_overlay: true,
        ..Default::default()
    };
    let data = normals(5000, 1);
    save_histogram(&dir.join("h.png"), &data, &opts).unwrap();
    let img = decode(&dir.join("h.png"), opts.width, opts.height);
    assert!(dark_pixels(&img, 0, 30) > 50, "title rendered");
    save_histogram(&dir.join("h.svg"), &data, &opts).unwrap();
    let svg = std::fs::read_to_string(dir.join("h.svg")).unwrap();
    for want in [
        "Marginal",
        "Gaussian (same mean, variance)",
        "probability density",
        "std = ",
    ] {
        assert!(svg.contains(want), "svg lacks '{want}'");
    }
    let sets = vec![
        ("samples".to_string(), normals(3000, 2)),
        (
            "data".to_string(),
            data.iter().map(|v| 0.5 * v + 1.0).collect(),
        ),
    ];
    save_histograms(&dir.join("m.svg"), &sets, &opts).unwrap();
    let svg = std::fs::read_to_string(dir.join("m.svg")).unwrap();
    assert!(svg.contains("samples (n = 3000") && svg.contains("data: Gaussian"));
    save_histograms(&dir.join("m.png"), &sets, &opts).unwrap();
    // Degenerate data: one value, all equal.
    save_histogram(&dir.join("one.png"), &[3.0], &opts).unwrap();
    save_histogram(
        &dir.join("eq.png"),
        &[2.0; 10],
        &HistOpts {
            bins: 1,
            ..opts.clone()
        },
    )
    .unwrap();
}

#[test]
fn histogram_bad_inputs() {
    let dir = TempDir::new("hist_bad");
    let p = dir.join("h.png");
    let o = HistOpts::default();
    assert!(save_histogram(&p, &[], &o)
        .unwrap_err()
        .to_string()
        .contains("is empty"));
    let e = save_histogram(&p, &[1.0, f64::NAN], &o)
        .unwrap_err()
        .to_string();
    assert!(e.contains("data set 'data': value [1] = NaN"), "{e}");
    assert!(save_histogram(
        &p,
        &[1.0],
        &HistOpts {
            bins: 0,
            ..o.clone()
        }
    )
    .is_err());
    assert!(save_histograms(&p, &[], &o).is_err());
    assert!(save_histograms(&p, &[("a".into(), vec![1.0]), ("b".into(), vec![])], &o).is_err());
    assert!(dir.entries().is_empty());
}

#[test]
fn tick_labels_and_legend_corner() {
    let f = style::tick_formatter(0.0, 1.0, 5);
    assert_eq!(
        (f(&0.2), f(&0.0), f(&-1e-18)),
        ("0.2".into(), "0".into(), "0".into())
    );
    let f = style::tick_formatter(0.0, 2e-6, 5); // step 5e-7
    assert_eq!(
        (f(&1e-6), f(&5e-7), f(&1.5e-6)),
        ("1.0e-6".into(), "5e-7".into(), "1.5e-6".into())
    );
    let f = style::tick_formatter(-0.3, 0.3, 6); // step 0.1
    assert_eq!((f(&-0.2), f(&0.1)), ("-0.2".into(), "0.1".into()));
    assert_eq!(style::tick_formatter(0.0, 3e5, 4)(&2e5), "2e5");
    assert_eq!(style::tick_formatter(0.0, 500.0, 5)(&200.0), "200");
    use legend::{plan, Corner};
    // Points crowd the upper right: the legend moves to the upper left.
    let pts = vec![(0.95, 0.95); 10];
    assert_eq!(
        plan(&pts, (0.0, 1.0), (0.0, 1.0), (0.3, 0.2)).pos,
        Corner::UpperLeft
    );
    assert_eq!(
        plan(&[], (0.0, 1.0), (0.0, 1.0), (0.3, 0.2)).pos,
        Corner::UpperRight
    );
    // A peak filling the top centre and a wide legend: raise the top so the legend clears it
    // (peak at 0.9 must end below 1 − 0.2 − 0.03 of the new range: factor 0.9 / 0.77).
    let peak: Vec<(f64, f64)> = (0..=100)
        .map(|i| {
            (
                i as f64 / 100.0,
                0.9 * (1.0 - (2.0 * i as f64 / 100.0 - 1.0).powi(2)),
            )
        })
        .collect();
    let p = plan(&peak, (0.0, 1.0), (0.0, 1.0), (0.6, 0.2));
    assert!(p.pos == Corner::UpperRight || p.pos == Corner::UpperLeft);
    assert!(p.y1 > 1.0 && p.y1 <= 0.9 / 0.77 + 1e-12, "{p:?}");
}

/// Writes the demo figures to /tmp for a visual check: `cargo test --release -- --ignored demo`.
#[test]
#[ignore]
fn demo_figures() {
    save_lines(
        Path::new("/tmp/plot_demo.png"),
        &sample_figure("Linear response: GFDT vs perturbation"),
    )
    .unwrap();
    save_lines(
        Path::new("/tmp/plot_demo.svg"),
        &sample_figure("Linear response: GFDT vs perturbation"),
    )
    .unwrap();
    let n = 64;
    let f = Array2::from_shape_fn((n, n), |(i, j)| {
        let (x, y) = (
            i as f64 / n as f64 * std::f64::consts::TAU,
            j as f64 / n as f64 * std::f64::consts::TAU,
        );
        x.sin() * (2.0 * y).cos() + 0.3 * y.sin()
    });
    let opts = HeatmapOpts {
        title: "Response field R(x, y) at lag 5".into(),
        cbar_label: "R (per unit forcing)".into(),
        diverging: true,
        ..Default::default()
    };
    save_heatmap(Path::new("/tmp/plot_demo_heatmap.png"), f.view(), &opts).unwrap();
    let g = f.mapv(|v| v * v);
    let opts = HeatmapOpts {
        title: "Energy density".into(),
        cbar_label: "u² (dimensionless)".into(),
        ..Default::default()
    };
    save_heatmap(Path::new("/tmp/plot_demo_heatmap_seq.png"), g.view(), &opts).unwrap();
    let opts = HistOpts {
        title: "Stationary marginal of u(x)".into(),
        xlabel: "u (dimensionless)".into(),
        gaussian_overlay: true,
        label: "simulation".into(),
        ..Default::default()
    };
    save_histogram(
        Path::new("/tmp/plot_demo_hist.png"),
        &normals(20000, 3),
        &opts,
    )
    .unwrap();
    let sets = vec![
        ("data".to_string(), normals(20000, 4)),
        (
            "score-model samples".to_string(),
            normals(20000, 5).iter().map(|v| 1.1 * v + 0.2).collect(),
        ),
    ];
    save_histograms(Path::new("/tmp/plot_demo_hists.png"), &sets, &opts).unwrap();
    // Stress: curves everywhere, long labels, tiny magnitudes, three panels in two columns.
    let x: Vec<f64> = (0..400).map(|i| i as f64 * 1e-3).collect();
    let noise = normals(400 * 6, 9);
    let mut panel = Panel::new("random walks", "time t [s]", "displacement [m]");
    for k in 0..6 {
        let mut acc = 0.0;
        let y: Vec<f64> = (0..400)
            .map(|i| {
                acc += 1e-7 * noise[k * 400 + i];
                acc
            })
            .collect();
        panel = panel.with_series(
            Series::new(format!("walker {k} with a long label"), x.clone(), y)
                .with_err(vec![2e-7; 400]),
        );
    }
    let flat = Panel::new("constant", "x", "y")
        .with_series(Series::new("c", vec![0.0, 1.0, 2.0], vec![5.0; 3]).markers(true));
    let fig = Figure::new("Stress test")
        .with_panel(panel.clone())
        .with_panel(flat)
        .with_panel(panel);
    save_lines(Path::new("/tmp/plot_demo_stress.png"), &fig).unwrap();
}

#[test]
fn extreme_values_never_panic() {
    let dir = TempDir::new("extreme");
    let sets: [&[f64]; 6] = [
        &[1e-320, 2e-320],
        &[5e-324],
        &[-1e300, 1e300],
        &[f64::MAX, -f64::MAX],
        &[1e15, 1e15 + 1.0],
        &[0.0, 1e-300],
    ];
    for (k, v) in sets.iter().enumerate() {
        let x: Vec<f64> = (0..v.len()).map(|i| i as f64).collect();
        let fig = Figure::new("e").with_panel(Panel::new("p", "x", "y").with_series(Series::new(
            "s",
            x,
            v.to_vec(),
        )));
        let r1 = save_lines(&dir.join(format!("l{k}.png")), &fig);
        let r2 = save_histogram(
            &dir.join(format!("h{k}.png")),
            v,
            &HistOpts {
                gaussian_overlay: true,
                ..Default::default()
            },
        );
        let f = Array2::from_shape_vec((v.len(), 1), v.to_vec()).unwrap();
        let r3 = save_heatmap(
            &dir.join(format!("m{k}.png")),
            f.view(),
            &HeatmapOpts::default(),
        );
        let r4 = save_heatmap(
            &dir.join(format!("d{k}.png")),
            f.view(),
            &HeatmapOpts {
                diverging: true,
                ..Default::default()
            },
        );
        // Case 3 exceeds 1e300 and must be rejected; every other case must draw.
        for r in [r1, r2, r3, r4] {
            match (k, r) {
                (3, Err(e)) => assert!(e.to_string().contains("too large to plot"), "{e}"),
                (3, Ok(())) => panic!("case 3 accepted"),
                (_, r) => r.unwrap(),
            }
        }
    }
}
