//! The fuzz targets on stable: every committed seed in `fuzz/corpus/<target>/`, and every
//! input kept in `fuzz/regressions/<target>/` (a crash a fuzzer found, fixed since), run
//! through the same target bodies as the cargo-fuzz binaries (`fuzz/src/targets.rs`), with
//! the same cap on one allocation (`fuzz/src/cap.rs`, here in its recording mode).
//!
//! The seeds are written by [`seeds`]; after a change to a format or a model, rewrite them
//! with `RESGRAD_BLESS=1 cargo test --release --test fuzz_corpus`.

#[path = "../fuzz/src/cap.rs"]
#[allow(dead_code)]
mod cap;
#[path = "../fuzz/src/targets.rs"]
#[allow(dead_code)]
mod targets;

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use resgrad::nn::{Module, Role};
use resgrad::train::{self, Run, TrainConfig, checkpoint};
use targets::{TARGETS, gzip, idx_input, small_mlp, small_resnet};

#[global_allocator]
static ALLOC: cap::Capped = cap::Capped;

/// The cap on one allocation, as `scripts/fuzz` gives libFuzzer (`-malloc_limit_mb=256`).
const CAP: usize = 256 << 20;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// Runs `body` on `data`: `None` if it kept every promise, or what went wrong (a panic's
/// message, or an allocation over the cap).
fn run_one(body: fn(&[u8]), data: &[u8]) -> Option<String> {
    cap::set_cap(CAP, cap::Mode::Record);
    cap::take_largest();
    let result = catch_unwind(AssertUnwindSafe(|| body(data)));
    let largest = cap::take_largest();
    if let Err(panic) = result {
        return Some(format!("panicked: {}", message(panic)));
    }
    (largest > 0).then(|| {
        format!(
            "allocated {largest} bytes at once, over the cap of {} MiB",
            CAP >> 20
        )
    })
}

/// A panic's message.
fn message(panic: Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic".into())
}

/// The files of `dir` (none if it does not exist), sorted.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.is_file());
    files.sort();
    files
}

