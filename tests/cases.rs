//! The case table: one row for every kind of bad input a learner was seen to meet, each
//! with the input, the text its error must contain, and what must stay unchanged.
//!
//! Every row is run the way a learner would meet it, through the command line or the
//! public API. A row fails if its input panics (or exits 101), if the error lacks its
//! text, or if what it promises to leave unchanged changed. A few rows are the good
//! twin of a bad input: they must work.
//!
//! The table is also written into `docs/reliability.md`, between the `cases` markers;
//! after changing a row, write it again with
//! `RESGRAD_BLESS=1 cargo test --release --test cases`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::Command;

use resgrad::Tape;
mod common;

use common::{bn_mlp, small_conv};
use resgrad::data;
use resgrad::models::ResNet;
use resgrad::ndarray::ArrayD;
use resgrad::nn::{Mode, Module};
use resgrad::train::{Run, TrainConfig, checkpoint, load_state, save_state, train_until};

// ---------------------------------------------------------------------------------------
// Memory: the bytes this thread has allocated and not freed, and their peak.

struct Counting;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get().saturating_add_signed(delta);
        live.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

// SAFETY: every call is passed straight to the system allocator; the counters only add up
// sizes in thread-local cells, which neither allocate nor unwind.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        // SAFETY: passed on unchanged, so the caller keeps `System`'s contract for `alloc`.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        // SAFETY: passed on unchanged, so the caller keeps `System`'s contract for `dealloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        count(new as isize - layout.size() as isize);
        // SAFETY: passed on unchanged, so the caller keeps `System`'s contract for `realloc`.
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Runs `f`; returns its value and the most bytes this thread held at once above what it
/// held before.
fn peak_of<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let r = f();
    (r, PEAK.with(Cell::get) - base)
}

// ---------------------------------------------------------------------------------------
// The table.

/// What a row expects.
enum Expect {
    /// An error (or a failed command) whose text holds every one of these.
    Refused(&'static [&'static str]),
    /// Success, with every one of these in the output (if any).
    Works(&'static [&'static str]),
}

/// What a row's input did: its text (the error, or the command's output) and whether it
/// succeeded; and the check of what must stay unchanged.
struct Outcome {
    ok: bool,
    text: String,
    unchanged: Result<(), String>,
}

struct Case {
    /// The class and bullet this row stands for ("4.2": class 4, its second kind of case).
    seen: &'static str,
    /// The input, as a learner would type or write it.
    input: &'static str,
    expect: Expect,
    /// What must stay as it was, in words; `run` checks it.
    unchanged: &'static str,
    run: fn(&Path) -> Outcome,
}

fn refused(text: String, unchanged: Result<(), String>) -> Outcome {
    Outcome {
        ok: false,
        text,
        unchanged,
    }
}

fn result<T>(r: resgrad::Result<T>, unchanged: Result<(), String>) -> Outcome {
    match r {
        Ok(_) => Outcome {
            ok: true,
            text: String::new(),
            unchanged,
        },
        Err(e) => refused(e.to_string(), unchanged),
    }
}

fn same<T: PartialEq + std::fmt::Debug>(what: &str, before: T, after: T) -> Result<(), String> {
    if before == after {
        Ok(())
    } else {
        Err(format!("{what} changed"))
    }
}

/// Runs the command line with `args` (`{dir}` stands for the row's folder). A failure
/// must be an exit with code 1 (an error), not 101 (a panic); a refused run must not
/// write its output folder `{dir}/out`.
fn cli(dir: &Path, args: &[&str]) -> Outcome {
    cli_in(dir, dir, args)
}

/// [`cli`], run in the folder `cwd`.
fn cli_in(dir: &Path, cwd: &Path, args: &[&str]) -> Outcome {
    let d = dir.to_str().unwrap();
    let args: Vec<String> = args.iter().map(|a| a.replace("{dir}", d)).collect();
    let out = Command::new(env!("CARGO_BIN_EXE_resgrad"))
        .args(&args)
        .env("RESGRAD_QUIET", "1")
        .env("RESGRAD_DATA", dir.join("no-fashion-here"))
        .current_dir(cwd)
        .output()
        .unwrap();
    let code = out.status.code();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let written = dir.join("out").exists();
    let unchanged = match (out.status.success(), code, written) {
        (_, Some(101), _) => Err(format!("the command panicked (exit 101):\n{text}")),
        (false, Some(c), _) if c != 1 && c != 2 => Err(format!("exit code {c}:\n{text}")),
        (false, _, true) => Err("a refused run wrote its output folder".into()),
        _ => Ok(()),
    };
    Outcome {
        ok: out.status.success(),
        text,
        unchanged,
    }
}

fn degradation_mlp(dir: &Path, extra: &[&str]) -> Outcome {
    let mut args = vec![
        "degradation",
        "--data",
        "digits",
        "--family",
        "mlp",
        "--depths",
        "4",
        "--out",
        "{dir}/out",
    ];
    args.extend_from_slice(extra);
    cli(dir, &args)
}

// ---------------------------------------------------------------------------------------
// Inputs.

fn snapshot(m: &dyn Module<f32>) -> Vec<(String, Vec<u32>)> {
    m.state()
        .into_iter()
        .map(|(n, p, _)| (n, p.value().iter().map(|x| x.to_bits()).collect()))
        .collect()
}

