//! Figures drawn with plotters as SVG (no system fonts: the browser draws the text).
//!
//! A [`Figure`] holds its SVG, a one-sentence caption and the numbers behind it as CSV;
//! it saves to a folder and shows inline in an evcxr notebook (`image/svg+xml`).
//!
//! The experiments of `flow` and `train` return numbers; this module draws them:
//! [`mod@flow`] for gradient flow at initialisation, [`degradation`] for the degradation
//! experiment, and [`tour`] puts both on one page. The chapters draw their own numbers with
//! [`LineChart`], [`LogLogChart`] (errors against a step size), [`heatmaps`] (feature
//! maps, matrices) and [`labelled_bars`] (timings).

pub mod bars;
pub mod degradation;
pub mod flow;
pub mod heatmap;
pub mod loglog;
pub mod ticks;
pub mod tour;

use std::fmt::Write as _;
use std::path::Path;

use plotters::prelude::*;

pub use bars::labelled_bars;
pub use heatmap::{HeatPanel, heatmaps};
pub use loglog::LogLogChart;

pub mod graph;

pub use ticks::integer_x_ticks;

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

/// A line chart.
#[derive(Debug, Clone)]
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
    /// The lines.
    pub series: Vec<Series>,
    /// Caption drawn under the chart.
    pub caption: String,
}

impl LineChart {
    /// Where the legend goes: the corner whose quarter of the plot holds the fewest points.
    fn legend_at(&self) -> SeriesLabelPosition {
        let pts: Vec<(f64, f64)> = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().copied())
            .filter(|p| p.1.is_finite())
            .collect();
        let (x0, x1) = range(pts.iter().map(|p| p.0), false);
        let ys: Vec<f64> = pts
            .iter()
            .map(|p| {
                if self.log_y {
                    p.1.max(1e-300).log10()
                } else {
                    p.1
                }
            })
            .collect();
        let (y0, y1) = range(ys.iter().copied(), false);
        let count = |right: bool, upper: bool| {
            pts.iter()
                .zip(&ys)
                .filter(|(p, y)| {
                    ((p.0 - x0) / (x1 - x0) > 0.6) == right
                        && ((**y - y0) / (y1 - y0) > 0.6) == upper
                })
                .count()
        };
        [
            (count(false, true), SeriesLabelPosition::UpperLeft),
            (count(true, true), SeriesLabelPosition::UpperRight),
            (count(false, false), SeriesLabelPosition::LowerLeft),
            (count(true, false), SeriesLabelPosition::LowerRight),
        ]
        .into_iter()
        .min_by_key(|(n, _)| *n)
        .map_or(SeriesLabelPosition::UpperLeft, |(_, p)| p)
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

/// A tick label on an integer axis: the integer, or nothing between integers.
fn integer_tick(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{:.0}", v.round())
    } else {
        String::new()
    }
}