#[test]
fn every_seed_and_every_regression_passes_its_target() {
    let mut failures = Vec::new();
    let mut ran = 0;
    for (name, body) in TARGETS {
        let seeds = files_in(&fuzz_dir().join("corpus").join(name));
        assert!(
            seeds.len() >= 3,
            "fuzz/corpus/{name} holds {} seeds; it should hold the generator's (run with RESGRAD_BLESS=1)",
            seeds.len()
        );
        let regressions = files_in(&fuzz_dir().join("regressions").join(name));
        for file in seeds.iter().chain(&regressions) {
            let data = std::fs::read(file).unwrap();
            if let Some(problem) = run_one(body, &data) {
                failures.push(format!("{name} on {}: {problem}", file.display()));
            }
            ran += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {ran} inputs broke a promise:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---- the harness has teeth ----

#[test]
fn a_panic_in_a_target_is_reported() {
    fn planted(_: &[u8]) {
        panic!("planted");
    }
    let problem = run_one(planted, b"").expect("a panic must be reported");
    assert!(problem.contains("planted"), "{problem}");
    fn fine(_: &[u8]) {}
    assert_eq!(run_one(fine, b""), None);
}

#[test]
fn an_allocation_over_the_cap_is_reported() {
    fn planted(_: &[u8]) {
        // Reserved, never touched: costs no memory.
        let v: Vec<u8> = Vec::with_capacity(CAP + 1);
        std::hint::black_box(&v);
    }
    let problem = run_one(planted, b"").expect("an over-cap allocation must be reported");
    assert!(problem.contains(&format!("{} bytes", CAP + 1)), "{problem}");
    fn under(_: &[u8]) {
        let v: Vec<u8> = Vec::with_capacity(CAP);
        std::hint::black_box(&v);
    }
    assert_eq!(run_one(under, b""), None);
}

#[test]
fn the_targets_check_what_a_loader_returns() {
    let record = [&[1u8][..], &[0; 3072]].concat();
    let good = resgrad::data::cifar10_from_bytes("one", &record).unwrap();
    let check = |d: resgrad::data::Dataset| {
        catch_unwind(move || targets::check_dataset(&d))
            .err()
            .map(message)
    };
    assert_eq!(check(good.clone()), None);
    let mut stray = good.clone();
    stray.labels[0] = 10;
    assert_eq!(check(stray).as_deref(), Some("label 10 of 10 classes"));
    let mut bright = good.clone();
    bright.images[5] = 1.5;
    assert_eq!(
        check(bright).as_deref(),
        Some("a pixel of 1.5, outside [0, 1]")
    );
    let mut short = good;
    short.images.pop();
    assert!(
        check(short)
            .unwrap()
            .contains("pixels do not fill the images")
    );
}

#[test]
fn bytes_too_short_for_any_format_are_errors_that_name_their_source() {
    use resgrad::data::{cifar10_from_bytes, idx_pair_from_bytes};
    let labels = idx_labels(&[0]);
    let images = idx_images(1, 1, 1, &[7]);
    // Too short for a header; the last is a gzip stream's first 4 bytes, taken as raw (a
    // gzip file has at least 18), so its magic number is wrong.
    for short in [&[][..], &[0x1f], &[0x1f, 0x8b], &[0x1f, 0x8b, 8, 0]] {
        let rule = if short.len() < 4 {
            "too short for an IDX"
        } else {
            "wrong magic number 0x1f8b0800"
        };
        let e = idx_pair_from_bytes(short, &labels).unwrap_err().to_string();
        assert!(e.contains("<image bytes>") && e.contains(rule), "{e}");
        let e = idx_pair_from_bytes(&images, short).unwrap_err().to_string();
        assert!(e.contains("<label bytes>") && e.contains(rule), "{e}");
        let e = cifar10_from_bytes("batch 1", short)
            .unwrap_err()
            .to_string();
        assert!(e.contains("batch 1") && e.contains("3,073-byte"), "{e}");
        let mut run = Run::new(&TrainConfig::default());
        let e = train::load_state_bytes(&small_mlp(), &mut run, short).unwrap_err();
        assert!(e.to_string().contains("<bytes>"), "{e}");
    }
    // The good case: the same pair whole.
    let d = idx_pair_from_bytes(&images, &labels).unwrap();
    assert_eq!(
        (d.images.as_slice(), d.shape),
        (&[7.0 / 255.0][..], [1, 1, 1])
    );
}

// ---- what the fuzzers found (each input also kept in fuzz/regressions/) ----

#[test]
fn a_gzip_trailer_recording_more_than_deflate_allows_is_not_trusted() {
    // Found by the idx target (fuzz/regressions/idx/gzip-trailer-over-deflate-limit): a
    // gzip file of about 100 bytes whose trailer records a size near 4 GiB let a header
    // promising a 32768x32768 image through the size check, and the loader reserved 1 GiB
    // for it before finding the stream short. Deflate's limit (1032 to 1) now caps what a
    // trailer may record.
    let mut images = gzip_stored(&idx_images(1, 32768, 32768, &[0; 16]));
    let n = images.len();
    images[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
    let labels = idx_labels(&[0]);
    let e = resgrad::data::idx_pair_from_bytes(&images, &labels)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("<image bytes>") && e.contains("promises 1 images of 32768x32768"),
        "{e}"
    );
    assert_eq!(run_one(targets::idx, &idx_input(0, &images, &labels)), None);
    // The same file with its true trailer is refused the same way.
    let honest = gzip_stored(&idx_images(1, 32768, 32768, &[0; 16]));
    let e = resgrad::data::idx_pair_from_bytes(&honest, &labels).unwrap_err();
    assert!(e.to_string().contains("promises 1 images"), "{e}");
}

#[test]
fn a_gzip_stream_whose_checksum_does_not_match_is_refused() {
    // The seed `idx/flipped-byte-gz`: one flipped byte gave one wrong pixel and no error
    // while the reader stopped at the bytes the header promised, before the trailer.
    let s = seeds();
    let (_, images, labels) = targets::split_idx_input(&s[&("idx", "flipped-byte-gz")]);
    let e = resgrad::data::idx_pair_from_bytes(images, labels)
        .unwrap_err()
        .to_string();
    assert!(e.contains("<image bytes>") && e.contains("checksum"), "{e}");
    // Unflipped, the same stream loads.
    let (_, whole, _) = targets::split_idx_input(&s[&("idx", "valid-gz-stored")]);
    assert_eq!(flipped_byte(whole), images);
    resgrad::data::idx_pair_from_bytes(whole, labels).unwrap();
}

// ---- the seeds ----

/// An IDX image file of `n` images of `rows` x `cols` with the given pixels.
fn idx_images(n: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    for v in [0x803, n, rows, cols] {
        b.extend(v.to_be_bytes());
    }
    b.extend(pixels);
    b
}

/// An IDX label file.
fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    for v in [0x801, labels.len() as u32] {
        b.extend(v.to_be_bytes());
    }
    b.extend(labels);
    b
}

/// `bytes` gzipped in stored (uncompressed) blocks: the IDX header stays readable in the
/// stream, for the fuzzer to mutate.
fn gzip_stored(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A gzip stream in stored blocks with one byte of its content flipped (its last, just
/// before the 8 bytes of trailer): it still inflates, to one wrong byte, and only the
/// trailer's checksum shows it.
fn flipped_byte(stored: &[u8]) -> Vec<u8> {
    let mut b = stored.to_vec();
    let n = b.len();
    b[n - 9] ^= 0x01;
    b
}

/// A file's bytes, written by `save` to a temporary path.
fn via_file(name: &str, save: impl FnOnce(&Path)) -> Vec<u8> {
    let path =
        std::env::temp_dir().join(format!("resgrad-fuzz-seed-{}-{name}", std::process::id()));
    save(&path);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    bytes
}

/// Every seed, by target and file name: a few valid and near-valid inputs per target,
/// each a few KB at most. Deterministic (the models are seeded, gzip records no time).
fn seeds() -> BTreeMap<(&'static str, &'static str), Vec<u8>> {
    let mut s = BTreeMap::new();

    // safetensors_load: real checkpoints of the two small models, and near misses.
    let mlp = small_mlp();
    let mlp_bytes = checkpoint::to_bytes(&mlp).unwrap();
    s.insert(("safetensors_load", "mlp.safetensors"), mlp_bytes.clone());
    s.insert(
        ("safetensors_load", "resnet8-w1.safetensors"),
        checkpoint::to_bytes(&small_resnet()).unwrap(),
    );
    s.insert(
        ("safetensors_load", "mlp-truncated.safetensors"),
        mlp_bytes[..mlp_bytes.len() - 7].to_vec(),
    );
    let nan = small_mlp();
    let (_, p, _) = &nan.state()[0];
    p.set(p.value().mapv(|_| f32::NAN));
    s.insert(
        ("safetensors_load", "mlp-nan.safetensors"),
        checkpoint::to_bytes(&nan).unwrap(),
    );
    // Without resgrad's metadata, every tensor F32 (the batch counters too, which a
    // checkpoint stores as I64).
    s.insert(
        ("safetensors_load", "mlp-no-metadata.safetensors"),
        via_file("tensors", |path| {
            let state = mlp.state();
            let values: Vec<_> = state
                .iter()
                .map(|(n, p, _)| (n.clone(), p.value()))
                .collect();
            let refs: Vec<_> = values.iter().map(|(n, v)| (n.as_str(), &**v)).collect();
            resgrad::save_tensors(path, &refs).unwrap();
        }),
    );
    s.insert(
        ("safetensors_load", "empty.safetensors"),
        b"\x02\0\0\0\0\0\0\0{}".to_vec(),
    );

    // train_state: states at step 3 (with momentum) and at step 0, and near misses.
    let cfg = TrainConfig::default();
    let state = |step: usize, momentum: bool| {
        let model = small_mlp();
        let mut run = Run::new(&cfg);
        run.step = step;
        if momentum {
            for (i, (_, p, role)) in model.state().into_iter().enumerate() {
                if role == Role::Parameter {
                    run.opt
                        .set_velocity(&p, p.value().mapv(|x| x * 0.5 + i as f32 * 0.01));
                }
            }
        }
        via_file("state", |path| {
            train::save_state(&model, &run, path).unwrap()
        })
    };
    s.insert(("train_state", "step3.safetensors"), state(3, true));
    s.insert(("train_state", "step0.safetensors"), state(0, false));
    s.insert(
        ("train_state", "step3-no-momentum.safetensors"),
        state(3, false),
    );
    s.insert(
        ("train_state", "checkpoint-not-state.safetensors"),
        mlp_bytes,
    );

    // idx: one byte of flags, the image part's length (2 bytes), images, labels.
    let images = idx_images(3, 2, 2, &[0, 64, 128, 255, 1, 2, 3, 4, 9, 8, 7, 6]);
    let labels = idx_labels(&[0, 1, 0]);
    s.insert(("idx", "valid-raw"), idx_input(0, &images, &labels));
    s.insert(
        ("idx", "valid-gzipped-by-target"),
        idx_input(3, &images, &labels),
    );
    s.insert(
        ("idx", "valid-gz"),
        idx_input(0, &gzip(&images), &gzip(&labels)),
    );
    s.insert(
        ("idx", "valid-gz-stored"),
        idx_input(0, &gzip_stored(&images), &gzip_stored(&labels)),
    );
    s.insert(
        ("idx", "stray-label"),
        idx_input(0, &images, &idx_labels(&[0, 200, 1])),
    );
    s.insert(
        ("idx", "zero-images"),
        idx_input(0, &idx_images(0, 2, 2, &[]), &idx_labels(&[])),
    );
    s.insert(("idx", "swapped"), idx_input(0, &labels, &images));
    s.insert(
        ("idx", "truncated"),
        idx_input(0, &images[..images.len() - 1], &labels),
    );
    s.insert(
        ("idx", "flipped-byte-gz"),
        idx_input(0, &flipped_byte(&gzip_stored(&images)), &labels),
    );

    // cifar: two records, and near misses.
    let record = |label: u8, seed: u8| {
        let mut r = vec![label];
        r.extend((0..3072u32).map(|i| (i as u8).wrapping_mul(seed)));
        r
    };
    let two = [record(3, 1), record(9, 7)].concat();
    s.insert(("cifar", "two-records.bin"), two.clone());
    s.insert(("cifar", "label-10.bin"), record(10, 3));
    s.insert(("cifar", "truncated.bin"), two[..two.len() - 1].to_vec());
    s
}

#[test]
fn the_committed_seeds_are_the_generators() {
    let seeds = seeds();
    let bless = std::env::var_os("RESGRAD_BLESS").is_some();
    let mut stale = Vec::new();
    for ((target, name), bytes) in &seeds {
        assert!(
            bytes.len() <= 8192,
            "seed {target}/{name} is {} bytes",
            bytes.len()
        );
        let path = fuzz_dir().join("corpus").join(target).join(name);
        if bless {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, bytes).unwrap();
        } else if std::fs::read(&path).ok().as_ref() != Some(bytes) {
            stale.push(path.display().to_string());
        }
    }
    // No committed seed the generator does not write.
    for (target, _) in TARGETS {
        for file in files_in(&fuzz_dir().join("corpus").join(target)) {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            if !seeds.keys().any(|(t, n)| *t == target && *n == name) {
                if bless {
                    std::fs::remove_file(&file).unwrap();
                } else {
                    stale.push(format!("{} (not the generator's)", file.display()));
                }
            }
        }
    }
    assert!(
        stale.is_empty(),
        "the committed seeds differ from the generator's; rewrite them with \
         RESGRAD_BLESS=1 cargo test --release --test fuzz_corpus:\n{}",
        stale.join("\n")
    );
}

#[test]
fn the_valid_seeds_load() {
    // The seeds reach past the first checks: the valid ones load.
    let s = seeds();
    let model = small_mlp();
    checkpoint::load_bytes(&model, &s[&("safetensors_load", "mlp.safetensors")]).unwrap();
    checkpoint::load_bytes(
        &small_resnet(),
        &s[&("safetensors_load", "resnet8-w1.safetensors")],
    )
    .unwrap();
    let mut run = Run::new(&TrainConfig::default());
    train::load_state_bytes(&model, &mut run, &s[&("train_state", "step3.safetensors")]).unwrap();
    assert_eq!(run.step, 3);
    for name in ["valid-raw", "valid-gz", "valid-gz-stored"] {
        let (_, images, labels) = targets::split_idx_input(&s[&("idx", name)]);
        let d = resgrad::data::idx_pair_from_bytes(images, labels).unwrap();
        assert_eq!((d.len(), d.shape, d.classes), (3, [1, 2, 2], 2), "{name}");
    }
    let d = resgrad::data::cifar10_from_bytes("two", &s[&("cifar", "two-records.bin")]).unwrap();
    assert_eq!(d.labels, [3, 9]);
}
