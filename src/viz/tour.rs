//! The tour (`resgrad` with no arguments): the gradient-flow figures and a short
//! degradation run, on one page. A notebook can call [`run_tour`] or any of its parts.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::Figure;
use super::degradation::{self, DegradationReport};
use super::flow::{FlowFigures, all_figures_with_progress};
use crate::data::{Splits, digits_split, fashion_mnist, fashion_mnist_dir};
use crate::io::escape_html;
use crate::nn::ShortcutOption;
use crate::train::{DegradationConfig, Family, TrainConfig};

/// The flow figures the tour shows, in order: every figure it draws (`out/flow/` holds
/// them, with `predictions.csv`, whose table the page shows too).
pub const TOUR_FLOW_FIGURES: [&str; 7] = [
    "gradient-norm-depth",
    "eq5-split-resnet56",
    "eq8-lambda",
    "shattered-curves",
    "shattered-autocorr",
    "path-lengths",
    "layer-response-std",
];

/// How to get Fashion-MNIST, for the page and the terminal when it is missing.
pub const FASHION_INSTALL: &str = "apt-get install dataset-fashion-mnist";

/// The tour's data: Fashion-MNIST at 14x14 (2x2 average pooling keeps four conv nets under
/// five minutes) if it is installed ([`fashion_mnist_dir`]), otherwise the embedded 8x8
/// digits, with an origin that says Fashion-MNIST is missing and how to install it;
/// normalised.
pub fn tour_data() -> Splits {
    tour_data_from(&fashion_mnist_dir())
}

/// [`tour_data`] with Fashion-MNIST looked for in `dir`.
pub fn tour_data_from(dir: &Path) -> Splits {
    let splits = match fashion_mnist(dir) {
        Ok((train, test)) => Splits {
            train,
            test,
            origin: format!("Fashion-MNIST from {}", dir.display()),
        },
        Err(e) => {
            let (train, test) = digits_split();
            Splits {
                train,
                test,
                origin: format!(
                    "Fashion-MNIST is not installed, so the tour trains on the embedded 8x8 UCI digits. To train \
                     on Fashion-MNIST: `{FASHION_INSTALL}` (or point RESGRAD_DATA at a folder with its IDX \
                     files), then run the tour again. ({e})"
                ),
            }
        }
    };
    let half = splits.train.shape[1] > 16;
    splits.prepare(0, half)
}

/// The tour's short degradation run: plain and residual conv nets of depths 20 and 56,
/// width 8, 400 steps of 128 at lr 0.02, evaluated every 40 steps on 500 images.
pub fn tour_config() -> DegradationConfig {
    DegradationConfig {
        family: Family::Conv,
        depths: vec![20, 56],
        width: 8,
        seeds: vec![0],
        shortcut: ShortcutOption::A,
        train: TrainConfig {
            steps: 400,
            batch: 128,
            lr: 0.02,
            eval_every: 40,
            eval_images: 500,
            ..TrainConfig::default()
        },
        ..DegradationConfig::mlp_probe()
    }
}

/// What the tour made.
#[derive(Debug, Clone)]
pub struct Tour {
    /// The gradient-flow figures (saved under `flow/`).
    pub flow: FlowFigures,
    /// The short degradation run (saved under `degradation/`).
    pub degradation: DegradationReport,
    /// The page, `index.html`.
    pub page: PathBuf,
    /// Wall time, seconds.
    pub seconds: f64,
}

/// Runs the tour into `out`: `out/flow/`, `out/degradation/` and `out/index.html`. Says
/// what it does on stderr, with progress bars (lines where there is no terminal). Fails
/// on a file that cannot be written, or if the degradation run fails (its error, e.g. a
/// diverged run, carried as [`std::io::Error::other`]).
pub fn run_tour(out: impl AsRef<Path>) -> std::io::Result<Tour> {
    let out = out.as_ref();
    let start = crate::clock::Stopwatch::start();
    eprintln!(
        "resgrad tour: gradient flow at initialisation, then a short degradation run (under 5 minutes)"
    );
    let data = tour_data();
    eprintln!("data: {}", data.origin);
    let flow = all_figures_with_progress();
    flow.save(out.join("flow"))?;
    let cfg = tour_config();
    eprintln!("degradation: {}", cfg.describe(&data.train));
    let report =
        degradation::run(&cfg, &data.train, Some(&data.test)).map_err(std::io::Error::other)?;
    report.save(out.join("degradation"))?;
    let seconds = start.seconds();
    let page = out.join("index.html");
    crate::io::write_atomic(
        &page,
        tour_page(&flow, &report, &data.origin, seconds).as_bytes(),
    )?;
    Ok(Tour {
        flow,
        degradation: report,
        page,
        seconds,
    })
}

