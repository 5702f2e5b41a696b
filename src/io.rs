//! Files: writing that never leaves a partial file behind, reading only from regular
//! files, output folders checked before the work, and a lock on a folder.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Numbers the temporary files of this process, so two saves never share one.
static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` by writing a temporary file beside it and renaming it into
/// place, so a crash or a full disk leaves either the old file or the new one, never half.
///
/// The temporary file is `<name>.tmp<pid>.<n>`, with this process's id and a number no
/// other save of this process uses, so concurrent saves to one path never collide (the
/// last rename wins, and the file is always one whole payload). Before writing, the
/// save removes `<name>.tmp<pid>*` siblings whose process no longer runs (a save killed
/// midway); on systems without `/proc` it leaves them.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    remove_stale_temporaries(path);
    let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".tmp{}.{n}", process_id()));
    let tmp = path.with_file_name(tmp_name);
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// This process's id, for the temporary file names.
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
fn process_id() -> u32 {
    std::process::id()
}

/// 0: a browser (`wasm32-unknown-unknown`) has no process ids, and `std::process::id()`
/// panics there. Its file system refuses every write, so a save returns that error
/// instead of panicking.
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
fn process_id() -> u32 {
    0
}

/// The process id in a temporary file name `<name>.tmp<pid>` or `<name>.tmp<pid>.<n>`,
/// given the part after `<name>.tmp`.
fn tmp_pid(suffix: &str) -> Option<u32> {
    let digits = suffix.split('.').next()?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Whether the process `pid` is known to have ended: only where `/proc` lists the
/// running processes (Linux); elsewhere nothing is known, and nothing is removed.
fn process_is_gone(pid: u32) -> bool {
    let proc = Path::new("/proc");
    cfg!(target_os = "linux") && proc.join("self").exists() && !proc.join(pid.to_string()).exists()
}

/// Removes the temporary siblings of `path` left by saves of processes that no longer
/// run. Best effort: a sibling that cannot be listed or removed is left alone, and never
/// one of this process or of a process still running.
fn remove_stale_temporaries(path: &Path) {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return;
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let prefix = format!("{name}.tmp");
    let me = process_id();
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name
            .to_str()
            .and_then(|f| f.strip_prefix(&prefix))
            .and_then(tmp_pid)
        else {
            continue;
        };
        if pid != me && process_is_gone(pid) && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Refuses `path` unless it is a regular file (a symbolic link to one counts), looking
/// at its type before anything opens it: opening a FIFO waits until something writes to
/// it, and a device may never end. The error says what the path is and what to do.
pub(crate) fn check_regular_file(path: &Path) -> Result<(), String> {
    let meta = fs::metadata(path).map_err(|e| format!("could not read: {e}"))?;
    if meta.is_file() {
        return Ok(());
    }
    Err(format!(
        "it is {}, not a regular file; resgrad reads data and checkpoints only from regular \
         files (opening a FIFO would wait for a writer, and a device may never end): give \
         the path of a file",
        kind_of(&meta.file_type())
    ))
}

/// What a file that is not a regular file is, in words.
fn kind_of(t: &fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
    }
    if t.is_dir() {
        "a folder"
    } else {
        "something other than a file"
    }
}

/// Checks, before any work that would write there starts, that files can be written in
/// the folder `dir`: creates it (and any missing parent), writes a small file there and
/// removes it, then removes the folders it created, so that the check leaves nothing
/// behind. A run that would lose hours of work to an unwritable output folder is refused
/// at its start instead.
///
/// The error names the folder, what failed and the system's reason.
///
/// ```
/// let dir = std::env::temp_dir().join("resgrad-doc-writable/figures");
/// resgrad::check_writable_folder(&dir)?;
/// assert!(!dir.exists()); // created for the check, and removed again
/// let file = std::env::temp_dir().join("resgrad-doc-writable-file");
/// std::fs::write(&file, "in the way")?;
/// let e = resgrad::check_writable_folder(&file).unwrap_err();
/// assert!(e.to_string().contains("it is a file, not a folder"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[track_caller]
pub fn check_writable_folder(dir: impl AsRef<Path>) -> crate::Result<()> {
    let dir = dir.as_ref();
    let location = std::panic::Location::caller();
    let refuse = |why: String| {
        Err(crate::Error::argument(
            "check_writable_folder",
            format!(
                "the folder `{}` cannot be written: {why}; nothing was started: choose a \
                 folder you can write to",
                dir.display()
            ),
            location,
        ))
    };
    if fs::metadata(dir).is_ok_and(|m| !m.is_dir()) {
        return refuse("it is a file, not a folder (move the file away)".into());
    }
    // The folders the check creates, innermost first: removed again after it.
    let created: Vec<&Path> = dir
        .ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && fs::symlink_metadata(a).is_err())
        .collect();
    let result = fs::create_dir_all(dir)
        .map_err(|e| format!("it could not be created ({e})"))
        .and_then(|()| {
            let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
            let probe = dir.join(format!(".resgrad-probe{}.{n}", process_id()));
            let written = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&probe)
                .and_then(|mut f| f.write_all(b"probe"));
            let _ = fs::remove_file(&probe);
            written.map_err(|e| format!("a file could not be written in it ({e})"))
        });
    for d in created {
        let _ = fs::remove_dir(d);
    }
    result.or_else(refuse)
}

/// A lock on a folder, held while this value lives: the file `<dir>/<name>`, created
/// only where none is (so that two processes cannot both create it), holding this
/// process's id, and removed when the value is dropped.
#[derive(Debug)]
pub(crate) struct FolderLock {
    path: std::path::PathBuf,
}

