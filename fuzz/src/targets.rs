//! The bodies of the fuzz targets. Each takes any bytes, hands them to a loader, and
//! panics only when the loader breaks a promise:
//!
//! - a panic inside the loader;
//! - an `Err` that changed the model or the optimizer (a refused load changes nothing);
//! - an `Ok` whose result breaks its own rules (a data set whose labels lie outside its
//!   classes, a loaded state missing a momentum buffer).
//!
//! Any `Err` is fine. The cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`) call these through
//! the fuzz crate's library, and the corpus test on stable (`tests/fuzz_corpus.rs`)
//! includes this file with `#[path]`, so both run the same bodies.

use std::io::Write;

use resgrad::data::{self, Dataset};
use resgrad::models::{CifarSpec, MlpSpec, ResNet};
use resgrad::ndarray::{ArrayD, IxDyn};
use resgrad::nn::{Module, Role, Sequential, ShortcutOption};
use resgrad::train::{self, Run, TrainConfig, checkpoint};

/// A target's body: any bytes in, a panic only for a broken promise.
pub type Body = fn(&[u8]);

/// Every target by name (the name of its binary in `fuzz/fuzz_targets/` and of its folder
/// in `fuzz/corpus/`).
pub const TARGETS: [(&str, Body); 4] = [
    ("safetensors_load", safetensors_load),
    ("idx", idx),
    ("cifar", cifar),
    ("train_state", train_state),
];

/// The MLP the checkpoint and state targets load into: 4 inputs, two hidden layers of 4
/// units with batch norm, 2 classes.
pub fn small_mlp() -> Sequential<f32> {
    MlpSpec::plain(4, 3)
        .inputs(Some(4))
        .classes(Some(2))
        .batch_norm(true)
        .build()
}

/// The ResNet the checkpoint target loads into: the CIFAR ResNet-8 with shortcut B
/// (projections, so 1x1 convs too), 1 input channel, width 1, 2 classes.
pub fn small_resnet() -> ResNet<f32> {
    CifarSpec::resnet(8, ShortcutOption::B)
        .in_channels(1)
        .width(1)
        .classes(2)
        .build()
        .expect("a valid spec")
}

thread_local! {
    // Built once per thread (a build reads the machine's memory size, which would slow each
    // input down); every target leaves them as it found them.
    static MLP: Sequential<f32> = small_mlp();
    static RESNET: ResNet<f32> = small_resnet();
}

/// Every entry of `model`: name, shape, values as bits (so NaN compares equal to itself).
type Snapshot = Vec<(String, Vec<usize>, Vec<u32>)>;

fn snapshot(model: &dyn Module<f32>) -> Snapshot {
    model
        .state()
        .into_iter()
        .map(|(name, p, _)| {
            let v = p.value();
            (
                name,
                v.shape().to_vec(),
                v.iter().map(|x| x.to_bits()).collect(),
            )
        })
        .collect()
}

/// Sets every entry of `model` back to `before`, so the next input meets the same model.
fn restore(model: &dyn Module<f32>, before: &Snapshot) {
    for ((_, p, _), (_, shape, bits)) in model.state().iter().zip(before) {
        let values = bits.iter().map(|&b| f32::from_bits(b)).collect();
        p.set(ArrayD::from_shape_vec(IxDyn(shape), values).expect("the snapshot's shape"));
    }
}

/// Loads `data` as a checkpoint into `model`; a refusal must leave the model unchanged.
fn load_checked(model: &dyn Module<f32>, data: &[u8]) {
    let before = snapshot(model);
    match checkpoint::load_bytes(model, data) {
        Err(problem) => {
            assert!(!problem.is_empty(), "an empty error");
            assert!(
                snapshot(model) == before,
                "a refused checkpoint changed the model ({problem})"
            );
        }
        Ok(()) => restore(model, &before),
    }
}

/// `safetensors_load`: the bytes as a checkpoint, loaded into [`small_mlp`] and into
/// [`small_resnet`] (f32; the decoder, the architecture record, keys, dtypes, shapes,
/// finite values).
pub fn safetensors_load(data: &[u8]) {
    MLP.with(|m| load_checked(m, data));
    RESNET.with(|m| load_checked(m, data));
}

