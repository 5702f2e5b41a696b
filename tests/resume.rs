//! A degradation sweep saved in a checkpoint folder and resumed gives the same bits as one
//! that was never interrupted: histories, evaluations and final weights; on 1 thread after
//! 2; and a resume with other settings, or a new sweep on a folder of states, is refused
//! with the files left as they were.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use resgrad::data::{self, Dataset};
use resgrad::models::{MlpSpec, NetKind};
use resgrad::nn::{Module, Sequential, ShortcutOption};
use resgrad::train::{
    Checkpoints, DegradationConfig, DegradationResult, Family, Run, TrainConfig, TrainedNet,
    load_state, run_degradation_until, save_state,
};

/// A fresh, empty folder for one test.
fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("resgrad-resume-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Two tiny BN MLPs (depths 4 and 6, plain and residual: four runs) of 24 steps each.
fn mlp_sweep(checkpoints: Option<Checkpoints>) -> DegradationConfig {
    DegradationConfig {
        family: Family::Mlp,
        depths: vec![4, 6],
        width: 16,
        seeds: vec![3],
        shortcut: ShortcutOption::A,
        train: TrainConfig {
            steps: 24,
            batch: 16,
            lr: 0.05,
            eval_every: 6,
            eval_images: 128,
            ..TrainConfig::default()
        },
        kinds: vec![NetKind::Plain, NetKind::Residual],
        warmup: None,
        checkpoints,
    }
}

fn digits() -> (Dataset, Dataset) {
    let (train, test) = data::digits_split();
    (train.take(256), test.take(64))
}

/// Every number a run computed, as bits: (label, losses, batch errors, evaluations, epoch
/// means, wall seconds).
type RunBits = (
    String,
    Vec<u64>,
    Vec<u64>,
    Vec<(usize, u64, u64)>,
    Vec<(usize, u64, u64)>,
    u64,
);

fn bits(result: &DegradationResult) -> Vec<RunBits> {
    let b = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    result
        .runs
        .iter()
        .map(|r| {
            let h = &r.history;
            (
                format!("{}-seed{}", r.label(), r.seed),
                b(&h.loss),
                b(&h.batch_error),
                h.evals
                    .iter()
                    .map(|e| (e.step, e.train_error.to_bits(), e.test_error.to_bits()))
                    .collect(),
                h.epochs
                    .iter()
                    .map(|&(e, l, r)| (e, l.to_bits(), r.to_bits()))
                    .collect(),
                h.seconds.to_bits(),
            )
        })
        .collect()
}

/// Asserts that two sweeps computed the same numbers, bit for bit (all but the wall
/// time, which differs between any two runs), naming the first run and record that
/// differs.
fn assert_same_curves(got: &DegradationResult, want: &DegradationResult) {
    let (got, want) = (bits(got), bits(want));
    assert_eq!(got.len(), want.len(), "not the same number of runs");
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g.0, w.0, "not the same run");
        let first = |a: &[u64], b: &[u64]| a.iter().zip(b).position(|(x, y)| x != y);
        assert!(
            g.1 == w.1,
            "{}: the losses differ, first at step {:?} (of {} and {})",
            g.0,
            first(&g.1, &w.1).map(|i| i + 1),
            g.1.len(),
            w.1.len()
        );
        assert!(g.2 == w.2, "{}: the batch errors differ", g.0);
        assert!(g.3 == w.3, "{}: the evaluations differ", g.0);
        assert!(g.4 == w.4, "{}: the epoch means differ", g.0);
    }
}

