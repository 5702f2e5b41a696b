//! The numbers the playground's page must show, from the native build: one JSON object per
//! line for each set of controls given, in the layout the wasm exports fill.
//!
//!     playground-numbers fan ARCH,DEPTH,WIDTH,LAMBDA,START,BN,SEED,SEEDS ...
//!     playground-numbers live ARCH,DEPTH,WIDTH,LAMBDA,START,BN,SEED,DATA,LR,STEPS ...
//!
//! `fan` prints `{"controls": "...", "numbers": [...]}` (or `"error"`); `live` trains a live
//! net STEPS steps and prints `live_train`'s buffer: steps, accuracy, then every loss.
//! `scripts/playground --test` compares them with the page's.

use resgrad::playground::Live;
use resgrad_playground::{Controls, fan_numbers, points};

fn fields(spec: &str, count: usize) -> Result<Vec<f64>, String> {
    let v: Vec<f64> = spec
        .split(',')
        .map(|f| f.trim().parse::<f64>().map_err(|e| format!("'{f}': {e}")))
        .collect::<Result<_, _>>()?;
    if v.len() != count {
        return Err(format!("{} numbers in '{spec}', expected {count}", v.len()));
    }
    Ok(v)
}

fn controls(v: &[f64], seeds: u32) -> Controls {
    Controls {
        arch: v[0] as u32,
        depth: v[1] as u32,
        width: v[2] as u32,
        lambda: v[3],
        start: v[4] as u32,
        batch_norm: v[5] as u32,
        seed: v[6] as u32,
        seeds,
    }
}

fn live(v: &[f64]) -> Result<Vec<f64>, String> {
    let settings = controls(v, 1).settings()?;
    let mut net = Live::new(&settings, points(v[7] as u32)?, v[8]).map_err(|e| e.to_string())?;
    net.train(v[9] as usize).map_err(|e| e.to_string())?;
    let mut out = vec![
        net.step() as f64,
        net.accuracy().map_err(|e| e.to_string())?,
    ];
    out.extend(net.losses());
    Ok(out)
}

fn json(spec: &str, result: Result<Vec<f64>, String>) -> String {
    match result {
        Ok(v) => {
            let nums: Vec<String> = v.iter().map(|x| format!("{x:?}")).collect();
            format!(
                "{{\"controls\": \"{spec}\", \"numbers\": [{}]}}",
                nums.join(", ")
            )
        }
        Err(e) => format!(
            "{{\"controls\": \"{spec}\", \"error\": \"{}\"}}",
            e.replace('\\', "\\\\").replace('"', "\\\"")
        ),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((mode, specs)) = args.split_first() else {
        eprintln!("usage: playground-numbers fan|live CONTROLS ... (see the source's header)");
        std::process::exit(2);
    };
    for spec in specs {
        let result = match mode.as_str() {
            "fan" => fields(spec, 8).and_then(|v| fan_numbers(&controls(&v, v[7] as u32))),
            "live" => fields(spec, 10).and_then(|v| live(&v)),
            m => {
                eprintln!("playground-numbers: unknown mode '{m}'; use fan or live");
                std::process::exit(2);
            }
        };
        println!("{}", json(spec, result));
    }
}
