//! The figures of `resgrad flow`: gradient flow at initialisation, drawn from the numbers
//! the `flow` module measures.

use std::fmt::Write as _;
use std::path::Path;

use super::{Band, Figure, LineChart, Series, bar_chart};
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
            x_integer: true,
            series: vec![Series::new("gradient norm", points, 0)],
            caption: format!("R = ||dE/dx_0|| / ||dE/dx_L|| = {:.3e}.", self.ratio()),
            ..LineChart::default()
        }
        .render("gradient-norms")
    }
}

/// A number for a caption: a whole number as it is, otherwise three significant digits,
/// in scientific notation outside 0.01 to 10,000.
pub fn caption_number(v: f64) -> String {
    let a = v.abs();
    if v == v.round() && a < 10_000.0 {
        format!("{v:.0}")
    } else if !(0.01..10_000.0).contains(&a) {
        format!("{v:.1e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// `(min, max)` of `values` (infinite for none).
fn min_max(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    values
        .into_iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        })
}

/// The median of `values` (the mean of the middle two for an even count).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        values[n / 2]
    } else {
        0.5 * (values[n / 2 - 1] + values[n / 2])
    }
}

/// `R = ||dE/dx_0|| / ||dE/dx_L||` of each seed of `setup` at `depth` in `curves`, as
/// `(min, max)` over the seeds (`None` if there is none).
pub fn r_range(curves: &[DepthCurve], depth: usize, setup: FlowSetup) -> Option<(f64, f64)> {
    let rs: Vec<f64> = curves
        .iter()
        .filter(|c| c.depth == depth && c.setup == setup)
        .filter_map(|c| c.points.first().map(|p| p.1))
        .collect();
    (!rs.is_empty()).then(|| min_max(rs))
}

