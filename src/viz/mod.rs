//! Figures drawn with plotters as SVG (no system fonts: the browser draws the text).
//!
//! A [`Figure`] holds its SVG, a one-sentence caption and the numbers behind it as CSV;
//! it saves to a folder and shows inline in an evcxr notebook (`image/svg+xml`).
//!
//! The experiments of `flow` and `train` return numbers; this module draws them:
//! [`mod@flow`] for gradient flow at initialisation, [`degradation`] for the degradation
//! experiment, and [`tour`] puts both on one page. The chapters draw their own numbers with
//! [`LineChart`], [`LogLogChart`] (errors against a step size), [`heatmaps`] (feature
//! maps, matrices), [`labelled_bars`] (timings), [`grouped_bars()`] (a few numbers compared
//! two ways, such as cost per stage of two nets) and [`Roofline`] (FLOP rates against
//! arithmetic intensity).

pub mod bars;
pub mod degradation;
pub mod flow;
pub mod grouped_bars;
pub mod heatmap;
pub mod lesion;
pub mod loglog;
pub mod roofline;
pub mod table6;
pub mod tour;

use std::fmt::Write as _;
use std::path::Path;

use plotters::prelude::*;

pub use bars::labelled_bars;
pub use grouped_bars::grouped_bars;
pub use heatmap::{HeatPanel, heatmaps};
pub use loglog::LogLogChart;
pub use roofline::{Roofline, RooflinePoint};

pub mod graph;

/// A drawn figure with its caption and data.
#[derive(Debug, Clone)]
pub struct Figure {
    /// File stem, e.g. `gradient-norm-depth`.
    pub name: String,
    /// The title drawn at the top.
    pub title: String,
    /// One sentence saying what to see.
    pub caption: String,
    /// The SVG document.
    pub svg: String,
    /// The numbers drawn, as CSV with a header row.
    pub csv: String,
}

impl Figure {
    /// Writes `<dir>/<name>.svg` (if there is a drawing) and `<dir>/<name>.csv`, each
    /// atomically; returns how many files it wrote.
    pub fn save(&self, dir: impl AsRef<Path>) -> std::io::Result<usize> {
        let dir = dir.as_ref();
        if !self.svg.is_empty() {
            crate::io::write_atomic(&dir.join(format!("{}.svg", self.name)), self.svg.as_bytes())?;
        }
        crate::io::write_atomic(&dir.join(format!("{}.csv", self.name)), self.csv.as_bytes())?;
        Ok(1 + usize::from(!self.svg.is_empty()))
    }

    /// Shows the figure inline in an evcxr notebook.
    pub fn evcxr_display(&self) {
        crate::io::evcxr_show("image/svg+xml", &self.svg);
    }
}

/// One line of a chart.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// `(x, y)` points.
    pub points: Vec<(f64, f64)>,
    /// Colour index into the palette.
    pub color: usize,
    /// Dashed (e.g. training error) or solid.
    pub dashed: bool,
    /// Whether the legend lists this series (one entry per group of seeds).
    pub legend: bool,
}

impl Series {
    /// A solid, labelled series.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>, color: usize) -> Self {
        Series {
            name: name.into(),
            points,
            color,
            dashed: false,
            legend: true,
        }
    }
}

/// A shaded band between a low and a high curve, drawn under the lines: for example the
/// range over seeds, with the median as a [`Series`].
#[derive(Debug, Clone, Default)]
pub struct Band {
    /// `(x, low, high)` points, in the order of x.
    pub points: Vec<(f64, f64, f64)>,
    /// Colour index into the palette (drawn faint).
    pub color: usize,
}

/// Font sizes of every chart, in plotters' units (the SVG's `font-size` is this over
/// 1.24, in pixels: 17 is 13.7 px), large enough to read on a page.
pub mod font {
    /// Tick labels.
    pub const TICK: u32 = 17;
    /// Axis descriptions.
    pub const AXIS: u32 = 17;
    /// Legend entries.
    pub const LEGEND: u32 = 16;
    /// A chart's title.
    pub const TITLE: u32 = 20;
    /// The caption under a figure.
    pub const CAPTION: u32 = 17;
}

