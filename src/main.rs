//! The `resgrad` command line.

use std::process::ExitCode;

const USAGE: &str = "\
resgrad: reverse-mode autodiff and residual learning, built from scratch

usage:
  resgrad                                      the tour: gradient-flow figures and a short degradation
                                               run, written to out/index.html (under 5 minutes)
  resgrad degradation [--data fashion|digits] [--family conv|mlp] [--depths 20,56] [--width 8]
                      [--steps 500] [--lr 0.02] [--warmup STEPS] [--seeds 0] [--shortcut A|B]
                      [--batch 128] [--subset N] [--half-size] [--data-dir DIR] [--out out/degradation]
                                               plain vs residual nets, same data and budget (~10 min)
  resgrad bench tape [--ops N] [--repeats R]   the tape's cost per op (default 1000000 ops, 5 runs)
  resgrad bench conv [--batch N] [--repeats R] conv forward and forward+backward GFLOP/s (default N=128, 10 runs)
  resgrad bench train [--batch N] [--steps S]  ResNet-20/56 training and inference img/s (default 128, 10)
  resgrad flow [--out DIR]                     gradient-flow figures and CSVs at initialisation (default out/flow)
  resgrad summary MODEL [--shortcut A|B|C] [--v1.5]
                                               layers, output shapes, parameters, multiply-adds;
                                               MODEL: resnet20..1202, plain20.., preact-resnet110,
                                               resnet18/34/50/101/152, plain18/34
  resgrad summary --compare-blocks             the bottleneck's cost beside two basic blocks
  resgrad help                                 this text

examples:
  cargo run --release --example moons          train an MLP on two moons, draw its boundary
";

fn flag(args: &[String], name: &str, default: usize) -> Result<usize, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => args
            .get(i + 1)
            .ok_or(format!("{name} needs a number after it"))?
            .replace('_', "")
            .parse()
            .map_err(|_| format!("{name} needs a whole number, got `{}`", args[i + 1])),
    }
}

fn text_flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn list_flag(args: &[String], name: &str, default: &[usize]) -> Result<Vec<usize>, String> {
    match text_flag(args, name) {
        None => Ok(default.to_vec()),
        Some(v) => v
            .split(',')
            .map(|d| {
                d.trim()
                    .parse()
                    .map_err(|_| format!("{name} takes numbers separated by commas, not `{v}`"))
            })
            .collect(),
    }
}

/// The data set a command trains on: Fashion-MNIST if installed (or asked for), otherwise
/// the embedded digits, saying which and how to get the other.
fn load_data(
    choice: Option<&str>,
    data_dir: Option<&str>,
    subset: usize,
    half: bool,
) -> Result<(resgrad::data::Dataset, resgrad::data::Dataset), String> {
    use resgrad::data;
    let dir = data_dir.map_or_else(data::fashion_mnist_dir, std::path::PathBuf::from);
    let fashion = || data::fashion_mnist(&dir);
    let (mut train, mut test) = match choice {
        Some("digits") => digits_split(),
        Some("fashion") => fashion().map_err(|e| e.to_string())?,
        None => match fashion() {
            Ok(d) => {
                eprintln!(
                    "data: Fashion-MNIST from {}",
                    data::fashion_mnist_dir().display()
                );
                d
            }
            Err(_) => {
                eprintln!(
                    "data: the embedded UCI digits (Fashion-MNIST is not installed: `apt-get install dataset-fashion-mnist`, \
                     or set RESGRAD_DATA)"
                );
                digits_split()
            }
        },
        Some(other) => return Err(format!("--data takes fashion or digits, not `{other}`")),
    };
    if subset > 0 {
        train = train.take(subset);
    }
    if half {
        train = train.downsample2();
        test = test.downsample2();
    }
    let (mean, std) = train.channel_stats();
    train.normalize(&mean, &std);
    test.normalize(&mean, &std);
    Ok((train, test))
}

/// The digits, split 1,497 / 300 (the first 1,497 to train on).
fn digits_split() -> (resgrad::data::Dataset, resgrad::data::Dataset) {
    let d = resgrad::data::digits();
    let n = d.len() - 300;
    let image = d.image_len();
    let mut test = d.clone();
    test.name = "digits test".into();
    test.images = d.images[n * image..].to_vec();
    test.labels = d.labels[n..].to_vec();
    let mut train = d.take(n);
    train.name = "digits train".into();
    (train, test)
}

type Setup = (
    resgrad::train::DegradationConfig,
    resgrad::data::Dataset,
    resgrad::data::Dataset,
);

