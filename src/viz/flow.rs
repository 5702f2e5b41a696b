//! The figures of `resgrad flow`: gradient flow at initialisation, drawn from the numbers
//! the `flow` module measures.

use std::fmt::Write as _;
use std::path::Path;

use super::{Figure, LineChart, Series, bar_chart};
use crate::Float;
use crate::flow::{
    self, BoundaryGradients, DEPTH_SETUPS, DepthCurve, FlowSetup, Measured, Shattered,
};

impl<T: Float> BoundaryGradients<T> {
    /// `||dE/dx_l|| / ||dE/dx_L||` against `l`, on a log scale, titled `title`.
    pub fn figure(&self, title: &str) -> Figure {
        let norms = self.norms();
        let last = norms[norms.len() - 1];
        let points = norms
            .iter()
            .enumerate()
            .map(|(l, n)| (l as f64, n / last))
            .collect();
        LineChart {
            title: title.to_string(),
            x_label: "boundary l (block inputs; the last is the output)".into(),
            y_label: "||dE/dx_l|| / ||dE/dx_L||".into(),
            log_y: true,
            y_range: None,
            series: vec![Series::new("gradient norm", points, 0)],
            caption: format!("R = ||dE/dx_0|| / ||dE/dx_L|| = {:.3e}.", self.ratio()),
        }
        .render("gradient-norms")
    }
}

/// Gradient norm against depth, one line per curve, one colour per set-up.
pub fn gradient_norm_depth_figure(curves: &[DepthCurve]) -> Figure {
    let seeds = curves
        .iter()
        .map(|c| c.seed)
        .collect::<std::collections::BTreeSet<_>>();
    let first = seeds.first().copied().unwrap_or(0);
    let series = curves
        .iter()
        .map(|c| Series {
            name: c.setup.label().into(),
            points: c.points.clone(),
            color: DEPTH_SETUPS
                .iter()
                .position(|&s| s == c.setup)
                .unwrap_or(DEPTH_SETUPS.len()),
            dashed: false,
            legend: c.seed == first,
        })
        .collect();
    LineChart {
        title: format!(
            "Gradient norm against depth, 50 weight layers, width 64, {} seeds",
            seeds.len()
        ),
        x_label: "weight layer l (input side at 0)".into(),
        y_label: "||dE/dx_l|| / ||dE/dx_L||".into(),
        log_y: true,
        y_range: None,
        series,
        caption: "Without a skip the gradient falls (Glorot), fans out (He) or explodes (BN) on its way back; \
                  the residual nets keep it flat, exactly so at zero init."
            .into(),
    }
    .render("gradient-norm-depth")
}

/// He et al. 2016 eq. 5 split block by block: `(through the shortcut, through the branch)`.
pub fn eq5_figure(split: &[(f64, f64)]) -> Figure {
    let pts = |f: &dyn Fn(&(f64, f64)) -> f64| {
        split
            .iter()
            .enumerate()
            .map(|(l, s)| (l as f64, f(s)))
            .collect::<Vec<_>>()
    };
    LineChart {
        title: "He et al. 2016 eq. 5 along ResNet-56: where dE/dx_l comes from".into(),
        x_label: "block l".into(),
        y_label: "gradient norm".into(),
        log_y: true,
        y_range: None,
        series: vec![
            Series::new("through the shortcut", pts(&|s| s.0), 0),
            Series::new("through the branch F", pts(&|s| s.1), 1),
        ],
        caption: "At every block most of the gradient arrives through the shortcut, the term dE/dx_L of eq. 5 \
                  that reaches each layer directly."
            .into(),
    }
    .render("eq5-split-resnet56")
}

/// He et al. 2015 Fig. 7's instrument on fresh nets: `(net, std of each 3x3 response)`.
pub fn response_std_figure(nets: &[(&str, Vec<f64>)]) -> Figure {
    let series = nets
        .iter()
        .enumerate()
        .map(|(i, (name, stds))| {
            Series::new(
                *name,
                stds.iter()
                    .enumerate()
                    .map(|(l, &s)| (l as f64 + 1.0, s))
                    .collect(),
                i,
            )
        })
        .collect();
    LineChart {
        title: "Layer response std (He et al. 2015 Fig. 7), at initialisation, eval mode".into(),
        x_label: "3x3 layer index".into(),
        y_label: "std of the response (after BN, before the addition)".into(),
        log_y: true,
        y_range: None,
        series,
        caption: "The instrument of Fig. 7 before training. In eval mode fresh running statistics (mean 0, \
                  var 1) do not normalise, so responses drift: up along the ResNets' shortcuts, down in plain \
                  nets (in train mode every one would be exactly 1). The paper's figure is for trained nets."
            .into(),
    }
    .render("layer-response-std")
}

