//! How long a ResNet-20 training step takes in `f64` (what gradient checks of whole nets
//! run in) beside the same step in `f32`, in one run, on the same random batch.
//!
//!     cargo run --release --example f64_step [-- BATCH STEPS]
//!
//! A step is forward, cross-entropy and backward (no optimiser), timed as the median of
//! `STEPS` steps after a warm-up. It also times the batch-norm kernels alone on the net's
//! batch-norm shapes in `f64`, to show what share of the `f64` step they take.

use std::hint::black_box;
use std::time::Instant;

use resgrad::kernels;
use resgrad::models::CifarSpec;
use resgrad::ndarray::{ArrayD, IxDyn};
use resgrad::nn::{Mode, Module, ShortcutOption};
use resgrad::{Float, Tape};

fn median_secs(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..reps.max(1))
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn filled<T: Float>(n: usize, seed: u64) -> Vec<T> {
    let mut s = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            T::cast((s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0)
        })
        .collect()
}

/// Median seconds of one forward + cross-entropy + backward of ResNet-20 (option A).
fn step_secs<T: Float>(tape: fn() -> Tape<T>, n: usize, steps: usize) -> f64 {
    let model = CifarSpec::resnet(20, ShortcutOption::A)
        .build::<T>()
        .expect("ResNet-20 is a valid CIFAR net");
    let x = ArrayD::from_shape_vec(IxDyn(&[n, 3, 32, 32]), filled::<T>(n * 3 * 32 * 32, 9))
        .expect("shape");
    let labels: Vec<usize> = (0..n).map(|i| (i * 7) % 10).collect();
    median_secs(steps, || {
        let tape = tape();
        let loss = model
            .forward(&tape.constant(x.clone()), Mode::Train)
            .cross_entropy(&labels);
        black_box(loss.backward_leaves());
    })
}

/// Median seconds of ResNet-20's 19 batch norms (statistics, apply, backward) in `T`,
/// through the same dispatch the tape uses.
fn batch_norm_secs<T: Float>(n: usize, steps: usize) -> f64 {
    // conv1 and stage 1: 7 at 16 x 32 x 32; stage 2: 6 at 32 x 16 x 16; stage 3: 6 at 64 x 8 x 8.
    let layers = [(7, 16, 32 * 32), (6, 32, 16 * 16), (6, 64, 8 * 8)];
    median_secs(steps, || {
        for &(count, c, plane) in &layers {
            let x = filled::<T>(n * c * plane, 1);
            let dy = filled::<T>(n * c * plane, 2);
            let ones = vec![T::one(); c];
            for _ in 0..count {
                let (mean, var) = kernels::channel_stats(&x, n, c, plane);
                let inv: Vec<T> = var
                    .iter()
                    .map(|v| T::one() / (*v + T::cast(1e-5)).sqrt())
                    .collect();
                let y =
                    kernels::batch_norm_apply(&x, (n, c, plane), &mean, &inv, &ones, &ones, None);
                let back = kernels::batch_norm_backward(
                    &x,
                    &dy,
                    None,
                    (n, c, plane),
                    &mean,
                    &inv,
                    &ones,
                    true,
                );
                black_box((&y, back));
            }
        }
    })
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let n = args.next().and_then(Result::ok).unwrap_or(16);
    let steps = args.next().and_then(Result::ok).unwrap_or(5);
    resgrad::train::tune_allocator();
    println!(
        "ResNet-20 (option A), batch {n}, forward + cross-entropy + backward; {} threads; kernel {:?}; median of {steps} steps",
        rayon::current_num_threads(),
        kernels::fast::gemm::Isa::detect()
    );
    let f32_step = step_secs(Tape::new, n, steps);
    let f64_step = step_secs(Tape::new_f64, n, steps);
    let f64_bn = batch_norm_secs::<f64>(n, steps);
    println!("f32 step        {:>9.1} ms", f32_step * 1e3);
    println!(
        "f64 step        {:>9.1} ms   ({:.1}x the f32 step)",
        f64_step * 1e3,
        f64_step / f32_step
    );
    println!(
        "f64 batch norms {:>9.1} ms   ({:.0}% of the f64 step)",
        f64_bn * 1e3,
        100.0 * f64_bn / f64_step
    );
}