/// `train_state`: the bytes as a training state, loaded into [`small_mlp`] and a run with
/// SGD momentum 0.9. A refusal leaves model, step and momentum untouched; a load past step
/// 0 leaves a momentum buffer for every trainable parameter.
pub fn train_state(data: &[u8]) {
    MLP.with(|model| {
        let mut run = Run::new(&TrainConfig::default());
        let before = snapshot(model);
        let result = train::load_state_bytes(model, &mut run, data);
        let state = model.state();
        match result {
            Err(e) => {
                assert!(
                    snapshot(model) == before,
                    "a refused state changed the model ({e})"
                );
                assert_eq!(run.step, 0, "a refused state changed the step ({e})");
                for (name, p, _) in &state {
                    assert!(
                        run.opt.velocity(p).is_none(),
                        "a refused state set the momentum of `{name}` ({e})"
                    );
                }
            }
            Ok(()) => {
                if run.step > 0 {
                    for (name, p, role) in &state {
                        if *role == Role::Parameter {
                            let v = run.opt.velocity(p);
                            assert!(
                                v.is_some_and(|v| v.shape() == p.value().shape()),
                                "a state at step {} loaded without a momentum buffer of the shape of `{name}`",
                                run.step
                            );
                        }
                    }
                }
                restore(model, &before);
            }
        }
    });
}

/// `idx`: the bytes split into an image file and a label file, loaded by
/// [`data::idx_pair_from_bytes`]. Layout: one byte of flags, the image part's length as
/// two bytes (little-endian), the image part, and the rest as the label part (a short
/// input gives empty parts). Flag bit 0 gzips the image part and bit 1 the label part
/// before loading, so that valid gzip streams with any content reach the parser; a part
/// that is itself gzip (the corpus has some) is read as gzip either way.
pub fn idx(data: &[u8]) {
    let (flags, images, labels) = split_idx_input(data);
    let images = if flags & 1 != 0 {
        gzip(images)
    } else {
        images.to_vec()
    };
    let labels = if flags & 2 != 0 {
        gzip(labels)
    } else {
        labels.to_vec()
    };
    if let Ok(d) = data::idx_pair_from_bytes(&images, &labels) {
        check_dataset(&d);
    }
}

/// The flags, the image part and the label part of an `idx` input (see [`idx`]).
pub fn split_idx_input(data: &[u8]) -> (u8, &[u8], &[u8]) {
    let (flags, rest) = data.split_first().map_or((0, &[][..]), |(f, r)| (*f, r));
    let (len, rest) = match rest {
        [a, b, rest @ ..] => (usize::from(u16::from_le_bytes([*a, *b])), rest),
        _ => (0, &[][..]),
    };
    let (images, labels) = rest.split_at(len.min(rest.len()));
    (flags, images, labels)
}

/// An `idx` input (see [`idx`]) from its parts; the inverse of [`split_idx_input`].
pub fn idx_input(flags: u8, images: &[u8], labels: &[u8]) -> Vec<u8> {
    let len = u16::try_from(images.len()).expect("an image part of at most 65,535 bytes");
    let mut out = vec![flags];
    out.extend(len.to_le_bytes());
    out.extend(images);
    out.extend(labels);
    out
}

/// `bytes` gzipped (fast level).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("writing to a Vec");
    e.finish().expect("writing to a Vec")
}

/// `cifar`: the bytes as a CIFAR-10 binary file, loaded by [`data::cifar10_from_bytes`].
pub fn cifar(data: &[u8]) {
    if let Ok(d) = data::cifar10_from_bytes("fuzz input", data) {
        assert_eq!(d.classes, 10, "CIFAR-10 has 10 classes");
        check_dataset(&d);
    }
}

/// The rules every loaded data set keeps: at least one image of at least one pixel, the
/// pixels filling the images, every label below the number of classes, pixels in [0, 1].
pub fn check_dataset(d: &Dataset) {
    assert!(!d.is_empty(), "a loaded data set is empty");
    assert_eq!(
        d.images.len(),
        d.len() * d.image_len(),
        "pixels do not fill the images"
    );
    assert!(d.image_len() > 0, "images of no pixels");
    if let Some(&l) = d.labels.iter().find(|&&l| l >= d.classes) {
        panic!("label {l} of {} classes", d.classes);
    }
    if let Some(p) = d.images.iter().find(|p| !(0.0..=1.0).contains(*p)) {
        panic!("a pixel of {p}, outside [0, 1]");
    }
}