/// Shattered gradients: the curves `df/dt` (one baseline per depth) and their
/// autocorrelations.
pub fn shattered_figures(runs: &[Shattered]) -> (Figure, Figure) {
    let depths: Vec<usize> = runs.iter().fold(Vec::new(), |mut d, r| {
        if !d.contains(&r.depth) {
            d.push(r.depth);
        }
        d
    });
    let mut curves = Vec::new();
    let mut auto = Vec::new();
    for r in runs {
        let ci = depths.iter().position(|&d| d == r.depth).unwrap_or(0);
        let dashed = r.setup == FlowSetup::BnPlain;
        let kind = if dashed {
            "plain BN"
        } else {
            "scaled residual"
        };
        let g = &r.gradient;
        let sd = (g.iter().map(|v| v * v).sum::<f64>() / g.len() as f64)
            .sqrt()
            .max(1e-300);
        let last = (g.len() - 1).max(1) as f64;
        let t = |i: usize| -2.0 + 4.0 * i as f64 / last;
        // Each depth on its own baseline (+8, 0, -8), so the curves can be told apart.
        let offset = 8.0 - 8.0 * ci as f64;
        curves.push(Series {
            name: kind.to_string(),
            points: g
                .iter()
                .enumerate()
                .map(|(i, v)| (t(i), v / sd + offset))
                .collect(),
            color: usize::from(dashed),
            dashed,
            legend: ci == 0,
        });
        auto.push(Series {
            name: format!("{kind}, depth {}", r.depth),
            points: r
                .autocorrelation
                .iter()
                .enumerate()
                .map(|(k, &v)| (k as f64, v))
                .collect(),
            color: 2 * ci + usize::from(dashed),
            dashed,
            legend: true,
        });
    }
    let depth_list = depths
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let a = LineChart {
        title: format!(
            "Shattered gradients: df/dt over a 1-D input, depths {depth_list} (top to bottom)"
        ),
        x_label: "input t".into(),
        y_label: "df/dt, unit rms, offset by depth".into(),
        log_y: false,
        y_range: None,
        series: curves,
        caption:
            "As depth grows the plain BN net's gradient turns to noise (Balduzzi et al. 2017); the \
                  rescaled residual net's stays a smooth function of the input."
                .into(),
    }
    .render("shattered-curves");
    let b = LineChart {
        title: "Shattered gradients: autocorrelation of df/dt along the input".into(),
        x_label: "lag (grid steps of 4/255)".into(),
        y_label: "autocorrelation".into(),
        log_y: false,
        y_range: None,
        series: auto,
        caption: "Nearby inputs of a deep plain BN net get unrelated gradients (autocorrelation near 0 at lag 1); \
                  the rescaled residual net's stay correlated."
            .into(),
    }
    .render("shattered-autocorr");
    (a, b)
}

/// Veit et al. 2016: the share of the gradient by path length.
pub fn path_length_figure(shares: &[f64]) -> Figure {
    let blocks = shares.len().saturating_sub(1);
    let bars: Vec<(f64, f64)> = shares
        .iter()
        .enumerate()
        .map(|(k, &s)| (k as f64, s))
        .collect();
    bar_chart(
        "path-lengths",
        &format!(
            "Veit et al. 2016: gradient share by path length, {blocks} residual blocks (linearised)"
        ),
        (
            "path length: branches crossed",
            "share of the gradient norm",
        ),
        &bars,
        &format!(
            "The gradient is a sum over 2^{blocks} paths; computed exactly for the linearised net, most of it \
             crosses only a few branches, not all {blocks}."
        ),
    )
}

/// He et al. 2016 eq. 8: `R` against the shortcut scale lambda for ResNet-56 (27 blocks).
pub fn lambda_figure(sweep: &[(f64, f64)]) -> Figure {
    LineChart {
        title: "He et al. 2016 eq. 8: R against the shortcut scale lambda, ResNet-56".into(),
        x_label: "shortcut scale lambda".into(),
        y_label: "R = ||dE/dx_0|| / ||dE/dx_L||".into(),
        log_y: true,
        y_range: None,
        series: vec![
            Series::new("R, ResNet-56 (27 blocks, batch norm)", sweep.to_vec(), 0),
            Series {
                name: "lambda^27: eq. 8's direct term".into(),
                points: sweep
                    .iter()
                    .map(|&(l, _)| (l, l.powi(27)))
                    .filter(|p| p.1 > 0.0)
                    .collect(),
                color: 1,
                dashed: true,
                legend: true,
            },
        ],
        caption: "R is smallest at lambda = 1. Scaled shortcuts multiply eq. 5's direct term by lambda^27 \
                  (dashed): below 1 that term vanishes and the net behaves like its plain twin, whose batch \
                  norm makes the gradient grow (R rises); above 1 the direct term itself explodes."
            .into(),
    }
    .render("eq8-lambda")
}

