//! The `resgrad` command line: it parses, then calls the library (`resgrad::viz::tour`,
//! `resgrad::viz::flow`, `resgrad::viz::degradation`, `resgrad::data`, `resgrad::models`);
//! only the benchmark tables live here.

mod args;
mod bench;
mod summary;
mod workloads;

use std::path::PathBuf;
use std::process::ExitCode;

use args::{Bench, Degradation, Milestones, Recipe};
use clap::{Parser, Subcommand};
use resgrad::data::load_splits;
use resgrad::nn::{ShortcutOption, StridePlacement};
use resgrad::train::optim::Schedule;
use resgrad::train::{Checkpoints, DeepWarmup, DegradationConfig, Family, TrainConfig};
use resgrad::viz;

/// resgrad: reverse-mode autodiff and residual learning, built from scratch.
///
/// With no command: the tour, gradient-flow figures and a short degradation run written
/// to out/index.html (under 5 minutes). `cargo run --release --example moons` trains an
/// MLP on two moons and draws its boundary.
#[derive(Parser)]
#[command(name = "resgrad", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Plain vs residual nets of several depths, same data and budget (~10 min by default).
    Degradation(Box<Degradation>),
    /// The gradient-flow figures and CSVs at initialisation, and the predictions table.
    Flow {
        /// Where to write the figures.
        #[arg(long, default_value = "out/flow")]
        out: PathBuf,
    },
    /// Layers, output shapes, parameters and multiply-adds of a network.
    Summary {
        /// resnet20..1202 (6n + 2), plain20.., preact-resnet110, resnet18/34/50/101/152, plain18/34.
        #[arg(required_unless_present = "compare_blocks")]
        model: Option<String>,
        /// Shortcut option A, B or C [default: A on CIFAR, B on ImageNet].
        #[arg(long)]
        shortcut: Option<ShortcutOption>,
        /// Torchvision's ResNet v1.5 layout (stride on the 3x3), not the paper's v1.
        #[arg(long = "v1.5")]
        v1_5: bool,
        /// Instead: the bottleneck's cost beside two basic blocks.
        #[arg(long, conflicts_with = "model")]
        compare_blocks: bool,
    },
    /// The Table 6 / Fig. 6 study's table, verdicts and figures, redrawn from the CSVs of
    /// its runs (DIR/runs/*/; `bash scripts/table6` trains them). Trains nothing.
    Table6 {
        /// The study's folder.
        #[arg(default_value = "docs/figures/table6")]
        dir: PathBuf,
        /// First measure the gradient per block at initialisation of the plain, residual
        /// and detached nets (width 8, depths 20 and 56, seeds 0 to 2) on Fashion-MNIST at
        /// 14x14, and write DIR/init-gradients.csv.
        #[arg(long)]
        measure_init: bool,
    },
    /// Speed measurements (printed, never asserted).
    #[command(subcommand)]
    Bench(Bench),
}

