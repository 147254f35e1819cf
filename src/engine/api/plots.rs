//! Script API for figures (PNG or SVG by extension): response panels with error bands, line
//! figures, heatmaps, histograms.
use rhai::plugin::*;
use rhai::Module;
use serde::Deserialize;

/// The `plot` topic module.
pub fn module() -> Module {
    exported_module!(plots_api)
}

/// Options of `plot_responses`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResponsePlotOpts {
    /// Curves to plot; `None`: [`crate::response::default_curves`].
    pub offsets: Option<Vec<Vec<usize>>>,
    pub tmax: Option<f64>,
    pub title: String,
    pub panel_titles: Option<Vec<String>>,
    pub xlabel: String,
    pub ylabel: String,
    pub cols: usize,
    pub width: u32,
    pub height: u32,
}
impl Default for ResponsePlotOpts {
    fn default() -> Self {
        ResponsePlotOpts {
            offsets: None,
            tmax: None,
            title: "Linear response".into(),
            panel_titles: None,
            xlabel: "lag t (time units)".into(),
            ylabel: "response R(t)".into(),
            cols: 2,
            width: 1200,
            height: 900,
        }
    }
}

/// Options of `plot_heatmap`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HeatmapScriptOpts {
    pub title: String,
    pub xlabel: String,
    pub ylabel: String,
    pub cbar_label: String,
    pub width: u32,
    pub height: u32,
    pub diverging: bool,
}
impl Default for HeatmapScriptOpts {
    fn default() -> Self {
        let d = crate::plot::HeatmapOpts::default();
        HeatmapScriptOpts {
            title: d.title,
            xlabel: d.xlabel,
            ylabel: d.ylabel,
            cbar_label: d.cbar_label,
            width: d.width,
            height: d.height,
            diverging: d.diverging,
        }
    }
}

/// Options of `plot_histogram`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HistScriptOpts {
    pub title: String,
    pub xlabel: String,
    pub bins: usize,
    pub gaussian: bool,
    pub width: u32,
    pub height: u32,
    pub label: String,
}
impl Default for HistScriptOpts {
    fn default() -> Self {
        let d = crate::plot::HistOpts::default();
        HistScriptOpts {
            title: d.title,
            xlabel: d.xlabel,
            bins: d.bins,
            gaussian: d.gaussian_overlay,
            width: d.width,
            height: d.height,
            label: d.label,
        }
    }
}

impl HistScriptOpts {
    fn to_plot(&self) -> crate::plot::HistOpts {
        crate::plot::HistOpts {
            title: self.title.clone(),
            xlabel: self.xlabel.clone(),
            bins: self.bins,
            gaussian_overlay: self.gaussian,
            width: self.width,
            height: self.height,
            label: self.label.clone(),
        }
    }
}

/// Line style for a response by its legend name: ensembles dotted with markers, Gaussian FDT
/// dashed, analytic and GFDT solid.
fn style_for(name: &str) -> (crate::plot::LineStyle, bool) {
    use crate::plot::LineStyle;
    let n = name.to_ascii_lowercase();
    if n.contains("ensemble") {
        (LineStyle::Dotted, true)
    } else if n.contains("gaussian") {
        (LineStyle::Dashed, false)
    } else {
        (LineStyle::Solid, false)
    }
}

/// Builds the panel figure of several responses ("1 → i" panels).
pub fn response_figure(
    rs: &[crate::core::response::Response],
    o: &ResponsePlotOpts,
) -> crate::Result<crate::plot::Figure> {
    use crate::plot::{Figure, Panel, Series};
    use crate::Error;
    let refs: Vec<&crate::core::response::Response> = rs.iter().collect();
    let offsets = match &o.offsets {
        Some(v) => v.clone(),
        None => crate::response::default_curves(&refs),
    };
    if rs.is_empty() || offsets.is_empty() {
        return Err(Error::invalid(
            "plot_responses: give at least one response and one offset",
        ));
    }
    if let Some(t) = &o.panel_titles {
        if t.len() != offsets.len() {
            return Err(Error::invalid(format!(
                "plot_responses: {} panel_titles for {} offsets",
                t.len(),
                offsets.len()
            )));
        }
    }
    let mut fig = Figure::new(o.title.clone())
        .cols(o.cols)
        .size(o.width, o.height);
    for (k, off) in offsets.iter().enumerate() {
        let title = match &o.panel_titles {
            Some(t) => t[k].clone(),
            None => crate::response::curve_label(rs[0].tail(), off),
        };
        // One legend (first panel): the curves and colours are the same in every panel.
        let mut p = Panel::new(title, o.xlabel.clone(), o.ylabel.clone()).legend(k == 0);
        for r in rs {
            let (v, e) = r.curve(off).ok_or_else(|| {
                Error::invalid(format!(
                    "plot_responses: offset {off:?} does not fit '{}' (values of shape {:?} per \
                     lag); pass offsets that index it, e.g. offsets: {:?}",
                    r.name,
                    r.tail(),
                    crate::response::default_curves(&refs)
                ))
            })?;
            let t = r.times();
            let n = match o.tmax {
                Some(tm) => t.iter().take_while(|&&x| x <= tm + 1e-9).count(),
                None => t.len(),
            };
            let (style, markers) = style_for(&r.name);
            let mut s = Series::new(r.name.clone(), t[..n].to_vec(), v[..n].to_vec())
                .style(style)
                .markers(markers);
            if r.stderr.is_some() {
                s = s.with_err(e[..n].to_vec());
            }
            p = p.with_series(s);
        }
        fig = fig.with_panel(p);
    }
    Ok(fig)
}

