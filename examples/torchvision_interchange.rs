//! The resgrad half of `tests/torchvision/interchange.py` (see there): loads torchvision's
//! ResNet-18/50 weights, compares logits, and saves resgrad's own models for torchvision.
//!
//!     cargo run --release --example torchvision_interchange -- DIR

use resgrad::Tape;
use resgrad::models::ResNet;
use resgrad::ndarray::{ArrayD, IxDyn};
use resgrad::nn::{Mode, Module, rng};
use resgrad::train::checkpoint;

fn read_f32(path: &str) -> Vec<f32> {
    std::fs::read(path)
        .expect(path)
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .ok_or("usage: torchvision_interchange DIR")?;
    let input = ArrayD::from_shape_vec(
        IxDyn(&[2, 3, 64, 64]),
        read_f32(&format!("{dir}/input.f32")),
    )?;
    for depth in [18, 50] {
        let model: ResNet = ResNet::torchvision(depth);
        checkpoint::load(&model, format!("{dir}/tv_resnet{depth}.safetensors"))?;
        let tape = Tape::new();
        let logits = model.forward(&tape.constant(input.clone()), Mode::Eval);
        let theirs = read_f32(&format!("{dir}/tv_resnet{depth}_logits.f32"));
        let scale = theirs.iter().fold(0f32, |m, v| m.max(v.abs()));
        let err = logits
            .value()
            .iter()
            .zip(&theirs)
            .fold(0f32, |m, (a, b)| m.max((a - b).abs()))
            / scale;
        println!(
            "resnet{depth}: torchvision's file loads into resgrad; logits agree to {err:.2e} (relative)"
        );
        assert!(err < 1e-4);

        // Now the other way: a resgrad-initialised model, saved for torchvision to load.
        let ours: ResNet = ResNet::try_imagenet(
            depth,
            resgrad::nn::ShortcutOption::B,
            resgrad::nn::StridePlacement::Conv3x3,
            &mut rng(42),
        )?;
        checkpoint::save(&ours, format!("{dir}/rg_resnet{depth}.safetensors"))?;
        let logits = ours.forward(&tape.constant(input.clone()), Mode::Eval);
        let bytes: Vec<u8> = logits
            .value()
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        std::fs::write(format!("{dir}/rg_resnet{depth}_logits.f32"), bytes)?;
    }
    Ok(())
}