fn be(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

/// An IDX image file: `n` images of `rows` x `cols`, with `body` bytes after the header.
fn idx_images(n: u32, rows: u32, cols: u32, body: usize) -> Vec<u8> {
    let mut b = be(&[0x803, n, rows, cols]);
    b.extend((0..body).map(|i| (i % 251) as u8));
    b
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut b = be(&[0x801, labels.len() as u32]);
    b.extend_from_slice(labels);
    b
}

fn ten_labels(n: usize) -> Vec<u8> {
    idx_labels(&(0..n).map(|i| (i % 10) as u8).collect::<Vec<_>>())
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn put(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// A whole IDX folder of 20 training and 10 test images of `rows` x `cols` (test images
/// of `test_rows` x `test_cols`).
fn idx_folder(dir: &Path, (rows, cols): (u32, u32), (test_rows, test_cols): (u32, u32)) {
    let px = |n, r, c| (n * r * c) as usize;
    put(
        dir,
        "train-images-idx3-ubyte",
        &idx_images(20, rows, cols, px(20, rows, cols)),
    );
    put(dir, "train-labels-idx1-ubyte", &ten_labels(20));
    put(
        dir,
        "t10k-images-idx3-ubyte",
        &idx_images(10, test_rows, test_cols, px(10, test_rows, test_cols)),
    );
    put(dir, "t10k-labels-idx1-ubyte", &ten_labels(10));
}

/// Loads an IDX pair written into `dir`: the files on disk must be unchanged after, and
/// the load must not hold more than 1 MiB at once (every file here is smaller).
fn load_pair(dir: &Path, images: &[u8], labels: &[u8]) -> Outcome {
    let i = put(dir, "images", images);
    let l = put(dir, "labels", labels);
    let (r, peak) = peak_of(|| data::idx_pair(&i, &l));
    let files = (
        &std::fs::read(&i).unwrap()[..],
        &std::fs::read(&l).unwrap()[..],
    );
    let unchanged = if peak > 1 << 20 {
        Err(format!(
            "{peak} bytes allocated to load {} bytes",
            images.len()
        ))
    } else {
        same("the files", (images, labels), files)
    };
    result(r, unchanged)
}

fn cfg(steps: usize, batch: usize) -> TrainConfig {
    TrainConfig {
        steps,
        batch,
        eval_every: 1000,
        eval_images: 32,
        label: "case".into(),
        ..TrainConfig::default()
    }
}

/// A state file after 3 steps of SGD with momentum, rewritten by `edit` (a list of
/// tensors by name; the metadata is kept), loaded into a fresh model and run.
fn load_edited_state(dir: &Path, edit: impl FnOnce(&mut Vec<Entry>)) -> Outcome {
    load_changed_state(dir, |path| rewrite(path, true, edit))
}

/// A state file after 3 steps of SGD with momentum (a run of 3 steps), changed on disk by
/// `change`, loaded into a fresh model and run.
fn load_changed_state(dir: &Path, change: impl FnOnce(&Path)) -> Outcome {
    let c = cfg(3, 8);
    let model = small_conv(1);
    let mut run = Run::new(&c);
    train_until(&model, &data::digits(), None, &c, &mut run, 3).unwrap();
    let path = dir.join("state.safetensors");
    save_state(&model, &run, &path).unwrap();
    change(&path);
    let fresh = small_conv(7);
    let mut fresh_run = Run::new(&c);
    let before = snapshot(&fresh);
    let r = load_state(&fresh, &mut fresh_run, &path);
    let velocities = fresh
        .parameters()
        .iter()
        .filter(|p| fresh_run.opt.velocity(p).is_some())
        .count();
    let unchanged = same("the model", before, snapshot(&fresh))
        .and(same("the step", 0, fresh_run.step))
        .and(same("the momentum buffers", 0, velocities));
    result(r, unchanged)
}

/// One tensor of a safetensors file: name, dtype, shape, little-endian bytes.
type Entry = (String, safetensors::Dtype, Vec<usize>, Vec<u8>);

/// Rewrites the tensors of a safetensors file in place, keeping its metadata or not.
fn rewrite(path: &Path, keep_metadata: bool, edit: impl FnOnce(&mut Vec<Entry>)) {
    let bytes = std::fs::read(path).unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut entries: Vec<Entry> = file
        .tensors()
        .into_iter()
        .map(|(n, v)| (n, v.dtype(), v.shape().to_vec(), v.data().to_vec()))
        .collect();
    edit(&mut entries);
    let views: Vec<(String, safetensors::tensor::TensorView)> = entries
        .iter()
        .map(|(n, d, s, b)| {
            let v = safetensors::tensor::TensorView::new(*d, s.clone(), b);
            (n.clone(), v.unwrap())
        })
        .collect();
    let meta = header.metadata().clone().filter(|_| keep_metadata);
    std::fs::write(path, safetensors::serialize(views, meta).unwrap()).unwrap();
}

/// Puts `value` at element `at` of the f32 tensor `name`.
fn set_f32(entries: &mut [Entry], name: &str, at: usize, value: f32) {
    let e = entries.iter_mut().find(|e| e.0 == name).unwrap();
    e.3[4 * at..4 * at + 4].copy_from_slice(&value.to_le_bytes());
}

/// Puts `value` at element `at` of the i64 tensor `name`.
fn set_i64(entries: &mut [Entry], name: &str, at: usize, value: i64) {
    let e = entries.iter_mut().find(|e| e.0 == name).unwrap();
    e.3[8 * at..8 * at + 8].copy_from_slice(&value.to_le_bytes());
}

/// A checkpoint of `small_conv` with `value` at `fc.bias[3]`, loaded into a fresh model.
fn poisoned(dir: &Path, value: f32) -> Outcome {
    load_changed_checkpoint(dir, |path| {
        rewrite(path, true, |t| set_f32(t, "fc.bias", 3, value))
    })
}

/// A checkpoint of `small_conv`, changed on disk by `change`, loaded into a fresh model.
fn load_changed_checkpoint(dir: &Path, change: impl FnOnce(&Path)) -> Outcome {
    let path = dir.join("model.safetensors");
    checkpoint::save(&small_conv(1), &path).unwrap();
    change(&path);
    let fresh = small_conv(7);
    let before = snapshot(&fresh);
    let r = checkpoint::load(&fresh, &path);
    result(r, same("the model", before, snapshot(&fresh)))
}

/// Sets the metadata entry `key` of a safetensors file to `value`, keeping its tensors.
fn set_metadata(path: &Path, key: &str, value: &str) {
    let bytes = std::fs::read(path).unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut meta = header.metadata().clone().unwrap_or_default();
    meta.insert(key.into(), value.into());
    let views = file.tensors();
    std::fs::write(path, safetensors::serialize(views, Some(meta)).unwrap()).unwrap();
}

/// Rewrites the JSON header of a safetensors file with `edit`, padding it with spaces to
/// a multiple of 8 bytes as the format does; the data is kept.
fn edit_header(path: &Path, edit: impl FnOnce(&str) -> String) {
    let bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let json = std::str::from_utf8(&bytes[8..8 + n]).unwrap().trim_end();
    let mut new = edit(json).into_bytes();
    new.resize(new.len().div_ceil(8) * 8, b' ');
    let mut out = (new.len() as u64).to_le_bytes().to_vec();
    out.extend(new);
    out.extend(&bytes[8 + n..]);
    std::fs::write(path, out).unwrap();
}

/// `json` with the entry of `key` in the top-level object written twice, one after the
/// other, the same both times.
fn key_twice(json: &str, key: &str) -> String {
    let start = json.find(&format!("\"{key}\":")).unwrap();
    let end = start + json[start..].find('}').unwrap() + 1;
    format!("{},{}", &json[..end], &json[start..])
}

/// Each loader that opens a file (IDX, CIFAR-10, checkpoint, training state, tensors)
/// given a FIFO: each must refuse it, saying what it is. A loader that waits on the FIFO
/// is let go after 10 s (a writer opens it and closes it, so the loader reads an empty
/// file) and reported.
fn fifo_loads(dir: &Path) -> Outcome {
    let fifo = dir.join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        return refused(String::new(), Err("mkfifo failed".into()));
    }
    let labels = put(dir, "labels", &ten_labels(5));
    type Load = Box<dyn FnOnce(&Path) -> Result<(), String> + Send>;
    let loaders: Vec<(&str, Load)> = vec![
        (
            "data::idx_pair",
            Box::new(move |p| {
                data::idx_pair(p, &labels)
                    .map(drop)
                    .map_err(|e| e.to_string())
            }),
        ),
        (
            "data::cifar10_file",
            Box::new(|p| data::cifar10_file(p).map(drop).map_err(|e| e.to_string())),
        ),
        (
            "checkpoint::load",
            Box::new(|p| checkpoint::load(&small_conv(1), p).map_err(|e| e.to_string())),
        ),
        (
            "load_state",
            Box::new(|p| {
                let mut run = Run::new(&cfg(3, 8));
                load_state(&small_conv(1), &mut run, p).map_err(|e| e.to_string())
            }),
        ),
        (
            "load_tensors",
            Box::new(|p| {
                resgrad::load_tensors::<f32>(p)
                    .map(drop)
                    .map_err(|e| e.to_string())
            }),
        ),
    ];
    let (mut ok, mut texts, mut problems) = (false, Vec::new(), Vec::new());
    for (name, load) in loaders {
        let (tx, rx) = std::sync::mpsc::channel();
        let path = fifo.clone();
        let worker = std::thread::spawn(move || tx.send(load(&path)).unwrap());
        let r = match rx.recv_timeout(std::time::Duration::from_secs(10)) {
            Ok(r) => r,
            Err(_) => {
                problems.push(format!("{name} waited on the FIFO"));
                drop(std::fs::OpenOptions::new().write(true).open(&fifo));
                rx.recv().unwrap()
            }
        };
        worker.join().unwrap();
        match r {
            Ok(()) => ok = true,
            Err(e) if !e.contains("not a regular file") => {
                problems.push(format!("{name} did not say why: {e}"));
                texts.push(e);
            }
            Err(e) => texts.push(e),
        }
    }
    Outcome {
        ok,
        text: texts.join("\n"),
        unchanged: if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        },
    }
}

/// A sweep on the checkpoint folder `{dir}/ck` whose lock file holds `pid`: what it says,
/// and whether the lock file is still there afterwards.
fn sweep_with_lock(dir: &Path, pid: u32) -> (Outcome, bool) {
    let ck = dir.join("ck");
    std::fs::create_dir_all(&ck).unwrap();
    let lock = put(&ck, ".resgrad-sweep.lock", format!("{pid}\n").as_bytes());
    let o = degradation_mlp(dir, &["--steps", "2", "--checkpoint-dir", "{dir}/ck"]);
    (o, lock.exists())
}

/// A regular file where an output folder's parent should be: a folder no one can create.
fn blocked_folder(dir: &Path) -> PathBuf {
    put(dir, "file", b"not a folder").join("out")
}

/// Six SGD steps of a small ResNet on `threads` threads: the losses' bits. With
/// `resume = Some((at, later, dir))`, the run saves its state at step `at`, and a fresh
/// model on a pool of `later` threads loads it and takes the remaining steps.
fn curve(threads: usize, resume: Option<(usize, usize, &Path)>) -> Vec<u32> {
    let c = cfg(6, 13);
    let in_pool = |n: usize, f: &(dyn Fn() -> Vec<u32> + Sync)| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(n).build();
        pool.unwrap().install(f)
    };
    let bits = |run: &Run| -> Vec<u32> {
        run.history
            .loss
            .iter()
            .map(|l| (*l as f32).to_bits())
            .collect()
    };
    let steps = |until: usize, load: Option<&Path>, save: Option<&Path>| {
        let model = small_conv(5);
        let mut run = Run::new(&c);
        if let Some(p) = load {
            load_state(&model, &mut run, p).unwrap();
        }
        train_until(&model, &data::digits().take(52), None, &c, &mut run, until).unwrap();
        if let Some(p) = save {
            save_state(&model, &run, p).unwrap();
        }
        bits(&run)
    };
    match resume {
        None => in_pool(threads, &|| steps(6, None, None)),
        Some((at, later, dir)) => {
            let path = dir.join("state.safetensors");
            let mut first = in_pool(threads, &|| steps(at, None, Some(&path)));
            first.extend(in_pool(later, &|| steps(6, Some(&path), None)));
            first
        }
    }
}

