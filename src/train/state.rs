//! A training checkpoint: the model's parameters and buffers, the optimizer's momentum
//! buffers (`optim.<name>.momentum_buffer`) and the step, in one safetensors file, written
//! atomically so an interrupted save never corrupts the previous checkpoint.

use std::collections::HashMap;
use std::path::Path;

use ndarray::{ArrayD, IxDyn};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use super::Run;
use crate::error::{Error, Result};
use crate::nn::Module;

/// Saves `model` and `run` (optimizer momentum, step) to `path`.
pub fn save_state(model: &dyn Module<f32>, run: &Run, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let mut entries: Vec<(String, Vec<usize>, Dtype, Vec<u8>)> = Vec::new();
    for (name, p, _) in model.state() {
        let v = p.value();
        let (dtype, bytes) = if name.ends_with("num_batches_tracked") {
            (
                Dtype::I64,
                v.iter().flat_map(|x| (*x as i64).to_le_bytes()).collect(),
            )
        } else {
            (Dtype::F32, v.iter().flat_map(|x| x.to_le_bytes()).collect())
        };
        entries.push((name.clone(), p.shape(), dtype, bytes));
        if let Some(m) = run.opt.velocity(&p) {
            entries.push((
                format!("optim.{name}.momentum_buffer"),
                m.shape().to_vec(),
                Dtype::F32,
                m.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ));
        }
    }
    let views: Vec<(String, TensorView)> = entries
        .iter()
        .map(|(n, s, d, b)| TensorView::new(*d, s.clone(), b).map(|v| (n.clone(), v)))
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::checkpoint(path, e.to_string()))?;
    let meta = HashMap::from([("step".to_string(), run.step.to_string())]);
    let bytes = safetensors::serialize(views, Some(meta))
        .map_err(|e| Error::checkpoint(path, e.to_string()))?;
    crate::io::write_atomic(path, &bytes)
        .map_err(|e| Error::checkpoint(path, format!("could not write: {e}")))
}

/// Loads what [`save_state`] wrote into `model` and `run` (checked first, then applied).
pub fn load_state(model: &dyn Module<f32>, run: &mut Run, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let bytes =
        std::fs::read(path).map_err(|e| Error::checkpoint(path, format!("could not read: {e}")))?;
    let (_, meta) = SafeTensors::read_metadata(&bytes)
        .map_err(|e| Error::checkpoint(path, format!("not a valid safetensors file ({e})")))?;
    let step: usize = meta
        .metadata()
        .as_ref()
        .and_then(|m| m.get("step"))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::checkpoint(path, "no training step in the metadata: is this a model checkpoint, not a training state?"))?;
    let file = SafeTensors::deserialize(&bytes)
        .map_err(|e| Error::checkpoint(path, format!("not a valid safetensors file ({e})")))?;
    let mut momenta = Vec::new();
    for (name, p, _) in model.state() {
        if let Ok(view) = file.tensor(&format!("optim.{name}.momentum_buffer")) {
            if view.dtype() != Dtype::F32 || view.shape() != p.shape().as_slice() {
                return Err(Error::checkpoint(
                    path,
                    format!("the momentum buffer of `{name}` has the wrong dtype or shape"),
                ));
            }
            let v: Vec<f32> = view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
                .collect();
            momenta.push((
                p.clone(),
                ArrayD::from_shape_vec(IxDyn(view.shape()), v)
                    .map_err(|e| Error::checkpoint(path, e.to_string()))?,
            ));
        }
    }
    // The model's own entries, validated and applied by the checkpoint loader; the optimizer
    // entries are then set.
    let model_only: Vec<(String, TensorView)> = file
        .tensors()
        .into_iter()
        .filter(|(n, _)| !n.starts_with("optim."))
        .collect();
    let model_bytes = safetensors::serialize(model_only, None)
        .map_err(|e| Error::checkpoint(path, e.to_string()))?;
    super::checkpoint::load_bytes(model, &model_bytes)
        .map_err(|problem| Error::checkpoint(path, problem))?;
    for (p, v) in momenta {
        run.opt.set_velocity(&p, v);
    }
    run.step = step;
    Ok(())
}
