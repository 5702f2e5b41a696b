//! Saves, training states and checkpoints under stress: concurrent saves, stale temporary
//! files, incomplete or non-finite states, and two layouts under one set of keys.

use std::path::PathBuf;

use resgrad::ndarray::{ArrayD, IxDyn};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("resgrad-saves-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn names_in(d: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn concurrent_saves_to_one_path_all_succeed_and_leave_one_whole_payload() {
    let d = dir("concurrent");
    let path = d.join("shared.safetensors");
    let threads = 8;
    let per_thread = 150; // 1,200 saves in all
    std::thread::scope(|s| {
        for t in 0..threads {
            let path = &path;
            s.spawn(move || {
                for i in 0..per_thread {
                    // Each payload is recognisable: every element holds its own tag.
                    let tag = (t * per_thread + i) as f32;
                    let x = ArrayD::<f32>::from_elem(IxDyn(&[64]), tag);
                    let y = ArrayD::<f32>::from_elem(IxDyn(&[3, 5]), -tag);
                    resgrad::save_tensors(path, &[("x", &x), ("y", &y)])
                        .unwrap_or_else(|e| panic!("save {tag} failed: {e}"));
                }
            });
        }
    });
    let back = resgrad::load_tensors::<f32>(&path).unwrap();
    let tag = back["x"][[0]];
    assert!(back["x"].iter().all(|&v| v == tag), "x mixes payloads");
    assert!(
        back["y"].iter().all(|&v| v == -tag),
        "y is from another payload"
    );
    assert!((0.0..1200.0).contains(&tag));
    assert_eq!(
        names_in(&d),
        ["shared.safetensors"],
        "no temporary file is left"
    );
}

/// A pid above Linux's largest possible one (2^22): no process can have it.
const DEAD_PID: u64 = 4_294_967_000;

#[test]
fn a_save_removes_stale_temporaries_of_dead_processes_only() {
    let d = dir("stale");
    let path = d.join("model.safetensors");
    let dead_old = d.join(format!("model.safetensors.tmp{DEAD_PID}"));
    let dead_new = d.join(format!("model.safetensors.tmp{DEAD_PID}.3"));
    let mine = d.join(format!(
        "model.safetensors.tmp{}.999999",
        std::process::id()
    ));
    let other_file = d.join("other.safetensors.tmp4294967000");
    let not_a_pid = d.join("model.safetensors.tmpx12");
    for f in [&dead_old, &dead_new, &mine, &other_file, &not_a_pid] {
        std::fs::write(f, b"half a save").unwrap();
    }
    let x = ArrayD::<f32>::zeros(IxDyn(&[2]));
    resgrad::save_tensors(&path, &[("x", &x)]).unwrap();
    if cfg!(target_os = "linux") {
        assert!(
            !dead_old.exists(),
            "a dead process's temporary file is removed"
        );
        assert!(
            !dead_new.exists(),
            "a dead process's temporary file is removed"
        );
    }
    assert!(
        mine.exists(),
        "a live process's temporary file is never removed"
    );
    assert!(
        other_file.exists(),
        "another file's temporaries are not touched"
    );
    assert!(not_a_pid.exists(), "a name without a pid is not touched");
    assert_eq!(resgrad::load_tensors::<f32>(&path).unwrap()["x"], x);
}

#[test]
fn a_temporary_of_a_running_process_is_left_alone() {
    // pid 1 always runs (in a container too); its temporary file is not ours to remove.
    let d = dir("live");
    let path = d.join("m.safetensors");
    let live = d.join("m.safetensors.tmp1.0");
    std::fs::write(&live, b"in progress").unwrap();
    resgrad::save_tensors(&path, &[("x", &ArrayD::<f32>::zeros(IxDyn(&[1])))]).unwrap();
    assert!(live.exists());
}

// Training states: every buffer the optimizer needs, and only finite values.

mod state {
    use super::*;
    use resgrad::data;
    use resgrad::models::{CifarSpec, ResNet};
    use resgrad::nn::{Module, ShortcutOption};
    use resgrad::train::{Run, TrainConfig, load_state, save_state, train_until};
    use safetensors::tensor::{Dtype, SafeTensors, TensorView};

    pub(super) fn small_conv(seed: u64) -> ResNet {
        CifarSpec::resnet(8, ShortcutOption::A)
            .in_channels(1)
            .width(4)
            .seed(seed)
            .build()
            .unwrap()
    }

    fn cfg() -> TrainConfig {
        TrainConfig {
            steps: 3,
            batch: 8,
            eval_every: 1000,
            eval_images: 16,
            ..TrainConfig::default()
        }
    }

    /// The bytes of a state saved after 3 steps of SGD with momentum 0.9.
    fn state_bytes() -> Vec<u8> {
        let model = small_conv(1);
        let mut run = Run::new(&cfg());
        train_until(&model, &data::digits(), None, &cfg(), &mut run, 3).unwrap();
        let path = dir("state-src").join("state.safetensors");
        save_state(&model, &run, &path).unwrap();
        std::fs::read(path).unwrap()
    }

