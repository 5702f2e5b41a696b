//! A bar chart with a named bar per category and its value written on top: timings of
//! several kernels, or any handful of numbers that are compared by name.

use std::fmt::Write as _;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{DrawResult, Figure, color, draw_caption};

/// Bars named `bars[i].0` with heights `bars[i].1`, as the figure `name`; `y_label` names
/// the unit, and each bar carries its value, formatted to `decimals` places. A logarithmic
/// axis (`log_y`) shows bars that differ by orders of magnitude, and their ratios as steps
/// of equal height.
pub fn labelled_bars(
    name: &str,
    title: &str,
    y_label: &str,
    bars: &[(&str, f64)],
    (decimals, log_y): (usize, bool),
    caption: &str,
) -> Figure {
    let mut svg = String::new();
    let draw = |out: &mut String| -> DrawResult<()> {
        let root = SVGBackend::with_string(out, (760, 500)).into_drawing_area();
        root.fill(&WHITE)?;
        let (chart_area, caption_area) = root.split_vertically(450);
        let shown: Vec<f64> = bars
            .iter()
            .map(|b| b.1)
            .filter(|v| v.is_finite() && (!log_y || *v > 0.0))
            .collect();
        let top = shown.iter().copied().fold(0.0, f64::max);
        let low = shown.iter().copied().fold(f64::INFINITY, f64::min);
        let (y0, y1) = if log_y && top > 0.0 {
            (low / 3.0, top * 3.0)
        } else {
            (0.0, top * 1.15 + 1e-12)
        };
        let mut builder = ChartBuilder::on(&chart_area);
        builder
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70);
        // A discrete range of integers is inclusive: 0..=n-1 gives n segments.
        let x = (0..bars.len().max(1) - 1).into_segmented();
        let name_of = |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(i) => bars.get(*i).map_or(String::new(), |b| b.0.into()),
            _ => String::new(),
        };
        let label = |v: f64| {
            Text::new(
                format!("{v:.decimals$}"),
                (0, 0),
                ("sans-serif", 14)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
            )
        };
        if log_y {
            let mut chart = builder.build_cartesian_2d(x, (y0..y1).log_scale())?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .y_desc(y_label)
                .x_labels(bars.len().max(1))
                .x_label_style(("sans-serif", 14))
                .y_label_style(("sans-serif", 13))
                .x_label_formatter(&name_of)
                .y_label_formatter(&|v| tick(*v))
                .draw()?;
            for (i, &(_, v)) in bars.iter().enumerate().filter(|b| b.1.1 > 0.0) {
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(i), y0),
                        (SegmentValue::Exact(i + 1), v),
                    ],
                    color(i).filled(),
                );
                bar.set_margin(0, 0, 18, 18);
                chart.draw_series([bar])?;
                chart.draw_series([
                    EmptyElement::at((SegmentValue::CenterOf(i), v * 1.08)) + label(v)
                ])?;
            }
        } else {
            let mut chart = builder.build_cartesian_2d(x, y0..y1)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .y_desc(y_label)
                .x_labels(bars.len().max(1))
                .x_label_style(("sans-serif", 14))
                .y_label_style(("sans-serif", 13))
                .x_label_formatter(&name_of)
                .draw()?;
            for (i, &(_, v)) in bars.iter().enumerate().filter(|b| b.1.1.is_finite()) {
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(i), 0.0),
                        (SegmentValue::Exact(i + 1), v.max(0.0)),
                    ],
                    color(i).filled(),
                );
                bar.set_margin(0, 0, 18, 18);
                chart.draw_series([bar])?;
                chart.draw_series([EmptyElement::at((
                    SegmentValue::CenterOf(i),
                    v.max(0.0) + 0.02 * top,
                )) + label(v)])?;
            }
        }
        draw_caption(&caption_area, caption)?;
        root.present()?;
        Ok(())
    };
    if let Err(e) = draw(&mut svg) {
        svg = super::could_not_draw(&e);
    }
    let mut csv = format!("bar,{}\n", y_label.replace(',', ";"));
    for (label, v) in bars {
        let _ = writeln!(csv, "{},{v}", label.replace(',', ";"));
    }
    Figure {
        name: name.into(),
        title: title.into(),
        caption: caption.into(),
        svg,
        csv,
    }
}

/// A tick on a logarithmic axis: "0.1", "2", "50", not "5.0e1".
fn tick(v: f64) -> String {
    if v >= 1.0 {
        format!("{v:.0}")
    } else {
        let digits = (-v.log10().floor()) as usize;
        format!("{v:.digits$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bar_is_named_and_carries_its_value() {
        let f = labelled_bars(
            "b",
            "speed",
            "GFLOP/s",
            &[("loops", 0.8), ("fast", 95.25)],
            (1, false),
            "the fast kernel is faster",
        );
        assert!(!f.svg.contains("could not draw"), "{}", f.svg);
        for text in ["loops", "fast", "95.2", "0.8"] {
            assert!(f.svg.contains(text), "{text} missing");
        }
        assert_eq!(f.csv, "bar,GFLOP/s\nloops,0.8\nfast,95.25\n");
        let log = labelled_bars(
            "b",
            "speed",
            "GFLOP/s",
            &[("a", 0.11), ("b", 62.0)],
            (2, true),
            "",
        );
        assert!(!log.svg.contains("could not draw"), "{}", log.svg);
        assert!(log.svg.contains("0.11") && log.svg.contains("62.00"));
    }

    #[test]
    fn log_ticks_read_as_plain_numbers() {
        assert_eq!(tick(0.1), "0.1");
        assert_eq!(tick(0.02), "0.02");
        assert_eq!(tick(5.0), "5");
        assert_eq!(tick(200.0), "200");
    }
}
