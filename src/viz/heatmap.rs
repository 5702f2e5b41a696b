//! Heat maps of 2-D arrays side by side: an image and its feature maps after a conv, or
//! any matrix whose pattern matters more than its numbers.
//!
//! Each panel has its own symmetric colour scale, blue for negative, white for zero, red
//! for positive, with the largest magnitude written under it, so that panels of very
//! different sizes of values can be compared by their patterns.

use std::fmt::Write as _;

use ndarray::Array2;
use plotters::prelude::*;

use super::{DrawResult, Figure, draw_caption};

/// One panel: a title and the values, row 0 drawn at the top.
#[derive(Debug, Clone)]
pub struct HeatPanel {
    /// Drawn above the panel.
    pub title: String,
    /// The values, `[rows, columns]`.
    pub values: Array2<f64>,
}

impl HeatPanel {
    /// A panel titled `title` showing `values`.
    pub fn new(title: impl Into<String>, values: Array2<f64>) -> Self {
        HeatPanel {
            title: title.into(),
            values,
        }
    }
}

/// The colour of `v` on a scale from `-scale` (blue) through 0 (white) to `scale` (red).
fn diverging(v: f64, scale: f64) -> RGBColor {
    let t = if scale > 0.0 {
        (v / scale).clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let (far, white) = if t >= 0.0 {
        ((178.0, 24.0, 43.0), 1.0 - t)
    } else {
        ((33.0, 102.0, 172.0), 1.0 + t)
    };
    let mix = |c: f64| (c + (255.0 - c) * white).round() as u8;
    RGBColor(mix(far.0), mix(far.1), mix(far.2))
}

/// Panels of heat maps side by side, with one caption under them all, as the figure `name`.
pub fn heatmaps(name: &str, title: &str, panels: &[HeatPanel], caption: &str) -> Figure {
    let mut svg = String::new();
    let per = 240u32;
    let draw = |out: &mut String| -> DrawResult<()> {
        let width = (per * panels.len().max(1) as u32).max(520);
        let root = SVGBackend::with_string(out, (width, per + 130)).into_drawing_area();
        root.fill(&WHITE)?;
        let (top, rest) = root.split_vertically(30);
        top.draw(&Text::new(
            title.to_string(),
            (14, 6),
            ("sans-serif", 18).into_font(),
        ))?;
        let (maps, caption_area) = rest.split_vertically(per + 40);
        let (maps, _) = maps.split_horizontally(per * panels.len().max(1) as u32);
        for (area, panel) in maps
            .split_evenly((1, panels.len().max(1)))
            .iter()
            .zip(panels)
        {
            draw_panel(area, panel)?;
        }
        draw_caption(&caption_area, caption)?;
        root.present()?;
        Ok(())
    };
    if let Err(e) = draw(&mut svg) {
        svg = super::could_not_draw(&e);
    }
    let mut csv = String::from("panel,row,column,value\n");
    for p in panels {
        for ((r, c), v) in p.values.indexed_iter() {
            let _ = writeln!(csv, "{},{r},{c},{v}", p.title.replace(',', ";"));
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

/// One heat map in a square area: its title, the cells, and its scale underneath.
fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    panel: &HeatPanel,
) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
    let (rows, cols) = panel.values.dim();
    let scale = panel.values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let (w, h) = area.dim_in_pixel();
    let side = (w.min(h.saturating_sub(40)) as f64 - 20.0).max(10.0);
    let cell = side / rows.max(cols).max(1) as f64;
    let (x0, y0) = (
        (w as f64 - cell * cols as f64) / 2.0,
        22.0 + (side - cell * rows as f64) / 2.0,
    );
    area.draw(&Text::new(
        panel.title.clone(),
        (x0 as i32, 2),
        ("sans-serif", 14).into_font(),
    ))?;
    for ((r, c), &v) in panel.values.indexed_iter() {
        let (a, b) = (x0 + cell * c as f64, y0 + cell * r as f64);
        area.draw(&Rectangle::new(
            [
                (a.floor() as i32, b.floor() as i32),
                ((a + cell).ceil() as i32, (b + cell).ceil() as i32),
            ],
            diverging(v, scale).filled(),
        ))?;
    }
    let frame = [
        (x0 as i32, y0 as i32),
        (
            (x0 + cell * cols as f64) as i32,
            (y0 + cell * rows as f64) as i32,
        ),
    ];
    area.draw(&Rectangle::new(
        frame,
        RGBColor(120, 120, 120).stroke_width(1),
    ))?;
    area.draw(&Text::new(
        format!("{rows}x{cols}, |max| {scale:.3}"),
        (x0 as i32, (y0 + cell * rows as f64) as i32 + 6),
        ("sans-serif", 13).into_font().color(&RGBColor(60, 60, 60)),
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_white_and_the_ends_are_blue_and_red() {
        assert_eq!(diverging(0.0, 1.0), RGBColor(255, 255, 255));
        assert_eq!(diverging(2.0, 2.0), RGBColor(178, 24, 43));
        assert_eq!(diverging(-5.0, 2.0), RGBColor(33, 102, 172));
        assert_eq!(diverging(3.0, 0.0), RGBColor(255, 255, 255));
    }

    #[test]
    fn a_heatmap_draws_one_rectangle_per_cell_and_keeps_its_numbers() {
        let a = Array2::from_shape_fn((3, 4), |(r, c)| r as f64 - c as f64);
        let f = heatmaps("h", "t", &[HeatPanel::new("a", a)], "what to see");
        assert!(f.svg.contains("<svg") && !f.svg.contains("could not draw"));
        assert_eq!(f.csv.lines().count(), 1 + 12);
        assert!(f.svg.contains("3x4, |max| 3.000"));
    }
}
