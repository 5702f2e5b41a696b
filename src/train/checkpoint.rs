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

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::rc::Rc;

use ndarray::ArrayD;

use crate::Float;
use crate::error::{Error, Result};
use crate::nn::Module;
use crate::tensors::{self, Dtype, TensorFile};

fn is_counter(name: &str) -> bool {
    name.ends_with("num_batches_tracked")
}

/// How a state entry is stored: I64 for batch counters, else `T`'s float dtype.
fn dtype_of<T: Float>(name: &str) -> Dtype {
    if is_counter(name) {
        Dtype::I64
    } else {
        Dtype::float::<T>()
    }
}

/// Every parameter and buffer of `model` with its name, dtype and value, in order.
pub(crate) fn entries<T: Float>(model: &dyn Module<T>) -> Vec<(String, Dtype, Rc<ArrayD<T>>)> {
    model
        .state()
        .into_iter()
        .map(|(name, p, _)| {
            let dtype = dtype_of::<T>(&name);
            (name, dtype, p.value())
        })
        .collect()
}

/// The safetensors bytes of every parameter and buffer of `model`.
pub fn to_bytes<T: Float>(model: &dyn Module<T>) -> std::result::Result<Vec<u8>, String> {
    let entries = entries(model);
    let refs: Vec<(&str, Dtype, &ArrayD<T>)> = entries
        .iter()
        .map(|(n, d, a)| (n.as_str(), *d, &**a))
        .collect();
    tensors::encode(&refs, &BTreeMap::new())
}

/// Saves every parameter and buffer of `model` to `path` (atomically: temporary file, then
/// rename).
pub fn save<T: Float>(model: &dyn Module<T>, path: impl AsRef<Path>) -> Result<()> {
    let entries = entries(model);
    let refs: Vec<(&str, Dtype, &ArrayD<T>)> = entries
        .iter()
        .map(|(n, d, a)| (n.as_str(), *d, &**a))
        .collect();
    tensors::write_file(path.as_ref(), &refs, &BTreeMap::new())
}

/// Loads every parameter and buffer of `model` from `path`. Nothing in the model changes
/// unless the whole file checks out.
pub fn load<T: Float>(model: &dyn Module<T>, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let file = tensors::read_file::<T>(path)?;
    load_from(model, &file, |_| false).map_err(|problem| Error::checkpoint(path, problem))
}

/// Loads from safetensors bytes in memory; the error says what is wrong.
pub fn load_bytes<T: Float>(
    model: &dyn Module<T>,
    bytes: &[u8],
) -> std::result::Result<(), String> {
    load_from(model, &tensors::decode::<T>(bytes)?, |_| false)
}

/// Checks every entry of `model` against `file` (presence, dtype, shape; no key of the
/// file left over, except those `other` claims) and only then sets them all.
pub(crate) fn load_from<T: Float>(
    model: &dyn Module<T>,
    file: &TensorFile<T>,
    other: impl Fn(&str) -> bool,
) -> std::result::Result<(), String> {
    let state = model.state();
    let mut new_values = Vec::with_capacity(state.len());
    for (name, param, _) in &state {
        let (dtype, value) = file
            .tensors
            .get(name)
            .ok_or_else(|| format!("key `{name}` is missing from the file"))?;
        let want = dtype_of::<T>(name);
        if *dtype != want {
            return Err(format!(
                "key `{name}` has dtype {dtype}, the model needs {want}"
            ));
        }
        if value.shape() != param.shape().as_slice() {
            return Err(format!(
                "key `{name}` has shape {:?}, the model needs {:?}",
                value.shape(),
                param.shape()
            ));
        }
        new_values.push((param, value));
    }
    let expected: HashSet<&str> = state.iter().map(|(n, _, _)| n.as_str()).collect();
    let unexpected: Vec<&str> = file
        .tensors
        .keys()
        .map(String::as_str)
        .filter(|n| !expected.contains(n) && !other(n))
        .collect();
    if !unexpected.is_empty() {
        return Err(format!(
            "the file has keys the model does not: {} (is it for another architecture, or the other stride placement?)",
            unexpected.join(", ")
        ));
    }
    for (param, value) in new_values {
        param.set(value.clone());
    }
    Ok(())
}