fn resnet50_pair(dir: &Path, with_metadata: bool) -> Outcome {
    let path = dir.join("v1.safetensors");
    checkpoint::save(&ResNet::<f32>::resnet50_v1(), &path).unwrap();
    if !with_metadata {
        // As torchvision writes it: the same keys, no resgrad metadata.
        rewrite(&path, false, |_| {});
    }
    let v15 = ResNet::<f32>::resnet50_v1_5();
    // Unlike the file's, so that a load shows.
    v15.fc.bias.as_ref().unwrap().update(|b| b.fill(0.5));
    let before = snapshot(&v15);
    let r = checkpoint::load(&v15, &path);
    let unchanged = if r.is_err() {
        same("the v1.5 model", before, snapshot(&v15))
    } else if snapshot(&v15) == before {
        Err("the file loaded but the model did not change".into())
    } else {
        Ok(())
    };
    result(r, unchanged)
}

fn cases() -> Vec<Case> {
    vec![
        // 1. A last batch of one image.
        Case {
            seen: "1.1",
            input: "`net.try_forward(x, Mode::Train)`: an MLP with batch norm, a batch of one image",
            expect: Expect::Refused(&["batch_norm2d", "more than one value per channel"]),
            unchanged: "the net's weights and running statistics",
            run: |_| {
                let net = bn_mlp(0);
                let before = snapshot(&net);
                let tape = Tape::new();
                let one = tape.constant(ArrayD::from_elem(vec![1, 1, 8, 8], 0.5));
                let r = net.try_forward(&one, Mode::Train);
                result(r, same("the net", before, snapshot(&net)))
            },
        },
        Case {
            seen: "1.2",
            input: "`degradation --data digits --family mlp --batch 8` (1,497 images: one left over)",
            expect: Expect::Works(&["plain-4", "resnet-4"]),
            unchanged: "-",
            run: |d| degradation_mlp(d, &["--batch", "8", "--steps", "5"]),
        },
        Case {
            seen: "1.3",
            input: "`--subset 33 --batch 8 --keep-last`: a subset that leaves one image over, with the last batch kept",
            expect: Expect::Refused(&["batch_norm2d", "holds 1 image", "drop_last"]),
            unchanged: "no output folder written",
            run: |d| {
                degradation_mlp(
                    d,
                    &[
                        "--batch",
                        "8",
                        "--subset",
                        "33",
                        "--steps",
                        "8",
                        "--keep-last",
                    ],
                )
            },
        },
        Case {
            seen: "1.4",
            input: "`--subset 33 --batch 8`: the same subset, the last batch dropped (the default)",
            expect: Expect::Works(&["plain-4"]),
            unchanged: "-",
            run: |d| degradation_mlp(d, &["--batch", "8", "--subset", "33", "--steps", "8"]),
        },
        // 2. Divergence.
        Case {
            seen: "2.1",
            input: "`degradation --lr 1e6 --steps 50`",
            expect: Expect::Refused(&[
                "diverged at step",
                "last finite loss",
                "Lower the learning rate",
            ]),
            unchanged: "no table or figure written",
            run: |d| degradation_mlp(d, &["--lr", "1e6", "--steps", "50"]),
        },
        Case {
            seen: "2.2",
            input: "`--lr nan`",
            expect: Expect::Refused(&["learning rate is NaN", "finite"]),
            unchanged: "no output folder written",
            run: |d| degradation_mlp(d, &["--lr=nan"]),
        },
        Case {
            seen: "2.3",
            input: "`--lr inf`",
            expect: Expect::Refused(&["learning rate is inf", "finite"]),
            unchanged: "no output folder written",
            run: |d| degradation_mlp(d, &["--lr=inf"]),
        },
        Case {
            seen: "2.4",
            input: "`--lr -1`",
            expect: Expect::Refused(&["learning rate is -1", "0 or more"]),
            unchanged: "no output folder written",
            run: |d| degradation_mlp(d, &["--lr=-1"]),
        },
        Case {
            seen: "2.5",
            input: "`degradation --lr 1e6 --steps 50 --detect-anomaly`",
            expect: Expect::Refused(&["diverged at step", "Anomaly mode found where", "op `"]),
            unchanged: "no table or figure written",
            run: |d| degradation_mlp(d, &["--lr", "1e6", "--steps", "50", "--detect-anomaly"]),
        },
        // 3. A folder that does not hold a data set.
        Case {
            seen: "3.1",
            input: "`degradation --data-dir /nonexistent`",
            expect: Expect::Refused(&["/nonexistent", "no such folder"]),
            unchanged: "no training on the embedded digits; no output folder",
            run: |d| {
                cli(
                    d,
                    &[
                        "degradation",
                        "--data-dir",
                        "/nonexistent",
                        "--out",
                        "{dir}/out",
                    ],
                )
            },
        },
        Case {
            seen: "3.2",
            input: "`--data-dir D`, D's `train-images-idx3-ubyte.gz` a corrupt gzip file",
            expect: Expect::Refused(&["train-images-idx3-ubyte.gz", "corrupt or truncated gzip"]),
            unchanged: "no training on the embedded digits; no output folder",
            run: |d| {
                let data = d.join("data");
                std::fs::create_dir_all(&data).unwrap();
                idx_folder(&data, (4, 4), (4, 4));
                let mut bad = gz(&std::fs::read(data.join("train-images-idx3-ubyte")).unwrap());
                std::fs::remove_file(data.join("train-images-idx3-ubyte")).unwrap();
                let n = bad.len();
                bad[n / 2..n - 8].iter_mut().for_each(|b| *b ^= 0x5a);
                put(&data, "train-images-idx3-ubyte.gz", &bad);
                cli(
                    d,
                    &[
                        "degradation",
                        "--data-dir",
                        "{dir}/data",
                        "--out",
                        "{dir}/out",
                    ],
                )
            },
        },
        Case {
            seen: "3.3",
            input: "`--data-dir D`, D without `train-labels-idx1-ubyte`",
            expect: Expect::Refused(&[
                "does not hold an IDX data set",
                "train-labels-idx1-ubyte is missing",
            ]),
            unchanged: "no training on the embedded digits; no output folder",
            run: |d| {
                let data = d.join("data");
                std::fs::create_dir_all(&data).unwrap();
                idx_folder(&data, (4, 4), (4, 4));
                std::fs::remove_file(data.join("train-labels-idx1-ubyte")).unwrap();
                cli(
                    d,
                    &[
                        "degradation",
                        "--data-dir",
                        "{dir}/data",
                        "--out",
                        "{dir}/out",
                    ],
                )
            },
        },
        Case {
            seen: "3.4",
            input: "`--data-dir D`, D an empty folder",
            expect: Expect::Refused(&["does not hold", "it holds nothing"]),
            unchanged: "no training on the embedded digits; no output folder",
            run: |d| {
                std::fs::create_dir_all(d.join("data")).unwrap();
                cli(
                    d,
                    &[
                        "degradation",
                        "--data-dir",
                        "{dir}/data",
                        "--out",
                        "{dir}/out",
                    ],
                )
            },
        },
        // 4. Loaders and headers.
        Case {
            seen: "4.1",
            input: "an IDX header of 2^32-1 images of 2^32-1 x 2^32-1 pixels, 100 bytes after it",
            expect: Expect::Refused(&["promises", "4294967295 images", "the file has 100"]),
            unchanged: "the files; under 1 MiB allocated",
            run: |d| {
                load_pair(
                    d,
                    &idx_images(u32::MAX, u32::MAX, u32::MAX, 100),
                    &ten_labels(5),
                )
            },
        },
        Case {
            seen: "4.2",
            input: "an IDX image file of zero images",
            expect: Expect::Refused(&["at least one image of at least 1x1"]),
            unchanged: "the files",
            run: |d| load_pair(d, &idx_images(0, 3, 4, 0), &ten_labels(0)),
        },
        Case {
            seen: "4.3",
            input: "an IDX image file of five 0x0 images",
            expect: Expect::Refused(&["at least one image of at least 1x1"]),
            unchanged: "the files",
            run: |d| load_pair(d, &idx_images(5, 0, 0, 0), &ten_labels(5)),
        },
        Case {
            seen: "4.4",
            input: "an IDX folder whose test images are 5x5, its training images 4x4",
            expect: Expect::Refused(&["[1, 5, 5]", "[1, 4, 4]", "same size"]),
            unchanged: "the files",
            run: |d| {
                idx_folder(d, (4, 4), (5, 5));
                let before = std::fs::read(d.join("t10k-images-idx3-ubyte")).unwrap();
                let r = data::idx_dir(d);
                let after = std::fs::read(d.join("t10k-images-idx3-ubyte")).unwrap();
                result(r, same("the test file", before, after))
            },
        },
        Case {
            seen: "4.5",
            input: "an IDX folder whose test split holds no image",
            expect: Expect::Refused(&["t10k-images-idx3-ubyte", "at least one image"]),
            unchanged: "the files",
            run: |d| {
                idx_folder(d, (4, 4), (4, 4));
                put(d, "t10k-images-idx3-ubyte", &idx_images(0, 4, 4, 0));
                put(d, "t10k-labels-idx1-ubyte", &idx_labels(&[]));
                result(data::idx_dir(d), Ok(()))
            },
        },
        Case {
            seen: "4.6",
            input: "an IDX label file with the labels 0, 1, 200, 3, 4",
            expect: Expect::Refused(&["label 200 (at index 2)", "201 classes", "0..C-1"]),
            unchanged: "the files",
            run: |d| load_pair(d, &idx_images(5, 3, 4, 60), &idx_labels(&[0, 1, 200, 3, 4])),
        },
        Case {
            seen: "4.7",
            input: "a 16 KiB gzip file that inflates to 16 MiB behind a label file's header, given as images",
            expect: Expect::Refused(&["wrong magic number", "an IDX image file starts with"]),
            unchanged: "the files; under 1 MiB allocated while refusing it",
            run: |d| {
                let mut bomb = ten_labels(0);
                bomb.resize(16 << 20, 0);
                let bomb = gz(&bomb);
                let images = put(d, "bomb.gz", &bomb);
                let labels = put(d, "labels", &ten_labels(5));
                let (r, peak) = peak_of(|| data::idx_pair(&images, &labels));
                let unchanged = if peak > 1 << 20 {
                    Err(format!("{peak} bytes allocated to refuse it"))
                } else {
                    same("the file", bomb, std::fs::read(&images).unwrap())
                };
                result(r, unchanged)
            },
        },
        Case {
            seen: "4.8",
            input: "a gzipped IDX image file with one byte of one pixel flipped (stored blocks, so the stream still inflates)",
            expect: Expect::Refused(&["corrupt or truncated gzip", "checksum"]),
            unchanged: "the files",
            run: |d| {
                let mut images = {
                    let mut e =
                        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
                    e.write_all(&idx_images(5, 3, 4, 60)).unwrap();
                    e.finish().unwrap()
                };
                // The last pixel: 8 bytes of trailer come after it.
                let n = images.len();
                images[n - 9] ^= 0x01;
                load_pair(d, &images, &ten_labels(5))
            },
        },
        Case {
            seen: "4.9",
            input: "a FIFO given as the file to `data::idx_pair`, `data::cifar10_file`, `checkpoint::load`, `load_state` and `load_tensors`",
            expect: Expect::Refused(&["a named pipe (FIFO)", "not a regular file"]),
            unchanged: "no loader waits on it; each says what it is",
            run: fifo_loads,
        },
        Case {
            seen: "4.10",
            input: "a checkpoint whose header names `fc.bias` twice (the same entry both times)",
            expect: Expect::Refused(&["`fc.bias`", "twice"]),
            unchanged: "the model",
            run: |d| load_changed_checkpoint(d, |p| edit_header(p, |j| key_twice(j, "fc.bias"))),
        },
        // 5. Flags and values.
        Case {
            seen: "5.1",
            input: "`degradation --steps 0`",
            expect: Expect::Refused(&["steps is 0", "at least 1 step"]),
            unchanged: "no output folder written",
            run: |d| degradation_mlp(d, &["--steps=0"]),
        },
        Case {
            seen: "5.2",
            input: "`degradation --batch 0`",
            expect: Expect::Refused(&["batch is 0", "at least 1 image"]),
            unchanged: "no output folder written",
            run: |d| degradation_mlp(d, &["--batch=0"]),
        },
        Case {
            seen: "5.3",
            input: "`degradation --width 0`",
            expect: Expect::Refused(&["width is 0"]),
            unchanged: "no output folder written",
            run: |d| degradation_mlp(d, &["--width=0"]),
        },
        Case {
            seen: "5.4",
            input: "`degradation --depths 0` (conv and mlp)",
            expect: Expect::Refused(&["6n + 2", "MLP of depth 0"]),
            unchanged: "no output folder written",
            run: |d| {
                let conv = cli(
                    d,
                    &[
                        "degradation",
                        "--data",
                        "digits",
                        "--depths=0",
                        "--out",
                        "{dir}/out",
                    ],
                );
                let mlp = degradation_mlp(d, &["--depths=0"]);
                Outcome {
                    ok: conv.ok || mlp.ok,
                    text: format!("{}\n{}", conv.text, mlp.text),
                    unchanged: conv.unchanged.and(mlp.unchanged),
                }
            },
        },
        Case {
            seen: "5.5",
            input: "`bench conv --batch 0`",
            expect: Expect::Refused(&["--batch", "0 is not in 1.."]),
            unchanged: "-",
            run: |d| cli(d, &["bench", "conv", "--batch", "0"]),
        },
        Case {
            seen: "5.6",
            input: "`summary resnet600002`",
            expect: Expect::Refused(&["depth 600002", "would need", "GiB"]),
            unchanged: "-",
            run: |d| cli(d, &["summary", "resnet600002"]),
        },
        Case {
            seen: "5.7",
            input: "`degradation --family mlp --width 100000 --depths 56`",
            expect: Expect::Refused(&["MlpSpec", "would need", "GiB", "this machine has"]),
            unchanged: "no output folder written",
            run: |d| degradation_mlp(d, &["--width", "100000", "--depths", "56"]),
        },
        Case {
            seen: "5.8",
            input: "`degradation --eval-every 0`",
            expect: Expect::Refused(&["eval_every is 0", "at least 1"]),
            unchanged: "no output folder written",
            run: |d| degradation_mlp(d, &["--steps", "4", "--eval-every", "0"]),
        },
        Case {
            seen: "5.9",
            input: "`degradation --seeds 0,0`",
            expect: Expect::Refused(&["the seed 0 is given twice"]),
            unchanged: "no output folder written",
            run: |d| degradation_mlp(d, &["--steps", "4", "--seeds", "0,0"]),
        },
        Case {
            seen: "5.10",
            input: "`bench train --depths 20 --batch 100000000`",
            expect: Expect::Refused(&["batch of 100000000", "would need", "this machine has"]),
            unchanged: "no process started to measure a net",
            run: |d| {
                let mut o = cli(
                    d,
                    &[
                        "bench",
                        "train",
                        "--depths",
                        "20",
                        "--steps",
                        "1",
                        "--batch",
                        "100000000",
                    ],
                );
                if o.text.contains("training-step bench:") {
                    o.unchanged = o.unchanged.and(Err("the bench started measuring".into()));
                }
                o
            },
        },
        // 6. Training state.
        Case {
            seen: "6.1",
            input: "a training state after 3 steps with `optim.fc.weight.momentum_buffer` removed",
            expect: Expect::Refused(&[
                "`optim.fc.weight.momentum_buffer`",
                "lacks the momentum buffer",
            ]),
            unchanged: "the model, the step and the optimizer",
            run: |d| {
                load_edited_state(d, |t| {
                    t.retain(|e| e.0 != "optim.fc.weight.momentum_buffer")
                })
            },
        },
        Case {
            seen: "6.2",
            input: "a training state with a NaN in a momentum buffer",
            expect: Expect::Refused(&["`optim.fc.bias.momentum_buffer`", "NaN", "[1]"]),
            unchanged: "the model, the step and the optimizer",
            run: |d| {
                load_edited_state(d, |t| {
                    set_f32(t, "optim.fc.bias.momentum_buffer", 1, f32::NAN)
                })
            },
        },
        Case {
            seen: "6.3",
            input: "a checkpoint with a NaN in `fc.bias`",
            expect: Expect::Refused(&["`fc.bias`", "NaN", "index [3]"]),
            unchanged: "the model",
            run: |d| poisoned(d, f32::NAN),
        },
        Case {
            seen: "6.4",
            input: "a checkpoint with an infinity in `fc.bias`",
            expect: Expect::Refused(&["`fc.bias`", "an infinity", "index [3]"]),
            unchanged: "the model",
            run: |d| poisoned(d, f32::NEG_INFINITY),
        },
        Case {
            seen: "6.5",
            input: "a run of 6 steps saved on 2 threads at step 3 and resumed on 1",
            expect: Expect::Works(&[]),
            unchanged: "the loss curve, bit for bit, against 6 steps on 2 threads and on 1",
            run: |d| {
                let two = curve(2, None);
                let one = curve(1, None);
                let resumed = curve(2, Some((3, 1, d)));
                let moved = if two.first() == two.last() {
                    Err("the loss did not move: equal curves would prove nothing".into())
                } else {
                    Ok(())
                };
                Outcome {
                    ok: true,
                    text: String::new(),
                    unchanged: moved
                        .and(same("the curve on 1 thread", &two, &one))
                        .and(same("the resumed curve", &two, &resumed)),
                }
            },
        },
        Case {
            seen: "6.6",
            input: "`degradation --checkpoint-dir C`, then the same command with `--resume`",
            expect: Expect::Works(&["plain-4", "resnet-4"]),
            unchanged: "the resumed sweep's CSV equals the first run's, byte for byte",
            run: |d| {
                let args = ["--steps", "6", "--checkpoint-dir", "{dir}/ck"];
                let first = degradation_mlp(d, &args);
                let csv = || std::fs::read(d.join("out/degradation.csv")).unwrap_or_default();
                let before = csv();
                let again = degradation_mlp(d, &[&args[..], &["--resume"]].concat());
                let same_csv = if before.is_empty() {
                    Err("the first run wrote no CSV".into())
                } else {
                    same("the CSV", before, csv())
                };
                Outcome {
                    ok: first.ok && again.ok,
                    text: format!("{}\n{}", first.text, again.text),
                    unchanged: first.unchanged.and(again.unchanged).and(same_csv),
                }
            },
        },
        Case {
            seen: "6.7",
            input: "a checkpoint with a running variance of -1 at `bn1.running_var[2]`",
            expect: Expect::Refused(&["`bn1.running_var`", "-1", "index [2]", "never negative"]),
            unchanged: "the model",
            run: |d| {
                load_changed_checkpoint(d, |p| {
                    rewrite(p, true, |t| set_f32(t, "bn1.running_var", 2, -1.0))
                })
            },
        },
        Case {
            seen: "6.8",
            input: "a checkpoint with a batch count of -3 at `bn1.num_batches_tracked`",
            expect: Expect::Refused(&["`bn1.num_batches_tracked`", "-3", "never negative"]),
            unchanged: "the model",
            run: |d| {
                load_changed_checkpoint(d, |p| {
                    rewrite(p, true, |t| set_i64(t, "bn1.num_batches_tracked", 0, -3))
                })
            },
        },
        Case {
            seen: "6.9",
            input: "a training state of a 3-step run whose `step` is 2^64-1",
            expect: Expect::Refused(&["`step`", "18446744073709551615", "3 steps"]),
            unchanged: "the model, the step and the optimizer",
            run: |d| load_changed_state(d, |p| set_metadata(p, "step", &u64::MAX.to_string())),
        },
        Case {
            seen: "6.10",
            input: "a training state with an extra key `optim.fc.weight.momentum_bufer` (misspelt)",
            expect: Expect::Refused(&["`optim.fc.weight.momentum_bufer`", "optimizer"]),
            unchanged: "the model, the step and the optimizer",
            run: |d| {
                load_edited_state(d, |t| {
                    let mut e = t
                        .iter()
                        .find(|e| e.0 == "optim.fc.weight.momentum_buffer")
                        .unwrap()
                        .clone();
                    e.0 = "optim.fc.weight.momentum_bufer".into();
                    t.push(e);
                })
            },
        },
        Case {
            seen: "6.11",
            input: "`degradation --checkpoint-dir C` while another sweep holds C (its lock file `C/.resgrad-sweep.lock` names a running process)",
            expect: Expect::Refused(&["`.resgrad-sweep.lock`", "another sweep", "PID"]),
            unchanged: "the other sweep's lock; no run state written",
            run: |d| {
                let me = std::process::id();
                let (mut o, lock_kept) = sweep_with_lock(d, me);
                let states = std::fs::read_dir(d.join("ck")).unwrap().count();
                let lock = std::fs::read_to_string(d.join("ck/.resgrad-sweep.lock"));
                o.unchanged = o
                    .unchanged
                    .and(same(
                        "the lock",
                        (true, format!("{me}\n")),
                        (lock_kept, lock.unwrap_or_default()),
                    ))
                    .and(same("the files in the folder", 1, states));
                if !o.text.contains(&me.to_string()) {
                    o.unchanged = o
                        .unchanged
                        .and(Err(format!("the holder's PID {me} is not named")));
                }
                o
            },
        },
        Case {
            seen: "6.12",
            input: "`degradation --checkpoint-dir C`, C's lock file left by a sweep whose process died",
            expect: Expect::Works(&["plain-4", "resnet-4"]),
            unchanged: "- (the stale lock is taken over, and removed when the sweep ends)",
            run: |d| {
                let (mut o, lock_kept) = sweep_with_lock(d, 4_294_967_000);
                if lock_kept {
                    o.unchanged = o.unchanged.and(Err("the lock file is still there".into()));
                }
                o
            },
        },
        // 7. Saves.
        Case {
            seen: "7.1",
            input: "8 threads each saving to one path 25 times at once",
            expect: Expect::Works(&[]),
            unchanged: "every save succeeds; the file is whole, one thread's tensor",
            run: |d| {
                let path = d.join("m.safetensors");
                let errors: Vec<String> = std::thread::scope(|s| {
                    let handles: Vec<_> = (0..8)
                        .map(|t| {
                            let path = &path;
                            s.spawn(move || {
                                let x = ArrayD::<f32>::from_elem(vec![64], t as f32);
                                (0..25)
                                    .filter_map(|_| resgrad::save_tensors(path, &[("x", &x)]).err())
                                    .map(|e| e.to_string())
                                    .collect::<Vec<_>>()
                            })
                        })
                        .collect();
                    handles
                        .into_iter()
                        .flat_map(|h| h.join().unwrap())
                        .collect()
                });
                let x = &resgrad::load_tensors::<f32>(&path).unwrap()["x"];
                let whole = if x.iter().all(|v| *v == x[[0]]) && x[[0]] < 8.0 {
                    Ok(())
                } else {
                    Err("the file mixes two saves".into())
                };
                Outcome {
                    ok: errors.is_empty(),
                    text: errors.join("\n"),
                    unchanged: whole,
                }
            },
        },
        Case {
            seen: "7.2",
            input: "a temporary `m.safetensors.tmp4294967000.3` left by a save whose process died",
            expect: Expect::Works(&[]),
            unchanged: "the next save removes it; the temporaries of live processes stay",
            run: |d| {
                let path = d.join("m.safetensors");
                let dead = d.join("m.safetensors.tmp4294967000.3");
                let live = d.join(format!("m.safetensors.tmp{}.77", std::process::id()));
                put(d, "m.safetensors.tmp4294967000.3", b"half a save");
                put(
                    d,
                    live.file_name().unwrap().to_str().unwrap(),
                    b"in progress",
                );
                let r = resgrad::save_tensors(&path, &[("x", &ArrayD::<f32>::zeros(vec![2]))]);
                let unchanged = match (dead.exists(), live.exists()) {
                    (false, true) => Ok(()),
                    (true, _) => Err("the dead process's temporary is still there".into()),
                    (_, false) => Err("a live process's temporary was removed".into()),
                };
                result(r, unchanged)
            },
        },
        Case {
            seen: "7.3",
            input: "`degradation --out F/out`, F a file (a folder no one can write)",
            expect: Expect::Refused(&["--out", "cannot be written", "Not a directory"]),
            unchanged: "nothing trained or loaded before the refusal",
            run: |d| {
                let out = blocked_folder(d);
                let mut o = cli(
                    d,
                    &[
                        "degradation",
                        "--data",
                        "digits",
                        "--family",
                        "mlp",
                        "--depths",
                        "4",
                        "--steps",
                        "4",
                        "--out",
                        out.to_str().unwrap(),
                    ],
                );
                if o.text.contains("data: ") {
                    o.unchanged = o.unchanged.and(Err("the data was loaded first".into()));
                }
                o
            },
        },
        Case {
            seen: "7.4",
            input: "`flow --out F/out`, F a file",
            expect: Expect::Refused(&["--out", "cannot be written", "Not a directory"]),
            unchanged: "no figure computed before the refusal",
            run: |d| {
                let out = blocked_folder(d);
                let start = std::time::Instant::now();
                let mut o = cli(d, &["flow", "--out", out.to_str().unwrap()]);
                if start.elapsed().as_secs() >= 5 {
                    o.unchanged = o.unchanged.and(Err(format!(
                        "refused after {:.0} s: the figures were computed first",
                        start.elapsed().as_secs_f64()
                    )));
                }
                o
            },
        },
        Case {
            seen: "7.5",
            input: "`resgrad` (the tour) in a folder where `out` is a file",
            expect: Expect::Refused(&["`out`", "cannot be written", "a file"]),
            unchanged: "the file `out`; nothing computed before the refusal",
            run: |d| {
                let here = d.join("here");
                std::fs::create_dir_all(&here).unwrap();
                put(&here, "out", b"a file in the way");
                let start = std::time::Instant::now();
                let mut o = cli_in(d, &here, &[]);
                let secs = start.elapsed().as_secs_f64();
                o.unchanged = o.unchanged.and(same(
                    "the file `out`",
                    &b"a file in the way"[..],
                    &std::fs::read(here.join("out")).unwrap_or_default()[..],
                ));
                if secs >= 5.0 {
                    o.unchanged = o.unchanged.and(Err(format!(
                        "refused after {secs:.0} s: the tour ran first"
                    )));
                }
                o
            },
        },
        // 8. Two layouts under one set of keys.
        Case {
            seen: "8.1",
            input: "a checkpoint of ResNet-50 v1 loaded into ResNet-50 v1.5",
            expect: Expect::Refused(&["resgrad.arch", "`resnet50 (ImageNet, option B, v1.5)`"]),
            unchanged: "the v1.5 model",
            run: |d| resnet50_pair(d, true),
        },
        Case {
            seen: "8.2",
            input: "the same weights without resgrad's metadata (as torchvision saves them) into v1.5",
            expect: Expect::Works(&[]),
            unchanged: "- (the file loads: the model takes its weights)",
            run: |d| resnet50_pair(d, false),
        },
        // 9. A test that skips without saying so.
        Case {
            seen: "9.1",
            input: "the Fashion-MNIST loader test on a machine without the data set",
            expect: Expect::Works(&["needs dataset-fashion-mnist", "--include-ignored"]),
            unchanged: "the test is listed as ignored, with its reason, and CI runs it",
            run: |_| {
                let test = std::fs::read_to_string("tests/data_files.rs").unwrap();
                let ci = std::fs::read_to_string(".ci/run").unwrap();
                let ignored = test
                    .split("#[test]")
                    .find(|t| t.contains("fn fashion_mnist_loads_from_the_debian_package"))
                    .map(|t| t.trim_start().lines().next().unwrap_or("").to_string())
                    .unwrap_or_default();
                let ci_runs = ci
                    .lines()
                    .find(|l| l.starts_with("cargo test") && l.contains("data_files"))
                    .unwrap_or("")
                    .to_string();
                Outcome {
                    ok: true,
                    text: format!("{ignored}\n{ci_runs}"),
                    unchanged: Ok(()),
                }
            },
        },
    ]
}

