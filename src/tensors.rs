//! Named tensors in safetensors files: save any arrays under names, load them back.
//!
//! ```
//! use resgrad::ndarray::{ArrayD, IxDyn};
//! use resgrad::{load_tensors, save_tensors};
//!
//! let w = ArrayD::<f32>::from_elem(IxDyn(&[2, 3]), 0.5);
//! let b = ArrayD::<f32>::zeros(IxDyn(&[3]));
//! let path = std::env::temp_dir().join("resgrad-doc-tensors.safetensors");
//! save_tensors(&path, &[("w", &w), ("b", &b)])?;
//! let back = load_tensors::<f32>(&path)?;
//! assert_eq!(back["w"], w);
//! assert_eq!(back.keys().collect::<Vec<_>>(), ["b", "w"]); // sorted by name
//! # Ok::<(), resgrad::Error>(())
//! ```
//!
//! The files are ordinary safetensors (`safetensors.torch.load_file` reads them): an `f32`
//! array is stored as F32, an `f64` array as F64, little-endian. Writing is atomic (a
//! temporary file, then a rename), so a failed save never leaves half a file. Loading
//! checks everything and returns an [`Error`] naming the file, the tensor and the problem
//! (a path that is not a regular file, a truncated or corrupt file, a key given twice, a
//! dtype other than the one asked for) instead of panicking.
//!
//! Model checkpoints (`train::checkpoint`) and training states (`train::save_state`) are
//! written and read by this same encoder and decoder.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::Path;

use ndarray::{ArrayD, IxDyn};
use safetensors::tensor::{SafeTensors, TensorView};

use crate::Float;
use crate::error::{Error, Result};

pub mod header;
pub use header::{Header, HeaderEntry, read_header};

/// How one tensor is stored in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dtype {
    /// 32-bit float.
    F32,
    /// 64-bit float.
    F64,
    /// 64-bit signed integer (batch norm's `num_batches_tracked`, as PyTorch keeps it).
    I64,
}

impl Dtype {
    /// The float dtype of `T`: F32 for `f32`, F64 for `f64`.
    pub(crate) fn float<T: Float>() -> Self {
        if T::NAME == "f32" {
            Dtype::F32
        } else {
            Dtype::F64
        }
    }

    fn safetensors(self) -> safetensors::Dtype {
        match self {
            Dtype::F32 => safetensors::Dtype::F32,
            Dtype::F64 => safetensors::Dtype::F64,
            Dtype::I64 => safetensors::Dtype::I64,
        }
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dtype::F32 => "F32",
            Dtype::F64 => "F64",
            Dtype::I64 => "I64",
        })
    }
}

/// A decoded file: every tensor with the dtype it was stored in (its values converted to
/// `T`), and the file's text metadata.
pub(crate) struct TensorFile<T> {
    /// Name to (stored dtype, value).
    pub(crate) tensors: BTreeMap<String, (Dtype, ArrayD<T>)>,
    /// The `__metadata__` entries of the header.
    pub(crate) metadata: BTreeMap<String, String>,
}

/// The safetensors bytes of `tensors` (name, dtype to store as, value) with `metadata`.
/// Names must be distinct.
pub(crate) fn encode<T: Float>(
    tensors: &[(&str, Dtype, &ArrayD<T>)],
    metadata: &BTreeMap<String, String>,
) -> std::result::Result<Vec<u8>, String> {
    let mut seen = HashSet::new();
    let mut encoded = Vec::with_capacity(tensors.len());
    for &(name, dtype, a) in tensors {
        if !seen.insert(name) {
            return Err(format!(
                "the name `{name}` is given twice; every tensor needs its own name"
            ));
        }
        let bytes: Vec<u8> = match dtype {
            Dtype::F32 => a
                .iter()
                .flat_map(|x| (x.as_f64() as f32).to_le_bytes())
                .collect(),
            Dtype::F64 => a.iter().flat_map(|x| x.as_f64().to_le_bytes()).collect(),
            Dtype::I64 => a
                .iter()
                .flat_map(|x| (x.as_f64().round() as i64).to_le_bytes())
                .collect(),
        };
        encoded.push((name, dtype, a.shape().to_vec(), bytes));
    }
    let views = encoded
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            TensorView::new(dtype.safetensors(), shape.clone(), bytes)
                .map(|v| (name.to_string(), v))
                .map_err(|e| format!("tensor `{name}`: {e}"))
        })
        .collect::<std::result::Result<Vec<_>, String>>()?;
    let metadata = (!metadata.is_empty()).then(|| metadata.clone().into_iter().collect());
    safetensors::serialize(views, metadata).map_err(|e| e.to_string())
}

