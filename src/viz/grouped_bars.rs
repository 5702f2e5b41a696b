//! Bars in groups: one group of bars per category, one colour per series, each bar with
//! its value on top. For a few numbers compared two ways at once, such as the
//! multiply-adds of each stage of ResNet-34 beside ResNet-50's.

use std::fmt::Write as _;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    DrawResult, Figure, caption_height, color, could_not_draw, draw_caption, font, real_tick,
};

/// A bar chart with `categories` along the x axis and, in each category, one bar per
/// series of `series` (`(name, values)`, `values[i]` for `categories[i]`), coloured by
/// series and named in the legend; each bar carries its value to `decimals` places. A
/// series with fewer values than categories leaves the last categories without its bar.
///
/// ```
/// let f = resgrad::viz::grouped_bars(
///     "cost",
///     "Multiply-adds per stage",
///     "G multiply-adds",
///     &["conv2_x", "conv3_x"],
///     &[("ResNet-34", vec![0.69, 0.87]), ("ResNet-50", vec![0.68, 1.03])],
///     2,
///     "Two nets, two stages.",
/// );
/// assert!(f.svg.contains("conv3_x") && f.svg.contains("ResNet-50"));
/// assert_eq!(f.csv, "category,ResNet-34,ResNet-50\nconv2_x,0.69,0.68\nconv3_x,0.87,1.03\n");
/// ```
pub fn grouped_bars(
    name: &str,
    title: &str,
    y_label: &str,
    categories: &[&str],
    series: &[(&str, Vec<f64>)],
    decimals: usize,
    caption: &str,
) -> Figure {
    let mut svg = String::new();
    let draw = |out: &mut String| -> DrawResult<()> {
        let width = 820u32;
        let root = SVGBackend::with_string(out, (width, 470 + caption_height(caption, width)))
            .into_drawing_area();
        root.fill(&WHITE)?;
        let (chart_area, caption_area) = root.split_vertically(470);
        let top = series
            .iter()
            .flat_map(|s| s.1.iter().copied())
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
        let n = categories.len().max(1);
        let mut chart = ChartBuilder::on(&chart_area)
            .caption(title, ("sans-serif", font::TITLE))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(84)
            .build_cartesian_2d(-0.5..n as f64 - 0.5, 0.0..top * 1.2 + 1e-12)?;
        let name_of = |v: &f64| {
            let i = v.round();
            if (v - i).abs() < 1e-9 && i >= 0.0 {
                categories
                    .get(i as usize)
                    .map_or(String::new(), |c| c.to_string())
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n + 1)
            .x_label_formatter(&name_of)
            .y_label_formatter(&real_tick)
            .y_desc(y_label)
            .label_style(("sans-serif", font::TICK))
            .axis_desc_style(("sans-serif", font::AXIS))
            .draw()?;
        // Each category gets 0.8 of a unit, shared equally by the series.
        let share = 0.8 / series.len().max(1) as f64;
        for (g, (label, values)) in series.iter().enumerate() {
            let left = |i: usize| i as f64 - 0.4 + g as f64 * share;
            let bars = values
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_finite())
                .map(|(i, &v)| {
                    Rectangle::new(
                        [(left(i) + 0.01, 0.0), (left(i) + share - 0.01, v.max(0.0))],
                        color(g).filled(),
                    )
                });
            chart
                .draw_series(bars)?
                .label(*label)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 14, y + 6)], color(g).filled())
                });
            let text = values
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_finite())
                .map(|(i, &v)| {
                    EmptyElement::at((left(i) + share / 2.0, v.max(0.0) + 0.01 * top))
                        + Text::new(
                            format!("{v:.decimals$}"),
                            (0, 0),
                            ("sans-serif", 13)
                                .into_font()
                                .color(&BLACK)
                                .pos(Pos::new(HPos::Center, VPos::Bottom)),
                        )
                });
            chart.draw_series(text)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
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
    let clean = |s: &str| s.replace(',', ";");
    let mut csv = String::from("category");
    for (label, _) in series {
        let _ = write!(csv, ",{}", clean(label));
    }
    csv.push('\n');
    for (i, c) in categories.iter().enumerate() {
        csv.push_str(&clean(c));
        for (_, values) in series {
            let _ = write!(
                csv,
                ",{}",
                values.get(i).map_or(String::new(), f64::to_string)
            );
        }
        csv.push('\n');
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
    fn every_category_series_and_value_is_drawn() {
        let f = grouped_bars(
            "g",
            "per stage",
            "M params",
            &["conv1", "conv2_x", "fc"],
            &[
                ("ResNet-34", vec![0.01, 0.22, 0.51]),
                ("ResNet-50", vec![0.01, 0.22, 2.05]),
            ],
            2,
            "the fc layer of ResNet-50 is four times ResNet-34's",
        );
        assert!(!f.svg.contains("could not draw"), "{}", f.svg);
        for text in [
            "conv1",
            "conv2_x",
            "fc",
            "ResNet-34",
            "ResNet-50",
            "2.05",
            "0.51",
        ] {
            assert!(f.svg.contains(text), "{text} missing from the drawing");
        }
        // One filled rectangle per bar, in the colour of its series.
        let fill = |c: RGBColor| format!("fill=\"#{:02X}{:02X}{:02X}\"", c.0, c.1, c.2);
        assert!(
            f.svg.matches(&fill(color(1))).count() >= 3,
            "three bars of ResNet-50"
        );
        assert_eq!(
            f.csv,
            "category,ResNet-34,ResNet-50\nconv1,0.01,0.01\nconv2_x,0.22,0.22\nfc,0.51,2.05\n"
        );
    }

    #[test]
    fn a_short_series_leaves_its_last_bars_out() {
        let f = grouped_bars("g", "t", "y", &["a", "b"], &[("s", vec![1.0])], 1, "");
        assert!(!f.svg.contains("could not draw"), "{}", f.svg);
        assert_eq!(f.csv, "category,s\na,1\nb,\n");
    }
}