/// The classes of "what was seen", and how many kinds of case each has: every kind needs
/// a row. Written from the list of failures, not from the table.
const SEEN: [(u32, &str, u32); 9] = [
    (1, "a last batch of one image", 4),
    (2, "divergence", 5),
    (3, "a folder that is not a data set", 4),
    (4, "loader headers", 10),
    (5, "flags and values", 10),
    (6, "training state", 12),
    (7, "saves", 5),
    (8, "two layouts under one set of keys", 2),
    (9, "a test that skips without saying so", 1),
];

/// Checks one row; `None` if it holds, else what went wrong.
fn check(case: &Case, dir: &Path) -> Option<String> {
    let outcome = match catch_unwind(AssertUnwindSafe(|| (case.run)(dir))) {
        Ok(o) => o,
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            return Some(format!("panicked: {msg}"));
        }
    };
    let (want_ok, parts) = match case.expect {
        Expect::Refused(p) => (false, p),
        Expect::Works(p) => (true, p),
    };
    let mut problems = Vec::new();
    if outcome.ok != want_ok {
        problems.push(if want_ok {
            "failed, and should work".to_string()
        } else {
            "was accepted, and should be refused".to_string()
        });
    }
    for p in parts {
        if !outcome.text.contains(p) {
            problems.push(format!("`{p}` is not in the text"));
        }
    }
    if let Err(e) = outcome.unchanged {
        problems.push(format!("unchanged: {e}"));
    }
    (!problems.is_empty())
        .then(|| format!("{}\n--- text ---\n{}", problems.join("; "), outcome.text))
}

