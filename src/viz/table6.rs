//! The Table 6 / Fig. 6 study (He et al. 2015) read back from its CSVs: the table of final
//! errors over seeds, the three verdicts with their intervals, the causal control, Fig. 6
//! and Fig. 7 from the trained nets, and the compute time.
//!
//! A study is a folder whose `runs/` holds one folder per trained net, as
//! `resgrad degradation` writes them (`degradation-runs.csv`, `degradation-times.csv` and
//! `layer-responses.csv`); `scripts/table6` trains them one at a time. [`Study::load`]
//! reads them all, and [`Study::save`] writes `table6.md` and the figures: the numbers
//! are computed from the CSVs alone, so the same files always give the same table.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{Band, Figure, LineChart, Series, panels};
use crate::error::{Error, Result};
use crate::models::NetKind;
use crate::stats::{Comparison, mean, sd, welch};

/// One trained net of the study: its evaluations, final errors and time.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyRun {
    /// Plain, residual or detached.
    pub kind: NetKind,
    /// Depth in weight layers.
    pub depth: usize,
    /// The seed of its weights and data order.
    pub seed: u64,
    /// `(step, training error, test error)` at each evaluation, in order; the last is the
    /// final one.
    pub evals: Vec<(usize, f64, f64)>,
    /// The run's own training time, seconds (NaN if not recorded).
    pub seconds: f64,
}

impl StudyRun {
    /// The final training error (the last evaluation's).
    pub fn final_train(&self) -> f64 {
        self.evals.last().map_or(f64::NAN, |e| e.1)
    }
    /// The final test error.
    pub fn final_test(&self) -> f64 {
        self.evals.last().map_or(f64::NAN, |e| e.2)
    }
}

/// Fig. 7's instrument on one trained net: the std of each 3x3 layer's response.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyResponse {
    /// Plain, residual or detached.
    pub kind: NetKind,
    /// Depth.
    pub depth: usize,
    /// Seed.
    pub seed: u64,
    /// The std per 3x3 layer, in layer order.
    pub std: Vec<f64>,
}

/// The gradient at each block boundary of one net at initialisation, as
/// [`resnet_flow`](crate::flow::resnet_flow) measures it.
#[derive(Debug, Clone, PartialEq)]
pub struct InitGradient {
    /// Plain, residual or detached.
    pub kind: NetKind,
    /// Depth.
    pub depth: usize,
    /// The seed of the weights (and of the random upstream gradient).
    pub seed: u64,
    /// `||dE/dx_l|| / ||dE/dx_L||` for `l = 0..=L`: the input of each block, then the
    /// output of the last (1 there).
    pub ratio: Vec<f64>,
}

/// A whole study: every run and every response, sorted by kind, depth and seed.
#[derive(Debug, Clone, PartialEq)]
pub struct Study {
    /// The runs.
    pub runs: Vec<StudyRun>,
    /// Fig. 7's responses of the trained conv nets.
    pub responses: Vec<StudyResponse>,
    /// The gradient per block at initialisation (`init-gradients.csv`), if measured.
    pub init: Vec<InitGradient>,
}

/// Measures the gradient per block at initialisation of the plain, residual and detached
/// CIFAR nets of `width` and each of `depths`, for each seed, on the first 128 images of
/// `data` (batch norm in training mode, as when training starts; `E = <G, x_L>` with
/// `G ~ N(0, 1)`).
pub fn measure_init_gradients(
    data: &crate::data::Dataset,
    width: usize,
    depths: &[usize],
    seeds: &[u64],
) -> Result<Vec<InitGradient>> {
    let images = data.take(128).in_order(128).remove(0).images;
    let mut out = Vec::new();
    for &depth in depths {
        for kind in KINDS {
            for &seed in seeds {
                let net = crate::models::CifarSpec {
                    kind,
                    in_channels: data.shape[0],
                    width,
                    classes: data.classes,
                    seed,
                    ..crate::models::CifarSpec::resnet(depth, crate::nn::ShortcutOption::A)
                }
                .build::<f32>()?;
                let flow = crate::flow::resnet_flow(&net, &images, seed);
                let norms = flow.norms();
                let top = norms[norms.len() - 1];
                out.push(InitGradient {
                    kind,
                    depth,
                    seed,
                    ratio: norms.iter().map(|n| n / top).collect(),
                });
            }
        }
    }
    Ok(out)
}

