//! The `resgrad` command line.

use std::process::ExitCode;

const USAGE: &str = "\
resgrad: reverse-mode autodiff and residual learning, built from scratch

usage:
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

fn run(args: &[String]) -> Result<(), String> {
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] | ["help"] | ["--help"] | ["-h"] => {
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
    let output = resgrad::flow::all_figures(|done| {
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
    println!("\nSCIENCE.md predictions, seeds 0..4 (width 64, batch 64):");
    println!("{:<3} {:<40} {:<22} must hold", "#", "set-up", "measured");
    for (n, setup, measured, hold) in &output.predictions {
        println!("{n:<3} {setup:<40} {measured:<22} {hold}");
    }
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