/// Decodes safetensors `bytes`; the error says what is wrong, naming the tensor.
pub(crate) fn decode<T: Float>(bytes: &[u8]) -> std::result::Result<TensorFile<T>, String> {
    let invalid = |e: &dyn fmt::Display| {
        format!("not a valid safetensors file ({e}); it may be truncated or its header corrupt")
    };
    header::check_unique_keys(bytes)?;
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| invalid(&e))?;
    let file = SafeTensors::deserialize(bytes).map_err(|e| invalid(&e))?;
    let mut tensors = BTreeMap::new();
    for (name, view) in file.tensors() {
        let (dtype, values): (Dtype, Vec<T>) = match view.dtype() {
            safetensors::Dtype::F32 => (
                Dtype::F32,
                le_values(view.data(), |b: [u8; 4]| {
                    T::cast(f32::from_le_bytes(b) as f64)
                }),
            ),
            safetensors::Dtype::F64 => (
                Dtype::F64,
                le_values(view.data(), |b: [u8; 8]| T::cast(f64::from_le_bytes(b))),
            ),
            safetensors::Dtype::I64 => (
                Dtype::I64,
                le_values(view.data(), |b: [u8; 8]| {
                    T::cast(i64::from_le_bytes(b) as f64)
                }),
            ),
            other => {
                return Err(format!(
                    "tensor `{name}` is stored as {other:?}; resgrad reads F32, F64 and I64 \
                     (convert it first, e.g. `tensor.float()` in PyTorch)"
                ));
            }
        };
        let value = ArrayD::from_shape_vec(IxDyn(view.shape()), values).map_err(|_| {
            format!(
                "tensor `{name}`: its data does not fill its shape {:?}; the file is corrupt",
                view.shape()
            )
        })?;
        tensors.insert(name, (dtype, value));
    }
    let metadata = header
        .metadata()
        .as_ref()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    Ok(TensorFile { tensors, metadata })
}

/// The little-endian values of `data`, `N` bytes each.
fn le_values<T, const N: usize>(data: &[u8], f: impl Fn([u8; N]) -> T) -> Vec<T> {
    data.chunks_exact(N)
        .map(|b| f(b.try_into().expect("chunks_exact gives N bytes")))
        .collect()
}

/// Writes `tensors` (stored as given) and `metadata` to `path`, atomically.
pub(crate) fn write_file<T: Float>(
    path: &Path,
    tensors: &[(&str, Dtype, &ArrayD<T>)],
    metadata: &BTreeMap<String, String>,
) -> Result<()> {
    let bytes = encode(tensors, metadata).map_err(|e| Error::checkpoint(path, e))?;
    crate::io::write_atomic(path, &bytes)
        .map_err(|e| Error::checkpoint(path, format!("could not write: {e}")))
}

/// Reads and decodes the file at `path`; errors name the file.
pub(crate) fn read_file<T: Float>(path: &Path) -> Result<TensorFile<T>> {
    decode(&read_bytes(path)?).map_err(|e| Error::checkpoint(path, e))
}

/// The bytes of the file at `path`, refusing a path that is not a regular file (a FIFO, a
/// folder) before it is opened; errors name the file.
pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    crate::io::check_regular_file(path).map_err(|e| Error::checkpoint(path, e))?;
    std::fs::read(path).map_err(|e| Error::checkpoint(path, format!("could not read: {e}")))
}

/// Saves `tensors`, each under its name, to the safetensors file `path` (atomically:
/// a temporary file beside it, then a rename). `f32` arrays are stored as F32, `f64` as F64.
///
/// Fails, naming the file, when two tensors share a name or the file cannot be written.
pub fn save_tensors<T: Float, N: AsRef<str>>(
    path: impl AsRef<Path>,
    tensors: &[(N, &ArrayD<T>)],
) -> Result<()> {
    let dtype = Dtype::float::<T>();
    let entries: Vec<(&str, Dtype, &ArrayD<T>)> = tensors
        .iter()
        .map(|(n, a)| (n.as_ref(), dtype, *a))
        .collect();
    write_file(path.as_ref(), &entries, &BTreeMap::new())
}

/// Loads every tensor of the safetensors file `path`, by name (sorted by name).
///
/// Every tensor must be stored in `T`'s dtype (F32 for `load_tensors::<f32>`, F64 for
/// `f64`): nothing is converted silently. A missing, truncated or corrupt file, or a
/// tensor of another dtype, is an [`Error`] naming the file, the tensor and the problem.
pub fn load_tensors<T: Float>(path: impl AsRef<Path>) -> Result<BTreeMap<String, ArrayD<T>>> {
    let path = path.as_ref();
    let file = read_file::<T>(path)?;
    let want = Dtype::float::<T>();
    let mut out = BTreeMap::new();
    for (name, (dtype, value)) in file.tensors {
        if dtype != want {
            let other = if dtype == Dtype::F64 { "f64" } else { "f32" };
            let hint = if dtype == Dtype::I64 {
                "integer tensors are read only as part of a model checkpoint".to_string()
            } else {
                format!("load it with load_tensors::<{other}>")
            };
            return Err(Error::checkpoint(
                path,
                format!(
                    "tensor `{name}` is stored as {dtype}, but {want} was asked for \
                     (load_tensors::<{}>); {hint}",
                    T::NAME
                ),
            ));
        }
        out.insert(name, value);
    }
    Ok(out)
}