fn figure_html(dir: &str, f: &Figure) -> String {
    let caption = escape_html(&f.caption);
    format!(
        "<figure><img src=\"{dir}/{}.svg\" alt=\"{}\"><figcaption>{caption}</figcaption></figure>\n",
        f.name,
        escape_html(&f.title)
    )
}

/// The tour's page: the flow figures of [`TOUR_FLOW_FIGURES`] and the predictions table,
/// where the data came from (`data`, a [`Splits::origin`]: when Fashion-MNIST is missing it
/// says so and how to install it), the degradation figures, each with its own caption, and
/// the table of the runs. Images are linked relative to the page (`flow/NAME.svg`,
/// `degradation/NAME.svg`).
pub fn tour_page(
    flow: &FlowFigures,
    degradation: &DegradationReport,
    data: &str,
    seconds: f64,
) -> String {
    let mut html = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>resgrad tour</title><style>\
         body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}figure{margin:1.5em 0}\
         img{max-width:100%;border:1px solid #ddd}figcaption{color:#555}table{border-collapse:collapse}\
         td,th{border:1px solid #ccc;padding:4px 8px}.note{background:#fff4d6;border:1px solid #e6b800;padding:8px 12px}</style></head><body>\n<h1>resgrad tour</h1>\n",
    );
    let _ = writeln!(
        html,
        "<p>Made by <code>cargo run --release</code> in {seconds:.0} s. Deep Residual Learning (He et al. 2015, 2016), measured with this crate.</p>"
    );
    html.push_str("<h2>1. Gradient flow at initialisation</h2>\n");
    for name in TOUR_FLOW_FIGURES {
        if let Some(f) = flow.get(name) {
            html.push_str(&figure_html("flow", f));
        }
    }
    html.push_str(
        "<p>The gradient-flow predictions (<code>docs/predictions.md</code>), measured for seeds 0 to 4 \
         (<code>flow/predictions.csv</code>):</p>\n<table><tr><th>#</th><th>set-up</th><th>measured</th>\
         <th>must hold</th><th>held</th></tr>\n",
    );
    for m in &flow.predictions {
        let p = m.prediction;
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape_html(p.id),
            escape_html(&p.setup_text()),
            escape_html(&m.range_text()),
            escape_html(&p.bound_text()),
            if m.holds() { "yes" } else { "NO" }
        );
    }
    html.push_str("</table>\n");
    let r = &degradation.result;
    let _ = writeln!(
        html,
        "<h2>2. The degradation problem, on {}</h2>",
        escape_html(&r.dataset)
    );
    let class = if data.contains(FASHION_INSTALL) {
        " class=\"note\""
    } else {
        ""
    };
    let _ = writeln!(html, "<p{class}>Data: {}</p>", escape_html(data));
    for f in &degradation.figures {
        html.push_str(&figure_html("degradation", f));
    }
    html.push_str("<table><tr><th>net</th><th>final training error</th><th>final test error</th><th>time (s)</th><th>img/s</th></tr>\n");
    for run in &r.runs {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{:.1}%</td><td>{:.1}%</td><td>{:.0}</td><td>{:.0}</td></tr>",
            run.label(),
            100.0 * run.final_train_error(),
            100.0 * run.final_test_error(),
            run.history.seconds,
            run.history.images_per_second
        );
    }
    html.push_str("</table>\n<p>A short run: the paper trains for about 164 epochs. <code>cargo run --release -- help</code> shows the full experiment; the docs/ folder has the long runs.</p></body></html>\n");
    html
}
