//! A chart with both axes logarithmic, for quantities that span many decades on both
//! sides, such as a finite-difference error against its step `h` (chapter 02), where a
//! power law `h^p` is a straight line of slope `p`.

use plotters::prelude::*;

use super::{DrawResult, Figure, Series, color, csv_of, draw_caption, range};

/// A line chart with a logarithmic x axis and a logarithmic y axis.
///
/// Points with a non-positive or non-finite coordinate are left out (a log axis cannot
/// show them). Dashed series suit reference slopes drawn beside measured lines.
///
/// ```
/// use resgrad::viz::{LogLogChart, Series};
/// let chart = LogLogChart {
///     title: "h^2".into(),
///     x_label: "h".into(),
///     y_label: "h^2".into(),
///     series: vec![Series::new("h^2", (1..8).map(|k| {
///         let h = 10f64.powi(-k);
///         (h, h * h)
///     }).collect(), 0)],
///     caption: "A straight line of slope 2.".into(),
/// };
/// let fig = chart.render("square");
/// assert!(fig.svg.contains("<svg"));
/// ```
#[derive(Debug, Clone)]
pub struct LogLogChart {
    /// Title.
    pub title: String,
    /// X axis label.
    pub x_label: String,
    /// Y axis label.
    pub y_label: String,
    /// The lines.
    pub series: Vec<Series>,
    /// Caption drawn under the chart.
    pub caption: String,
}

impl LogLogChart {
    /// Draws the chart as the figure `name`.
    pub fn render(&self, name: &str) -> Figure {
        let mut svg = String::new();
        if let Err(e) = self.draw(&mut svg) {
            svg = super::could_not_draw(&e);
        }
        Figure {
            name: name.to_string(),
            title: self.title.clone(),
            caption: self.caption.clone(),
            svg,
            csv: csv_of(&self.series, &self.x_label, &self.y_label),
        }
    }

    fn shown(&self, s: &Series) -> Vec<(f64, f64)> {
        s.points
            .iter()
            .copied()
            .filter(|&(x, y)| x.is_finite() && y.is_finite() && x > 0.0 && y > 0.0)
            .collect()
    }

    /// The corner of the plot whose quarter (in log coordinates) holds the fewest points.
    fn legend_at(&self, (x0, x1): (f64, f64), (y0, y1): (f64, f64)) -> SeriesLabelPosition {
        let frac = |v: f64, lo: f64, hi: f64| (v.ln() - lo.ln()) / (hi.ln() - lo.ln());
        let pts: Vec<(f64, f64)> = self
            .series
            .iter()
            .flat_map(|s| self.shown(s))
            .map(|(x, y)| (frac(x, x0, x1), frac(y, y0, y1)))
            .collect();
        let count = |right: bool, upper: bool| {
            pts.iter()
                .filter(|(x, y)| {
                    let in_x = if right { *x > 0.55 } else { *x < 0.45 };
                    let in_y = if upper { *y > 0.6 } else { *y < 0.4 };
                    in_x && in_y
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

    fn draw(&self, out: &mut String) -> DrawResult<()> {
        let root = SVGBackend::with_string(out, (760, 520)).into_drawing_area();
        root.fill(&WHITE)?;
        let (chart_area, caption_area) = root.split_vertically(450);
        let pts: Vec<(f64, f64)> = self.series.iter().flat_map(|s| self.shown(s)).collect();
        let (x0, x1) = range(pts.iter().map(|p| p.0), true);
        let (y0, y1) = range(pts.iter().map(|p| p.1), true);
        let mut chart = ChartBuilder::on(&chart_area)
            .caption(&self.title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .x_label_formatter(&|v| format!("{v:.0e}"))
            .y_label_formatter(&|v| format!("{v:.0e}"))
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 15))
            .draw()?;
        for s in &self.series {
            let c = color(s.color);
            let style = c.stroke_width(2);
            let line = self.shown(s);
            let anno = if s.dashed {
                chart.draw_series(DashedLineSeries::new(line, 6, 4, style))?
            } else {
                chart.draw_series(LineSeries::new(line, style))?
            };
            if s.legend {
                // A dashed series shows two dashes in the legend, a solid one a line.
                let gap = if s.dashed { 4 } else { 0 };
                anno.label(&s.name).legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (7, 0)], c.stroke_width(2))
                        + PathElement::new(vec![(7 + gap, 0), (18, 0)], c.stroke_width(2))
                });
            }
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .position(self.legend_at((x0, x1), (y0, y1)))
            .draw()?;
        draw_caption(&caption_area, &self.caption)?;
        root.present()?;
        Ok(())
    }
}
