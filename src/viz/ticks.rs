//! Tick labels of a counting axis (steps, layers, epochs). plotters labels an `f64` axis
//! with its `Debug` form, `50.0`; an axis that counts things should read `50`.

use super::Figure;

/// `fig` with every x-axis tick label that is a whole number written without its `.0`
/// (`50.0` becomes `50`, `2.5` stays). In plotters' SVG the x tick labels are the texts
/// centred on their tick (`text-anchor="middle"`); the y tick labels, aligned right, are
/// left as they are, and so is every label that is not a number (titles, legends).
pub fn integer_x_ticks(mut fig: Figure) -> Figure {
    const CLOSE: &str = "</text>";
    let mut out = String::with_capacity(fig.svg.len());
    let mut rest = fig.svg.as_str();
    while let Some(end) = rest.find(CLOSE) {
        let chunk = &rest[..end];
        // The last `<text ...>` before this `</text>`: its tag, then its label.
        let tag = chunk.rfind("<text").and_then(|start| {
            let body = start + chunk[start..].find('>')? + 1;
            Some((start, body))
        });
        match tag {
            Some((start, body))
                if chunk[start..body].contains("text-anchor=\"middle\"")
                    && whole_number(chunk[body..].trim()).is_some() =>
            {
                out.push_str(&chunk[..body]);
                out.push('\n');
                out.push_str(whole_number(chunk[body..].trim()).unwrap_or_default());
                out.push('\n');
            }
            _ => out.push_str(chunk),
        }
        out.push_str(CLOSE);
        rest = &rest[end + CLOSE.len()..];
    }
    out.push_str(rest);
    fig.svg = out;
    fig
}

/// `Some("50")` for `"50.0"` (or `"-3"` for `"-3.0"`); `None` for anything else.
fn whole_number(label: &str) -> Option<&str> {
    let n = label.strip_suffix(".0")?;
    let digits = n.strip_prefix('-').unwrap_or(n);
    (!digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::viz::{LineChart, Series};

    fn labels(svg: &str, anchor: &str) -> Vec<String> {
        svg.split("</text>")
            .filter_map(|chunk| {
                let start = chunk.rfind("<text")?;
                let body = start + chunk[start..].find('>')? + 1;
                chunk[start..body]
                    .contains(&format!("text-anchor=\"{anchor}\""))
                    .then(|| chunk[body..].trim().to_string())
            })
            .collect()
    }

    #[test]
    fn step_axis_labels_are_integers_and_the_y_axis_is_untouched() {
        let chart = LineChart {
            title: "loss".into(),
            x_label: "step".into(),
            y_label: "loss".into(),
            log_y: false,
            y_range: None,
            series: vec![Series::new(
                "loss",
                (0..=100)
                    .map(|t| (t as f64, 2.5 - 0.01 * t as f64))
                    .collect(),
                0,
            )],
            caption: "falls".into(),
        };
        let before = chart.render("t");
        assert!(labels(&before.svg, "middle").iter().any(|l| l == "50.0"));
        let after = integer_x_ticks(before.clone());
        let x = labels(&after.svg, "middle");
        assert!(x.iter().any(|l| l == "50"), "{x:?}");
        assert!(x.iter().all(|l| !l.ends_with(".0")), "{x:?}");
        assert!(x.iter().any(|l| l == "loss"), "the title stays: {x:?}");
        assert_eq!(labels(&after.svg, "end"), labels(&before.svg, "end"));
    }

    #[test]
    fn only_whole_numbers_lose_their_point() {
        assert_eq!(whole_number("50.0"), Some("50"));
        assert_eq!(whole_number("-3.0"), Some("-3"));
        assert_eq!(whole_number("2.5"), None);
        assert_eq!(whole_number("step"), None);
        assert_eq!(whole_number(".0"), None);
    }
}