fn degradation_setup(args: &[String]) -> Result<Setup, String> {
    use resgrad::nn::ShortcutOption;
    use resgrad::optim::Schedule;
    use resgrad::train::{DegradationConfig, Family, TrainConfig};
    let half = args.iter().any(|a| a == "--half-size");
    let (train, test) = load_data(
        text_flag(args, "--data"),
        text_flag(args, "--data-dir"),
        flag(args, "--subset", 0)?,
        half,
    )?;
    let family = match text_flag(args, "--family") {
        None | Some("conv") => Family::Conv,
        Some("mlp") => Family::Mlp,
        Some(other) => return Err(format!("--family takes conv or mlp, not `{other}`")),
    };
    let depths = list_flag(args, "--depths", &[20, 56])?;
    if family == Family::Conv
        && let Some(bad) = depths
            .iter()
            .find(|&&d| d < 8 || !(d - 2).is_multiple_of(6))
    {
        return Err(format!(
            "conv depths must be 6n + 2 (20, 32, 44, 56, 110), not {bad}"
        ));
    }
    let shortcut = match text_flag(args, "--shortcut") {
        None | Some("A" | "a") => ShortcutOption::A,
        Some("B" | "b") => ShortcutOption::B,
        Some(other) => return Err(format!("--shortcut takes A or B, not `{other}`")),
    };
    let steps = flag(args, "--steps", 500)?;
    let lr: f64 = text_flag(args, "--lr").map_or(Ok(0.02), |v| {
        v.parse()
            .map_err(|_| format!("--lr takes a number, not `{v}`"))
    })?;
    let warmup = flag(args, "--warmup", 0)?;
    let schedule = if warmup > 0 {
        Schedule::Warmup {
            steps: warmup,
            warmup_lr: lr / 10.0,
            then: Box::new(Schedule::Constant),
        }
    } else {
        Schedule::Constant
    };
    let cfg = DegradationConfig {
        family,
        depths,
        width: flag(args, "--width", if family == Family::Conv { 8 } else { 64 })?,
        seeds: list_flag(args, "--seeds", &[0])?
            .into_iter()
            .map(|s| s as u64)
            .collect(),
        shortcut,
        train: TrainConfig {
            steps,
            batch: flag(args, "--batch", 128)?,
            lr,
            schedule,
            eval_every: flag(args, "--eval-every", (steps / 10).max(1))?,
            eval_images: flag(args, "--eval-images", 1000)?,
            ..TrainConfig::default()
        },
    };
    Ok((cfg, train, test))
}