/// The markdown table without its wall-time columns.
fn table_without_times(result: &DegradationResult) -> String {
    result
        .markdown()
        .lines()
        .map(|l| l.split('|').take(5).collect::<Vec<_>>().join("|"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every parameter and buffer of a net, as bits.
fn weights(net: TrainedNet<'_>) -> Vec<u32> {
    let model: &dyn Module<f32> = match net {
        TrainedNet::Mlp(m) => m,
        TrainedNet::Conv(m) => m,
    };
    model
        .state()
        .iter()
        .flat_map(|(_, p, _)| p.value().iter().map(|v| v.to_bits()).collect::<Vec<_>>())
        .collect()
}

/// Runs the sweep up to `until` steps; the result (if it finished) and each trained net's
/// weights.
fn sweep(
    cfg: &DegradationConfig,
    data: &(Dataset, Dataset),
    until: usize,
) -> (Option<DegradationResult>, Vec<(String, Vec<u32>)>) {
    let mut nets = Vec::new();
    let result = run_degradation_until(cfg, &data.0, Some(&data.1), until, |run, net| {
        nets.push((run.label(), weights(net)));
    })
    .unwrap();
    (result, nets)
}

/// Every file of `dir` with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn an_interrupted_sweep_resumed_equals_an_uninterrupted_one_bit_for_bit() {
    let data = digits();
    let (whole, whole_nets) = sweep(&mlp_sweep(None), &data, usize::MAX);
    let whole = whole.unwrap();
    assert_eq!(whole.runs.len(), 4);
    let first = &whole.runs[0].history.loss;
    assert_ne!(
        first[0], first[23],
        "the loss did not move: equal curves would prove nothing"
    );

    let dir = folder("interrupted");
    let ck = |resume| {
        Some(Checkpoints {
            dir: dir.clone(),
            every: 5, // not a multiple of the evaluations: states between them too
            resume,
        })
    };
    // Stopped in the second run (step 6 of 24), then in the third (step 2).
    let (stopped, nets) = sweep(&mlp_sweep(ck(false)), &data, 30);
    assert!(
        stopped.is_none() && nets.len() == 1,
        "the sweep did not stop"
    );
    let names = files(&dir).into_keys().collect::<Vec<_>>();
    assert_eq!(
        names,
        ["plain-4-seed3.safetensors", "resnet-4-seed3.safetensors"]
    );
    let resnet4_at_step_6 = std::fs::read(dir.join("resnet-4-seed3.safetensors")).unwrap();
    let (stopped, _) = sweep(&mlp_sweep(ck(true)), &data, 50);
    assert!(stopped.is_none());
    // Then to the end.
    let (resumed, resumed_nets) = sweep(&mlp_sweep(ck(true)), &data, usize::MAX);
    let resumed = resumed.unwrap();
    assert_same_curves(&resumed, &whole);
    assert!(resumed_nets == whole_nets, "the final weights differ");
    assert_eq!(resumed.csv(), whole.csv());
    assert_eq!(table_without_times(&resumed), table_without_times(&whole));
    let (a, b) = (resumed.figure(), whole.figure());
    assert!(a.svg == b.svg && a.csv == b.csv, "the figures differ");

    // Finished runs are read back, not trained again: even their wall times are the saved ones.
    let (again, again_nets) = sweep(&mlp_sweep(ck(true)), &data, usize::MAX);
    let again = again.unwrap();
    assert!(
        bits(&again) == bits(&resumed),
        "a finished run was trained again, or read back other numbers"
    );
    assert!(again_nets == whole_nets);

    // A killed sweep: one finished run's state lost, another's back at an earlier state.
    std::fs::remove_file(dir.join("plain-6-seed3.safetensors")).unwrap();
    std::fs::write(dir.join("resnet-4-seed3.safetensors"), resnet4_at_step_6).unwrap();
    let (healed, healed_nets) = sweep(&mlp_sweep(ck(true)), &data, usize::MAX);
    let healed = healed.unwrap();
    assert_same_curves(&healed, &whole);
    assert!(healed_nets == whole_nets);
    // The two runs left alone were read back; the two redone were trained again.
    let (h, r) = (bits(&healed), bits(&resumed));
    assert_eq!((h[0].5, h[3].5), (r[0].5, r[3].5));
    assert_ne!((h[1].5, h[2].5), (r[1].5, r[2].5));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two CIFAR-style conv nets of depth 8 and width 4 on the 8x8 digits (the conv's weight
/// gradient is where threads could change the sums).
fn conv_sweep(dir: &Path, resume: bool) -> DegradationConfig {
    DegradationConfig {
        family: Family::Conv,
        depths: vec![8],
        width: 4,
        seeds: vec![1],
        shortcut: ShortcutOption::A,
        train: TrainConfig {
            steps: 12,
            batch: 16,
            lr: 0.05,
            eval_every: 4,
            eval_images: 64,
            ..TrainConfig::default()
        },
        kinds: vec![NetKind::Plain, NetKind::Residual],
        warmup: None,
        checkpoints: Some(Checkpoints::new(dir, resume)),
    }
}

fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn a_sweep_checkpointed_on_2_threads_resumes_on_1_thread_to_the_same_bits() {
    let (train, test) = data::digits_split();
    let data = (train.take(128), test.take(64));
    let whole_dir = folder("conv-whole");
    let dir = folder("conv-threads");
    let (whole, whole_nets) = in_pool(1, || sweep(&conv_sweep(&whole_dir, false), &data, 99));
    let whole = whole.unwrap();
    assert_ne!(
        whole.runs[0].history.loss[0],
        whole.runs[0].history.loss[11]
    );
    // Stopped in the first run, at step 6, on two threads; resumed on one.
    let (stopped, _) = in_pool(2, || sweep(&conv_sweep(&dir, false), &data, 6));
    assert!(stopped.is_none());
    let (resumed, resumed_nets) = in_pool(1, || sweep(&conv_sweep(&dir, true), &data, 99));
    let resumed = resumed.unwrap();
    assert_same_curves(&resumed, &whole);
    assert!(resumed_nets == whole_nets, "the final weights differ");
    for d in [whole_dir, dir] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn a_resume_with_other_settings_is_refused_and_the_states_are_unchanged() {
    let data = digits();
    let dir = folder("settings");
    let ck = |resume| Some(Checkpoints::new(&dir, resume));
    let (stopped, _) = sweep(&mlp_sweep(ck(false)), &data, 30);
    assert!(stopped.is_none());
    let before = files(&dir);
    let refuse = |cfg: DegradationConfig, data: &(Dataset, Dataset)| {
        run_degradation_until(&cfg, &data.0, Some(&data.1), usize::MAX, |_, _| {})
            .unwrap_err()
            .to_string()
    };

    let mut other = mlp_sweep(ck(true));
    other.train.lr = 0.1;
    other.train.batch = 8;
    let e = refuse(other, &data);
    for part in [
        "plain-4-seed3.safetensors",
        "saved with other settings",
        "lr: saved 0.05, given 0.1 (--lr, --recipe)",
        "batch: saved 16, given 8 (--batch, --recipe)",
        "Resume with the settings it was started with",
        "another --checkpoint-dir",
    ] {
        assert!(e.contains(part), "`{part}` missing from: {e}");
    }
    assert!(
        !e.contains("steps:"),
        "a setting that did not change is named: {e}"
    );

    // Other data of the same name and size: the fingerprint tells.
    let mut flipped = data.clone();
    flipped.0.images[0] += 1.0;
    let e = refuse(mlp_sweep(ck(true)), &flipped);
    assert!(e.contains("training_data_fingerprint: saved"), "{e}");
    assert!(!e.contains("training_images"), "{e}");

    // Fewer steps: refused too (the curve would end elsewhere).
    let mut shorter = mlp_sweep(ck(true));
    shorter.train.steps = 12;
    assert!(refuse(shorter, &data).contains("steps: saved 24, given 12 (--steps)"));

    assert!(files(&dir) == before, "a refused resume changed the folder");
    // The same settings resume.
    assert!(sweep(&mlp_sweep(ck(true)), &data, usize::MAX).0.is_some());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_new_sweep_refuses_a_folder_of_states_and_resume_on_an_empty_one_starts_fresh() {
    let data = digits();
    let dir = folder("new-sweep");
    // --resume on a folder that does not exist yet: starts fresh, and finishes.
    let (fresh, _) = sweep(&mlp_sweep(Some(Checkpoints::new(&dir, true))), &data, 30);
    assert!(fresh.is_none() && dir.join("plain-4-seed3.safetensors").exists());
    let before = files(&dir);
    let e = run_degradation_until(
        &mlp_sweep(Some(Checkpoints::new(&dir, false))),
        &data.0,
        Some(&data.1),
        usize::MAX,
        |_, _| {},
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("already holds 2 run state(s)") && e.contains("use --resume"),
        "{e}"
    );
    assert!(files(&dir) == before);
    // Files that are not run states do not count.
    let other = folder("new-sweep-other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "mine").unwrap();
    std::fs::write(other.join("model.safetensors"), "mine").unwrap();
    let (stopped, _) = sweep(&mlp_sweep(Some(Checkpoints::new(&other, false))), &data, 3);
    assert!(stopped.is_none());
    assert_eq!(
        std::fs::read(other.join("model.safetensors")).unwrap(),
        b"mine"
    );
    // Stopping early without checkpoints would lose the runs: refused.
    let e = run_degradation_until(&mlp_sweep(None), &data.0, None, 30, |_, _| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("DegradationConfig::checkpoints"), "{e}");
    for d in [dir, other] {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// The first run's net (plain, depth 4), as the sweep builds it.
#[test]
fn a_second_sweep_on_a_folder_in_use_is_refused_naming_the_first() {
    let data = digits();
    let dir = folder("lock");
    let cfg = mlp_sweep(Some(Checkpoints::new(&dir, false)));
    let lock = dir.join(".resgrad-sweep.lock");
    let me = std::process::id();
    let mut second = None;
    // A second sweep starts while the first one runs, once its first net is trained: with
    // --resume, the first one's finished state would have let it in.
    let first = run_degradation_until(&cfg, &data.0, Some(&data.1), usize::MAX, |_, _| {
        if second.is_none() {
            assert_eq!(std::fs::read_to_string(&lock).unwrap(), format!("{me}\n"));
            let mut resume = cfg.clone();
            resume.checkpoints = Some(Checkpoints::new(&dir, true));
            let r = run_degradation_until(&resume, &data.0, Some(&data.1), usize::MAX, |_, _| {});
            second = Some(r.map(drop).unwrap_err().to_string());
        }
    });
    assert!(first.unwrap().is_some());
    let e = second.unwrap();
    for part in [
        "`.resgrad-sweep.lock`",
        "another sweep",
        &format!("PID {me}"),
    ] {
        assert!(e.contains(part), "`{part}` missing from: {e}");
    }
    assert!(!lock.exists(), "the lock outlived its sweep");
    // A sweep refused after it took the lock gives it back.
    let e = run_degradation_until(&cfg, &data.0, Some(&data.1), usize::MAX, |_, _| {});
    assert!(e.map(drop).unwrap_err().to_string().contains("--resume"));
    assert!(!lock.exists(), "a refused sweep kept the lock");
    let _ = std::fs::remove_dir_all(&dir);
}

fn plain4() -> Sequential {
    MlpSpec {
        kind: NetKind::Plain,
        depth: 4,
        batch_norm: true,
        inputs: Some(64),
        classes: Some(10),
        seed: 3,
        ..MlpSpec::plain(16, 0)
    }
    .build()
}

/// Rewrites the `__metadata__` of the safetensors file at `path` with `edit`.
fn edit_metadata(path: &Path, edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>)) {
    let bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    edit(header["__metadata__"].as_object_mut().unwrap());
    let mut text = serde_json::to_vec(&header).unwrap();
    while !text.len().is_multiple_of(8) {
        text.push(b' ');
    }
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend(text);
    out.extend(&bytes[8 + n..]);
    std::fs::write(path, out).unwrap();
}

#[test]
fn old_and_damaged_state_files_are_refused_and_a_sweep_state_loads_with_load_state() {
    let data = digits();
    let dir = folder("damaged");
    let cfg = mlp_sweep(Some(Checkpoints::new(&dir, true)));
    let (stopped, _) = sweep(&cfg, &data, 30);
    assert!(stopped.is_none());
    let file = dir.join("plain-4-seed3.safetensors");

    // A sweep's state is a training state: load_state reads it.
    let model = plain4();
    let mut run = Run::new(&cfg.train);
    load_state(&model, &mut run, &file).unwrap();
    assert_eq!(run.step, 24);

    let resume = || {
        run_degradation_until(&cfg, &data.0, Some(&data.1), usize::MAX, |_, _| {})
            .unwrap_err()
            .to_string()
    };
    let good = std::fs::read(&file).unwrap();
    // A step missing from the history.
    edit_metadata(&file, |m| {
        let loss = m["resgrad.sweep.history.loss"]
            .as_str()
            .unwrap()
            .to_string();
        let shorter = loss.rsplit_once(',').unwrap().0.to_string();
        m.insert("resgrad.sweep.history.loss".into(), shorter.into());
    });
    let e = resume();
    assert!(
        e.contains("holds 23 losses and 24 batch errors, but the state is at step 24")
            && e.contains("delete it to train this run again"),
        "{e}"
    );
    // A value that is not a number.
    std::fs::write(&file, &good).unwrap();
    edit_metadata(&file, |m| {
        m.insert("resgrad.sweep.history.seconds".into(), "soon".into());
    });
    assert!(resume().contains("holds `soon`, not a number"));
    // Finished at step 24 of 24, but saying otherwise.
    std::fs::write(&file, &good).unwrap();
    edit_metadata(&file, |m| {
        m.insert("resgrad.sweep.finished".into(), "false".into());
    });
    assert!(resume().contains("says finished: false, but the state is at step 24 of 24"));
    // A state written by save_state alone (or an older resgrad): no record to continue from.
    save_state(&model, &run, &file).unwrap();
    let e = resume();
    assert!(
        e.contains("without a degradation run's record") && e.contains("move it out"),
        "{e}"
    );
    // The good file resumes.
    std::fs::write(&file, &good).unwrap();
    assert!(sweep(&cfg, &data, usize::MAX).0.is_some());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `resgrad degradation` with the brief settings and `extra` flags: (success,
/// stdout, stderr).
fn resgrad(extra: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_resgrad"))
        .args([
            "degradation",
            "--data",
            "digits",
            "--family",
            "mlp",
            "--batch",
            "8",
            "--steps",
            "40",
        ])
        .args(extra)
        .env("RESGRAD_QUIET", "1")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_command_line_checkpoints_then_resumes_to_the_same_table() {
    let dir = folder("cli");
    let s = |p: PathBuf| p.to_str().unwrap().to_string();
    let (ck, out1, out2) = (s(dir.join("ck")), s(dir.join("out1")), s(dir.join("out2")));
    let (ok, first, err) = resgrad(&["--checkpoint-dir", &ck, "--out", &out1]);
    assert!(ok, "{err}");
    assert!(first.contains("| plain-56 | 0 |"), "{first}");
    // Without --resume, the folder of states is refused, and nothing is overwritten.
    let before = files(dir.join("ck").as_path());
    assert_eq!(before.len(), 4);
    let (ok, _, err) = resgrad(&["--checkpoint-dir", &ck, "--out", &out2]);
    assert!(!ok && err.contains("use --resume"), "{err}");
    // With other settings, refused, naming them.
    let (ok, _, err) = resgrad(&[
        "--checkpoint-dir",
        &ck,
        "--out",
        &out2,
        "--resume",
        "--lr",
        "0.05",
    ]);
    assert!(
        !ok && err.contains("lr: saved 0.02, given 0.05 (--lr, --recipe)"),
        "{err}"
    );
    assert!(files(dir.join("ck").as_path()) == before);
    // --resume reads the finished runs back: the same table, the same CSV.
    let (ok, second, err) = resgrad(&["--checkpoint-dir", &ck, "--out", &out2, "--resume"]);
    assert!(ok, "{err}");
    let table = |s: &str| {
        s.lines()
            .filter(|l| l.starts_with('|'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(table(&second), table(&first));
    let csv = |d: &str| std::fs::read(Path::new(d).join("degradation-runs.csv")).unwrap();
    assert_eq!(csv(&out2), csv(&out1));
    // --resume needs a folder.
    let (ok, _, err) = resgrad(&["--resume"]);
    assert!(!ok && err.contains("--checkpoint-dir"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `degradation.md` states the runs' own training times summed, which a resumed sweep
/// carries over from the commands before it, and not only the last command's wall time.
#[test]
fn the_report_of_a_resumed_sweep_counts_the_runs_own_times() {
    let (result, _) = sweep(&mlp_sweep(None), &digits(), usize::MAX);
    let mut result = result.unwrap();
    for (i, run) in result.runs.iter_mut().enumerate() {
        run.history.seconds = 100.0 * (i + 1) as f64; // as if read back from earlier commands
    }
    let report = resgrad::viz::degradation::DegradationReport {
        result,
        responses: Vec::new(),
        figures: Vec::new(),
        seconds: 5.0, // this command's wall time: it only read the states back
    };
    let md = report.markdown();
    assert!(
        md.contains("1000 s of training in all") && md.contains("this command ran 5 s"),
        "{md}"
    );
}

/// The paper's recipe on the command line: `--help` shows the preset, bad milestones are
/// refused with the rule, every recipe setting is recorded in the states and the report,
/// and a resume with another one is refused, naming it.
#[test]
fn the_recipe_is_on_the_command_line_recorded_and_held_on_resume() {
    let help = Command::new(env!("CARGO_BIN_EXE_resgrad"))
        .args(["degradation", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    for part in [
        "--recipe",
        "lr 0.1, momentum 0.9, weight decay 1e-4, batch 128",
        "at 50% and 75% of the run",
        "--milestones",
        "--augment",
        "4 pixels at 32x32, 2 at 14x14",
        "--kinds",
        "--final-eval-images",
    ] {
        assert!(help.contains(part), "`{part}` missing from --help:\n{help}");
    }
    for (bad, says) in [
        ("0.5,1.5", "the fraction 1.5 is outside (0, 1]"),
        ("0.75,0.5", "the milestones must rise: 0.5 comes after 0.75"),
        ("20,20", "the milestone 20 is given twice"),
        ("0.5,30", "`30` is a step number among fractions"),
        ("50", "step 50 lies past the run's 40 steps"),
    ] {
        let (ok, _, err) = resgrad(&["--milestones", bad]);
        assert!(!ok && err.contains(says), "--milestones {bad}: {err}");
    }

    let dir = folder("recipe");
    let s = |p: PathBuf| p.to_str().unwrap().to_string();
    let (ck, out) = (s(dir.join("ck")), s(dir.join("out")));
    let base = ["--checkpoint-dir", &ck, "--out", &out, "--depths", "4"];
    fn with<'a>(base: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
        [base, extra].concat()
    }
    let (ok, _, err) = resgrad(&with(&base, &["--milestones", "0.5", "--augment"]));
    assert!(ok, "{err}");
    let md = std::fs::read_to_string(dir.join("out").join("degradation.md")).unwrap();
    assert!(
        md.contains("schedule MultiStep { milestones: [20], factor: 10.0 }")
            && md.contains("augmentation pad, crop and flip"),
        "{md}"
    );
    let before = files(dir.join("ck").as_path());
    for (extra, says) in [
        (
            &["--milestones", "0.75", "--augment"][..],
            "schedule: saved MultiStep { milestones: [20], factor: 10.0 }, given MultiStep { \
             milestones: [30], factor: 10.0 } (--milestones, --warmup, --recipe)",
        ),
        (
            &["--milestones", "0.5"][..],
            "augment: saved pad 1 and crop, flip, given off (--augment, --recipe)",
        ),
        (&["--recipe", "paper"][..], "lr: saved 0.02, given 0.1"),
    ] {
        let (ok, _, err) = resgrad(&with(&base, &[extra, &["--resume"]].concat()));
        assert!(!ok && err.contains(says), "{extra:?}: {err}");
    }
    assert!(files(dir.join("ck").as_path()) == before);
    let (ok, _, err) = resgrad(&with(
        &base,
        &["--milestones", "0.5", "--augment", "--resume"],
    ));
    assert!(ok, "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
