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
    assert!(back["y"].iter().all(|&v| v == -tag), "y is from another payload");
    assert!((0.0..1200.0).contains(&tag));
    assert_eq!(names_in(&d), ["shared.safetensors"], "no temporary file is left");
}

/// A pid above Linux's largest possible one (2^22): no process can have it.
const DEAD_PID: u64 = 4_294_967_000;

#[test]
fn a_save_removes_stale_temporaries_of_dead_processes_only() {
    let d = dir("stale");
    let path = d.join("model.safetensors");
    let dead_old = d.join(format!("model.safetensors.tmp{DEAD_PID}"));
    let dead_new = d.join(format!("model.safetensors.tmp{DEAD_PID}.3"));
    let mine = d.join(format!("model.safetensors.tmp{}.999999", std::process::id()));
    let other_file = d.join("other.safetensors.tmp4294967000");
    let not_a_pid = d.join("model.safetensors.tmpx12");
    for f in [&dead_old, &dead_new, &mine, &other_file, &not_a_pid] {
        std::fs::write(f, b"half a save").unwrap();
    }
    let x = ArrayD::<f32>::zeros(IxDyn(&[2]));
    resgrad::save_tensors(&path, &[("x", &x)]).unwrap();
    if cfg!(target_os = "linux") {
        assert!(!dead_old.exists(), "a dead process's temporary file is removed");
        assert!(!dead_new.exists(), "a dead process's temporary file is removed");
    }
    assert!(mine.exists(), "a live process's temporary file is never removed");
    assert!(other_file.exists(), "another file's temporaries are not touched");
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
