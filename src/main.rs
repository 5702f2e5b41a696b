//! The `resgrad` command line.

use std::process::ExitCode;

const USAGE: &str = "\
resgrad: reverse-mode autodiff and residual learning, built from scratch

usage:
  resgrad bench tape [--ops N] [--repeats R]   the tape's cost per op (default 1000000 ops, 5 runs)
  resgrad bench conv [--batch N] [--repeats R] conv forward and forward+backward GFLOP/s (default N=128, 10 runs)
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
        _ => Err(format!("unknown command `{}`\n\n{USAGE}", args.join(" "))),
    }
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