/// The measured predictions as a CSV-only figure (`predictions.csv`), one row each:
/// id, set-up, quantity, the range that must hold, the measured range, whether it held,
/// the source.
pub fn predictions_figure(measured: &[Measured]) -> Figure {
    let cell = |s: &str| s.replace(',', ";");
    let mut csv = String::from(
        "prediction,setup,quantity,must_hold,measured_min,measured_max,holds,source\n",
    );
    for m in measured {
        let p = m.prediction;
        let (lo, hi) = m.range();
        let _ = writeln!(
            csv,
            "{},{},{},{},{lo},{hi},{},{}",
            p.id,
            cell(&p.setup_text()),
            cell(p.quantity.symbol()),
            cell(&p.bound_text()),
            m.holds(),
            cell(p.source)
        );
    }
    Figure {
        name: "predictions".into(),
        title: "Gradient-flow predictions, measured".into(),
        caption:
            "Each prediction of docs/predictions.md, measured for seeds 0..4 at initialisation."
                .into(),
        svg: String::new(),
        csv,
    }
}

/// The measured predictions as a text table, for a terminal.
pub fn predictions_table(measured: &[Measured]) -> String {
    let mut s = format!(
        "{:<3} {:<52} {:<26} {:<32} held\n",
        "#", "set-up", "measured (seeds 0..4)", "must hold"
    );
    for m in measured {
        let p = m.prediction;
        let _ = writeln!(
            s,
            "{:<3} {:<52} {:<26} {:<32} {}",
            p.id,
            p.setup_text(),
            m.range_text(),
            p.bound_text(),
            if m.holds() { "yes" } else { "NO" }
        );
    }
    s
}

/// Everything `resgrad flow` makes.
#[derive(Debug, Clone)]
pub struct FlowFigures {
    /// The figures, each with its CSV (the last, `predictions`, is a CSV only).
    pub figures: Vec<Figure>,
    /// The predictions of [`flow::PREDICTIONS`] as measured, seeds 0..4.
    pub predictions: Vec<Measured>,
}

impl FlowFigures {
    /// Writes every figure's SVG and CSV into `dir` (created if missing); returns how
    /// many files it wrote.
    pub fn save(&self, dir: impl AsRef<Path>) -> std::io::Result<usize> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir)?;
        self.figures.iter().map(|f| f.save(dir)).sum()
    }

    /// The figure named `name`, if there is one.
    pub fn get(&self, name: &str) -> Option<&Figure> {
        self.figures.iter().find(|f| f.name == name)
    }

    /// What a terminal shows after [`FlowFigures::save`] into `dir`: each drawn figure's
    /// path and caption, then the predictions table.
    pub fn report(&self, dir: impl AsRef<Path>) -> String {
        let mut s = String::new();
        for f in self.figures.iter().filter(|f| !f.svg.is_empty()) {
            let _ = writeln!(
                s,
                "{}: {}",
                dir.as_ref().join(format!("{}.svg", f.name)).display(),
                f.caption
            );
        }
        let _ = writeln!(
            s,
            "\nGradient-flow predictions (docs/predictions.md), width 64, batch 64:"
        );
        s.push_str(&predictions_table(&self.predictions));
        s
    }
}

/// The names of [`all_figures`]'s figures, in order (the steps of its progress).
pub const FLOW_STEPS: [&str; 7] = [
    "gradient norm against depth",
    "eq. 5 split along ResNet-56",
    "layer response std",
    "shattered gradients",
    "path lengths",
    "eq. 8 lambda sweep",
    "predictions",
];

/// [`all_figures`] with a progress bar on a terminal (progress lines elsewhere, as in a
/// notebook; none with `RESGRAD_QUIET` set).
pub fn all_figures_with_progress() -> FlowFigures {
    let mut progress = crate::train::Progress::new(FLOW_STEPS.len(), "flow");
    let mut done = 0;
    let figures = all_figures(|step| {
        done += 1;
        let next = FLOW_STEPS.get(done).copied().unwrap_or("done");
        progress.update(
            done,
            FLOW_STEPS.len(),
            &format!("{step} done; next: {next}"),
        );
    });
    progress.finish();
    figures
}

/// Every figure of `resgrad flow` and the measured predictions; `tick` is called with
/// the name of each of the [`FLOW_STEPS`] once it is done (for a progress bar).
pub fn all_figures(mut tick: impl FnMut(&str)) -> FlowFigures {
    let mut figures = Vec::new();
    figures.push(gradient_norm_depth_figure(&flow::gradient_norm_depth(20)));
    tick(FLOW_STEPS[0]);
    figures.push(eq5_figure(&flow::eq5_split_resnet56()));
    tick(FLOW_STEPS[1]);
    figures.push(response_std_figure(&flow::response_std_at_init()));
    tick(FLOW_STEPS[2]);
    let (a, b) = shattered_figures(&flow::shattered());
    figures.push(a);
    figures.push(b);
    tick(FLOW_STEPS[3]);
    figures.push(path_length_figure(&flow::path_length_shares()));
    tick(FLOW_STEPS[4]);
    figures.push(lambda_figure(&flow::lambda_sweep()));
    tick(FLOW_STEPS[5]);
    let predictions = flow::measure_predictions(0..5);
    figures.push(predictions_figure(&predictions));
    tick(FLOW_STEPS[6]);
    FlowFigures {
        figures,
        predictions,
    }
}