#[fdtlab_macros::guarded]
#[export_module]
pub mod plots_api {
    use super::{HeatmapScriptOpts, HistScriptOpts, ResponsePlotOpts};
    use crate::engine::array::NdArray;
    use crate::engine::error::rt;
    use crate::engine::options::{check_keys, parse_opts};
    use crate::plot::{
        save_heatmap, save_histogram, save_histograms, save_lines, Figure, HeatmapOpts, Panel,
        Series,
    };
    use rhai::{Array, Dynamic, EvalAltResult, Map};
    use std::path::Path;

    type Res<T> = Result<T, Box<EvalAltResult>>;

    /// The paper's response figure: one panel per offset ("(1,1) → (i,1)" on grids, "x[j] →
    /// x[i]" for vector systems), every response as a curve with a shaded ±1 standard-error
    /// band where it has one. Options: `offsets` (default: up to four curves `[k, 0]` that fit
    /// every response — on a grid the offsets [[0,0],[1,0],[2,0],[3,0]]), `tmax` (all lags),
    /// `title`, `panel_titles`, `xlabel`
    /// ("lag t (time units)"), `ylabel`, `cols` (2), `width`, `height`. PNG or SVG by extension.
    /// The legend is drawn in the first panel (colours follow the curve in every panel).
    ///
    /// ```rhai
    /// let a = analytic_response(ou(#{ n: 8 }), #{ lags: 11 });
    /// plot_responses(out_path("r.png"), [a], #{ title: "OU", tmax: 10.0 });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn plot_responses(path: &str, responses: Array, opts: Map) -> Res<()> {
        let o: ResponsePlotOpts = parse_opts(opts, "plot_responses")?;
        let rs = crate::engine::api::responses::responses_of(&responses, "plot_responses")?;
        let fig = super::response_figure(&rs, &o)?;
        save_lines(Path::new(path), &fig)?;
        Ok(())
    }

    /// A general line figure. `fig` is a map: `title`, `cols`, `width`, `height` and `panels`:
    /// an array of `#{ title, xlabel, ylabel, series, legend }`, each series
    /// `#{ label, x, y, err }` (`err` optional: a shaded ± band; `style`: "solid" | "dashed" |
    /// "dotted"; `markers`). `legend: false` hides a panel's legend (in a grid of panels with the
    /// same curves, keep it in one panel; colours follow the label across panels).
    ///
    /// ```rhai
    /// plot_lines(out_path("l.svg"), #{ title: "demo", panels: [
    ///     #{ title: "a", xlabel: "t (time units)", ylabel: "x", series: [
    ///         #{ label: "line", x: [0, 1, 2], y: [0.0, 1.0, 4.0], err: [0.1, 0.1, 0.2] } ] } ] });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn plot_lines(path: &str, fig: Map) -> Res<()> {
        let mut fig = fig;
        let get_s =
            |m: &Map, k: &str| -> String { m.get(k).map(|v| v.to_string()).unwrap_or_default() };
        check_keys(
            &fig,
            &["title", "cols", "width", "height", "panels"],
            "plot_lines",
        )?;
        let panels = fig
            .remove("panels")
            .and_then(|p| p.try_cast::<Array>())
            .ok_or_else(|| rt("plot_lines: `panels` must be an array of panel maps"))?;
        let mut f = Figure::new(get_s(&fig, "title"));
        if let Some(c) = fig.get("cols") {
            f = f.cols(
                c.as_int()
                    .map_err(|_| rt("plot_lines: cols must be an integer"))?
                    as usize,
            );
        }
        let w = fig
            .get("width")
            .and_then(|v| v.as_int().ok())
            .unwrap_or(1200) as u32;
        let h = fig
            .get("height")
            .and_then(|v| v.as_int().ok())
            .unwrap_or(900) as u32;
        f = f.size(w, h);
        for (pi, p) in panels.into_iter().enumerate() {
            let pm = p
                .try_cast::<Map>()
                .ok_or_else(|| rt(format!("plot_lines: panel {pi} must be a map")))?;
            check_keys(
                &pm,
                &["title", "xlabel", "ylabel", "series", "legend"],
                &format!("plot_lines: panel {pi}"),
            )?;
            let mut panel = Panel::new(
                get_s(&pm, "title"),
                get_s(&pm, "xlabel"),
                get_s(&pm, "ylabel"),
            );
            if let Some(l) = pm.get("legend") {
                panel = panel.legend(l.as_bool().map_err(|_| {
                    rt(format!(
                        "plot_lines: panel {pi}: legend must be true or false"
                    ))
                })?);
            }
            let series = pm
                .get("series")
                .and_then(|s| s.clone().try_cast::<Array>())
                .ok_or_else(|| {
                    rt(format!(
                        "plot_lines: panel {pi} needs `series`: an array of maps"
                    ))
                })?;
            for (si, s) in series.into_iter().enumerate() {
                let sm = s.try_cast::<Map>().ok_or_else(|| {
                    rt(format!("plot_lines: panel {pi} series {si} must be a map"))
                })?;
                let what = format!("plot_lines: panel {pi} series {si}");
                check_keys(&sm, &["label", "x", "y", "err", "style", "markers"], &what)?;
                let need = |k: &str| {
                    sm.get(k)
                        .cloned()
                        .ok_or_else(|| rt(format!("{what}: missing `{k}`")))
                };
                let mut ser = Series::new(
                    get_s(&sm, "label"),
                    super::floats(&need("x")?, &what)?,
                    super::floats(&need("y")?, &what)?,
                );
                if let Some(e) = sm.get("err") {
                    ser = ser.with_err(super::floats(e, &what)?);
                }
                if let Some(st) = sm.get("style") {
                    ser = ser.style(match st.to_string().as_str() {
                        "dashed" => crate::plot::LineStyle::Dashed,
                        "dotted" => crate::plot::LineStyle::Dotted,
                        "solid" => crate::plot::LineStyle::Solid,
                        other => {
                            return Err(rt(format!(
                                "{what}: style '{other}' is not one of solid, dashed, dotted"
                            )))
                        }
                    });
                }
                if let Some(mk) = sm.get("markers") {
                    ser = ser.markers(mk.as_bool().unwrap_or(false));
                }
                panel = panel.with_series(ser);
            }
            f = f.with_panel(panel);
        }
        save_lines(Path::new(path), &f)?;
        Ok(())
    }

    /// A heatmap of a 2-D field (axis 0 = x horizontal, axis 1 = y up) with a colour bar.
    /// Options: `title`, `xlabel`, `ylabel`, `cbar_label`, `width`, `height`, `diverging`
    /// (blue–white–red symmetric about 0 instead of viridis).
    ///
    /// ```rhai
    /// plot_heatmap(out_path("h.png"), nd([[0, 1], [2, 3]]), #{ title: "field", cbar_label: "θ" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn plot_heatmap(path: &str, field: NdArray, opts: Map) -> Res<()> {
        let o: HeatmapScriptOpts = parse_opts(opts, "plot_heatmap")?;
        let v = field.view();
        let f2 = v.into_dimensionality::<ndarray::Ix2>().map_err(|_| {
            rt(format!(
                "plot_heatmap: field has shape {:?}; expected a 2-D array",
                field.shape()
            ))
        })?;
        let ho = HeatmapOpts {
            title: o.title,
            xlabel: o.xlabel,
            ylabel: o.ylabel,
            cbar_label: o.cbar_label,
            width: o.width,
            height: o.height,
            diverging: o.diverging,
        };
        save_heatmap(Path::new(path), f2, &ho)?;
        Ok(())
    }

    /// A probability-density histogram. Options: `title`, `xlabel`, `bins` (40), `gaussian`
    /// (overlay the Gaussian with the data's mean and variance), `label`, `width`, `height`.
    ///
    /// ```rhai
    /// plot_histogram(out_path("hist.png"), linspace(-1, 1, 100), #{ gaussian: true, xlabel: "θ" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn plot_histogram(path: &str, values: Dynamic, opts: Map) -> Res<()> {
        let o: HistScriptOpts = parse_opts(opts, "plot_histogram")?;
        let v = super::floats(&values, "plot_histogram")?;
        save_histogram(Path::new(path), &v, &o.to_plot())?;
        Ok(())
    }

    /// Several histograms on shared bins (e.g. samples vs data). `sets` is a map
    /// `#{ label: values, ... }`; options as `plot_histogram`.
    ///
    /// ```rhai
    /// plot_histograms(out_path("hh.png"), #{ data: linspace(-1, 1, 50), samples: linspace(-2, 1, 50) }, #{ bins: 10 });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn plot_histograms(path: &str, sets: Map, opts: Map) -> Res<()> {
        let o: HistScriptOpts = parse_opts(opts, "plot_histograms")?;
        let mut v = Vec::new();
        for (k, d) in sets {
            v.push((k.to_string(), super::floats(&d, "plot_histograms")?));
        }
        save_histograms(Path::new(path), &v, &o.to_plot())?;
        Ok(())
    }
}

fn floats(d: &rhai::Dynamic, what: &str) -> Result<Vec<f64>, Box<rhai::EvalAltResult>> {
    let a = crate::engine::array::NdArray::from_dynamic(d, what)?;
    Ok(a.view().iter().copied().collect())
}
