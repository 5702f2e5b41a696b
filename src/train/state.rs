//! A training checkpoint: the model's parameters and buffers, the optimizer's momentum
//! buffers (`optim.<name>.momentum_buffer`) and the step, in one safetensors file, written
//! atomically so an interrupted save never corrupts the previous checkpoint.
//!
//! The file is written and read by the same encoder as model checkpoints
//! ([`crate::tensors`]); the model's entries are checked by the same loader (architecture,
//! keys, shapes, dtypes, finite values). A load also checks that the file holds every
//! buffer the optimizer needs and nothing else: with momentum, after the first step, a
//! momentum buffer for every trainable parameter, finite and of the parameter's shape, and
//! no other optimizer key; and that its step lies within the run. A file that fails any
//! check changes neither the model nor the optimizer.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use ndarray::ArrayD;

use super::Run;
use super::checkpoint;
use crate::error::{Error, Result};
use crate::nn::{Module, Role};
use crate::tensors::{self, Dtype};

const OPTIM: &str = "optim.";

fn momentum_key(name: &str) -> String {
    format!("{OPTIM}{name}.momentum_buffer")
}

/// Saves `model` and `run` (optimizer momentum, step) to `path`.
pub fn save_state(model: &dyn Module<f32>, run: &Run, path: impl AsRef<Path>) -> Result<()> {
    save_state_with(model, run, path, BTreeMap::new())
}

/// [`save_state`] with `extra` entries in the file's metadata (the degradation sweep
/// records its settings and history there); they cannot replace the step or the
/// architecture, and [`load_state`] ignores them.
pub(crate) fn save_state_with(
    model: &dyn Module<f32>,
    run: &Run,
    path: impl AsRef<Path>,
    extra: BTreeMap<String, String>,
) -> Result<()> {
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
    let mut meta = extra;
    meta.extend(checkpoint::metadata(model));
    meta.insert("step".to_string(), run.step.to_string());
    tensors::write_file(path.as_ref(), &refs, &meta)
}

/// Loads what [`save_state`] wrote into `model` and `run` (checked first, then applied).
///
/// Refused, with `model` and `run` unchanged: anything a model checkpoint refuses (see
/// [`checkpoint::load`]); a file without the step, or with a step past the run's length
/// ([`Run::steps`]); an optimizer key other than the momentum buffer of a trainable
/// parameter; and, when `run`'s optimizer has momentum and the file is past step 0, a
/// momentum buffer missing for any trainable parameter (the error lists the missing
/// keys), of the wrong shape, or not finite.
pub fn load_state(model: &dyn Module<f32>, run: &mut Run, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let bytes = tensors::read_bytes(path)?;
    load_state_from(model, run, &bytes, path)
}

/// [`load_state`] for the bytes of a training-state file in memory: the same checks, the
/// same errors, naming `<bytes>` for the file. Any bytes are an error or a loaded state,
/// never a panic; on an error `model` and `run` are unchanged.
///
/// ```
/// use resgrad::models::MlpSpec;
/// use resgrad::train::{Run, TrainConfig, load_state_bytes};
///
/// let model = MlpSpec::plain(4, 2).build::<f32>();
/// let mut run = Run::new(&TrainConfig::default());
/// let e = load_state_bytes(&model, &mut run, b"not a safetensors file").unwrap_err();
/// assert!(e.to_string().contains("<bytes>"));
/// assert_eq!(run.step, 0);
/// ```
pub fn load_state_bytes(model: &dyn Module<f32>, run: &mut Run, bytes: &[u8]) -> Result<()> {
    load_state_from(model, run, bytes, Path::new("<bytes>"))
}

/// What [`load_state`] and [`load_state_bytes`] share; errors name `path`.
fn load_state_from(
    model: &dyn Module<f32>,
    run: &mut Run,
    bytes: &[u8],
    path: &Path,
) -> Result<()> {
    let file = tensors::decode::<f32>(bytes).map_err(|e| Error::checkpoint(path, e))?;
    let step: usize = file
        .metadata
        .get("step")
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::checkpoint(path, "no training step in the metadata: is this a model checkpoint, not a training state?"))?;
    if step > run.steps {
        return Err(Error::checkpoint(
            path,
            format!(
                "its metadata `step` is {step}, past the run's {} steps (TrainConfig::steps): \
                 a state is saved at a step of its run, so this file is corrupt or from a \
                 longer run; load it into a Run made for at least {step} steps, or load \
                 another file",
                run.steps
            ),
        ));
    }
    let mut momenta = Vec::new();
    let mut missing = Vec::new();
    let needs_momentum = run.opt.momentum != 0.0 && step > 0;
    let state = model.state();
    let known: HashSet<String> = state
        .iter()
        .filter(|(_, _, role)| *role == Role::Parameter)
        .map(|(name, _, _)| momentum_key(name))
        .collect();
    let unknown: Vec<&str> = file
        .tensors
        .keys()
        .filter(|k| k.starts_with(OPTIM) && !known.contains(*k))
        .map(String::as_str)
        .collect();
    if let Some(first) = unknown.first() {
        return Err(Error::checkpoint(
            path,
            format!(
                "the file has {} optimizer key(s) the model's optimizer does not know (`{first}` \
                 first); a training state holds `{OPTIM}<parameter>.momentum_buffer` for \
                 trainable parameters only: is the file for another model, or was it edited?",
                unknown.len()
            ),
        ));
    }
    for (name, p, role) in state {
        let key = momentum_key(&name);
        let Some((dtype, v)) = file.tensors.get(&key) else {
            if needs_momentum && role == Role::Parameter {
                missing.push(key);
            }
            continue;
        };
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
        if let Some(problem) = checkpoint::non_finite_entry(&key, v) {
            return Err(Error::checkpoint(path, problem));
        }
        momenta.push((p, v.clone()));
    }
    if !missing.is_empty() {
        const SHOWN: usize = 6;
        let mut list = missing
            .iter()
            .take(SHOWN)
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        if missing.len() > SHOWN {
            list.push_str(&format!(" and {} more", missing.len() - SHOWN));
        }
        return Err(Error::checkpoint(
            path,
            format!(
                "the training state lacks the momentum buffer of {} parameter(s): {list}; \
                 SGD with momentum {} needs one for every trainable parameter after step 0 \
                 (this file is at step {step}), and resuming without them would change the \
                 run: load a state written whole by save_state",
                missing.len(),
                run.opt.momentum
            ),
        ));
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
