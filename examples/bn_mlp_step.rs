//! Times a training step of a 30-layer residual MLP with batch norm on `[N, C]` inputs
//! (the playground's live net: width 32, batches of 64 points of the spirals):
//!
//!     cargo run --release --example bn_mlp_step
//!
//! Batch norm on `[N, C]` has planes of one value; its loops run on the calling thread
//! when the tensor is small, where waking the thread pool would cost more than the sums.
use std::time::Instant;

use resgrad::playground::{Arch, Live, Points, Settings};

fn main() -> resgrad::Result<()> {
    let settings = Settings {
        arch: Arch::Residual,
        depth: 30,
        width: 32,
        batch_norm: true,
        seeds: 1,
        ..Settings::default()
    };
    let mut live = Live::new(&settings, Points::Spirals, 0.03)?;
    live.train(10)?;
    let start = Instant::now();
    live.train(100)?;
    let ms = start.elapsed().as_secs_f64() * 1e3 / 100.0;
    println!(
        "30-layer residual MLP with batch norm, width 32, batch 64: {ms:.2} ms per training step"
    );
    Ok(())
}