/// The gradient-norm figure: one panel per depth (50, then 200: [`flow::NORM_DEPTHS`]),
/// each set-up a band (the range over the seeds) around its median line, the zero-init
/// residual nets dashed and black, on top. Each panel has its own log scale. The CSV
/// holds every seed's curve.
pub fn gradient_norm_depth_figure(curves: &[DepthCurve]) -> Figure {
    let seeds = curves
        .iter()
        .map(|c| c.seed)
        .collect::<std::collections::BTreeSet<_>>();
    let (first, last) = (
        seeds.first().copied().unwrap_or(0),
        seeds.last().copied().unwrap_or(0),
    );
    let depths = curves
        .iter()
        .map(|c| c.depth)
        .collect::<std::collections::BTreeSet<_>>();
    let x_label = "weight layer l (input side at 0)";
    let y_label = "||dE/dx_l|| / ||dE/dx_L||";
    let mut charts = Vec::new();
    for &depth in &depths {
        let mut chart = LineChart {
            x_label: x_label.into(),
            y_label: y_label.into(),
            log_y: true,
            x_integer: true,
            ..LineChart::default()
        };
        let setups: Vec<FlowSetup> = FlowSetup::ALL
            .into_iter()
            .filter(|&s| curves.iter().any(|c| c.depth == depth && c.setup == s))
            .collect();
        // Zero-init last, so that its line is drawn on top of the others.
        let mut order = setups.clone();
        order.sort_by_key(|&s| s == FlowSetup::ZeroInitResidual);
        for setup in order {
            let group: Vec<&DepthCurve> = curves
                .iter()
                .filter(|c| c.depth == depth && c.setup == setup)
                .collect();
            let xs: Vec<f64> = group[0].points.iter().map(|p| p.0).collect();
            let at = |i: usize| group.iter().map(|c| c.points[i].1).collect::<Vec<_>>();
            let zero = setup == FlowSetup::ZeroInitResidual;
            let color = if zero {
                6
            } else {
                DEPTH_SETUPS
                    .iter()
                    .position(|&s| s == setup)
                    .unwrap_or(DEPTH_SETUPS.len())
            };
            if !zero {
                chart.bands.push(Band {
                    points: xs
                        .iter()
                        .enumerate()
                        .map(|(i, &x)| {
                            let (lo, hi) = min_max(at(i));
                            (x, lo, hi)
                        })
                        .collect(),
                    color,
                });
            }
            chart.series.push(Series {
                name: if zero {
                    "zero-init residual (dashed)".into()
                } else {
                    setup.label().into()
                },
                points: xs
                    .iter()
                    .enumerate()
                    .map(|(i, &x)| (x, median(&mut at(i))))
                    .collect(),
                color,
                dashed: zero,
                legend: true,
            });
        }
        let ys = chart
            .bands
            .iter()
            .flat_map(|b| b.points.iter().flat_map(|p| [p.1, p.2]))
            .chain(
                chart
                    .series
                    .iter()
                    .flat_map(|s| s.points.iter().map(|p| p.1)),
            );
        chart.y_range = Some(super::range(ys, true));
        chart.title = if setups.len() == DEPTH_SETUPS.len() {
            format!("depth {depth}: five initialisations")
        } else {
            format!("depth {depth}: He init, plain against residual")
        };
        charts.push(chart);
    }
    let r = |depth, setup| r_range(curves, depth, setup);
    let span = |(lo, hi): (f64, f64)| {
        if lo == hi {
            format!("exactly {}", caption_number(lo))
        } else {
            format!("{} to {}", caption_number(lo), caption_number(hi))
        }
    };
    let mut caption = format!(
        "Bands: the range over seeds {first} to {last}; lines: the median; R = ||dE/dx_0|| / ||dE/dx_L||. "
    );
    let (shallow, deep) = (
        depths.first().copied().unwrap_or(0),
        depths.last().copied().unwrap_or(0),
    );
    if let (Some(g), Some(b), Some(h)) = (
        r(shallow, FlowSetup::GlorotPlain),
        r(shallow, FlowSetup::BnPlain),
        r(shallow, FlowSetup::HePlain),
    ) {
        let _ = write!(
            caption,
            "At depth {shallow}, without a skip the gradient vanishes (Glorot, R {}) or explodes (batch norm, R {}); \
             He init keeps it near 1 on average (R {}), so there plain and residual nets look alike. ",
            span(g),
            span(b),
            span(h)
        );
    }
    if let (Some(h), Some(s), Some(z)) = (
        r(deep, FlowSetup::HePlain),
        r(deep, FlowSetup::ScaledResidual),
        r(deep, FlowSetup::ZeroInitResidual),
    ) {
        let _ = write!(
            caption,
            "At depth {deep} the He-initialised plain nets drift apart, R {} across seeds ({}x from least to most), \
             while the scaled residual nets stay within R {} and the zero-init residual nets at {} at every layer.",
            span(h),
            caption_number(h.1 / h.0),
            span(s),
            span(z)
        );
    }
    let mut fig = super::panels(
        "gradient-norm-depth",
        &format!(
            "Gradient norm through the layers at initialisation, width 64, {} seeds",
            seeds.len()
        ),
        &charts,
        caption.trim_end(),
    );
    let mut csv = format!("depth,setup,seed,{x_label},{y_label}\n");
    for c in curves {
        for (x, y) in &c.points {
            let _ = writeln!(csv, "{},{},{},{x},{y}", c.depth, c.setup.label(), c.seed);
        }
    }
    fig.csv = csv;
    fig
}

/// Where the shortcut's part of eq. 5 is the larger: the first block `k` from which it is
/// larger at every block to the last (`split.len()` if it is not larger at the last).
pub fn shortcut_dominates_from(split: &[(f64, f64)]) -> usize {
    split
        .iter()
        .rposition(|&(shortcut, branch)| shortcut <= branch)
        .map_or(0, |i| i + 1)
}

