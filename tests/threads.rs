//! A training run gives the same loss curve, bit for bit, on 1 thread and on 2: every
//! reduction adds in a fixed order of fixed chunks, whatever the thread count (the conv's
//! weight gradient is the one that splits a batch; see `kernels::fast::DW_CHUNKS`).

use resgrad::models::{CifarSpec, ResNet};
use resgrad::ndarray::ArrayD;
use resgrad::nn::{Mode, Module, ShortcutOption};
use resgrad::train::optim::Sgd;
use resgrad::{Tape, randn};

/// Six SGD steps of a small CIFAR ResNet on one fixed batch of 13 images: the losses and
/// the final weights.
fn run(threads: usize) -> (Vec<u32>, Vec<u32>) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let model: ResNet = CifarSpec {
            in_channels: 1,
            width: 4,
            classes: 3,
            seed: 5,
            ..CifarSpec::resnet(8, ShortcutOption::A)
        }
        .build()
        .unwrap();
        let images: ArrayD<f32> = randn(&[13, 1, 12, 12], 9);
        let labels: Vec<usize> = (0..13).map(|i| i % 3).collect();
        let params = model.parameters();
        let mut opt = Sgd::new(0.1).momentum(0.9).weight_decay(1e-4);
        let mut losses = Vec::new();
        for _ in 0..6 {
            let tape = Tape::new();
            let x = tape.constant(images.clone());
            let loss = model.forward(&x, Mode::Train).cross_entropy(&labels);
            losses.push(loss.item().to_bits());
            let grads = loss.backward_leaves();
            opt.step(&params, &grads);
        }
        let weights = params
            .iter()
            .flat_map(|p| p.value().iter().map(|v| v.to_bits()).collect::<Vec<_>>())
            .collect();
        (losses, weights)
    })
}

#[test]
fn a_training_run_is_the_same_bits_on_1_and_2_threads() {
    let one = run(1);
    let two = run(2);
    assert_eq!(one.0.len(), 6);
    // The run trains: the loss moves (so equal curves are not two constant ones).
    assert_ne!(one.0[0], one.0[5], "the loss did not change in six steps");
    assert_eq!(
        one.0, two.0,
        "the loss curves differ between 1 and 2 threads"
    );
    assert!(
        one.1 == two.1,
        "the final weights differ between 1 and 2 threads"
    );
}
