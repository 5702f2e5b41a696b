//! Checkpoints as safetensors: every named parameter and buffer, with torchvision's keys.
//!
//! - **Saving** writes a temporary file beside the target and renames it into place, so a
//!   failure leaves either the previous checkpoint or the new one, never half of one.
//! - **Loading** reads and checks everything first (the file's header, every key, shape
//!   and dtype) and only then changes the model: a bad file returns an error naming the
//!   key and the problem, and leaves the model as it was.
//!
//! Floats are stored as F32 (or F64 for an `f64` model); batch norm's
//! `num_batches_tracked` as I64, as PyTorch keeps it. For the ImageNet models built with
//! [`ResNet::torchvision`](crate::models::ResNet::torchvision), the keys and layouts are
//! exactly torchvision's `state_dict`, so files go both ways (see `docs/checkpoints.md`).

use std::path::Path;

use ndarray::{ArrayD, IxDyn};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::Float;
use crate::error::{Error, Result};
use crate::nn::Module;

fn is_counter(name: &str) -> bool {
    name.ends_with("num_batches_tracked")
}

fn float_dtype<T: Float>() -> Dtype {
    if T::NAME == "f32" {
        Dtype::F32
    } else {
        Dtype::F64
    }
}

/// The little-endian bytes of one state entry, and its dtype.
fn encode<T: Float>(name: &str, a: &ArrayD<T>) -> (Dtype, Vec<u8>) {
    if is_counter(name) {
        let v: Vec<u8> = a
            .iter()
            .flat_map(|x| (x.as_f64().round() as i64).to_le_bytes())
            .collect();
        (Dtype::I64, v)
    } else if T::NAME == "f32" {
        (
            Dtype::F32,
            a.iter()
                .flat_map(|x| (x.as_f64() as f32).to_le_bytes())
                .collect(),
        )
    } else {
        (
            Dtype::F64,
            a.iter().flat_map(|x| x.as_f64().to_le_bytes()).collect(),
        )
    }
}

fn decode<T: Float>(view: &TensorView<'_>) -> Vec<T> {
    let data = view.data();
    match view.dtype() {
        Dtype::I64 => data
            .chunks_exact(8)
            .map(|b| T::cast(i64::from_le_bytes(b.try_into().expect("8 bytes")) as f64))
            .collect(),
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|b| T::cast(f32::from_le_bytes(b.try_into().expect("4 bytes")) as f64))
            .collect(),
        _ => data
            .chunks_exact(8)
            .map(|b| T::cast(f64::from_le_bytes(b.try_into().expect("8 bytes"))))
            .collect(),
    }
}

/// The safetensors bytes of every parameter and buffer of `model`.
pub fn to_bytes<T: Float>(model: &dyn Module<T>) -> std::result::Result<Vec<u8>, String> {
    let state = model.state();
    let encoded: Vec<(String, Vec<usize>, Dtype, Vec<u8>)> = state
        .iter()
        .map(|(name, p, _)| {
            let (dtype, bytes) = encode(name, &p.value());
            (name.clone(), p.shape(), dtype, bytes)
        })
        .collect();
    let views = encoded
        .iter()
        .map(|(name, shape, dtype, bytes)| {
            TensorView::new(*dtype, shape.clone(), bytes)
                .map(|v| (name.clone(), v))
                .map_err(|e| format!("{name}: {e}"))
        })
        .collect::<std::result::Result<Vec<_>, String>>()?;
    safetensors::serialize(views, None).map_err(|e| e.to_string())
}

/// Saves every parameter and buffer of `model` to `path` (atomically: temporary file, then
/// rename).
pub fn save<T: Float>(model: &dyn Module<T>, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let bytes = to_bytes(model).map_err(|e| Error::checkpoint(path, e))?;
    crate::io::write_atomic(path, &bytes)
        .map_err(|e| Error::checkpoint(path, format!("could not write: {e}")))
}

/// Loads every parameter and buffer of `model` from `path`. Nothing in the model changes
/// unless the whole file checks out.
pub fn load<T: Float>(model: &dyn Module<T>, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let bytes =
        std::fs::read(path).map_err(|e| Error::checkpoint(path, format!("could not read: {e}")))?;
    load_bytes(model, &bytes).map_err(|problem| Error::checkpoint(path, problem))
}

/// Loads from safetensors bytes in memory; the error says what is wrong.
pub fn load_bytes<T: Float>(
    model: &dyn Module<T>,
    bytes: &[u8],
) -> std::result::Result<(), String> {
    let file = SafeTensors::deserialize(bytes).map_err(|e| {
        format!("not a valid safetensors file ({e}); it may be truncated or its header corrupt")
    })?;
    let state = model.state();
    let mut new_values = Vec::with_capacity(state.len());
    for (name, param, _) in &state {
        let view = file
            .tensor(name)
            .map_err(|_| format!("key `{name}` is missing from the file"))?;
        let want = if is_counter(name) {
            Dtype::I64
        } else {
            float_dtype::<T>()
        };
        if view.dtype() != want {
            return Err(format!(
                "key `{name}` has dtype {:?}, the model needs {want:?}",
                view.dtype()
            ));
        }
        if view.shape() != param.shape().as_slice() {
            return Err(format!(
                "key `{name}` has shape {:?}, the model needs {:?}",
                view.shape(),
                param.shape()
            ));
        }
        let values = ArrayD::from_shape_vec(IxDyn(view.shape()), decode::<T>(&view))
            .map_err(|e| format!("key `{name}`: {e}"))?;
        new_values.push((param.clone(), values));
    }
    let expected: std::collections::HashSet<&str> =
        state.iter().map(|(n, _, _)| n.as_str()).collect();
    let mut unexpected: Vec<&str> = file
        .names()
        .into_iter()
        .filter(|n| !expected.contains(n))
        .collect();
    if !unexpected.is_empty() {
        unexpected.sort_unstable();
        return Err(format!(
            "the file has keys the model does not: {} (is it for another architecture, or the other stride placement?)",
            unexpected.join(", ")
        ));
    }
    for (param, values) in new_values {
        param.set(values);
    }
    Ok(())
}