fn markdown(cases: &[Case]) -> String {
    let mut s = String::from(
        "| case | bad input | expected text (each part) | what stays unchanged |\n|---|---|---|---|\n",
    );
    for c in cases {
        let expected = match c.expect {
            Expect::Refused(p) => format!("refused: {}", quoted(p)),
            Expect::Works([]) => "works".to_string(),
            Expect::Works(p) => format!("works: {}", quoted(p)),
        };
        s.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            c.seen, c.input, expected, c.unchanged
        ));
    }
    s
}

fn quoted(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| format!("\"{}\"", p.replace('|', "\\|")))
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn every_case_in_the_table_holds() {
    let cases = cases();
    // Every kind of case has its row, and every row belongs to a class.
    for (class, name, kinds) in SEEN {
        for k in 1..=kinds {
            let id = format!("{class}.{k}");
            assert!(
                cases.iter().any(|c| c.seen == id),
                "no row for case {id} ({name})"
            );
        }
    }
    for c in &cases {
        let (class, kind) = c.seen.split_once('.').unwrap();
        let (class, kind): (u32, u32) = (class.parse().unwrap(), kind.parse().unwrap());
        assert!(
            SEEN.iter()
                .any(|&(n, _, kinds)| n == class && kind <= kinds),
            "row {} belongs to no class",
            c.seen
        );
    }

    let root = std::env::temp_dir().join(format!("resgrad-cases-{}", std::process::id()));
    let failures: Vec<String> = std::thread::scope(|s| {
        let chunks: Vec<Vec<&Case>> = (0..2)
            .map(|w| cases.iter().skip(w).step_by(2).collect())
            .collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let root = &root;
                s.spawn(move || {
                    chunk
                        .into_iter()
                        .filter_map(|c| {
                            let dir = root.join(c.seen);
                            std::fs::create_dir_all(&dir).unwrap();
                            check(c, &dir).map(|p| format!("case {} ({}): {p}", c.seen, c.input))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let _ = std::fs::remove_dir_all(&root);
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));

    // The table in docs/reliability.md is this one.
    let doc_path = Path::new("docs/reliability.md");
    let doc = std::fs::read_to_string(doc_path).unwrap();
    let (begin, end) = ("<!-- cases:begin -->\n", "<!-- cases:end -->");
    let (Some(b), Some(e)) = (doc.find(begin), doc.find(end)) else {
        panic!("docs/reliability.md has no `{begin}` .. `{end}` section");
    };
    let table = markdown(&cases);
    if std::env::var_os("RESGRAD_BLESS").is_some() {
        let new = format!("{}{begin}{table}{}", &doc[..b], &doc[e..]);
        std::fs::write(doc_path, new).unwrap();
    } else {
        assert_eq!(
            &doc[b + begin.len()..e],
            table,
            "docs/reliability.md's case table is stale: RESGRAD_BLESS=1 cargo test --release --test cases"
        );
    }
}

#[test]
fn a_row_that_does_not_hold_is_caught() {
    // The checker's teeth: a row whose input is accepted, one whose text differs, one that
    // panics and one that changes what it promised to keep are each reported.
    let dir = std::env::temp_dir().join(format!("resgrad-cases-teeth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let row = |expect, run| Case {
        seen: "0.0",
        input: "planted",
        expect,
        unchanged: "-",
        run,
    };
    let accepted = row(Expect::Refused(&["x"]), |_| result(Ok(()), Ok(())));
    let wrong_text = row(Expect::Refused(&["learning rate"]), |_| {
        refused("steps is 0".into(), Ok(()))
    });
    let panics = row(Expect::Works(&[]), |_| panic!("planted panic"));
    let changed = row(Expect::Works(&[]), |_| {
        result(Ok(()), same("the model", 1, 2))
    });
    let fine = row(Expect::Refused(&["steps"]), |_| {
        refused("steps is 0".into(), Ok(()))
    });
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let verdicts: Vec<Option<String>> = [&accepted, &wrong_text, &panics, &changed, &fine]
        .iter()
        .map(|c| check(c, &dir))
        .collect();
    std::panic::set_hook(quiet);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        verdicts[0]
            .as_deref()
            .unwrap()
            .contains("should be refused")
    );
    assert!(
        verdicts[1]
            .as_deref()
            .unwrap()
            .contains("`learning rate` is not in")
    );
    assert!(verdicts[2].as_deref().unwrap().contains("planted panic"));
    assert!(
        verdicts[3]
            .as_deref()
            .unwrap()
            .contains("the model changed")
    );
    assert_eq!(verdicts[4], None);
    // And the memory counter sees a large allocation.
    let (_, peak) = peak_of(|| vec![1u8; 4 << 20]);
    assert!(peak >= 4 << 20, "{peak}");
}
