//! The degradation experiment's figures (He et al. 2015, Figs. 6 and 7), drawn from the
//! numbers `train` and `flow` return.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{Figure, LineChart, Series, panels};
use crate::data::Dataset;
use crate::flow::{TrainedResponse, degradation_with_responses};
use crate::models::NetKind;
use crate::train::{DegradationConfig, DegradationResult, EvalPoint};

/// A finished degradation experiment: its numbers and its figures.
#[derive(Debug, Clone)]
pub struct DegradationReport {
    /// Every run's history.
    pub result: DegradationResult,
    /// Fig. 7's instrument on every trained conv net, of every seed (empty for MLPs); the
    /// figure draws the first seed's.
    pub responses: Vec<TrainedResponse>,
    /// [`DegradationResult::figure`], then [`response_figure`] if there are responses.
    pub figures: Vec<Figure>,
    /// Wall time of the whole experiment, seconds.
    pub seconds: f64,
}

/// Runs the experiment of `cfg` on `train` (evaluating on `test`), measures Fig. 7 on the
/// trained conv nets and draws the figures. Fails as the trainer fails: a refused setting,
/// or a run that diverged (no figure of meaningless numbers is drawn).
pub fn run(
    cfg: &DegradationConfig,
    train: &Dataset,
    test: Option<&Dataset>,
) -> crate::Result<DegradationReport> {
    let start = crate::clock::Stopwatch::start();
    let (result, responses) = degradation_with_responses(cfg, train, test)?;
    let mut figures = vec![result.figure()];
    // Fig. 7 draws the first seed's nets; every seed's are in `layer-responses.csv`.
    let first = cfg.seeds.first().copied();
    let drawn: Vec<TrainedResponse> = responses
        .iter()
        .filter(|r| Some(r.seed) == first)
        .cloned()
        .collect();
    figures.extend(response_figure(&drawn));
    Ok(DegradationReport {
        result,
        responses,
        figures,
        seconds: start.seconds(),
    })
}

impl DegradationReport {
    /// `degradation.md`: the settings, the time and the table of final errors. The time is
    /// the sum of the runs' own training times, which a sweep resumed from checkpoints
    /// carries over from its earlier commands, and this command's wall time beside it.
    pub fn markdown(&self) -> String {
        let c = &self.result.config;
        let training: f64 = self.result.runs.iter().map(|r| r.history.seconds).sum();
        let t = &c.train;
        format!(
            "# Degradation on {}\n\n{} nets, width {}, {} steps of batch {}, lr {}, {:.0} s of \
             training in all (the sum of the runs' times; this command ran {:.0} s).\n\n\
             Settings: momentum {}, weight decay {}, schedule {:?}, warm-up {}, augmentation \
             {}, shortcut {}, evaluations every {} steps on {} of each split, the last \
             on {}.\n\n{}",
            self.result.dataset,
            c.family,
            c.width,
            t.steps,
            t.batch,
            t.lr,
            training,
            self.seconds,
            t.momentum,
            t.weight_decay,
            t.schedule,
            c.warmup.map_or("none".into(), |w| format!(
                "lr {} for {} steps at depth {} and more",
                w.lr, w.steps, w.min_depth
            )),
            if t.augment {
                "pad, crop and flip"
            } else {
                "off"
            },
            c.shortcut,
            t.eval_every,
            images(t.eval_images),
            images(t.final_eval_images.unwrap_or(t.eval_images)),
            self.result.markdown()
        )
    }

    /// `layer-responses.csv`: Fig. 7's instrument on every trained conv net, one row per
    /// net, seed and 3x3 layer (`net,seed,layer,std`, layers counted from 1).
    pub fn responses_csv(&self) -> String {
        let mut s = String::from("net,seed,layer,std\n");
        for r in &self.responses {
            for (l, x) in r.std.iter().enumerate() {
                let _ = writeln!(s, "{},{},{},{}", r.net, r.seed, l + 1, x);
            }
        }
        s
    }

    /// Writes the figures (SVG and CSV), `degradation-runs.csv` (every evaluation of every
    /// run), `degradation-times.csv` (each run's own time), `degradation.md` and, for conv
    /// nets, `layer-responses.csv` into `dir`;
    /// returns the paths written.
    pub fn save(&self, dir: impl AsRef<Path>) -> std::io::Result<Vec<PathBuf>> {
        let dir = dir.as_ref();
        let mut written = Vec::new();
        for f in &self.figures {
            f.save(dir)?;
            if !f.svg.is_empty() {
                written.push(dir.join(format!("{}.svg", f.name)));
            }
            written.push(dir.join(format!("{}.csv", f.name)));
        }
        let mut files = vec![
            ("degradation-runs.csv", self.result.csv()),
            ("degradation-times.csv", self.result.times_csv()),
            ("degradation.md", self.markdown()),
        ];
        if !self.responses.is_empty() {
            files.push(("layer-responses.csv", self.responses_csv()));
        }
        for (name, text) in files {
            let path = dir.join(name);
            crate::io::write_atomic(&path, text.as_bytes())?;
            written.push(path);
        }
        Ok(written)
    }
}