/// Writes [`init_gradients_csv`] to `dir/init-gradients.csv`, atomically; returns the path.
pub fn save_init_gradients(dir: &Path, init: &[InitGradient]) -> std::io::Result<PathBuf> {
    let path = dir.join("init-gradients.csv");
    crate::io::write_atomic(&path, init_gradients_csv(init).as_bytes())?;
    Ok(path)
}

/// `init-gradients.csv`: one row per net, seed and boundary (`kind,depth,seed,block,ratio`).
pub fn init_gradients_csv(init: &[InitGradient]) -> String {
    let mut s = String::from("kind,depth,seed,block,ratio\n");
    for g in init {
        for (l, r) in g.ratio.iter().enumerate() {
            let _ = writeln!(s, "{},{},{},{},{}", g.kind, g.depth, g.seed, l, r);
        }
    }
    s
}

/// A net of the study: `(kind, depth)`.
pub type Net = (NetKind, usize);

/// The kinds in the order the table lists them.
const KINDS: [NetKind; 3] = [NetKind::Plain, NetKind::Residual, NetKind::Detached];

fn kind_rank(k: NetKind) -> usize {
    KINDS.iter().position(|&x| x == k).unwrap_or(KINDS.len())
}

/// `ResNet-56`, `plain-56`, `detached-56`: the names the table and figures use.
pub fn net_name((kind, depth): Net) -> String {
    match kind {
        NetKind::Residual => format!("ResNet-{depth}"),
        other => format!("{other}-{depth}"),
    }
}

/// The paper's CIFAR-10 test error for a ResNet of `depth` (Table 6), in percent; the
/// plain nets' appear only as curves (Fig. 6), not in a table.
pub fn paper_test_error((kind, depth): Net) -> Option<f64> {
    if kind != NetKind::Residual {
        return None;
    }
    match depth {
        20 => Some(8.75),
        32 => Some(7.51),
        44 => Some(7.17),
        56 => Some(6.97),
        110 => Some(6.43),
        1202 => Some(7.93),
        _ => None,
    }
}

/// The first line of `text`, checked to be `header`.
fn check_header(path: &Path, text: &str, header: &str) -> Result<()> {
    match text.lines().next() {
        Some(h) if h.trim() == header => Ok(()),
        other => Err(Error::data(
            path,
            format!(
                "its header is {:?}, not `{header}`: is it a file `resgrad degradation` wrote?",
                other.unwrap_or("")
            ),
        )),
    }
}

/// The comma-separated fields of each data line of `text` (after the header), each
/// checked to have `n` fields.
fn rows<'a>(path: &'a Path, text: &'a str, n: usize) -> impl Iterator<Item = Result<Vec<&'a str>>> {
    text.lines()
        .enumerate()
        .skip(1)
        .filter(|(_, l)| !l.trim().is_empty())
        .map(move |(i, l)| {
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            if f.len() == n {
                Ok(f)
            } else {
                Err(Error::data(
                    path,
                    format!("line {} has {} fields, not {n}: `{l}`", i + 1, f.len()),
                ))
            }
        })
}

/// The rows of `init-gradients.csv`.
fn parse_init(path: &Path, text: &str) -> Result<Vec<InitGradient>> {
    check_header(path, text, "kind,depth,seed,block,ratio")?;
    let mut out: Vec<InitGradient> = Vec::new();
    for row in rows(path, text, 5) {
        let row = row?;
        let kind = kind_field(path, &row, 0)?;
        let depth = field(path, &row, 1, "depth")?;
        let seed = field(path, &row, 2, "seed")?;
        let ratio = field(path, &row, 4, "ratio")?;
        match out.last_mut() {
            Some(g) if (g.kind, g.depth, g.seed) == (kind, depth, seed) => g.ratio.push(ratio),
            _ => out.push(InitGradient {
                kind,
                depth,
                seed,
                ratio: vec![ratio],
            }),
        }
    }
    Ok(out)
}

/// Parses field `what` of line `row` as `T`, naming the file on failure.
fn field<T: std::str::FromStr>(path: &Path, row: &[&str], i: usize, what: &str) -> Result<T> {
    row[i].parse().map_err(|_| {
        Error::data(
            path,
            format!(
                "`{}` is not a valid {what} (line `{}`)",
                row[i],
                row.join(",")
            ),
        )
    })
}

fn kind_field(path: &Path, row: &[&str], i: usize) -> Result<NetKind> {
    row[i]
        .parse()
        .map_err(|e: String| Error::data(path, format!("line `{}`: {e}", row.join(","))))
}