/// Colour-blind-friendly palette (Okabe and Ito).
pub fn color(i: usize) -> RGBColor {
    const P: [RGBColor; 8] = [
        RGBColor(0, 114, 178),
        RGBColor(213, 94, 0),
        RGBColor(0, 158, 115),
        RGBColor(204, 121, 167),
        RGBColor(230, 159, 0),
        RGBColor(86, 180, 233),
        RGBColor(0, 0, 0),
        RGBColor(240, 228, 66),
    ];
    P[i % P.len()]
}

/// A line chart. `..Default::default()` fills the fields a chart does not need.
#[derive(Debug, Clone, Default)]
pub struct LineChart {
    /// Title.
    pub title: String,
    /// X axis label.
    pub x_label: String,
    /// Y axis label.
    pub y_label: String,
    /// Logarithmic y axis.
    pub log_y: bool,
    /// A fixed y range (otherwise fitted to the data).
    pub y_range: Option<(f64, f64)>,
    /// An x axis that counts (layer, block, step, lag, epoch, depth): ticks only at whole
    /// numbers, labelled as integers (`5`, never `5.0`).
    pub x_integer: bool,
    /// Shaded bands, drawn under the lines (e.g. the range over seeds).
    pub bands: Vec<Band>,
    /// The lines, drawn in order (the last on top).
    pub series: Vec<Series>,
    /// Caption drawn under the chart.
    pub caption: String,
}

impl LineChart {
    /// Where the legend goes, in a plot `size` pixels wide and high: of the four corners
    /// and the four edges' middles, the place whose legend box covers the fewest points of
    /// the lines and bands (sampled along each segment, so a sparse line counts too).
    fn legend_at(&self, size: (u32, u32)) -> SeriesLabelPosition {
        let (x0, x1) = range(
            self.series
                .iter()
                .flat_map(|s| s.points.iter().map(|p| p.0))
                .chain(self.bands.iter().flat_map(|b| b.points.iter().map(|p| p.0))),
            false,
        );
        let ys = || {
            self.series
                .iter()
                .flat_map(|s| s.points.iter().map(|p| p.1))
                .chain(
                    self.bands
                        .iter()
                        .flat_map(|b| b.points.iter().flat_map(|p| [p.1, p.2])),
                )
        };
        let (y0, y1) = self.y_range.unwrap_or_else(|| range(ys(), self.log_y));
        let ty = |y: f64| if self.log_y { y.max(1e-300).log10() } else { y };
        let (ty0, ty1) = (ty(y0), ty(y1));
        let norm = |(x, y): (f64, f64)| ((x - x0) / (x1 - x0), (ty(y) - ty0) / (ty1 - ty0));
        // Each line, and each band's edges and middle, sampled 8 times per segment.
        let mut lines: Vec<Vec<(f64, f64)>> =
            self.series.iter().map(|s| s.points.clone()).collect();
        for b in &self.bands {
            lines.push(b.points.iter().map(|p| (p.0, p.1)).collect());
            lines.push(b.points.iter().map(|p| (p.0, p.2)).collect());
            lines.push(
                b.points
                    .iter()
                    .map(|p| {
                        (
                            p.0,
                            if self.log_y {
                                (p.1 * p.2).sqrt()
                            } else {
                                0.5 * (p.1 + p.2)
                            },
                        )
                    })
                    .collect(),
            );
        }
        let mut pts = Vec::new();
        for line in &lines {
            let line: Vec<(f64, f64)> = line
                .iter()
                .copied()
                .filter(|p| p.1.is_finite() && (!self.log_y || p.1 > 0.0))
                .map(norm)
                .collect();
            pts.extend(line.first().copied());
            for w in line.windows(2) {
                for k in 1..=8 {
                    let t = k as f64 / 8.0;
                    pts.push((
                        w[0].0 + t * (w[1].0 - w[0].0),
                        w[0].1 + t * (w[1].1 - w[0].1),
                    ));
                }
            }
        }
        // The legend box, as a fraction of the plot.
        let shown: Vec<&Series> = self.series.iter().filter(|s| s.legend).collect();
        let chars = shown.iter().map(|s| s.name.len()).max().unwrap_or(0) as f64;
        let px = font::LEGEND as f64 / 1.24;
        let w = ((chars * 0.55 * px + 50.0) / size.0.max(1) as f64).min(1.0);
        let h = ((shown.len() as f64 * (px + 8.0) + 14.0) / size.1.max(1) as f64).min(1.0);
        let (low, mid, high) = (
            (0.0, 0.0),
            (0.5 - 0.5 * w, 0.5 - 0.5 * h),
            (1.0 - w, 1.0 - h),
        );
        use SeriesLabelPosition as P;
        [
            (P::UpperLeft, low.0, high.1),
            (P::UpperRight, high.0, high.1),
            (P::LowerLeft, low.0, low.1),
            (P::LowerRight, high.0, low.1),
            (P::UpperMiddle, mid.0, high.1),
            (P::LowerMiddle, mid.0, low.1),
            (P::MiddleLeft, low.0, mid.1),
            (P::MiddleRight, high.0, mid.1),
        ]
        .into_iter()
        .map(|(at, bx, by)| {
            let inside = pts
                .iter()
                .filter(|p| p.0 >= bx && p.0 <= bx + w && p.1 >= by && p.1 <= by + h)
                .count();
            (inside, at)
        })
        .min_by_key(|(n, _)| *n)
        .map_or(P::UpperLeft, |(_, at)| at)
    }
}

