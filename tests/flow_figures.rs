//! `resgrad flow`'s figures: each has a title, labelled axes, a legend, a caption, and the
//! numbers it draws as CSV. The tour page shows them with their own captions.

#[path = "common/svg.rs"]
mod svg;

/// The flow figures whose x axis counts (layers, blocks, lags, path lengths).
const INTEGER_X: [&str; 5] = [
    "gradient-norm-depth",
    "eq5-split-resnet56",
    "layer-response-std",
    "shattered-autocorr",
    "path-lengths",
];

#[test]
fn every_flow_figure_is_labelled_and_has_its_numbers() {
    let mut ticks = 0;
    let out = resgrad::viz::flow::all_figures(|_| ticks += 1);
    assert_eq!(ticks, 7, "one progress tick per piece of work");
    let names: Vec<&str> = out.figures.iter().map(|f| f.name.as_str()).collect();
    for want in [
        "gradient-norm-depth",
        "eq5-split-resnet56",
        "layer-response-std",
        "shattered-curves",
        "shattered-autocorr",
        "path-lengths",
        "eq8-lambda",
    ] {
        let f = out
            .figures
            .iter()
            .find(|f| f.name == want)
            .unwrap_or_else(|| panic!("no figure {want} in {names:?}"));
        assert!(
            f.svg.starts_with("<svg") && !f.svg.contains("could not draw"),
            "{want}: not drawn"
        );
        let csv_header = f.csv.lines().next().unwrap();
        // The axis labels are the CSV's last two column names; both must be in the SVG.
        let columns: Vec<&str> = csv_header.split(',').collect();
        for label in &columns[columns.len() - 2..] {
            assert!(
                f.svg.contains(
                    &label
                        .replace('&', "&amp;")
                        .replace('<', "&lt;")
                        .replace('>', "&gt;")
                ),
                "{want}: axis label `{label}` not drawn"
            );
        }
        assert!(
            f.svg.contains(&f.title.replace('&', "&amp;")),
            "{want}: no title"
        );
        assert!(f.caption.len() > 40, "{want}: no caption");
        assert!(
            !f.caption.contains("  "),
            "{want}: a gap in `{}`",
            f.caption
        );
        assert!(f.csv.lines().count() > 5, "{want}: too few rows");
        // A legend: the first series' name (the CSV's first column) is drawn as text.
        let first_series = f
            .csv
            .lines()
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .replace(';', ",");
        if want == "gradient-norm-depth" {
            // Its CSV starts with the depth; the legend names the set-ups.
            for setup in ["He plain", "scaled residual", "zero-init residual"] {
                assert!(f.svg.contains(setup), "{want}: no legend entry `{setup}`");
            }
        } else if want != "path-lengths" {
            assert!(
                f.svg.contains(&first_series),
                "{want}: no legend entry `{first_series}`"
            );
        } else {
            assert!(
                f.svg.contains("share of the gradient norm"),
                "{want}: no legend"
            );
        }
    }
    let preds = &out.predictions;
    assert_eq!(preds.len(), resgrad::flow::PREDICTIONS.len());
    for m in preds {
        assert_eq!(m.values.len(), 5, "{}: seeds 0..4", m.prediction.id);
        assert!(
            m.holds(),
            "prediction {} failed: {:?}",
            m.prediction.id,
            m.values
        );
    }
    let csv = &out.get("predictions").expect("the predictions CSV").csv;
    assert_eq!(csv.lines().count(), 1 + preds.len());
    for f in out.figures.iter().filter(|f| !f.svg.is_empty()) {
        svg::assert_readable_ticks(&f.name, &f.svg, INTEGER_X.contains(&f.name.as_str()));
    }
    tour_page_uses_the_figures_own_captions(&out);
}

fn tour_page_uses_the_figures_own_captions(flow: &resgrad::viz::flow::FlowFigures) {
    use resgrad::viz::tour::{TOUR_FLOW_FIGURES, tour_page};
    // A tiny conv run: two nets of depth 8 on 64 digits, 2 steps of 32.
    let (train, test) = resgrad::data::digits_split();
    let mut cfg = resgrad::viz::tour::tour_config();
    cfg.depths = vec![8];
    cfg.train.steps = 2;
    cfg.train.eval_every = 2;
    cfg.train.eval_images = 64;
    cfg.train.batch = 32;
    let report = resgrad::viz::degradation::run(&cfg, &train.take(64), Some(&test)).unwrap();
    assert_eq!(report.responses.len(), 2, "Fig. 7 for plain-8 and resnet-8");
    assert_eq!(report.figures.len(), 2, "the curves and Fig. 7");
    let page = tour_page(flow, &report, "Fashion-MNIST from /somewhere", 1.0);
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    // Every figure the tour draws is on its page, with its own caption.
    for f in flow.figures.iter().filter(|f| !f.svg.is_empty()) {
        assert!(
            TOUR_FLOW_FIGURES.contains(&f.name.as_str()),
            "{}: drawn by the tour but not on its page",
            f.name
        );
    }
    for name in TOUR_FLOW_FIGURES {
        let f = flow.get(name).unwrap();
        assert!(page.contains(&format!("src=\"flow/{name}.svg\"")), "{name}");
        assert!(
            page.contains(&escape(&f.caption)),
            "{name}: caption not on the page"
        );
    }
    // The predictions table, whose CSV the tour writes beside the figures.
    assert!(page.contains("flow/predictions.csv"));
    for m in &flow.predictions {
        assert!(
            page.contains(&escape(&m.range_text())),
            "{}",
            m.prediction.id
        );
    }
    for f in &report.figures {
        assert!(page.contains(&format!("src=\"degradation/{}.svg\"", f.name)));
        assert!(
            page.contains(&escape(&f.caption)),
            "{}: caption not on the page",
            f.name
        );
        svg::assert_readable_ticks(&f.name, &f.svg, true);
    }
    assert!(page.contains("plain-8") && page.contains("resnet-8"));
    assert!(page.contains("Data: Fashion-MNIST from /somewhere"));
    assert!(
        !page.contains("class=\"note\""),
        "no warning when the data is there"
    );
    let dir = std::env::temp_dir().join(format!("resgrad-tour-{}", std::process::id()));
    let written = report.save(&dir).unwrap();
    assert!(written.iter().all(|p| p.exists()), "{written:?}");
    assert!(dir.join("degradation.md").exists() && dir.join("degradation-runs.csv").exists());

    // Without Fashion-MNIST, the page says so and how to install it.
    let missing = dir.join("no-fashion-mnist-here");
    let data = resgrad::viz::tour::tour_data_from(&missing);
    assert_eq!(data.train.shape, [1, 8, 8], "the embedded digits");
    let page = tour_page(flow, &report, &data.origin, 1.0);
    assert!(
        page.contains("<p class=\"note\">Data: Fashion-MNIST is not installed")
            && page.contains("`apt-get install dataset-fashion-mnist`"),
        "{}",
        data.origin
    );
    let _ = std::fs::remove_dir_all(&dir);
}