impl DegradationResult {
    /// The caption of [`DegradationResult::figure`], from the numbers: each net's final
    /// training error (first seed), and whether the deepest plain net ends above the
    /// shallowest (degradation) and how the deepest ResNet ends against the shallowest.
    pub fn caption(&self) -> String {
        let seed = self.config.seeds.first().copied().unwrap_or(0);
        let final_train = |kind: NetKind, depth: usize| {
            self.runs
                .iter()
                .find(|r| r.kind == kind && r.depth == depth && r.seed == seed)
                .map(|r| 100.0 * r.final_train_error())
                .filter(|e| e.is_finite())
        };
        let mut caption = format!(
            "Dashed: training error; solid: test error; seed {seed}. Final training error:"
        );
        let mut first = true;
        for &depth in &self.config.depths {
            for kind in [NetKind::Plain, NetKind::Residual] {
                if let Some(e) = final_train(kind, depth) {
                    let _ = write!(
                        caption,
                        "{} {kind}-{depth} {e:.1}%",
                        if first { "" } else { "," }
                    );
                    first = false;
                }
            }
        }
        caption.push('.');
        let (Some(&shallow), Some(&deep)) = (
            self.config.depths.iter().min(),
            self.config.depths.iter().max(),
        ) else {
            return caption;
        };
        if shallow == deep {
            return caption;
        }
        if let (Some(a), Some(b)) = (
            final_train(NetKind::Plain, shallow),
            final_train(NetKind::Plain, deep),
        ) {
            if b > a {
                let _ = write!(
                    caption,
                    " The deeper plain net ends {:.1} points higher in training error (degradation: an optimisation \
                     problem, not overfitting)",
                    b - a
                );
            } else {
                let _ = write!(
                    caption,
                    " Here the deeper plain net does not end higher in training error"
                );
            }
        }
        if let (Some(a), Some(b)) = (
            final_train(NetKind::Residual, shallow),
            final_train(NetKind::Residual, deep),
        ) {
            if b > a {
                let _ = write!(
                    caption,
                    "; the deeper ResNet ends {:.1} points above the shallower.",
                    b - a
                );
            } else {
                let _ = write!(
                    caption,
                    "; the deeper ResNet ends {:.1} points below the shallower: with shortcuts, depth did not hurt.",
                    a - b
                );
            }
        } else {
            caption.push('.');
        }
        caption
    }

    /// He et al. 2015 Fig. 6 style: plain nets on the left, ResNets on the right; dashed
    /// training error, solid test error, one colour per depth (seed 0).
    pub fn figure(&self) -> Figure {
        let panel =
            |kind: NetKind, title: &str| {
                let mut series = Vec::new();
                for (ci, &depth) in self.config.depths.iter().enumerate() {
                    let Some(r) = self.runs.iter().find(|r| {
                        r.kind == kind && r.depth == depth && r.seed == self.config.seeds[0]
                    }) else {
                        continue;
                    };
                    let pts = |f: &dyn Fn(&EvalPoint) -> f64| {
                        r.history
                            .evals
                            .iter()
                            .map(|e| (e.step as f64, 100.0 * f(e)))
                            .collect::<Vec<_>>()
                    };
                    series.push(Series {
                        name: format!("{kind}-{depth} train"),
                        points: pts(&|e| e.train_error),
                        color: ci,
                        dashed: true,
                        legend: true,
                    });
                    if r.history.evals.iter().any(|e| e.test_error.is_finite()) {
                        series.push(Series {
                            name: format!("{kind}-{depth} test"),
                            points: pts(&|e| e.test_error),
                            color: ci,
                            dashed: false,
                            legend: true,
                        });
                    }
                }
                LineChart {
                    title: title.into(),
                    x_label: "step".into(),
                    y_label: "error (%)".into(),
                    x_integer: true,
                    series,
                    ..LineChart::default()
                }
            };
        panels(
            "degradation",
            &format!(
                "Degradation on {}: plain nets (left) vs ResNets (right)",
                self.dataset
            ),
            &[
                panel(NetKind::Plain, "plain"),
                panel(NetKind::Residual, "ResNet"),
            ],
            &self.caption(),
        )
    }
}

/// Fig. 7 for trained conv nets: the response std of each 3x3 layer, one line per net
/// (`None` when there are none, e.g. for MLPs).
pub fn response_figure(responses: &[TrainedResponse]) -> Option<Figure> {
    let series: Vec<Series> = responses
        .iter()
        .enumerate()
        .map(|(i, r)| {
            Series::new(
                r.net.clone(),
                r.std
                    .iter()
                    .enumerate()
                    .map(|(l, &s)| (l as f64 + 1.0, s))
                    .collect(),
                i,
            )
        })
        .collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let listed = responses
        .iter()
        .map(|r| format!("{} {:.2}", r.net, mean(&r.std)))
        .collect::<Vec<_>>()
        .join(", ");
    // For each depth with both nets: is the ResNet's mean response the smaller?
    let depth_of = |net: &str| net.rsplit('-').next().map(str::to_string);
    let pairs: Vec<bool> = responses
        .iter()
        .filter(|r| r.net.starts_with("plain"))
        .filter_map(|p| {
            let twin = responses
                .iter()
                .find(|r| !r.net.starts_with("plain") && depth_of(&r.net) == depth_of(&p.net))?;
            Some(mean(&twin.std) < mean(&p.std))
        })
        .collect();
    let here = if pairs.is_empty() {
        ""
    } else if pairs.iter().all(|&b| b) {
        " Here each ResNet's responses are already the smaller of its pair."
    } else {
        " Here not every ResNet's responses are yet the smaller of its pair; a short run need not show it."
    };
    (!series.is_empty()).then(|| {
        LineChart {
            title: "Layer responses of the trained nets (He et al. 2015 Fig. 7), eval mode".into(),
            x_label: "3x3 layer index".into(),
            y_label: "std of the response (after BN, before the addition)".into(),
            x_integer: true,
            series,
            caption: format!(
                "He et al. find, after full training, ResNets' responses smaller than their plain twins' (the \
                 residual functions stay near zero). Mean std over the 3x3 layers: {listed}.{here}"
            ),
            ..LineChart::default()
        }
        .render("layer-response-std-trained")
    })
}

/// `at most N images`, or `every image` for 0.
fn images(n: usize) -> String {
    if n == 0 {
        "every image".into()
    } else {
        format!("at most {n} images")
    }
}