fn degradation(a: Degradation) -> Result<(), String> {
    let paper = a.recipe == Some(Recipe::Paper);
    let lr = a.lr.unwrap_or(if paper { 0.1 } else { 0.02 });
    let milestones = match (&a.milestones, paper) {
        (Some(m), _) => m.steps(a.steps)?,
        (None, true) => Milestones::Fractions(vec![0.5, 0.75]).steps(a.steps)?,
        (None, false) => Vec::new(),
    };
    let warmup = match (a.warmup, paper) {
        (Some(0), _) => None,
        (Some(steps), _) => Some(DeepWarmup {
            min_depth: 0,
            steps,
            lr: lr / 10.0,
        }),
        (None, true) => Some(DeepWarmup::paper(a.steps)),
        (None, false) => None,
    };
    let cfg = DegradationConfig {
        family: a.family,
        width: a
            .width
            .unwrap_or(if a.family == Family::Conv { 8 } else { 64 }),
        depths: a.depths,
        seeds: a.seeds,
        shortcut: a.shortcut,
        kinds: a.kinds,
        train: TrainConfig {
            steps: a.steps,
            batch: a.batch.unwrap_or(128),
            lr,
            schedule: if milestones.is_empty() {
                Schedule::Constant
            } else {
                Schedule::MultiStep {
                    milestones,
                    factor: 10.0,
                }
            },
            augment: a.augment || paper,
            eval_every: a.eval_every.unwrap_or((a.steps / 10).max(1)),
            eval_images: a.eval_images,
            final_eval_images: Some(a.final_eval_images),
            drop_last: !a.keep_last,
            detect_anomaly: a.detect_anomaly,
            ..TrainConfig::default()
        },
        warmup,
        checkpoints: a.checkpoint_dir.map(|dir| Checkpoints {
            dir,
            every: a.checkpoint_every.unwrap_or(0),
            resume: a.resume,
        }),
    };
    cfg.check().map_err(|e| e.to_string())?;
    writable("--out", &a.out)?;
    let data = load_splits(a.data, a.data_dir.as_deref())
        .map_err(|e| e.to_string())?
        .prepare(a.subset, a.half_size);
    eprintln!("data: {}", data.origin);
    eprintln!("degradation: {}", cfg.describe(&data.train));
    let report =
        viz::degradation::run(&cfg, &data.train, Some(&data.test)).map_err(|e| e.to_string())?;
    let written = report.save(&a.out).map_err(|e| io_error(&a.out, e))?;
    println!("{}", report.result.markdown());
    for path in written {
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn io_error(dir: &std::path::Path, e: std::io::Error) -> String {
    format!("could not write to {}: {e}", dir.display())
}

/// Refuses an output folder that cannot be written before any work starts, naming the
/// flag that gave it (`flag`; empty for the tour's fixed folder).
fn writable(flag: &str, dir: &std::path::Path) -> Result<(), String> {
    resgrad::check_writable_folder(dir).map_err(|e| match flag {
        "" => e.to_string(),
        _ => format!("{flag}: {e}"),
    })
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        None => {
            writable("", "out".as_ref())?;
            let tour = viz::tour::run_tour("out").map_err(|e| io_error("out".as_ref(), e))?;
            println!("\nopen {} ({:.0} s)", tour.page.display(), tour.seconds);
        }
        Some(Command::Degradation(a)) => degradation(*a)?,
        Some(Command::Table6 { dir, measure_init }) => {
            if measure_init {
                let data = load_splits(Some(resgrad::data::DataSource::Fashion), None)
                    .map_err(|e| e.to_string())?
                    .prepare(0, true);
                let init =
                    viz::table6::measure_init_gradients(&data.train, 8, &[20, 56], &[0, 1, 2])
                        .map_err(|e| e.to_string())?;
                let path =
                    viz::table6::save_init_gradients(&dir, &init).map_err(|e| io_error(&dir, e))?;
                println!("wrote {}", path.display());
            }
            let study = viz::table6::Study::load(&dir).map_err(|e| e.to_string())?;
            let written = study.save(&dir).map_err(|e| io_error(&dir, e))?;
            println!("{}", study.markdown());
            for path in written {
                println!("wrote {}", path.display());
            }
        }
        Some(Command::Flow { out }) => {
            writable("--out", &out)?;
            let figures = viz::flow::all_figures_with_progress();
            let n = figures.save(&out).map_err(|e| io_error(&out, e))?;
            print!("{}", figures.report(&out));
            println!("\nwrote {n} files to {}", out.display());
        }
        Some(Command::Summary {
            compare_blocks: true,
            ..
        }) => summary::print_compare_blocks(),
        Some(Command::Summary {
            model,
            shortcut,
            v1_5,
            ..
        }) => {
            let placement = if v1_5 {
                StridePlacement::Conv3x3
            } else {
                StridePlacement::First1x1
            };
            let name = model.unwrap_or_default();
            let (net, hw) =
                resgrad::models::by_name(&name, shortcut, placement).map_err(|e| e.to_string())?;
            println!("{}", net.summary(hw));
        }
        Some(Command::Bench(Bench::Tape { ops, repeats })) => bench::print_tape_cost(ops, repeats),
        Some(Command::Bench(Bench::Conv { batch, repeats })) => {
            bench::print_conv_bench(batch, repeats)
        }
        Some(Command::Bench(Bench::Train {
            batch,
            steps,
            depths,
            json,
            profile,
            one,
        })) => {
            if profile {
                for &depth in &depths {
                    bench::print_op_profile(depth, batch, steps)?;
                }
            } else if one {
                bench::print_one_net(depths[0], batch, steps)?
            } else {
                bench::print_train_bench(&depths, batch, steps, json.as_deref())?
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("resgrad: {e}");
            ExitCode::FAILURE
        }
    }
}