/// The caption under a chart, wrapped at about 105 characters a line.
fn draw_caption<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    caption: &str,
) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
    let mut lines = vec![String::new()];
    for word in caption.split_whitespace() {
        let line = lines.last_mut().expect("one line at least");
        if line.len() + word.len() > 105 {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    for (i, line) in lines.iter().enumerate() {
        let style = ("sans-serif", 13).into_font().color(&RGBColor(60, 60, 60));
        area.draw(&Text::new(line.clone(), (14, 4 + 16 * i as i32), style))?;
    }
    Ok(())
}

impl LineChart {
    /// Draws the chart as the figure `name`.
    pub fn render(&self, name: &str) -> Figure {
        let mut svg = String::new();
        if let Err(e) = self.draw(&mut svg) {
            svg = format!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\"><text x=\"10\" y=\"20\">could not draw: {e}</text></svg>"
            );
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
        let root = SVGBackend::with_string(out, (760, 500)).into_drawing_area();
        root.fill(&WHITE)?;
        let (chart_area, caption_area) = root.split_vertically(450);
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
                .flat_map(|s| s.points.iter().map(|p| p.0)),
            false,
        );
        let (y0, y1) = self.y_range.unwrap_or_else(|| {
            range(
                self.series
                    .iter()
                    .flat_map(|s| s.points.iter().map(|p| p.1)),
                self.log_y,
            )
        });
        // An axis whose points all sit on integers (layer, step, epoch) is labelled with
        // integers only: "5", not "5.0", and no label at 4.5.
        let integer_x = self
            .series
            .iter()
            .flat_map(|s| s.points.iter())
            .all(|p| p.0.fract() == 0.0);
        let mut builder = ChartBuilder::on(area);
        builder
            .caption(&self.title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70);
        if self.log_y {
            let mut chart = builder.build_cartesian_2d(x0..x1, (y0..y1).log_scale())?;
            let mut mesh = chart.configure_mesh();
            mesh.x_desc(&self.x_label)
                .y_desc(&self.y_label)
                .y_label_formatter(&|v| format!("{v:.0e}"));
            if integer_x {
                mesh.x_label_formatter(&integer_tick);
            }
            mesh.draw()?;
            self.lines_and_legend(&mut chart)?;
        } else {
            let mut chart = builder.build_cartesian_2d(x0..x1, y0..y1)?;
            let mut mesh = chart.configure_mesh();
            mesh.x_desc(&self.x_label).y_desc(&self.y_label);
            if integer_x {
                mesh.x_label_formatter(&integer_tick);
            }
            mesh.draw()?;
            self.lines_and_legend(&mut chart)?;
        }
        Ok(())
    }

    /// The lines, then the legend in the emptiest corner.
    fn lines_and_legend<'a, DB: DrawingBackend + 'a, CT>(
        &self,
        chart: &mut ChartContext<'a, DB, CT>,
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
            .position(self.legend_at())
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
        let root = SVGBackend::with_string(out, (width, 520)).into_drawing_area();
        root.fill(&WHITE)?;
        let (top, rest) = root.split_vertically(30);
        top.draw(&Text::new(
            title.to_string(),
            (14, 6),
            ("sans-serif", 18).into_font(),
        ))?;
        let (chart_area, caption_area) = rest.split_vertically(440);
        // One y scale for every panel, so that they compare at a glance.
        let log = charts.iter().any(|c| c.log_y);
        let shared = range(
            charts
                .iter()
                .flat_map(|c| c.series.iter().flat_map(|s| s.points.iter().map(|p| p.1))),
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
        svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><text x=\"10\" y=\"20\">could not draw: {e}</text></svg>"
        );
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

/// A bar chart of one series (e.g. a histogram), as the figure `name`.
pub fn bar_chart(
    name: &str,
    title: &str,
    (x_label, y_label): (&str, &str),
    bars: &[(f64, f64)],
    caption: &str,
) -> Figure {
    let mut svg = String::new();
    let draw =
        |out: &mut String| -> DrawResult<()> {
            let root = SVGBackend::with_string(out, (760, 500)).into_drawing_area();
            root.fill(&WHITE)?;
            let (chart_area, caption_area) = root.split_vertically(450);
            let x1 = bars.iter().map(|b| b.0).fold(0.0, f64::max) + 1.0;
            let y1 = bars.iter().map(|b| b.1).fold(0.0, f64::max) * 1.1 + 1e-12;
            let mut chart = ChartBuilder::on(&chart_area)
                .caption(title, ("sans-serif", 18))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(70)
                .build_cartesian_2d(-0.5..x1, 0.0..y1)?;
            chart
                .configure_mesh()
                .x_desc(x_label)
                .y_desc(y_label)
                .draw()?;
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
                .draw()?;
            draw_caption(&caption_area, caption)?;
            root.present()?;
            Ok(())
        };
    if let Err(e) = draw(&mut svg) {
        svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><text x=\"10\" y=\"20\">could not draw: {e}</text></svg>"
        );
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
    fn an_axis_of_layers_is_labelled_with_integers() {
        let chart = LineChart {
            title: "t".into(),
            x_label: "layer".into(),
            y_label: "y".into(),
            log_y: false,
            y_range: None,
            series: vec![Series::new(
                "s",
                (1..=20).map(|l| (l as f64, l as f64 / 100.0)).collect(),
                0,
            )],
            caption: String::new(),
        };
        let svg = chart.render("t").svg;
        assert!(svg.contains("\n20\n") && !svg.contains("\n20.0\n"), "{svg}");
        assert_eq!(integer_tick(&4.5), "");
        assert_eq!(integer_tick(&-3.0), "-3");
    }
}
