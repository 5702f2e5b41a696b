//! The roofline model (Williams, Waterman and Patterson 2009): how fast an operation can
//! run on a machine, given how many FLOPs it does per byte it moves.
//!
//! An op doing `F` FLOPs on `B` bytes has the **arithmetic intensity** `I = F / B`. On a
//! machine with peak arithmetic `P` (FLOP/s) and memory bandwidth `W` (bytes/s) it takes at
//! least `max(F / P, B / W)` seconds, so it runs at most at `min(P, W I)` FLOP/s: a
//! slanted roof (memory-bound) left of the **ridge** `I = P / W`, a flat one
//! (compute-bound) right of it.

use std::fmt::Write as _;

use plotters::prelude::*;

use super::{DrawResult, Figure, caption_height, color, draw_caption, font};

/// One measured operation on the roofline chart.
#[derive(Debug, Clone, PartialEq)]
pub struct RooflinePoint {
    /// A short name written beside the point (`matmul 512`, `ReLU`).
    pub name: String,
    /// FLOPs per byte moved.
    pub intensity: f64,
    /// The FLOP rate it reached, in GFLOP/s.
    pub gflops: f64,
}

/// A roofline chart: the roof of one machine and measured operations under it.
///
/// ```
/// use resgrad::viz::{Roofline, RooflinePoint};
/// let r = Roofline {
///     title: "A machine".into(),
///     peak_gflops: 100.0,
///     bandwidth_gbs: 10.0,
///     points: vec![RooflinePoint { name: "add".into(), intensity: 1.0 / 12.0, gflops: 0.5 }],
///     caption: "The add sits on the slanted roof.".into(),
/// };
/// assert_eq!(r.ridge(), 10.0);
/// assert_eq!(r.attainable(1.0), 10.0);
/// assert_eq!(r.attainable(1000.0), 100.0);
/// assert!(r.render("roof").svg.contains("add"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Roofline {
    /// Title.
    pub title: String,
    /// The machine's peak arithmetic, GFLOP/s (the flat roof).
    pub peak_gflops: f64,
    /// The machine's memory bandwidth, GB/s (the slope of the slanted roof).
    pub bandwidth_gbs: f64,
    /// Measured operations, drawn as labelled dots.
    pub points: Vec<RooflinePoint>,
    /// Caption drawn under the chart.
    pub caption: String,
}

impl Roofline {
    /// The best rate an operation of `intensity` FLOPs per byte can reach, GFLOP/s:
    /// `min(peak, bandwidth * intensity)`.
    pub fn attainable(&self, intensity: f64) -> f64 {
        self.peak_gflops.min(self.bandwidth_gbs * intensity)
    }

    /// The intensity where the two roofs meet, `peak / bandwidth` FLOPs per byte: below it
    /// an operation waits for memory, above it for arithmetic.
    pub fn ridge(&self) -> f64 {
        self.peak_gflops / self.bandwidth_gbs
    }

    /// Draws the chart as the figure `name`.
    pub fn render(&self, name: &str) -> Figure {
        let mut svg = String::new();
        if let Err(e) = self.draw(&mut svg) {
            svg = super::could_not_draw(&e);
        }
        let mut csv = String::from("name,intensity (FLOP/byte),GFLOP/s,attainable GFLOP/s\n");
        for p in &self.points {
            let _ = writeln!(
                csv,
                "{},{},{},{}",
                p.name.replace(',', ";"),
                p.intensity,
                p.gflops,
                self.attainable(p.intensity)
            );
        }
        Figure {
            name: name.to_string(),
            title: self.title.clone(),
            caption: self.caption.clone(),
            svg,
            csv,
        }
    }

