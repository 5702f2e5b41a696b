//! Checkpoints as safetensors: every named parameter and buffer, with torchvision's keys.
//!
//! - **Saving** writes a temporary file beside the target and renames it into place, so a
//!   failure leaves either the previous checkpoint or the new one, never half of one.
//! - **Loading** reads and checks everything first (the file's header, the architecture,
//!   every key, shape and dtype, every value finite, no negative running variance or
//!   batch count) and only then changes the model: a bad file returns an error naming
//!   the key and the problem, and leaves the model as it was.
//! - **The architecture** ([`Module::architecture`], e.g. `resnet50 (ImageNet, B, v1.5)`)
//!   is recorded in the file's metadata under [`ARCH_KEY`]. A file recorded for another
//!   architecture is refused even when its keys and shapes fit (ResNet-50 v1 and v1.5
//!   share them all); a file without the record (torchvision's own) loads as before.
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
use crate::arrays;
use crate::error::{Error, Result};
use crate::nn::Module;
use crate::tensors::{self, Dtype, TensorFile};

/// The metadata key under which a save records the model's
/// [`architecture`](Module::architecture).
pub const ARCH_KEY: &str = "resgrad.arch";

/// The metadata a save writes for `model`: its architecture, if it names one.
pub(crate) fn metadata<T: Float>(model: &dyn Module<T>) -> BTreeMap<String, String> {
    model
        .architecture()
        .map(|arch| (ARCH_KEY.to_string(), arch))
        .into_iter()
        .collect()
}

/// If the entry `name` holds a NaN or an infinity: a sentence naming the key, the first
/// bad value and its index, how many there are, and what to do. `None` when all are finite.
pub(crate) fn non_finite_entry<T: Float>(name: &str, value: &ArrayD<T>) -> Option<String> {
    let first = arrays::non_finite(value)?;
    let count = value.iter().filter(|x| !x.is_finite()).count();
    Some(format!(
        "key `{name}` holds {first} ({count} of its {} values are not finite); it was \
         saved from a run that had diverged: load an earlier file, or train again with a \
         lower learning rate",
        value.len()
    ))
}

/// If the buffer `name` holds a value no run can produce: a negative running variance
/// (a mean of squares; eval mode would take its square root and give NaN) or a negative
/// count of batches. A sentence naming the key, the first such value and its index, the
/// rule and what to do; `None` for any other entry, or when all values keep the rule.
pub(crate) fn impossible_entry<T: Float>(name: &str, value: &ArrayD<T>) -> Option<String> {
    let what = if name.ends_with("running_var") {
        "a running variance is a mean of squares, never negative (in eval mode batch norm \
         takes its square root, and a negative one gives NaN)"
    } else if is_counter(name) {
        "a count of batches is never negative"
    } else {
        return None;
    };
    use ndarray::Dimension;
    let (at, x) = value.indexed_iter().find(|(_, x)| **x < T::zero())?;
    Some(format!(
        "key `{name}` holds {x} at index {:?}: {what}; the file is corrupt: load an earlier \
         file, or train again",
        at.slice()
    ))
}

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

/// The safetensors bytes of every parameter and buffer of `model`, with its architecture
/// in the metadata.
pub fn to_bytes<T: Float>(model: &dyn Module<T>) -> std::result::Result<Vec<u8>, String> {
    let entries = entries(model);
    let refs: Vec<(&str, Dtype, &ArrayD<T>)> = entries
        .iter()
        .map(|(n, d, a)| (n.as_str(), *d, &**a))
        .collect();
    tensors::encode(&refs, &metadata(model))
}

/// Saves every parameter and buffer of `model` to `path` (atomically: temporary file, then
/// rename), with the model's [`architecture`](Module::architecture) under [`ARCH_KEY`].
pub fn save<T: Float>(model: &dyn Module<T>, path: impl AsRef<Path>) -> Result<()> {
    let entries = entries(model);
    let refs: Vec<(&str, Dtype, &ArrayD<T>)> = entries
        .iter()
        .map(|(n, d, a)| (n.as_str(), *d, &**a))
        .collect();
    tensors::write_file(path.as_ref(), &refs, &metadata(model))
}

/// Loads every parameter and buffer of `model` from `path`. Nothing in the model changes
/// unless the whole file checks out: the architecture recorded in it (if any) is the
/// model's, every key is there once with the model's shape and dtype, no key is left
/// over, every value is finite, and no running variance or batch count is negative. A
/// path that is not a regular file (a FIFO, a folder) is refused before it is opened.
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

/// Refuses a file whose recorded architecture is not the model's, naming both. A file
/// without the record, or a model that names no architecture, passes.
pub(crate) fn check_architecture<T: Float>(
    model: &dyn Module<T>,
    file: &TensorFile<T>,
) -> std::result::Result<(), String> {
    match (file.metadata.get(ARCH_KEY), model.architecture()) {
        (Some(saved), Some(ours)) if *saved != ours => {
            let hint = if saved.contains("ImageNet") && ours.contains("ImageNet") {
                " (`ResNet::resnet50_v1()` builds v1, stride on the first 1x1; \
                 `ResNet::torchvision(50)` builds v1.5, stride on the 3x3)"
            } else {
                ""
            };
            Err(format!(
                "the file was saved from `{saved}` ({ARCH_KEY} in its metadata), but the \
                 model is `{ours}`; the keys and shapes may fit, but the two compute \
                 different functions: build a `{saved}` to load this file{hint}"
            ))
        }
        _ => Ok(()),
    }
}

/// Checks every entry of `model` against `file` (architecture; presence, dtype, shape,
/// finite values; no key of the file left over, except those `other` claims) and only
/// then sets them all.
pub(crate) fn load_from<T: Float>(
    model: &dyn Module<T>,
    file: &TensorFile<T>,
    other: impl Fn(&str) -> bool,
) -> std::result::Result<(), String> {
    check_architecture(model, file)?;
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
        if let Some(problem) =
            non_finite_entry(name, value).or_else(|| impossible_entry(name, value))
        {
            return Err(problem);
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