fn csv_of(series: &[Series], x: &str, y: &str) -> String {
    let mut csv = format!("series,{x},{y}\n");
    for s in series {
        for (a, b) in &s.points {
            let _ = writeln!(csv, "{},{a},{b}", s.name.replace(',', ";"));
        }
    }
    csv
}

fn range(values: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite() && (!log || *v > 0.0)) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (if log { 0.1 } else { 0.0 }, 1.0);
    }
    if log {
        (lo / 2.0, hi * 2.0)
    } else if hi - lo < 1e-12 {
        (lo - 0.5, hi + 0.5)
    } else {
        let pad = 0.05 * (hi - lo);
        (lo - pad, hi + pad)
    }
}

type DrawResult<T> = Result<T, Box<dyn std::error::Error>>;

/// The SVG a figure shows when plotters could not draw it: the error, as text.
fn could_not_draw(e: &dyn std::fmt::Display) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\"><text x=\"10\" y=\"20\">could not draw: {e}</text></svg>"
    )
}

/// The caption's lines, wrapped to fit `width` pixels at [`font::CAPTION`].
fn caption_lines(caption: &str, width: u32) -> Vec<String> {
    // About 0.55 em a character, and the SVG's pixels are plotters' units over 1.24.
    let chars = ((width.saturating_sub(28)) as f64 / (0.55 * font::CAPTION as f64 / 1.24)) as usize;
    let mut lines = vec![String::new()];
    for word in caption.split_whitespace() {
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && line.len() + 1 + word.len() > chars.max(20) {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

/// The height, in pixels, of the caption under a figure `width` pixels wide.
fn caption_height(caption: &str, width: u32) -> u32 {
    12 + CAPTION_LINE * caption_lines(caption, width).len() as u32
}

/// Pixels from one caption line to the next.
const CAPTION_LINE: u32 = 20;

/// The caption under a chart, wrapped to the width of `area`.
fn draw_caption<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    caption: &str,
) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
    let width = area.dim_in_pixel().0;
    for (i, line) in caption_lines(caption, width).into_iter().enumerate() {
        let style = ("sans-serif", font::CAPTION)
            .into_font()
            .color(&RGBColor(60, 60, 60));
        area.draw(&Text::new(
            line,
            (14, 4 + (CAPTION_LINE * i as u32) as i32),
            style,
        ))?;
    }
    Ok(())
}

/// Labels a tick of an integer axis: whole numbers without a decimal point, nothing
/// elsewhere.
fn integer_tick(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        String::new()
    }
}