impl Study {
    /// Reads every `runs/*/` folder of `dir`: each must hold `degradation-runs.csv`; its
    /// `degradation-times.csv` and `layer-responses.csv` are read where present. An error
    /// names the file and the line that is wrong.
    pub fn load(dir: impl AsRef<Path>) -> Result<Study> {
        let runs_dir = dir.as_ref().join("runs");
        let entries = std::fs::read_dir(&runs_dir).map_err(|e| {
            Error::data(
                &runs_dir,
                format!(
                    "cannot list the runs' folder ({e}); train them with `bash scripts/table6`"
                ),
            )
        })?;
        let mut folders: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        folders.sort();
        let read = |p: &Path| -> Result<Option<String>> {
            match std::fs::read_to_string(p) {
                Ok(s) => Ok(Some(s)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(Error::data(p, format!("cannot read it: {e}"))),
            }
        };
        let mut study = Study {
            runs: Vec::new(),
            responses: Vec::new(),
            init: Vec::new(),
        };
        let init_csv = dir.as_ref().join("init-gradients.csv");
        if let Some(text) = read(&init_csv)? {
            study.init = parse_init(&init_csv, &text)?;
        }
        for f in folders {
            let runs_csv = f.join("degradation-runs.csv");
            let Some(text) = read(&runs_csv)? else {
                return Err(Error::data(
                    &f,
                    "holds no degradation-runs.csv: an unfinished run? Finish it with `bash \
                     scripts/table6`, or move the folder away",
                ));
            };
            let times_csv = f.join("degradation-times.csv");
            let times = read(&times_csv)?;
            let resp_csv = f.join("layer-responses.csv");
            let resp = read(&resp_csv)?;
            study.add_csv(
                (&runs_csv, &text),
                times.as_deref().map(|t| (times_csv.as_path(), t)),
                resp.as_deref().map(|t| (resp_csv.as_path(), t)),
            )?;
        }
        study.sort();
        Ok(study)
    }

    /// Adds the runs of one `degradation-runs.csv` (and their times and responses), each
    /// text given with the path its errors name.
    pub fn add_csv(
        &mut self,
        (runs_path, runs): (&Path, &str),
        times: Option<(&Path, &str)>,
        responses: Option<(&Path, &str)>,
    ) -> Result<()> {
        check_header(
            runs_path,
            runs,
            "kind,depth,seed,step,train_error,test_error",
        )?;
        let mut by_run: BTreeMap<(usize, usize, u64), StudyRun> = BTreeMap::new();
        for row in rows(runs_path, runs, 6) {
            let row = row?;
            let kind = kind_field(runs_path, &row, 0)?;
            let depth = field(runs_path, &row, 1, "depth")?;
            let seed = field(runs_path, &row, 2, "seed")?;
            let eval = (
                field(runs_path, &row, 3, "step")?,
                field(runs_path, &row, 4, "error")?,
                field(runs_path, &row, 5, "error")?,
            );
            by_run
                .entry((kind_rank(kind), depth, seed))
                .or_insert_with(|| StudyRun {
                    kind,
                    depth,
                    seed,
                    evals: Vec::new(),
                    seconds: f64::NAN,
                })
                .evals
                .push(eval);
        }
        if let Some((path, text)) = times {
            check_header(path, text, "kind,depth,seed,seconds,images_per_second")?;
            for row in rows(path, text, 5) {
                let row = row?;
                let key = (
                    kind_rank(kind_field(path, &row, 0)?),
                    field(path, &row, 1, "depth")?,
                    field(path, &row, 2, "seed")?,
                );
                if let Some(run) = by_run.get_mut(&key) {
                    run.seconds = field(path, &row, 3, "time")?;
                }
            }
        }
        if let Some((path, text)) = responses {
            check_header(path, text, "net,seed,layer,std")?;
            let mut by_net: BTreeMap<(usize, usize, u64), StudyResponse> = BTreeMap::new();
            for row in rows(path, text, 4) {
                let row = row?;
                let (kind, depth) = row[0]
                    .rsplit_once('-')
                    .and_then(|(k, d)| Some((k.parse::<NetKind>().ok()?, d.parse().ok()?)))
                    .ok_or_else(|| {
                        Error::data(path, format!("`{}` is not a net such as plain-56", row[0]))
                    })?;
                let seed = field(path, &row, 1, "seed")?;
                let r = by_net
                    .entry((kind_rank(kind), depth, seed))
                    .or_insert_with(|| StudyResponse {
                        kind,
                        depth,
                        seed,
                        std: Vec::new(),
                    });
                r.std.push(field(path, &row, 3, "std")?);
            }
            self.responses.extend(by_net.into_values());
        }
        for run in by_run.into_values() {
            if self
                .runs
                .iter()
                .any(|r| (r.kind, r.depth, r.seed) == (run.kind, run.depth, run.seed))
            {
                return Err(Error::data(
                    runs_path,
                    format!(
                        "{} seed {} appears twice in the study",
                        net_name((run.kind, run.depth)),
                        run.seed
                    ),
                ));
            }
            self.runs.push(run);
        }
        Ok(())
    }

    fn sort(&mut self) {
        self.runs
            .sort_by_key(|r| (kind_rank(r.kind), r.depth, r.seed));
        self.responses
            .sort_by_key(|r| (kind_rank(r.kind), r.depth, r.seed));
    }

    /// The nets present, in the table's order (plain, ResNet, detached; by depth).
    pub fn nets(&self) -> Vec<Net> {
        let mut nets: Vec<Net> = self.runs.iter().map(|r| (r.kind, r.depth)).collect();
        nets.dedup();
        nets
    }

    /// The runs of `net`, by seed.
    pub fn runs_of(&self, net: Net) -> Vec<&StudyRun> {
        self.runs
            .iter()
            .filter(|r| (r.kind, r.depth) == net)
            .collect()
    }

    /// The final training errors of `net`'s seeds, in percent.
    pub fn final_train(&self, net: Net) -> Vec<f64> {
        self.runs_of(net)
            .iter()
            .map(|r| 100.0 * r.final_train())
            .collect()
    }

    /// The final test errors of `net`'s seeds, in percent.
    pub fn final_test(&self, net: Net) -> Vec<f64> {
        self.runs_of(net)
            .iter()
            .map(|r| 100.0 * r.final_test())
            .collect()
    }

    /// The claims of the study, each `a` against `b` on final training error: the
    /// claimed sign of `mean(a) - mean(b)` and the comparison, where both nets have at
    /// least two seeds.
    pub fn claims(&self) -> Vec<Claim> {
        let p = |d| (NetKind::Plain, d);
        let r = |d| (NetKind::Residual, d);
        let x = |d| (NetKind::Detached, d);
        let mut claims = vec![
            Claim::new(self, "plain-56 ends above plain-20", p(56), p(20), 1.0),
            Claim::new(self, "ResNet-56 ends below ResNet-20", r(56), r(20), -1.0),
            Claim::new(self, "ResNet-56 ends below plain-56", r(56), p(56), -1.0),
        ];
        for d in [20, 56] {
            claims.push(Claim::new(
                self,
                &format!("detached-{d} ends above ResNet-{d}"),
                x(d),
                r(d),
                1.0,
            ));
        }
        claims.push(Claim::new(
            self,
            "detached-56 ends below plain-56",
            x(56),
            p(56),
            -1.0,
        ));
        claims
    }

    /// `table6.md`: the table, the verdicts, the causal control, Fig. 7's summary and the
    /// compute time, every number computed from the CSVs.
    pub fn markdown(&self) -> String {
        let mut s = String::from(
            "# Table 6 on Fashion-MNIST: final errors over seeds\n\n\
             Written by `resgrad table6` from the CSVs in `runs/`; do not edit by hand.\n\n\
             Final errors in eval mode, on the first 10,000 training images and the whole test \
             set, in percent. Mean ± sample standard deviation over seeds. The paper's column \
             is its CIFAR-10 test error (Table 6), a reference for the order, not a target: \
             the data, width and length differ.\n\n\
             | net | seeds | training error, each seed | training error | test error, each seed | test error | paper, CIFAR-10 test |\n\
             |---|---|---|---|---|---|---|\n",
        );
        for net in self.nets() {
            let seeds: Vec<String> = self
                .runs_of(net)
                .iter()
                .map(|r| r.seed.to_string())
                .collect();
            let (tr, te) = (self.final_train(net), self.final_test(net));
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} |",
                net_name(net),
                seeds.join(", "),
                each(&tr),
                mean_sd(&tr),
                each(&te),
                mean_sd(&te),
                paper_test_error(net).map_or("—".into(), |e| format!("{e:.2}%"))
            );
        }
        s.push_str(
            "\n## The verdicts\n\n\
             Each claim compares final training errors: the estimate is the difference of the \
             means (first net minus second), in points, with its 95% interval and Welch's \
             t-test over seeds. A claim is *shown* when the interval excludes 0 on the claimed \
             side, *reversed* when it excludes 0 on the other side, and *not shown* otherwise.\n\n\
             | claim | difference (points) | 95% interval | Welch's t (df) | p | verdict |\n\
             |---|---|---|---|---|---|\n",
        );
        for c in self.claims() {
            let _ = writeln!(s, "{}", c.row());
        }
        let _ = write!(s, "\n{}", self.causal_summary());
        let _ = write!(s, "\n{}", self.response_summary());
        let _ = write!(s, "\n{}", self.time_summary());
        s
    }

    /// Where detached-56 lands between ResNet-56 and plain-56, as a share of the gap.
    fn causal_summary(&self) -> String {
        let mut s = String::from("## The causal control\n\n");
        let m = |net| {
            let v = self.final_train(net);
            (!v.is_empty()).then(|| mean(&v))
        };
        let mut any = false;
        for d in [20, 56] {
            let (Some(p), Some(r), Some(x)) = (
                m((NetKind::Plain, d)),
                m((NetKind::Residual, d)),
                m((NetKind::Detached, d)),
            ) else {
                continue;
            };
            any = true;
            let _ = writeln!(
                s,
                "- At depth {d}: detached-{d} ends at {x:.2}% training error, ResNet-{d} at \
                 {r:.2}% and plain-{d} at {p:.2}%: detached-{d} covers {:.0}% of the way from \
                 the ResNet to the plain net (0%: as the ResNet, 100%: as the plain net).",
                100.0 * (x - r) / (p - r)
            );
        }
        if !any {
            s.push_str("No detached run yet.\n");
        }
        s
    }

    /// Fig. 7 in numbers: the mean response std over 3x3 layers of each net (mean ± sd over
    /// seeds), and at each depth how many layers the ResNet's mean response is below the
    /// plain net's.
    fn response_summary(&self) -> String {
        let mut s = String::from(
            "## Fig. 7: layer responses of the trained nets\n\n\
             The std of each 3x3 layer's response (after batch norm, before the addition and \
             ReLU) in eval mode on 256 training images, averaged over the layers of each net; \
             mean ± sd over seeds.\n\n",
        );
        let nets = self.response_nets();
        if nets.is_empty() {
            s.push_str("No responses yet.\n");
            return s;
        }
        for &net in &nets {
            let per_seed: Vec<f64> = self
                .responses_of(net)
                .iter()
                .map(|r| mean(&r.std))
                .collect();
            let _ = writeln!(
                s,
                "- {}: {} ({} seeds)",
                net_name(net),
                mean_sd_plain(&per_seed),
                per_seed.len()
            );
        }
        for d in nets
            .iter()
            .map(|n| n.1)
            .collect::<std::collections::BTreeSet<_>>()
        {
            let (p, r) = (
                self.layer_means((NetKind::Plain, d)),
                self.layer_means((NetKind::Residual, d)),
            );
            if p.is_empty() || p.len() != r.len() {
                continue;
            }
            let below = p.iter().zip(&r).filter(|(p, r)| r < p).count();
            let _ = writeln!(
                s,
                "- Depth {d}: ResNet-{d}'s mean response is below plain-{d}'s at {below} of {} \
                 3x3 layers.",
                p.len()
            );
        }
        s
    }

    fn time_summary(&self) -> String {
        let mut s = String::from("## Compute\n\n");
        let total: f64 = self
            .runs
            .iter()
            .map(|r| r.seconds)
            .filter(|t| t.is_finite())
            .sum();
        for net in self.nets() {
            let t: Vec<f64> = self.runs_of(net).iter().map(|r| r.seconds).collect();
            let _ = writeln!(
                s,
                "- {}: {} runs, {:.0} s each on average",
                net_name(net),
                t.len(),
                mean(&t)
            );
        }
        let _ = writeln!(
            s,
            "\n{} runs, {:.0} s of training in all ({:.1} hours), each run's own time as it \
             recorded it.",
            self.runs.len(),
            total,
            total / 3600.0
        );
        s
    }

    fn response_nets(&self) -> Vec<Net> {
        let mut nets: Vec<Net> = self.responses.iter().map(|r| (r.kind, r.depth)).collect();
        nets.dedup();
        nets
    }

    fn responses_of(&self, net: Net) -> Vec<&StudyResponse> {
        self.responses
            .iter()
            .filter(|r| (r.kind, r.depth) == net)
            .collect()
    }

    /// The mean over seeds of each layer's response std.
    fn layer_means(&self, net: Net) -> Vec<f64> {
        let rs = self.responses_of(net);
        let n = rs.iter().map(|r| r.std.len()).min().unwrap_or(0);
        (0..n)
            .map(|l| mean(&rs.iter().map(|r| r.std[l]).collect::<Vec<_>>()))
            .collect()
    }

    /// Fig. 6: training error (solid) and test error (dashed) over the run, mean over seeds
    /// with the range over seeds shaded; plain nets left, ResNets right.
    pub fn fig6(&self) -> Figure {
        let panel = |kinds: &[NetKind], title: &str| {
            let mut chart = LineChart {
                title: title.into(),
                x_label: "step".into(),
                y_label: "error (%)".into(),
                x_integer: true,
                ..LineChart::default()
            };
            for (color, net) in self
                .nets()
                .into_iter()
                .filter(|n| kinds.contains(&n.0))
                .enumerate()
            {
                self.curve(&mut chart, net, color, true);
                self.curve(&mut chart, net, color, false);
            }
            chart
        };
        let claims = self.claims();
        let verdicts: Vec<String> = claims
            .iter()
            .take(3)
            .map(|c| format!("{}: {}", c.text, c.verdict()))
            .collect();
        panels(
            "table6-fig6",
            "Fig. 6 on Fashion-MNIST: plain nets (left) vs ResNets (right)",
            &[
                panel(&[NetKind::Plain], "plain"),
                panel(&[NetKind::Residual], "ResNet"),
            ],
            &format!(
                "Training error solid, test error dashed: the mean over seeds, the range over \
                 seeds shaded; the last point of each curve is on 10,000 images, the others on \
                 2,000. Verdicts on final training error (95% intervals, Welch's t): {}.",
                verdicts.join("; ")
            ),
        )
    }

    /// The causal control: training error of the plain, residual and detached nets at
    /// each depth, one panel per depth.
    pub fn causal_figure(&self) -> Option<Figure> {
        let depths: Vec<usize> = [20, 56]
            .into_iter()
            .filter(|&d| !self.runs_of((NetKind::Detached, d)).is_empty())
            .collect();
        if depths.is_empty() {
            return None;
        }
        let charts: Vec<LineChart> = depths
            .iter()
            .map(|&d| {
                let mut chart = LineChart {
                    title: format!("depth {d}"),
                    x_label: "step".into(),
                    y_label: "training error (%)".into(),
                    x_integer: true,
                    ..LineChart::default()
                };
                for (color, kind) in KINDS.into_iter().enumerate() {
                    if !self.runs_of((kind, d)).is_empty() {
                        self.curve(&mut chart, (kind, d), color, true);
                    }
                }
                chart
            })
            .collect();
        Some(panels(
            "table6-causal",
            "The causal control: the same ResNet with its shortcuts' gradient cut",
            &charts,
            &format!(
                "Training error, mean over seeds with the range shaded, of the plain net, the \
                 ResNet, and the detached ResNet (the same forward function; no gradient along \
                 the shortcuts). {}",
                self.causal_summary()
                    .lines()
                    .filter(|l| l.starts_with("- "))
                    .map(|l| l.trim_start_matches("- "))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        ))
    }

    /// Adds `net`'s mean curve (training error if `train`, else test error) and its band.
    fn curve(&self, chart: &mut LineChart, net: Net, color: usize, train: bool) {
        let runs = self.runs_of(net);
        let Some(first) = runs.first() else { return };
        let steps: Vec<usize> = first.evals.iter().map(|e| e.0).collect();
        let mut mid = Vec::new();
        let mut band = Vec::new();
        for (i, &step) in steps.iter().enumerate() {
            let v: Vec<f64> = runs
                .iter()
                .filter_map(|r| r.evals.get(i).filter(|e| e.0 == step))
                .map(|e| 100.0 * if train { e.1 } else { e.2 })
                .collect();
            if v.len() != runs.len() || v.iter().any(|x| !x.is_finite()) {
                continue;
            }
            let (lo, hi) = span(&v);
            mid.push((step as f64, mean(&v)));
            band.push((step as f64, lo, hi));
        }
        if mid.is_empty() {
            return;
        }
        if runs.len() > 1 {
            chart.bands.push(Band {
                points: band,
                color,
            });
        }
        chart.series.push(Series {
            name: format!(
                "{} {} ({} seeds)",
                net_name(net),
                if train { "train" } else { "test" },
                runs.len()
            ),
            points: mid,
            color,
            dashed: !train,
            legend: true,
        });
    }

    /// Fig. 7: each 3x3 layer's response std in layer order (left) and sorted by magnitude
    /// (right), the mean over seeds with the range shaded.
    pub fn fig7(&self) -> Option<Figure> {
        let nets: Vec<Net> = self
            .response_nets()
            .into_iter()
            .filter(|n| n.0 != NetKind::Detached)
            .collect();
        if nets.is_empty() {
            return None;
        }
        let panel = |sorted: bool| {
            let mut chart = LineChart {
                title: if sorted {
                    "sorted by magnitude".into()
                } else {
                    "in layer order".into()
                },
                x_label: if sorted {
                    "rank of the 3x3 layer".into()
                } else {
                    "3x3 layer index".into()
                },
                y_label: "std of the response".into(),
                x_integer: true,
                ..LineChart::default()
            };
            for (color, &net) in nets.iter().enumerate() {
                let per_seed: Vec<Vec<f64>> = self
                    .responses_of(net)
                    .iter()
                    .map(|r| {
                        let mut v = r.std.clone();
                        if sorted {
                            v.sort_by(|a, b| b.total_cmp(a));
                        }
                        v
                    })
                    .collect();
                let n = per_seed.iter().map(Vec::len).min().unwrap_or(0);
                let at = |l: usize| per_seed.iter().map(|v| v[l]).collect::<Vec<f64>>();
                let x = |l: usize| l as f64 + 1.0;
                chart.series.push(Series {
                    name: format!("{} ({} seeds)", net_name(net), per_seed.len()),
                    points: (0..n).map(|l| (x(l), mean(&at(l)))).collect(),
                    color,
                    dashed: net.0 == NetKind::Plain,
                    legend: true,
                });
                if per_seed.len() > 1 {
                    chart.bands.push(Band {
                        points: (0..n)
                            .map(|l| {
                                let (lo, hi) = span(&at(l));
                                (x(l), lo, hi)
                            })
                            .collect(),
                        color,
                    });
                }
            }
            chart
        };
        let summary: Vec<String> = self
            .response_summary()
            .lines()
            .filter(|l| l.starts_with("- Depth"))
            .map(|l| l.trim_start_matches("- ").to_string())
            .collect();
        Some(panels(
            "table6-fig7",
            "Fig. 7 on the trained nets: std of each 3x3 layer's response",
            &[panel(false), panel(true)],
            &format!(
                "After batch norm, before the addition and ReLU, eval mode, 256 training images; \
                 plain nets dashed, ResNets solid; the mean over seeds, the range shaded. {}",
                summary.join(" ")
            ),
        ))
    }

    /// The gradient per block at initialisation of the plain, residual and detached nets,
    /// one panel per depth: the geometric mean over seeds, the range shaded.
    pub fn init_figure(&self) -> Option<Figure> {
        let mut depths: Vec<usize> = self.init.iter().map(|g| g.depth).collect();
        depths.dedup();
        if depths.is_empty() {
            return None;
        }
        let mut notes = Vec::new();
        let charts: Vec<LineChart> = depths
            .iter()
            .map(|&d| {
                let mut chart = LineChart {
                    title: format!("depth {d}, at initialisation"),
                    x_label: "block boundary l (0: the first block's input)".into(),
                    y_label: "||dE/dx_l|| / ||dE/dx_L||".into(),
                    log_y: true,
                    x_integer: true,
                    ..LineChart::default()
                };
                for (color, kind) in KINDS.into_iter().enumerate() {
                    let gs: Vec<&InitGradient> = self
                        .init
                        .iter()
                        .filter(|g| (g.kind, g.depth) == (kind, d))
                        .collect();
                    let n = gs.iter().map(|g| g.ratio.len()).min().unwrap_or(0);
                    if n == 0 {
                        continue;
                    }
                    let at = |l: usize| gs.iter().map(|g| g.ratio[l]).collect::<Vec<f64>>();
                    let geo = |v: &[f64]| mean(&v.iter().map(|x| x.ln()).collect::<Vec<_>>()).exp();
                    let lo = |v: &[f64]| span(v).0;
                    let hi = |v: &[f64]| span(v).1;
                    chart.series.push(Series::new(
                        format!("{} ({} seeds)", net_name((kind, d)), gs.len()),
                        (0..n).map(|l| (l as f64, geo(&at(l)))).collect(),
                        color,
                    ));
                    if gs.len() > 1 {
                        chart.bands.push(Band {
                            points: (0..n).map(|l| (l as f64, lo(&at(l)), hi(&at(l)))).collect(),
                            color,
                        });
                    }
                    let input = at(0);
                    notes.push(format!(
                        "{}: {} to {}",
                        net_name((kind, d)),
                        sci(lo(&input)),
                        sci(hi(&input))
                    ));
                }
                chart
            })
            .collect();
        Some(panels(
            "table6-init-gradients",
            "The gradient through the blocks at initialisation",
            &charts,
            &format!(
                "The norm of dE/dx_l at each block boundary over the norm at the top, for a \
                 random upstream gradient G at the last block (batch norm in training mode, \
                 128 training images); the geometric mean over seeds, the range shaded. At \
                 the first block's input the ratio runs over the seeds from: {}.",
                notes.join("; ")
            ),
        ))
    }

    /// Every figure: Fig. 6, the causal control, the gradients at initialisation and
    /// Fig. 7 (those with data).
    pub fn figures(&self) -> Vec<Figure> {
        let mut f = vec![self.fig6()];
        f.extend(self.causal_figure());
        f.extend(self.init_figure());
        f.extend(self.fig7());
        f
    }

    /// Writes `table6.md`, `table6-runs.csv` (every evaluation of every run) and the
    /// figures into `dir`, each atomically; returns the paths written.
    pub fn save(&self, dir: impl AsRef<Path>) -> std::io::Result<Vec<PathBuf>> {
        let dir = dir.as_ref();
        let mut written = Vec::new();
        for f in self.figures() {
            f.save(dir)?;
            written.push(dir.join(format!("{}.svg", f.name)));
            written.push(dir.join(format!("{}.csv", f.name)));
        }
        let mut runs = String::from("kind,depth,seed,step,train_error,test_error\n");
        for r in &self.runs {
            for e in &r.evals {
                let _ = writeln!(
                    runs,
                    "{},{},{},{},{},{}",
                    r.kind, r.depth, r.seed, e.0, e.1, e.2
                );
            }
        }
        for (name, text) in [("table6.md", self.markdown()), ("table6-runs.csv", runs)] {
            let path = dir.join(name);
            crate::io::write_atomic(&path, text.as_bytes())?;
            written.push(path);
        }
        Ok(written)
    }
}