    /// `bytes` rewritten with `edit` applied to its (name, dtype, shape, data) entries;
    /// the metadata is kept.
    pub(super) fn rewrite(
        bytes: &[u8],
        edit: impl FnOnce(&mut Vec<(String, Dtype, Vec<usize>, Vec<u8>)>),
    ) -> Vec<u8> {
        let (_, header) = SafeTensors::read_metadata(bytes).unwrap();
        let file = SafeTensors::deserialize(bytes).unwrap();
        let mut entries: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = file
            .tensors()
            .into_iter()
            .map(|(n, v)| (n, v.dtype(), v.shape().to_vec(), v.data().to_vec()))
            .collect();
        edit(&mut entries);
        let views: Vec<(String, TensorView)> = entries
            .iter()
            .map(|(n, d, s, b)| (n.clone(), TensorView::new(*d, s.clone(), b).unwrap()))
            .collect();
        safetensors::serialize(views, header.metadata().clone()).unwrap()
    }

    /// Puts `value` at element `at` of the F32 tensor `name`.
    pub(super) fn poison(bytes: &[u8], name: &str, at: usize, value: f32) -> Vec<u8> {
        rewrite(bytes, |entries| {
            let e = entries.iter_mut().find(|e| e.0 == name).unwrap();
            e.3[4 * at..4 * at + 4].copy_from_slice(&value.to_le_bytes());
        })
    }

    pub(super) fn snapshot(m: &dyn Module<f32>) -> Vec<(String, Vec<u32>)> {
        m.state()
            .into_iter()
            .map(|(n, p, _)| (n, p.value().iter().map(|x| x.to_bits()).collect()))
            .collect()
    }

    /// Loads `bytes` as a state into a fresh model and run; returns the error (or
    /// `None`), after checking that a refused file changed neither.
    fn load(case: &str, bytes: &[u8]) -> Option<String> {
        let path = dir(case).join("state.safetensors");
        std::fs::write(&path, bytes).unwrap();
        let model = small_conv(7);
        let mut run = Run::new(&cfg());
        let before = snapshot(&model);
        match load_state(&model, &mut run, &path) {
            Ok(()) => {
                assert_eq!(run.step, 3);
                for p in model.parameters() {
                    assert!(run.opt.velocity(&p).is_some(), "{case}: momentum restored");
                }
                None
            }
            Err(e) => {
                assert_eq!(snapshot(&model), before, "{case}: the model is unchanged");
                assert_eq!(run.step, 0, "{case}: the step is unchanged");
                for p in model.parameters() {
                    assert!(
                        run.opt.velocity(&p).is_none(),
                        "{case}: the optimizer is unchanged"
                    );
                }
                Some(e.to_string())
            }
        }
    }

    #[test]
    fn a_whole_state_loads() {
        assert_eq!(load("whole", &state_bytes()), None);
    }

    #[test]
    fn a_state_missing_a_momentum_buffer_is_refused_naming_the_key() {
        let good = state_bytes();
        let one = rewrite(&good, |e| {
            e.retain(|e| e.0 != "optim.fc.weight.momentum_buffer")
        });
        let err = load("missing-one", &one).expect("refused");
        for part in [
            "`optim.fc.weight.momentum_buffer`",
            "1 parameter",
            "momentum 0.9",
            "step 3",
        ] {
            assert!(err.contains(part), "`{part}` not in: {err}");
        }
        assert!(err.contains("state.safetensors"), "names the file: {err}");

        let none = rewrite(&good, |e| e.retain(|e| !e.0.starts_with("optim.")));
        let err = load("missing-all", &none).expect("refused");
        assert!(
            err.contains("`optim.conv1.weight.momentum_buffer`"),
            "{err}"
        );
        assert!(err.contains("more"), "a long list is cut short: {err}");
    }

    #[test]
    fn a_state_with_nan_or_inf_is_refused_naming_the_key_and_index() {
        let good = state_bytes();
        let err = load(
            "nan-momentum",
            &poison(&good, "optim.fc.weight.momentum_buffer", 5, f32::NAN),
        )
        .expect("refused");
        for part in ["`optim.fc.weight.momentum_buffer`", "NaN", "[0, 5]"] {
            assert!(err.contains(part), "`{part}` not in: {err}");
        }
        let err = load(
            "inf-weight",
            &poison(&good, "conv1.weight", 2, f32::INFINITY),
        )
        .expect("refused");
        for part in ["`conv1.weight`", "an infinity", "[0, 0, 0, 2]"] {
            assert!(err.contains(part), "`{part}` not in: {err}");
        }
    }
}

// Checkpoints: finite values, and the architecture recorded and checked.