/// Labels a tick of a real axis as briefly as it reads: `0.5`, `20` (never `20.0`).
fn real_tick(v: &f64) -> String {
    if *v != 0.0 && !(1e-3..1e6).contains(&v.abs()) {
        return format!("{v:e}");
    }
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// How many ticks an integer axis over `(x0, x1)` may have: no more than one per whole
/// number, so that every tick falls on one.
fn integer_ticks((x0, x1): (f64, f64)) -> usize {
    ((x1 - x0).floor().max(1.0) as usize + 1).min(11)
}

impl LineChart {
    /// Draws the chart as the figure `name`.
    pub fn render(&self, name: &str) -> Figure {
        let mut svg = String::new();
        if let Err(e) = self.draw(&mut svg) {
            svg = could_not_draw(&e);
        }
        Figure {
            name: name.to_string(),
            title: self.title.clone(),
            caption: self.caption.clone(),
            svg,
            csv: csv_of(&self.series, &self.x_label, &self.y_label),
        }
    }

    fn draw(&self, out: &mut String) -> DrawResult<()> {
        let height = 460 + caption_height(&self.caption, 760);
        let root = SVGBackend::with_string(out, (760, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let (chart_area, caption_area) = root.split_vertically(460);
        self.draw_on(&chart_area)?;
        draw_caption(&caption_area, &self.caption)?;
        root.present()?;
        Ok(())
    }

    /// Draws the chart (without its caption) into `area`.
    pub fn draw_on<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> DrawResult<()>
    where
        DB::ErrorType: 'static,
    {
        let (x0, x1) = range(
            self.series
                .iter()
                .flat_map(|s| s.points.iter().map(|p| p.0))
                .chain(self.bands.iter().flat_map(|b| b.points.iter().map(|p| p.0))),
            false,
        );
        let (y0, y1) = self.y_range.unwrap_or_else(|| {
            range(
                self.series
                    .iter()
                    .flat_map(|s| s.points.iter().map(|p| p.1))
                    .chain(
                        self.bands
                            .iter()
                            .flat_map(|b| b.points.iter().flat_map(|p| [p.1, p.2])),
                    ),
                self.log_y,
            )
        });
        let x_ticks = if self.x_integer {
            integer_ticks((x0, x1))
        } else {
            11
        };
        let (w, h) = area.dim_in_pixel();
        // The plot inside the axes: less the label areas, margins and the title.
        let plot = (w.saturating_sub(84 + 24), h.saturating_sub(50 + 24 + 32));
        let mut builder = ChartBuilder::on(area);
        builder
            .caption(&self.title, ("sans-serif", font::TITLE))
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(84);
        if self.log_y {
            let mut chart = builder.build_cartesian_2d(x0..x1, (y0..y1).log_scale())?;
            let mut mesh = chart.configure_mesh();
            mesh.x_desc(&self.x_label)
                .y_desc(&self.y_label)
                .label_style(("sans-serif", font::TICK))
                .axis_desc_style(("sans-serif", font::AXIS))
                .x_labels(x_ticks)
                .y_label_formatter(&|v| format!("{v:.0e}"));
            mesh.x_label_formatter(if self.x_integer {
                &integer_tick
            } else {
                &real_tick
            });
            mesh.draw()?;
            self.lines_and_legend(&mut chart, plot)?;
        } else {
            let mut chart = builder.build_cartesian_2d(x0..x1, y0..y1)?;
            let mut mesh = chart.configure_mesh();
            mesh.x_desc(&self.x_label)
                .y_desc(&self.y_label)
                .label_style(("sans-serif", font::TICK))
                .axis_desc_style(("sans-serif", font::AXIS))
                .x_labels(x_ticks)
                .y_label_formatter(&real_tick)
                .x_label_formatter(if self.x_integer {
                    &integer_tick
                } else {
                    &real_tick
                });
            mesh.draw()?;
            self.lines_and_legend(&mut chart, plot)?;
        }
        Ok(())
    }

    /// The lines, then the legend where it hides the least, in a plot `plot` pixels wide
    /// and high.
    fn lines_and_legend<'a, DB: DrawingBackend + 'a, CT>(
        &self,
        chart: &mut ChartContext<'a, DB, CT>,
        plot: (u32, u32),
    ) -> DrawResult<()>
    where
        CT: plotters::coord::CoordTranslate<From = (f64, f64)>,
        DB::ErrorType: 'static,
    {
        self.lines(chart)?;
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", font::LEGEND))
            .position(self.legend_at(plot))
            .draw()?;
        Ok(())
    }

    fn lines<'a, DB: DrawingBackend + 'a, CT>(
        &self,
        chart: &mut ChartContext<'a, DB, CT>,
    ) -> DrawResult<()>
    where
        CT: plotters::coord::CoordTranslate<From = (f64, f64)>,
        DB::ErrorType: 'static,
    {
        for b in &self.bands {
            let shown = |y: f64| y.is_finite() && (!self.log_y || y > 0.0);
            let pts: Vec<(f64, f64, f64)> = b
                .points
                .iter()
                .copied()
                .filter(|p| shown(p.1) && shown(p.2))
                .collect();
            let outline: Vec<(f64, f64)> = pts
                .iter()
                .map(|p| (p.0, p.1))
                .chain(pts.iter().rev().map(|p| (p.0, p.2)))
                .collect();
            chart.draw_series(std::iter::once(Polygon::new(
                outline,
                color(b.color).mix(0.22).filled(),
            )))?;
        }
        for s in &self.series {
            let c = color(s.color);
            let width = if s.legend || !s.dashed { 2 } else { 1 };
            let style = c.stroke_width(width);
            let pts = s
                .points
                .iter()
                .copied()
                .filter(|p| p.1.is_finite() && (!self.log_y || p.1 > 0.0));
            let anno = if s.dashed {
                chart.draw_series(DashedLineSeries::new(pts, 6, 4, style))?
            } else {
                chart.draw_series(LineSeries::new(pts, style))?
            };
            if s.legend {
                let dashed = s.dashed;
                anno.label(&s.name).legend(move |(x, y)| {
                    if dashed {
                        PathElement::new(vec![(x, y), (x + 8, y)], c.stroke_width(2))
                    } else {
                        PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                    }
                });
            }
        }
        Ok(())
    }
}

/// Several line charts side by side in one figure, with one caption under them all.
pub fn panels(name: &str, title: &str, charts: &[LineChart], caption: &str) -> Figure {
    let mut svg = String::new();
    let draw = |out: &mut String| -> DrawResult<()> {
        let width = 520 * charts.len().max(1) as u32;
        let height = 36 + 460 + caption_height(caption, width);
        let root = SVGBackend::with_string(out, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let (top, rest) = root.split_vertically(36);
        top.draw(&Text::new(
            title.to_string(),
            (14, 8),
            ("sans-serif", font::TITLE).into_font(),
        ))?;
        let (chart_area, caption_area) = rest.split_vertically(460);
        // One y scale for every panel that does not fix its own, so that they compare at
        // a glance.
        let log = charts.iter().any(|c| c.log_y);
        let shared = range(
            charts.iter().filter(|c| c.y_range.is_none()).flat_map(|c| {
                c.series
                    .iter()
                    .flat_map(|s| s.points.iter().map(|p| p.1))
                    .chain(
                        c.bands
                            .iter()
                            .flat_map(|b| b.points.iter().flat_map(|p| [p.1, p.2])),
                    )
            }),
            log,
        );
        for (area, chart) in chart_area
            .split_evenly((1, charts.len().max(1)))
            .iter()
            .zip(charts)
        {
            let mut chart = chart.clone();
            chart.y_range = chart.y_range.or(Some(shared));
            chart.draw_on(area)?;
        }
        draw_caption(&caption_area, caption)?;
        root.present()?;
        Ok(())
    };
    if let Err(e) = draw(&mut svg) {
        svg = could_not_draw(&e);
    }
    let mut csv = String::from("panel,series,x,y\n");
    for c in charts {
        for line in csv_of(&c.series, &c.x_label, &c.y_label).lines().skip(1) {
            let _ = writeln!(csv, "{},{line}", c.title.replace(',', ";"));
        }
    }
    Figure {
        name: name.into(),
        title: title.into(),
        caption: caption.into(),
        svg,
        csv,
    }
}

/// A bar chart of one series (e.g. a histogram), as the figure `name`. When every bar
/// stands at a whole number (categories, counts), the x axis is labelled with integers.
pub fn bar_chart(
    name: &str,
    title: &str,
    (x_label, y_label): (&str, &str),
    bars: &[(f64, f64)],
    caption: &str,
) -> Figure {
    let mut svg = String::new();
    let integer = bars.iter().all(|b| b.0 == b.0.round());
    let draw =
        |out: &mut String| -> DrawResult<()> {
            let height = 460 + caption_height(caption, 760);
            let root = SVGBackend::with_string(out, (760, height)).into_drawing_area();
            root.fill(&WHITE)?;
            let (chart_area, caption_area) = root.split_vertically(460);
            let x1 = bars.iter().map(|b| b.0).fold(0.0, f64::max) + 1.0;
            let y1 = bars.iter().map(|b| b.1).fold(0.0, f64::max) * 1.1 + 1e-12;
            let mut chart = ChartBuilder::on(&chart_area)
                .caption(title, ("sans-serif", font::TITLE))
                .margin(12)
                .x_label_area_size(50)
                .y_label_area_size(84)
                .build_cartesian_2d(-0.5..x1, 0.0..y1)?;
            let mut mesh = chart.configure_mesh();
            mesh.x_desc(x_label)
                .y_desc(y_label)
                .label_style(("sans-serif", font::TICK))
                .axis_desc_style(("sans-serif", font::AXIS))
                .y_label_formatter(&real_tick);
            if integer {
                mesh.x_labels(integer_ticks((-0.5, x1)))
                    .x_label_formatter(&integer_tick);
            } else {
                mesh.x_label_formatter(&real_tick);
            }
            mesh.draw()?;
            chart
                .draw_series(bars.iter().map(|&(x, y)| {
                    Rectangle::new([(x - 0.4, 0.0), (x + 0.4, y)], color(0).filled())
                }))?
                .label(y_label)
                .legend(|(x, y)| Rectangle::new([(x, y - 4), (x + 12, y + 4)], color(0).filled()));
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .label_font(("sans-serif", font::LEGEND))
                .draw()?;
            draw_caption(&caption_area, caption)?;
            root.present()?;
            Ok(())
        };
    if let Err(e) = draw(&mut svg) {
        svg = could_not_draw(&e);
    }
    let mut csv = format!("{x_label},{y_label}\n");
    for (x, y) in bars {
        let _ = writeln!(csv, "{x},{y}");
    }
    Figure {
        name: name.into(),
        title: title.into(),
        caption: caption.into(),
        svg,
        csv,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_legend_avoids_a_sparse_line() {
        // The shape of the eq. 8 sweep: a line along the top, and a dashed one of a few
        // points rising from the bottom, which the lower-left box would cross.
        let chart = LineChart {
            log_y: true,
            series: vec![
                Series::new(
                    "R, ResNet-56 (27 blocks, batch norm)",
                    vec![(0.0, 2e4), (0.5, 2e3), (1.0, 27.0), (1.2, 178.0)],
                    0,
                ),
                Series::new(
                    "lambda^27: eq. 8's direct term",
                    vec![(0.5, 7e-9), (0.8, 2e-3), (1.0, 1.0), (1.2, 137.0)],
                    1,
                ),
            ],
            ..LineChart::default()
        };
        let at = chart.legend_at((650, 354));
        assert!(
            matches!(at, SeriesLabelPosition::LowerRight),
            "{at:?}: over a line"
        );
    }
}