/// One claim of the study and its test.
#[derive(Debug, Clone)]
pub struct Claim {
    /// The claim, e.g. `ResNet-56 ends below ResNet-20`.
    pub text: String,
    /// The claimed sign of `mean(a) - mean(b)`: +1 above, -1 below.
    pub sign: f64,
    /// Welch's comparison of the final training errors (points), if both nets have two
    /// seeds or more.
    pub test: Option<Comparison>,
    /// Seeds of each net.
    pub seeds: (usize, usize),
}

impl Claim {
    fn new(study: &Study, text: &str, a: Net, b: Net, sign: f64) -> Self {
        let (x, y) = (study.final_train(a), study.final_train(b));
        Claim {
            text: text.into(),
            sign,
            test: welch(&x, &y),
            seeds: (x.len(), y.len()),
        }
    }

    /// `shown`, `not shown`, `reversed`, or `not yet tested` (fewer than two seeds).
    pub fn verdict(&self) -> &'static str {
        match self.test {
            None => "not yet tested",
            Some(c) if self.sign * c.low > 0.0 && self.sign * c.high > 0.0 => "shown",
            Some(c) if self.sign * c.low < 0.0 && self.sign * c.high < 0.0 => "reversed",
            Some(_) => "not shown",
        }
    }

    fn row(&self) -> String {
        match self.test {
            None => format!(
                "| {} | — | — | — | — | not yet tested ({} and {} seeds) |",
                self.text, self.seeds.0, self.seeds.1
            ),
            Some(c) => format!(
                "| {} | {:+.2} | [{:+.2}, {:+.2}] | {:.2} ({:.1}) | {} | **{}** |",
                self.text,
                c.difference,
                c.low,
                c.high,
                c.t,
                c.df,
                p_value(c.p),
                self.verdict()
            ),
        }
    }
}

/// The smallest and the largest value of `v`: the range over seeds a band shades.
fn span(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

fn p_value(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("{p:.3}")
    }
}

fn each(v: &[f64]) -> String {
    v.iter()
        .map(|x| format!("{x:.2}%"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn mean_sd(v: &[f64]) -> String {
    if v.len() < 2 {
        format!("{:.2}%", mean(v))
    } else {
        format!("{:.2}% ± {:.2}", mean(v), sd(v))
    }
}

/// `1.23e4`, or `0.456` between 0.01 and 1000.
fn sci(x: f64) -> String {
    if (0.01..1000.0).contains(&x.abs()) {
        format!("{x:.3}")
    } else {
        format!("{x:.2e}")
    }
}

fn mean_sd_plain(v: &[f64]) -> String {
    if v.len() < 2 {
        format!("{:.3}", mean(v))
    } else {
        format!("{:.3} ± {:.3}", mean(v), sd(v))
    }
}
