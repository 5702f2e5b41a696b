//! Checkpoints: a bit-exact round trip, and a clear error for every kind of bad file,
//! with the model left unchanged.

use std::path::PathBuf;

use resgrad::Tape;
use resgrad::models::{CifarSpec, ResNet};
use resgrad::ndarray::{ArrayD, IxDyn};
use resgrad::nn::{Mode, Module, ShortcutOption};
use resgrad::train::checkpoint;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("resgrad-ckpt-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn net(seed: u64) -> ResNet {
    CifarSpec::resnet(20, ShortcutOption::B)
        .seed(seed)
        .build()
        .unwrap()
}

/// Every parameter and buffer, as (name, values).
fn snapshot(m: &ResNet) -> Vec<(String, Vec<f32>)> {
    m.state()
        .into_iter()
        .map(|(n, p, _)| (n, p.value().iter().copied().collect()))
        .collect()
}

fn trained_a_little(seed: u64) -> ResNet {
    let m = net(seed);
    let tape = Tape::new();
    let x = tape.constant(ArrayD::<f32>::from_shape_fn(IxDyn(&[2, 3, 8, 8]), |ix| {
        (ix[3] as f32 * 0.3 + ix[1] as f32).sin()
    }));
    m.forward(&x, Mode::Train); // moves the running statistics and the batch counter
    m
}

#[test]
fn a_round_trip_is_bit_exact() {
    let a = trained_a_little(1);
    let path = dir("roundtrip").join("resnet20.safetensors");
    checkpoint::save(&a, &path).unwrap();
    let b = net(2);
    assert_ne!(snapshot(&a), snapshot(&b));
    checkpoint::load(&b, &path).unwrap();
    let (sa, sb) = (snapshot(&a), snapshot(&b));
    for ((na, va), (nb, vb)) in sa.iter().zip(&sb) {
        assert_eq!(na, nb);
        let bits = |v: &Vec<f32>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(va), bits(vb), "{na}");
    }
    assert!(
        sa.iter()
            .any(|(n, v)| n == "bn1.num_batches_tracked" && v == &vec![1.0])
    );
    // The file holds torchvision-style dtypes: f32 weights, an i64 batch counter.
    let bytes = std::fs::read(&path).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(
        file.tensor("layer2.0.downsample.0.weight").unwrap().dtype(),
        Dtype::F32
    );
    assert_eq!(
        file.tensor("bn1.num_batches_tracked").unwrap().dtype(),
        Dtype::I64
    );
    // And the two models compute the same thing.
    let tape = Tape::new();
    let x = tape.constant(ArrayD::<f32>::from_elem(IxDyn(&[1, 3, 8, 8]), 0.25));
    assert_eq!(
        a.forward(&x, Mode::Eval).value(),
        b.forward(&x, Mode::Eval).value()
    );
}

/// Loads `bytes` into a fresh model, expects an error containing every one of `parts`,
/// and checks that the model did not change.
#[track_caller]
fn rejects(case: &str, bytes: &[u8], parts: &[&str]) {
    let path = dir(case).join("bad.safetensors");
    std::fs::write(&path, bytes).unwrap();
    let m = net(3);
    let before = snapshot(&m);
    let err = checkpoint::load(&m, &path).unwrap_err().to_string();
    for p in parts {
        assert!(err.contains(p), "{case}: `{p}` not in: {err}");
    }
    assert!(
        err.contains("bad.safetensors"),
        "{case}: the error names the file: {err}"
    );
    assert_eq!(
        snapshot(&m),
        before,
        "{case}: a failed load must leave the model unchanged"
    );
}

fn good_bytes() -> Vec<u8> {
    checkpoint::to_bytes(&trained_a_little(4)).unwrap()
}

/// The good file with one entry replaced.
fn with_entry(name: &str, dtype: Dtype, shape: Vec<usize>, data: Vec<u8>) -> Vec<u8> {
    let good = good_bytes();
    let file = SafeTensors::deserialize(&good).unwrap();
    let mut entries: Vec<(String, TensorView)> = file
        .tensors()
        .into_iter()
        .filter(|(n, _)| n != name)
        .collect();
    entries.push((
        name.to_string(),
        TensorView::new(dtype, shape, &data).unwrap(),
    ));
    safetensors::serialize(entries, None).unwrap()
}

fn without_entry(name: &str) -> Vec<u8> {
    let good = good_bytes();
    let file = SafeTensors::deserialize(&good).unwrap();
    let entries: Vec<(String, TensorView)> = file
        .tensors()
        .into_iter()
        .filter(|(n, _)| n != name)
        .collect();
    safetensors::serialize(entries, None).unwrap()
}

#[test]
fn a_truncated_file_is_rejected() {
    let good = good_bytes();
    rejects("truncated", &good[..good.len() / 2], &["truncated"]);
    rejects("tiny", &good[..5], &["not a valid safetensors file"]);
}

#[test]
fn a_corrupt_header_is_rejected() {
    let mut bad = good_bytes();
    for b in &mut bad[8..40] {
        *b = b'#';
    }
    rejects("header", &bad, &["not a valid safetensors file", "header"]);
}

#[test]
fn a_missing_key_is_named() {
    rejects(
        "missing",
        &without_entry("layer3.1.conv2.weight"),
        &["`layer3.1.conv2.weight`", "missing"],
    );
}

#[test]
fn a_wrong_shape_is_named() {
    let data = vec![0u8; 10 * 32 * 4];
    rejects(
        "shape",
        &with_entry("fc.weight", Dtype::F32, vec![10, 32], data),
        &["`fc.weight`", "[10, 32]", "[10, 64]"],
    );
}