/// He et al. 2016 eq. 5 split block by block: `(through the shortcut, through the branch)`.
/// The caption says, from the numbers, where each part is the larger.
pub fn eq5_figure(split: &[(f64, f64)]) -> Figure {
    let pts = |f: &dyn Fn(&(f64, f64)) -> f64| {
        split
            .iter()
            .enumerate()
            .map(|(l, s)| (l as f64, f(s)))
            .collect::<Vec<_>>()
    };
    let last = split.len().saturating_sub(1);
    let k = shortcut_dominates_from(split);
    let mut caption = String::from(
        "Each block's dE/dx_l is the sum of the part that comes back through its shortcut and the part through its branch F. ",
    );
    if k <= last {
        let (lo, hi) = min_max(split[k..].iter().map(|(s, b)| s / b));
        let _ = write!(
            caption,
            "From block {k} to block {last} the shortcut carries the larger part, {} to {} times the branch's",
            caption_number(lo),
            caption_number(hi)
        );
    } else {
        caption.push_str("The shortcut's part is not the larger at the last block");
    }
    if k > 0 {
        let branch_larger = split[..k].iter().filter(|(s, b)| b > s).count();
        let (s0, b0) = split[0];
        let which = if branch_larger == k {
            String::new()
        } else {
            format!(" at {branch_larger} of them")
        };
        let _ = write!(
            caption,
            "; at blocks 0 to {}, nearest the input, the branch carries more{which} (block 0: {} against {}).",
            k - 1,
            caption_number(b0),
            caption_number(s0)
        );
    } else {
        caption.push('.');
    }
    LineChart {
        title: "He et al. 2016 eq. 5 along ResNet-56: where dE/dx_l comes from".into(),
        x_label: "block l".into(),
        y_label: "gradient norm".into(),
        log_y: true,
        x_integer: true,
        series: vec![
            Series::new("through the shortcut", pts(&|s| s.0), 0),
            Series::new("through the branch F", pts(&|s| s.1), 1),
        ],
        caption,
        ..LineChart::default()
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
    let ends = |stds: &[f64]| (stds[0], stds[stds.len() - 1]);
    let listed = nets
        .iter()
        .filter(|(_, s)| !s.is_empty())
        .map(|(name, s)| {
            let (a, b) = ends(s);
            format!("{name} {} to {}", caption_number(a), caption_number(b))
        })
        .collect::<Vec<_>>()
        .join(", ");
    let is_plain = |name: &str| name.starts_with("plain");
    let falls = |s: &[f64]| !s.is_empty() && ends(s).1 < ends(s).0;
    let rises = |s: &[f64]| !s.is_empty() && ends(s).1 > ends(s).0;
    let pattern = if nets
        .iter()
        .all(|(n, s)| if is_plain(n) { falls(s) } else { rises(s) })
    {
        ": the plain nets' responses fall with depth, the ResNets' grow along the shortcuts"
    } else {
        ""
    };
    LineChart {
        title: "Layer response std (He et al. 2015 Fig. 7), at initialisation, eval mode".into(),
        x_label: "3x3 layer index".into(),
        y_label: "std of the response (after BN, before the addition)".into(),
        log_y: true,
        x_integer: true,
        series,
        caption: format!(
            "The instrument of Fig. 7 before training, in eval mode, where fresh running statistics (mean 0, var 1) \
             do not normalise. Std at the first and the last 3x3 layer: {listed}{pattern}. The paper's figure is for \
             trained nets."
        ),
        ..LineChart::default()
    }
    .render("layer-response-std")
}

/// The lag-1 autocorrelation of each run, `(setup, depth, value)`.
fn lag1(runs: &[Shattered]) -> Vec<(FlowSetup, usize, f64)> {
    runs.iter()
        .map(|r| {
            (
                r.setup,
                r.depth,
                r.autocorrelation.get(1).copied().unwrap_or(f64::NAN),
            )
        })
        .collect()
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
    let lags = lag1(runs);
    let listed = |setup: FlowSetup| {
        lags.iter()
            .filter(|l| l.0 == setup)
            .map(|l| format!("{} at depth {}", caption_number(l.2), l.1))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let deepest = depths.iter().copied().max().unwrap_or(0);
    let plain_deep = lags
        .iter()
        .find(|l| l.0 == FlowSetup::BnPlain && l.1 == deepest)
        .map_or(f64::NAN, |l| l.2);
    let residual_min = lags
        .iter()
        .filter(|l| l.0 == FlowSetup::ScaledResidual)
        .map(|l| l.2)
        .fold(f64::INFINITY, f64::min);
    let shattered = plain_deep.abs() < 0.2 && residual_min > 0.9;
    let numbers = format!(
        "Lag-1 autocorrelation of df/dt: plain BN {}; scaled residual {}.",
        listed(FlowSetup::BnPlain),
        listed(FlowSetup::ScaledResidual)
    );
    let a = LineChart {
        title: format!(
            "Shattered gradients: df/dt over a 1-D input, depths {depth_list} (top to bottom)"
        ),
        x_label: "input t".into(),
        y_label: "df/dt, unit rms, offset by depth".into(),
        series: curves,
        caption: if shattered {
            format!(
                "As depth grows the plain BN net's gradient turns to noise (Balduzzi et al. 2017); the rescaled \
                 residual net's stays a smooth function of the input. {numbers}"
            )
        } else {
            numbers.clone()
        },
        ..LineChart::default()
    }
    .render("shattered-curves");
    // Room above 1 (the autocorrelation's largest value) for the legend's six entries.
    let lowest = runs
        .iter()
        .flat_map(|r| r.autocorrelation.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0, f64::min);
    let b = LineChart {
        title: "Shattered gradients: autocorrelation of df/dt along the input".into(),
        x_label: "lag (grid steps of 4/255)".into(),
        y_label: "autocorrelation".into(),
        x_integer: true,
        y_range: Some((lowest - 0.05, 1.25)),
        series: auto,
        caption: if shattered {
            format!(
                "At depth {deepest} nearby inputs of the plain BN net get unrelated gradients, while the rescaled \
                 residual net's stay correlated at every depth. {numbers}"
            )
        } else {
            numbers
        },
        ..LineChart::default()
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
    let short: f64 = shares.iter().take(6).sum();
    let peak = shares
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(k, _)| k);
    let most = if short > 0.5 {
        ": most of it crosses only a few branches, not all of them"
    } else {
        ""
    };
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
            "The gradient is a sum over 2^{blocks} paths, computed exactly for the linearised net. The parts that \
             cross at most 5 of the {blocks} branches hold {:.0}% of the summed norms, and the share peaks at {peak} \
             branches{most}.",
            100.0 * short
        ),
    )
}