mod checkpoints {
    use super::state::{poison, rewrite, small_conv, snapshot};
    use super::*;
    use resgrad::models::{CifarSpec, ResNet};
    use resgrad::nn::ShortcutOption;
    use resgrad::train::checkpoint;

    #[test]
    fn nan_or_inf_in_a_checkpoint_is_refused_naming_the_key_and_index() {
        let good = checkpoint::to_bytes(&small_conv(1)).unwrap();
        for (case, value, what) in [
            ("nan", f32::NAN, "NaN"),
            ("inf", f32::INFINITY, "an infinity"),
            ("-inf", f32::NEG_INFINITY, "an infinity"),
        ] {
            let path = dir(&format!("ckpt-{case}")).join("m.safetensors");
            std::fs::write(&path, poison(&good, "fc.bias", 3, value)).unwrap();
            let m = small_conv(2);
            let before = snapshot(&m);
            let err = checkpoint::load(&m, &path).unwrap_err().to_string();
            for part in [
                "m.safetensors",
                "`fc.bias`",
                what,
                "index [3]",
                "1 of its 10",
            ] {
                assert!(err.contains(part), "{case}: `{part}` not in: {err}");
            }
            assert_eq!(snapshot(&m), before, "{case}: the model is unchanged");
        }
        // The good file loads.
        let path = dir("ckpt-finite").join("m.safetensors");
        std::fs::write(&path, &good).unwrap();
        checkpoint::load(&small_conv(2), &path).unwrap();
    }

    #[test]
    fn a_save_records_the_architecture() {
        let bytes = checkpoint::to_bytes(&ResNet::<f32>::resnet50_v1()).unwrap();
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        let meta = header.metadata().clone().unwrap();
        assert_eq!(meta[checkpoint::ARCH_KEY], "resnet50 (ImageNet, option B)");
        let path = dir("arch-meta").join("v15.safetensors");
        checkpoint::save(&ResNet::<f32>::resnet50_v1_5(), &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        let meta = header.metadata().clone().unwrap();
        assert_eq!(
            meta[checkpoint::ARCH_KEY],
            "resnet50 (ImageNet, option B, v1.5)"
        );
    }

    #[test]
    fn a_v1_file_into_a_v1_5_model_is_refused_and_one_without_metadata_loads() {
        let v1 = ResNet::<f32>::resnet50_v1();
        let d = dir("arch");
        let path = d.join("v1.safetensors");
        checkpoint::save(&v1, &path).unwrap();

        let v15 = ResNet::<f32>::resnet50_v1_5();
        // Different weights, so an accidental load would show.
        v15.fc.bias.as_ref().unwrap().update(|b| b.fill(0.5));
        let before = snapshot(&v15);
        let err = checkpoint::load(&v15, &path).unwrap_err().to_string();
        for part in [
            "v1.safetensors",
            "resgrad.arch",
            "`resnet50 (ImageNet, option B)`",
            "`resnet50 (ImageNet, option B, v1.5)`",
        ] {
            assert!(err.contains(part), "`{part}` not in: {err}");
        }
        assert_eq!(snapshot(&v15), before, "the model is unchanged");

        // The same file without resgrad's metadata (as torchvision writes them) loads.
        let bytes = std::fs::read(&path).unwrap();
        let stripped = strip_metadata(&bytes);
        let plain_path = d.join("no-metadata.safetensors");
        std::fs::write(&plain_path, stripped).unwrap();
        checkpoint::load(&v15, &plain_path).unwrap();
        assert_ne!(snapshot(&v15), before);
        assert!(
            v15.fc
                .bias
                .as_ref()
                .unwrap()
                .value()
                .iter()
                .all(|&b| b != 0.5)
        );

        // And a v1 file loads into a v1 model.
        checkpoint::load(&ResNet::<f32>::resnet50_v1(), &path).unwrap();
    }

    #[test]
    fn a_plain_net_file_into_a_resnet_with_the_same_keys_is_refused() {
        // Option A shortcuts have no parameters: plain-20 and resnet-20 (A) share every key.
        let plain: ResNet = CifarSpec::plain(20).seed(1).build().unwrap();
        let path = dir("arch-plain").join("plain20.safetensors");
        checkpoint::save(&plain, &path).unwrap();
        let res: ResNet = CifarSpec::resnet(20, ShortcutOption::A).build().unwrap();
        let before = snapshot(&res);
        let err = checkpoint::load(&res, &path).unwrap_err().to_string();
        assert!(err.contains("plain20") && err.contains("resnet20"), "{err}");
        assert_eq!(snapshot(&res), before);
    }

    fn strip_metadata(bytes: &[u8]) -> Vec<u8> {
        let stripped = rewrite(bytes, |_| {});
        let (_, header) = safetensors::SafeTensors::read_metadata(&stripped).unwrap();
        assert!(header.metadata().is_some());
        let file = safetensors::SafeTensors::deserialize(&stripped).unwrap();
        safetensors::serialize(file.tensors(), None).unwrap()
    }
}