impl FolderLock {
    /// Takes the lock `name` in `dir` (created if missing) for a `user` (`"sweep"`), or
    /// says who holds it and what to do (`other` names another folder's flag). A lock
    /// whose process no longer runs (known only where `/proc` lists processes) is taken
    /// over, with a note on stderr unless `RESGRAD_QUIET` is set.
    pub(crate) fn take(dir: &Path, name: &str, user: &str, other: &str) -> Result<Self, String> {
        fs::create_dir_all(dir).map_err(|e| format!("could not create the folder: {e}"))?;
        let path = dir.join(name);
        let me = process_id();
        // Twice at most: once more after a stale lock is removed.
        for _ in 0..2 {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    let lock = FolderLock { path };
                    return match f.write_all(format!("{me}\n").as_bytes()) {
                        Ok(()) => Ok(lock),
                        Err(e) => Err(format!("could not write its lock file `{name}`: {e}")),
                    };
                }
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                    return Err(format!("could not create its lock file `{name}`: {e}"));
                }
                Err(_) => {}
            }
            let text = fs::read_to_string(&path).unwrap_or_default();
            let holder = text.trim().parse::<u32>().ok();
            match holder {
                Some(pid) if pid != me && process_is_gone(pid) => {
                    if std::env::var_os("RESGRAD_QUIET").is_none() {
                        eprintln!(
                            "note: {}: the lock of PID {pid}, which no longer runs, is taken \
                             over (a {user} that ended without removing it)",
                            path.display()
                        );
                    }
                    let _ = fs::remove_file(&path);
                }
                Some(pid) => {
                    let runs = if cfg!(target_os = "linux") {
                        "which is running"
                    } else {
                        "which may still run"
                    };
                    return Err(format!(
                        "another {user} uses this folder: its lock file `{name}` names PID \
                         {pid}, {runs}. Two {user}s on one folder would overwrite each \
                         other's files: wait for it to end, or use another {other}; if no \
                         {user} runs and PID {pid} is another program now, delete `{name}`"
                    ));
                }
                None => {
                    return Err(format!(
                        "another {user} may use this folder: its lock file `{name}` holds \
                         `{}`, not a PID (a {user} that is starting writes its PID there). \
                         Wait a moment and try again; if no {user} runs, delete `{name}`",
                        text.trim()
                    ));
                }
            }
        }
        Err(format!(
            "another {user} took the lock file `{name}` as this one took it over: wait for \
             it to end, or use another {other}"
        ))
    }
}

impl Drop for FolderLock {
    fn drop(&mut self) {
        // Only our own: never a lock another process took over meanwhile.
        let ours = fs::read_to_string(&self.path)
            .is_ok_and(|t| t.trim().parse::<u32>().ok() == Some(process_id()));
        if ours {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// `s` with `&`, `<`, `>` and `"` escaped, for text put inside HTML or SVG.
pub(crate) fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Prints `body` in the form the evcxr Jupyter kernel shows inline as `mime`
/// (`image/svg+xml`, `text/html`).
pub(crate) fn evcxr_show(mime: &str, body: &str) {
    println!("EVCXR_BEGIN_CONTENT {mime}\n{body}\nEVCXR_END_CONTENT");
}

/// Shows plain text in a notebook as a preformatted HTML block, optionally in a colour.
pub(crate) fn evcxr_show_text(text: &str, color: Option<&str>) {
    let style = color
        .map(|c| format!(" style=\"color:{c}\""))
        .unwrap_or_default();
    evcxr_show(
        "text/html",
        &format!("<pre{style}>{}</pre>", escape_html(text)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("resgrad-io-{}-{name}", process_id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_folder_lock_is_held_once_and_given_back() {
        let d = dir("lock");
        let lock = FolderLock::take(&d, "x.lock", "sweep", "folder").unwrap();
        let path = d.join("x.lock");
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            format!("{}\n", process_id())
        );
        let e = FolderLock::take(&d, "x.lock", "sweep", "folder").unwrap_err();
        assert!(e.contains(&format!("names PID {}", process_id())), "{e}");
        drop(lock);
        assert!(!path.exists());
        // A lock that names no PID is not taken: its writer may be starting.
        fs::write(&path, "").unwrap();
        let e = FolderLock::take(&d, "x.lock", "sweep", "folder").unwrap_err();
        assert!(e.contains("not a PID"), "{e}");
        // One whose process no longer runs is taken over, where that can be known.
        fs::write(&path, "4294967000\n").unwrap();
        let taken = FolderLock::take(&d, "x.lock", "sweep", "folder");
        if cfg!(target_os = "linux") {
            let lock = taken.unwrap();
            assert_eq!(
                fs::read_to_string(&path).unwrap(),
                format!("{}\n", process_id())
            );
            drop(lock);
            assert!(!path.exists());
        }
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn a_writable_folder_is_checked_without_a_trace() {
        let d = dir("writable");
        check_writable_folder(d.join("a/b")).unwrap();
        assert!(!d.exists(), "the check left the folders it created");
        fs::create_dir_all(&d).unwrap();
        check_writable_folder(&d).unwrap();
        assert_eq!(
            fs::read_dir(&d).unwrap().count(),
            0,
            "the check left its probe"
        );
        fs::write(d.join("f"), "a file").unwrap();
        let e = check_writable_folder(d.join("f/out"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("f/out`") && e.contains("could not be created"),
            "{e}"
        );
        let _ = fs::remove_dir_all(&d);
    }
}