/// He et al. 2016 eq. 8: `R` against the shortcut scale lambda for ResNet-56 (27 blocks).
pub fn lambda_figure(sweep: &[(f64, f64)]) -> Figure {
    let (at_min, r_min) = sweep
        .iter()
        .copied()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((f64::NAN, f64::NAN));
    let at = |l: f64| sweep.iter().find(|p| p.0 == l).map(|p| p.1);
    let i_min = sweep.iter().position(|p| p.0 == at_min).unwrap_or(0);
    let valley = sweep[..=i_min].windows(2).all(|w| w[1].1 < w[0].1)
        && sweep[i_min..].windows(2).all(|w| w[1].1 > w[0].1);
    let mut caption = String::new();
    if let (Some(r0), Some(r1), Some(&(l_last, r_last))) = (at(0.0), at(1.0), sweep.last()) {
        let _ = write!(
            caption,
            "At lambda = 0 the net is its plain twin, whose batch norm makes the gradient grow: R = {}. R {} to its \
             smallest, {} at lambda = {at_min} ({} at lambda = 1), then {} again, to {} at lambda = {l_last}. ",
            caption_number(r0),
            if valley { "falls" } else { "goes" },
            caption_number(r_min),
            caption_number(r1),
            if valley { "rises" } else { "moves" },
            caption_number(r_last),
        );
    }
    caption.push_str(
        "Dashed: eq. 8's direct term lambda^27, which vanishes below 1 and explodes above.",
    );
    LineChart {
        title: "He et al. 2016 eq. 8: R against the shortcut scale lambda, ResNet-56".into(),
        x_label: "shortcut scale lambda".into(),
        y_label: "R = ||dE/dx_0|| / ||dE/dx_L||".into(),
        log_y: true,
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
        caption,
        ..LineChart::default()
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
