//! Reading a drawn figure's SVG: its text elements, their font sizes, its tick labels.
#![allow(dead_code)]

/// The smallest font a tick label may have, in the SVG's pixels.
pub const MIN_TICK_PX: f64 = 13.0;

/// Each `<text ...>` element of `svg`: its attributes and its text, trimmed.
pub fn texts(svg: &str) -> Vec<(String, String)> {
    svg.split("<text")
        .skip(1)
        .filter_map(|rest| {
            let (attrs, after) = rest.split_once('>')?;
            let (body, _) = after.split_once("</text>")?;
            Some((attrs.to_string(), body.trim().to_string()))
        })
        .collect()
}

/// The value of attribute `name` in `attrs`, if it is there.
pub fn attr<'a>(attrs: &'a str, name: &str) -> Option<&'a str> {
    let start = attrs.find(&format!(" {name}=\""))? + name.len() + 3;
    attrs[start..].split('"').next()
}

/// The tick labels of `svg`: its texts that are numbers, as `(attributes, text)`.
pub fn tick_labels(svg: &str) -> Vec<(String, String)> {
    texts(svg)
        .into_iter()
        .filter(|(_, t)| !t.is_empty() && t.parse::<f64>().is_ok())
        .collect()
}

/// Fails unless `svg` has tick labels, each at least [`MIN_TICK_PX`] pixels, none written
/// with a useless `.0` (`5.0`, `20.0`), and, when `integer_x`, every x tick label (centred
/// under its tick) a whole number without a decimal point.
#[track_caller]
pub fn assert_readable_ticks(name: &str, svg: &str, integer_x: bool) {
    let ticks = tick_labels(svg);
    assert!(ticks.len() >= 4, "{name}: too few tick labels: {ticks:?}");
    for (attrs, text) in &ticks {
        let px: f64 = attr(attrs, "font-size")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name}: tick `{text}` has no font-size: {attrs}"));
        assert!(
            px >= MIN_TICK_PX,
            "{name}: tick label `{text}` is {px:.1} px, below {MIN_TICK_PX}"
        );
        assert!(
            !text.ends_with(".0") && !text.contains(".0e"),
            "{name}: tick label `{text}` written with a useless .0"
        );
        if integer_x && attr(attrs, "text-anchor") == Some("middle") {
            assert!(
                text.parse::<i64>().is_ok(),
                "{name}: x tick `{text}` of an integer axis is not an integer"
            );
        }
    }
    if integer_x {
        assert!(
            ticks
                .iter()
                .any(|(a, _)| attr(a, "text-anchor") == Some("middle")),
            "{name}: no x tick labels"
        );
    }
}
