//! The library builds for the browser (`wasm32-unknown-unknown`; `scripts/check` builds
//! it), and it also has to run there. Some of std compiles for that target but panics
//! when called, so a compiler never catches them: `Instant::now()`, `SystemTime::now()`,
//! `std::process::id()`, and spawning a thread. These tests keep each of them in the one
//! file that puts it behind a `cfg` (the clock in `src/clock.rs`, the process id in
//! `src/io.rs`), and threads out of the library altogether: rayon runs its work on the
//! calling thread where it cannot start one.

use std::fs;
use std::path::{Path, PathBuf};

/// What panics in a browser, and the one library file allowed to call it (`None`: none).
const PANICS_IN_A_BROWSER: &[(&str, Option<&str>)] = &[
    ("Instant::now", Some("clock.rs")),
    ("SystemTime::now", Some("clock.rs")),
    ("process::id", Some("io.rs")),
    ("thread::spawn", None),
    ("thread::scope", None),
    ("thread::Builder", None),
];

/// Every library source file (the binary's left out: it runs natively only), as (path
/// relative to `src/`, text).
fn library_sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, src: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<_> = fs::read_dir(dir).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.path());
        for e in entries {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "bin") {
                    walk(&p, src, out);
                }
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p
                    .strip_prefix(src)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, fs::read_to_string(&p).unwrap()));
            }
        }
    }
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    walk(&src, &src, &mut out);
    out
}

/// `file:line: call` for every call of [`PANICS_IN_A_BROWSER`] outside its allowed file.
fn offenders(files: &[(String, String)]) -> Vec<String> {
    let mut found = Vec::new();
    for (path, text) in files {
        for (n, line) in text.lines().enumerate() {
            for &(call, allowed) in PANICS_IN_A_BROWSER {
                if line.contains(call) && allowed != Some(path.as_str()) {
                    found.push(format!("src/{path}:{}: {call}", n + 1));
                }
            }
        }
    }
    found
}

#[test]
fn what_panics_in_a_browser_is_called_only_behind_its_cfg() {
    let files = library_sources();
    assert!(files.iter().any(|(p, _)| p == "clock.rs"));
    let found = offenders(&files);
    assert!(
        found.is_empty(),
        "these calls compile for wasm32-unknown-unknown but panic in a browser; read the \
         time through crate::clock::Stopwatch, and leave threads to rayon:\n{}",
        found.join("\n")
    );
}

#[test]
fn a_planted_clock_read_in_the_trainer_is_caught() {
    let planted = vec![(
        "train/mod.rs".to_string(),
        "fn f() {\n    let t = std::time::Instant::now();\n}\n".to_string(),
    )];
    assert_eq!(offenders(&planted), ["src/train/mod.rs:2: Instant::now"]);
    let allowed = vec![(
        "clock.rs".to_string(),
        "let t = std::time::Instant::now();".to_string(),
    )];
    assert!(offenders(&allowed).is_empty());
}