#[test]
fn a_wrong_dtype_is_named() {
    let data = vec![0u8; 10 * 64 * 8];
    rejects(
        "dtype",
        &with_entry("fc.weight", Dtype::F64, vec![10, 64], data),
        &["`fc.weight`", "F64", "F32"],
    );
}

#[test]
fn an_unexpected_key_is_named() {
    let data = vec![0u8; 4];
    rejects(
        "extra",
        &with_entry("layer9.0.conv1.weight", Dtype::F32, vec![1], data),
        &["layer9.0.conv1.weight"],
    );
}

#[test]
fn a_missing_file_is_an_error_not_a_panic() {
    let m = net(5);
    let err = checkpoint::load(&m, dir("nofile").join("absent.safetensors"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("absent.safetensors") && err.contains("could not read"),
        "{err}"
    );
}

#[test]
fn a_failed_save_leaves_the_previous_checkpoint_whole() {
    let d = dir("failedsave");
    let path = d.join("model.safetensors");
    let first = trained_a_little(6);
    checkpoint::save(&first, &path).unwrap();
    let before = std::fs::read(&path).unwrap();
    // Saving into a path whose parent is a file fails ...
    let blocked = path.join("inside.safetensors");
    assert!(checkpoint::save(&net(7), &blocked).is_err());
    // ... and a save over the old file replaces it whole, leaving no temporary file.
    checkpoint::save(&net(8), &path).unwrap();
    assert_ne!(std::fs::read(&path).unwrap(), before);
    let leftovers: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name() != "model.safetensors")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

// Named tensors that are not a model: the same encoder and decoder as checkpoints.

#[test]
fn named_tensors_round_trip_bit_exact_in_f32_and_f64() {
    let d = dir("tensors");
    let w = ArrayD::<f32>::from_shape_fn(IxDyn(&[2, 3, 4]), |ix| {
        (ix[0] as f32 - 0.7) * (ix[1] as f32 + 0.1).sin() / (ix[2] as f32 + 3.0)
    });
    let b = ArrayD::<f32>::from_elem(IxDyn(&[]), -1.5);
    resgrad::save_tensors(d.join("f32.safetensors"), &[("w", &w), ("b", &b)]).unwrap();
    let back = resgrad::load_tensors::<f32>(d.join("f32.safetensors")).unwrap();
    assert_eq!(back.keys().collect::<Vec<_>>(), ["b", "w"]);
    let bits = |a: &ArrayD<f32>| a.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&back["w"]), bits(&w));
    assert_eq!(back["w"].shape(), &[2, 3, 4]);
    assert_eq!(back["b"], b);

    let x = ArrayD::<f64>::from_shape_fn(IxDyn(&[5]), |ix| 1.0 / (ix[0] as f64 + 3.0));
    let names = [String::from("layer.x")];
    resgrad::save_tensors(d.join("f64.safetensors"), &[(&names[0], &x)]).unwrap();
    let back = resgrad::load_tensors::<f64>(d.join("f64.safetensors")).unwrap();
    assert_eq!(back["layer.x"].as_slice().unwrap(), x.as_slice().unwrap());
    // Ordinary safetensors, in the dtype of the arrays.
    let bytes = std::fs::read(d.join("f64.safetensors")).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(file.tensor("layer.x").unwrap().dtype(), Dtype::F64);
}

#[test]
fn named_tensors_of_another_dtype_are_an_error_naming_both() {
    let path = dir("tensors-dtype").join("t.safetensors");
    let x = ArrayD::<f64>::zeros(IxDyn(&[3]));
    resgrad::save_tensors(&path, &[("x", &x)]).unwrap();
    let err = resgrad::load_tensors::<f32>(&path).unwrap_err().to_string();
    for part in ["t.safetensors", "`x`", "F64", "F32", "load_tensors::<f64>"] {
        assert!(err.contains(part), "`{part}` not in: {err}");
    }
}

#[test]
fn a_corrupt_or_truncated_tensor_file_is_an_error_not_a_panic() {
    let d = dir("tensors-bad");
    let x = ArrayD::<f32>::from_elem(IxDyn(&[4, 4]), 2.0);
    let good = d.join("good.safetensors");
    resgrad::save_tensors(&good, &[("x", &x)]).unwrap();
    let bytes = std::fs::read(&good).unwrap();

    let truncated = d.join("truncated.safetensors");
    std::fs::write(&truncated, &bytes[..bytes.len() - 9]).unwrap();
    let err = resgrad::load_tensors::<f32>(&truncated)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("truncated.safetensors") && err.contains("not a valid safetensors file"),
        "{err}"
    );

    let mut corrupt = bytes.clone();
    for b in &mut corrupt[8..20] {
        *b = b'#';
    }
    let path = d.join("corrupt.safetensors");
    std::fs::write(&path, &corrupt).unwrap();
    let err = resgrad::load_tensors::<f32>(&path).unwrap_err().to_string();
    assert!(
        err.contains("corrupt.safetensors") && err.contains("header corrupt"),
        "{err}"
    );

    let err = resgrad::load_tensors::<f32>(d.join("absent.safetensors"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("could not read"), "{err}");
}

#[test]
fn two_tensors_under_one_name_are_refused() {
    let path = dir("tensors-dup").join("dup.safetensors");
    let x = ArrayD::<f32>::zeros(IxDyn(&[1]));
    let err = resgrad::save_tensors(&path, &[("x", &x), ("x", &x)])
        .unwrap_err()
        .to_string();
    assert!(err.contains("`x`") && err.contains("twice"), "{err}");
    assert!(!path.exists());
}