    fn draw(&self, out: &mut String) -> DrawResult<()> {
        let height = 480 + caption_height(&self.caption, 760);
        let root = SVGBackend::with_string(out, (760, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let (chart_area, caption_area) = root.split_vertically(480);
        let shown: Vec<&RooflinePoint> = self
            .points
            .iter()
            .filter(|p| p.intensity > 0.0 && p.gflops > 0.0)
            .collect();
        let ridge = self.ridge();
        let x0 = shown.iter().map(|p| p.intensity).fold(ridge, f64::min) / 4.0;
        // Room on the right for the names written beside the points.
        let x1 = shown.iter().map(|p| p.intensity).fold(ridge, f64::max) * 16.0;
        let y1 = self.peak_gflops * 3.0;
        let y0 = shown
            .iter()
            .map(|p| p.gflops)
            .fold(self.attainable(x0), f64::min)
            / 3.0;
        let mut chart = ChartBuilder::on(&chart_area)
            .caption(&self.title, ("sans-serif", font::TITLE))
            .margin(14)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("arithmetic intensity (FLOPs per byte)")
            .y_desc("GFLOP/s")
            .x_label_formatter(&|v| short(*v))
            .y_label_formatter(&|v| short(*v))
            .label_style(("sans-serif", font::TICK))
            .axis_desc_style(("sans-serif", font::AXIS))
            .draw()?;
        // The roof: sampled finely on the log axis so the corner is sharp.
        let roof: Vec<(f64, f64)> = (0..=400)
            .map(|i| {
                let x = x0 * (x1 / x0).powf(i as f64 / 400.0);
                (x, self.attainable(x))
            })
            .chain(std::iter::once((ridge, self.peak_gflops)))
            .collect::<Vec<_>>();
        let mut roof = roof;
        roof.sort_by(|a, b| a.0.total_cmp(&b.0));
        chart
            .draw_series(LineSeries::new(roof, color(6).stroke_width(3)))?
            .label(format!(
                "roof: min({:.0} GFLOP/s, {:.1} GB/s x intensity)",
                self.peak_gflops, self.bandwidth_gbs
            ))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color(6).stroke_width(3)));
        chart.draw_series(DashedLineSeries::new(
            vec![(ridge, y0), (ridge, self.peak_gflops)],
            5,
            4,
            color(6).mix(0.5).stroke_width(1),
        ))?;
        // Each kernel is named in the legend, not beside its dot: kernels of close
        // intensity and rate would print their names over each other.
        for (i, p) in shown.iter().enumerate() {
            let c = color(i % 6);
            chart
                .draw_series(std::iter::once(Circle::new(
                    (p.intensity, p.gflops),
                    6,
                    c.filled(),
                )))?
                .label(p.name.clone())
                .legend(move |(x, y)| Circle::new((x + 10, y), 5, c.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", font::LEGEND))
            .draw()?;
        draw_caption(&caption_area, &self.caption)?;
        root.present()?;
        Ok(())
    }
}

/// A tick label on a log axis: 0.1, 1, 10, 1k.
fn short(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if v >= 1.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine() -> Roofline {
        Roofline {
            title: "t".into(),
            peak_gflops: 180.0,
            bandwidth_gbs: 12.0,
            points: vec![
                RooflinePoint {
                    name: "add".into(),
                    intensity: 1.0 / 12.0,
                    gflops: 0.9,
                },
                RooflinePoint {
                    name: "matmul".into(),
                    intensity: 85.0,
                    gflops: 150.0,
                },
            ],
            caption: "c".into(),
        }
    }

    #[test]
    fn the_roof_is_the_lower_of_bandwidth_times_intensity_and_the_peak() {
        let r = machine();
        assert_eq!(r.ridge(), 15.0);
        assert_eq!(r.attainable(1.0), 12.0);
        assert_eq!(r.attainable(15.0), 180.0);
        assert_eq!(r.attainable(100.0), 180.0);
    }

    #[test]
    fn the_figure_names_every_point_and_its_data_has_the_roof_beside_it() {
        let fig = machine().render("roof");
        assert!(fig.svg.contains("<svg") && fig.svg.contains("matmul") && fig.svg.contains("add"));
        assert!(fig.csv.contains("matmul,85,150,180"), "{}", fig.csv);
        assert!(!fig.svg.contains("could not draw"), "{}", &fig.svg[..200]);
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(short(0.1), "0.1");
        assert_eq!(short(10.0), "10");
        assert_eq!(short(2000.0), "2k");
    }
}
