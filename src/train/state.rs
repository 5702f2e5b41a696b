//! A training checkpoint: the model's parameters and buffers, the optimizer's momentum
//! buffers (`optim.<name>.momentum_buffer`) and the step, in one safetensors file, written
//! atomically so an interrupted save never corrupts the previous checkpoint.
//!
//! The file is written and read by the same encoder as model checkpoints
//! ([`crate::tensors`]); the model's entries are checked by the same loader.

use std::collections::BTreeMap;
use std::path::Path;

use ndarray::ArrayD;

use super::Run;
use super::checkpoint;
use crate::error::{Error, Result};
use crate::nn::Module;
use crate::tensors::{self, Dtype};

const OPTIM: &str = "optim.";

fn momentum_key(name: &str) -> String {
    format!("{OPTIM}{name}.momentum_buffer")
}

/// Saves `model` and `run` (optimizer momentum, step) to `path`.
pub fn save_state(model: &dyn Module<f32>, run: &Run, path: impl AsRef<Path>) -> Result<()> {
    let mut momenta: Vec<(String, &ArrayD<f32>)> = Vec::new();
    for (name, p, _) in model.state() {
        if let Some(m) = run.opt.velocity(&p) {
            momenta.push((momentum_key(&name), m));
        }
    }
    let model_entries = checkpoint::entries(model);
    let refs: Vec<(&str, Dtype, &ArrayD<f32>)> = model_entries
        .iter()
        .map(|(n, d, a)| (n.as_str(), *d, &**a))
        .chain(momenta.iter().map(|(n, a)| (n.as_str(), Dtype::F32, *a)))
        .collect();
    let meta = BTreeMap::from([("step".to_string(), run.step.to_string())]);
    tensors::write_file(path.as_ref(), &refs, &meta)
}

/// Loads what [`save_state`] wrote into `model` and `run` (checked first, then applied).
pub fn load_state(model: &dyn Module<f32>, run: &mut Run, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let file = tensors::read_file::<f32>(path)?;
    let step: usize = file
        .metadata
        .get("step")
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::checkpoint(path, "no training step in the metadata: is this a model checkpoint, not a training state?"))?;
    let mut momenta = Vec::new();
    for (name, p, _) in model.state() {
        if let Some((dtype, v)) = file.tensors.get(&momentum_key(&name)) {
            if *dtype != Dtype::F32 || v.shape() != p.shape().as_slice() {
                return Err(Error::checkpoint(
                    path,
                    format!(
                        "the momentum buffer of `{name}` is {dtype} {:?}, the model needs F32 {:?}",
                        v.shape(),
                        p.shape()
                    ),
                ));
            }
            momenta.push((p, v.clone()));
        }
    }
    // The model's own entries, validated and applied by the checkpoint loader (which
    // leaves the optimizer's entries to us); then the optimizer's.
    checkpoint::load_from(model, &file, |n| n.starts_with(OPTIM))
        .map_err(|problem| Error::checkpoint(path, problem))?;
    for (p, v) in momenta {
        run.opt.set_velocity(&p, v);
    }
    run.step = step;
    Ok(())
}