/// Runs the experiment and writes its figure, CSV and table to `out`.
fn degradation(
    cfg: &resgrad::train::DegradationConfig,
    train: &resgrad::data::Dataset,
    test: &resgrad::data::Dataset,
    out: &std::path::Path,
) -> Result<resgrad::train::DegradationResult, String> {
    let start = std::time::Instant::now();
    eprintln!(
        "degradation: {} nets ({:?}, width {}, depths {:?}) on {} ({} images), {} steps of {}, lr {}",
        2 * cfg.depths.len() * cfg.seeds.len(),
        cfg.family,
        cfg.width,
        cfg.depths,
        train.name,
        train.len(),
        cfg.train.steps,
        cfg.train.batch,
        cfg.train.lr
    );
    let (r, responses) = resgrad::flow::degradation_with_responses(cfg, train, Some(test));
    let io = |e: std::io::Error| format!("could not write to {}: {e}", out.display());
    r.figure().save(out).map_err(io)?;
    if let Some(f) = resgrad::viz::degradation::response_figure(&responses) {
        f.save(out).map_err(io)?;
    }
    let write = |name: &str, text: String| std::fs::write(out.join(name), text).map_err(io);
    write("degradation-runs.csv", r.csv())?;
    write(
        "degradation.md",
        format!(
            "# Degradation on {}\n\n{:?} nets, width {}, {} steps of batch {}, lr {}, {:.0} s in all.\n\n{}",
            r.dataset,
            cfg.family,
            cfg.width,
            cfg.train.steps,
            cfg.train.batch,
            cfg.train.lr,
            start.elapsed().as_secs_f64(),
            r.markdown()
        ),
    )?;
    println!(
        "wrote {}/degradation.svg, degradation.csv, degradation.md in {:.0} s",
        out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(r)
}

/// `resgrad` with no arguments: the gradient-flow figures and a short degradation run,
/// on one page.
fn tour() -> Result<(), String> {
    let start = std::time::Instant::now();
    let out = std::path::Path::new("out");
    println!(
        "resgrad tour: gradient flow at initialisation, then a short degradation run (under 5 minutes)"
    );
    flow(&out.join("flow"))?;
    // Fashion-MNIST at 14x14 (2x2 average pooling) keeps four nets under five minutes;
    // the embedded digits (8x8) are small already.
    let fashion = resgrad::data::fashion_mnist(resgrad::data::fashion_mnist_dir()).is_ok();
    let args: Vec<String> = if fashion {
        vec![
            "--steps",
            "400",
            "--eval-every",
            "40",
            "--eval-images",
            "500",
            "--half-size",
        ]
    } else {
        vec![
            "--data",
            "digits",
            "--steps",
            "400",
            "--eval-every",
            "40",
            "--eval-images",
            "500",
        ]
    }
    .into_iter()
    .map(String::from)
    .collect();
    let (cfg, train, test) = degradation_setup(&args)?;
    let r = degradation(&cfg, &train, &test, &out.join("degradation"))?;
    let page = tour_page(&r, start.elapsed().as_secs_f64())?;
    let path = out.join("index.html");
    std::fs::write(&path, page).map_err(|e| format!("could not write {}: {e}", path.display()))?;
    println!(
        "\nopen {} ({:.0} s)",
        path.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn tour_page(r: &resgrad::train::DegradationResult, seconds: f64) -> Result<String, String> {
    use std::fmt::Write as _;
    let figure = |src: &str, caption: &str| {
        format!(
            "<figure><img src=\"{src}\" alt=\"{caption}\"><figcaption>{caption}</figcaption></figure>\n"
        )
    };
    let mut html = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>resgrad tour</title><style>\
         body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}figure{margin:1.5em 0}\
         img{max-width:100%;border:1px solid #ddd}figcaption{color:#555}table{border-collapse:collapse}\
         td,th{border:1px solid #ccc;padding:4px 8px}</style></head><body>\n<h1>resgrad tour</h1>\n",
    );
    let _ = writeln!(
        html,
        "<p>Made by <code>cargo run --release</code> in {seconds:.0} s. Deep Residual Learning (He et al. 2015, 2016), measured with this crate.</p>"
    );
    html.push_str("<h2>1. Gradient flow at initialisation</h2>\n");
    for (name, caption) in [
        (
            "gradient-norm-depth",
            "Without a skip the gradient falls (Glorot), fans out (He) or explodes (batch norm) on its way back; residual nets keep it flat.",
        ),
        (
            "eq5-split-resnet56",
            "He et al. 2016 eq. 5: at every block most of the gradient arrives through the shortcut.",
        ),
        (
            "eq8-lambda",
            "Scaling the shortcuts away from 1 hurts either way: R is smallest at lambda = 1.",
        ),
        (
            "shattered-autocorr",
            "Deep plain nets give nearby inputs unrelated gradients; residual nets do not (Balduzzi et al. 2017).",
        ),
        (
            "path-lengths",
            "Most of the gradient crosses only a few residual branches (Veit et al. 2016).",
        ),
    ] {
        html.push_str(&figure(&format!("flow/{name}.svg"), caption));
    }
    let _ = writeln!(
        html,
        "<h2>2. The degradation problem, on {}</h2>",
        r.dataset
    );
    html.push_str(&figure("degradation/degradation.svg", "The deeper plain net trains worse (higher training error); with shortcuts, depth does not hurt."));
    if r.config.family == resgrad::train::Family::Conv {
        html.push_str(&figure(
            "degradation/layer-response-std-trained.svg",
            "He et al. 2015 Fig. 7 for the nets just trained (eval mode).",
        ));
    }
    html.push_str("<table><tr><th>net</th><th>final training error</th><th>final test error</th><th>time (s)</th><th>img/s</th></tr>\n");
    for run in &r.runs {
        let _ = writeln!(
            html,
            "<tr><td>{}-{}</td><td>{:.1}%</td><td>{:.1}%</td><td>{:.0}</td><td>{:.0}</td></tr>",
            run.kind,
            run.depth,
            100.0 * run.final_train_error(),
            100.0 * run.final_test_error(),
            run.history.seconds,
            run.history.images_per_second
        );
    }
    html.push_str("</table>\n<p>A short run: the paper trains for about 164 epochs. <code>cargo run --release -- help</code> shows the full experiment; the docs/ folder has the long runs.</p></body></html>\n");
    Ok(html)
}

fn run(args: &[String]) -> Result<(), String> {
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => tour(),
        ["degradation", ..] => {
            let out = text_flag(args, "--out")
                .unwrap_or("out/degradation")
                .to_string();
            let (cfg, train, test) = degradation_setup(args)?;
            let r = degradation(&cfg, &train, &test, std::path::Path::new(&out))?;
            println!("{}", r.markdown());
            Ok(())
        }
        ["help"] | ["--help"] | ["-h"] => {
            print!("{USAGE}");
            Ok(())
        }
        ["bench", "tape", ..] => {
            let ops = flag(args, "--ops", 1_000_000)?;
            let repeats = flag(args, "--repeats", 5)?;
            resgrad::bench::print_tape_cost(ops, repeats);
            Ok(())
        }
        ["bench", "conv", ..] => {
            let n = flag(args, "--batch", 128)?;
            let repeats = flag(args, "--repeats", 10)?;
            resgrad::bench::print_conv_bench(n, repeats);
            Ok(())
        }
        ["bench", "train", ..] => {
            let n = flag(args, "--batch", 128)?;
            let steps = flag(args, "--steps", 10)?;
            resgrad::bench::print_train_bench(n, steps);
            Ok(())
        }
        ["flow", ..] => {
            let out = args
                .iter()
                .position(|a| a == "--out")
                .and_then(|i| args.get(i + 1))
                .map_or("out/flow", String::as_str);
            flow(std::path::Path::new(out))
        }
        ["summary", "--compare-blocks", ..] => {
            println!(
                "{:<58} {:>16} {:>12}",
                "block (per pixel of output)", "multiply-adds", "parameters"
            );
            for (name, macs, params) in resgrad::models::compare_blocks() {
                let (m, p) = (
                    resgrad::models::thousands(macs),
                    resgrad::models::thousands(params),
                );
                println!("{name:<58} {m:>16} {p:>12}");
            }
            println!(
                "He et al. 2015, 4.1: the bottleneck costs about what the 64-d basic block does, with 4x the width."
            );
            Ok(())
        }
        ["summary", model, ..] => {
            use resgrad::nn::{ShortcutOption, StridePlacement};
            let shortcut = match args
                .iter()
                .position(|a| a == "--shortcut")
                .and_then(|i| args.get(i + 1))
                .map(String::as_str)
            {
                None => None,
                Some("A" | "a") => Some(ShortcutOption::A),
                Some("B" | "b") => Some(ShortcutOption::B),
                Some("C" | "c") => Some(ShortcutOption::C),
                Some(other) => return Err(format!("--shortcut takes A, B or C, not `{other}`")),
            };
            let placement = if args.iter().any(|a| a == "--v1.5") {
                StridePlacement::Conv3x3
            } else {
                StridePlacement::First1x1
            };
            let (net, hw) =
                resgrad::models::by_name(model, shortcut, placement).map_err(|e| e.to_string())?;
            println!("{}", net.summary(hw));
            Ok(())
        }
        _ => Err(format!("unknown command `{}`\n\n{USAGE}", args.join(" "))),
    }
}

/// `resgrad flow`: every gradient-flow figure, with a progress bar, then the predictions.
fn flow(out: &std::path::Path) -> Result<(), String> {
    let start = std::time::Instant::now();
    let bar = indicatif::ProgressBar::new(7);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
        )
        .map_err(|e| e.to_string())?,
    );
    bar.set_message("gradient norm against depth (20 seeds x 5 nets)");
    let labels = [
        "eq. 5 split",
        "layer response std",
        "shattered gradients",
        "path lengths",
        "eq. 8 lambda sweep",
        "predictions",
        "done",
    ];
    let mut next = labels.iter();
    let output = resgrad::viz::flow::all_figures(|done| {
        bar.inc(1);
        if !bar.is_hidden() {
            bar.set_message(next.next().copied().unwrap_or("").to_string());
        } else {
            eprintln!("[{:>5.1}s] {done}", start.elapsed().as_secs_f64());
        }
    });
    bar.finish_and_clear();
    let mut written = 0;
    for f in &output.figures {
        written += f
            .save(out)
            .map_err(|e| format!("could not write to {}: {e}", out.display()))?;
        if !f.svg.is_empty() {
            println!(
                "{}: {}",
                out.join(format!("{}.svg", f.name)).display(),
                f.caption
            );
        }
    }
    println!("\nGradient-flow predictions (docs/predictions.md), width 64, batch 64:");
    print!(
        "{}",
        resgrad::viz::flow::predictions_table(&output.predictions)
    );
    println!(
        "\nwrote {written} files to {} in {:.1} s",
        out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("resgrad: {e}");
            ExitCode::FAILURE
        }
    }
}
