//! The floor plan is enforced: every module of the library imports only modules of a lower
//! layer, as the table in `docs/architecture.md` assigns them.
//!
//! The check reads every `crate::<module>` path in `src/` (in `use` lines and inline in
//! code, comments left out), resolves `super::` paths that climb to the crate root, and
//! counts a name re-exported at the crate root (`crate::Var`) as its defining module
//! (`tape`). Modules of one layer may not import each other either, so there can be no
//! circle. The last tests plant upward imports and show that the check catches them.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// module name -> layer, read from the table in docs/architecture.md
/// (rows of the form `| 3 | `arrays` | ... |`).
fn layers() -> BTreeMap<String, u32> {
    let doc = fs::read_to_string(root().join("docs/architecture.md"))
        .expect("docs/architecture.md holds the floor plan");
    let mut map = BTreeMap::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 4 {
            continue;
        }
        let (Ok(layer), Some(name)) = (
            cells[1].parse::<u32>(),
            cells[2].strip_prefix('`').and_then(|c| c.strip_suffix('`')),
        ) else {
            continue;
        };
        assert!(
            map.insert(name.to_string(), layer).is_none(),
            "docs/architecture.md lists `{name}` twice"
        );
    }
    map
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every library source file (not the binary's), as (path relative to src/, text).
fn library_sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, src: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<_> = fs::read_dir(dir).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.path());
        for e in entries {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == "bin") {
                    continue;
                }
                walk(&p, src, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p
                    .strip_prefix(src)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                if rel != "main.rs" {
                    out.push((rel, fs::read_to_string(&p).unwrap()));
                }
            }
        }
    }
    let src = root().join("src");
    let mut out = Vec::new();
    walk(&src, &src, &mut out);
    out
}

/// The top-level modules `lib.rs` declares (`mod x;` or `pub mod x;`).
fn declared_modules(lib: &str) -> Vec<String> {
    lib.lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l.strip_prefix("pub ").unwrap_or(l);
            let l = l.strip_prefix("pub(crate) ").unwrap_or(l);
            l.strip_prefix("mod ")?
                .strip_suffix(';')
                .map(|m| m.trim().to_string())
        })
        .collect()
}

/// Root re-exports: `pub use tape::{Tape, Var};` maps `Tape` and `Var` to `tape`.
fn root_names(lib: &str, modules: &[String]) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for m in modules {
        map.insert(m.clone(), m.clone());
    }
    let code = strip_comments(lib);
    for stmt in code.split(';') {
        let Some(rest) = stmt.trim().strip_prefix("pub use ") else {
            continue;
        };
        let rest = rest.trim();
        let (module, tail) = rest.split_once("::").unwrap_or((rest, ""));
        if !modules.iter().any(|m| m == module) {
            continue; // an external crate (ndarray, plotters)
        }
        let names: Vec<&str> = if let Some(group) = tail.strip_prefix('{') {
            group.trim_end_matches('}').split(',').collect()
        } else {
            vec![tail]
        };
        for n in names {
            let n = n.trim();
            let n = n.rsplit(" as ").next().unwrap_or(n);
            let n = n.rsplit("::").next().unwrap_or(n).trim();
            if !n.is_empty() {
                map.insert(n.to_string(), module.to_string());
            }
        }
    }
    map
}

/// The code of a file without its `//` comments (strings are respected, so a `//` inside
/// a string literal does not start a comment).
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_str = false;
        let mut prev = '\0';
        let mut cut = line.len();
        for (i, c) in line.char_indices() {
            if c == '"' && prev != '\\' {
                in_str = !in_str;
            }
            if !in_str && c == '/' && prev == '/' {
                cut = i - 1;
                break;
            }
            prev = if prev == '\\' && c == '\\' { '\0' } else { c };
        }
        out.push_str(&line[..cut]);
        out.push('\n');
    }
    out
}

/// The top-level module a file belongs to, and how deep inside it the file's module is
/// (`tape/grads.rs` is `tape::grads`, depth 2; `tape/mod.rs` and `io.rs` depth 1).
fn owner(rel: &str) -> (String, usize) {
    let parts: Vec<&str> = rel.split('/').collect();
    let top = parts[0].trim_end_matches(".rs").to_string();
    let last = *parts.last().unwrap();
    let depth = if last == "mod.rs" {
        parts.len() - 1
    } else {
        parts.len()
    };
    (top, depth)
}

/// One import of one module by another, with where it was found.
#[derive(Debug, Clone)]
struct Import {
    from: String,
    to: String,
    file: String,
    line: usize,
    text: String,
}

/// Every reference from a library file to another top-level module.
fn imports(files: &[(String, String)], names: &BTreeMap<String, String>) -> Vec<Import> {
    let mut found = Vec::new();
    for (rel, text) in files {
        let (from, depth) = owner(rel);
        if from == "lib" {
            continue; // the root only declares and re-exports
        }
        let code = strip_comments(text);
        for (n, line) in code.lines().enumerate() {
            let mut targets: Vec<String> = Vec::new();
            // crate::x, crate::{a, b::c, ...}
            let mut rest = line;
            while let Some(i) = rest.find("crate::") {
                // `$crate::` and identifiers ending in "crate" are not the crate root.
                let before = rest[..i].chars().last();
                let after = &rest[i + "crate::".len()..];
                rest = after;
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                    continue;
                }
                if let Some(group) = after.strip_prefix('{') {
                    targets.extend(group_heads(group));
                } else {
                    targets.push(ident(after));
                }
            }
            // super::super::x climbing to the root from a module `depth` deep.
            let mut rest = line;
            while let Some(i) = rest.find("super::") {
                let mut k = 0;
                let mut tail = &rest[i..];
                while let Some(t) = tail.strip_prefix("super::") {
                    k += 1;
                    tail = t;
                }
                rest = tail;
                if k >= depth {
                    if let Some(group) = tail.strip_prefix('{') {
                        targets.extend(group_heads(group));
                    } else {
                        targets.push(ident(tail));
                    }
                }
            }
            for t in targets {
                let Some(to) = names.get(&t) else { continue };
                if *to != from {
                    found.push(Import {
                        from: from.clone(),
                        to: to.clone(),
                        file: format!("src/{rel}"),
                        line: n + 1,
                        text: line.trim().to_string(),
                    });
                }
            }
        }
    }
    found
}

fn ident(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// The first segment of each path in a `{a, b::c, d::{e, f}}` group (the text after `{`).
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut at_start = true;
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => at_start = true,
            c if at_start && depth == 0 && !c.is_whitespace() => {
                heads.push(ident(&group[i..]));
                at_start = false;
            }
            _ => {}
        }
    }
    heads
}

/// Each import that does not go strictly down a layer, as a sentence.
fn violations(
    files: &[(String, String)],
    layers: &BTreeMap<String, u32>,
    names: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut out = Vec::new();
    for imp in imports(files, names) {
        let (Some(&lf), Some(&lt)) = (layers.get(&imp.from), layers.get(&imp.to)) else {
            out.push(format!(
                "{}:{}: `{}` or `{}` is missing from the table in docs/architecture.md",
                imp.file, imp.line, imp.from, imp.to
            ));
            continue;
        };
        if lt >= lf {
            let how = if lt == lf {
                "the same layer"
            } else {
                "a layer above"
            };
            out.push(format!(
                "{}:{}: `{}` (layer {lf}) reaches `{}` (layer {lt}), {how}: `{}`",
                imp.file, imp.line, imp.from, imp.to, imp.text
            ));
        }
    }
    out
}

/// The library's files, the floor plan, and the root's re-exported names.
type Tree = (
    Vec<(String, String)>,
    BTreeMap<String, u32>,
    BTreeMap<String, String>,
);

fn the_tree() -> Tree {
    let lib = fs::read_to_string(root().join("src/lib.rs")).unwrap();
    let modules = declared_modules(&lib);
    (library_sources(), layers(), root_names(&lib, &modules))
}

#[test]
fn every_module_of_the_library_is_in_the_floor_plan() {
    let lib = fs::read_to_string(root().join("src/lib.rs")).unwrap();
    let declared = declared_modules(&lib);
    let table = layers();
    let missing: Vec<_> = declared
        .iter()
        .filter(|m| !table.contains_key(*m))
        .collect();
    assert!(
        missing.is_empty(),
        "modules declared in src/lib.rs but not in docs/architecture.md: {missing:?}"
    );
    let stale: Vec<_> = table.keys().filter(|m| !declared.contains(m)).collect();
    assert!(
        stale.is_empty(),
        "docs/architecture.md lists modules that src/lib.rs does not declare: {stale:?}"
    );
}

#[test]
fn every_module_imports_only_what_stands_below_it() {
    let (files, layers, names) = the_tree();
    let found = imports(&files, &names);
    // The check has something to check: the engine's own imports are seen.
    assert!(
        found.iter().any(|i| i.from == "tape" && i.to == "backward"),
        "the scan should see tape use backward; it saw {} imports",
        found.len()
    );
    let bad = violations(&files, &layers, &names);
    assert!(
        bad.is_empty(),
        "imports against the floor plan:\n{}",
        bad.join("\n")
    );
}

/// The tree with one extra file planted at `path`.
fn planted(path: &str, text: &str) -> Vec<String> {
    let (mut files, layers, names) = the_tree();
    files.push((path.to_string(), text.to_string()));
    violations(&files, &layers, &names)
}

#[test]
fn a_planted_upward_use_line_is_caught() {
    // The tape reaching up to the figures.
    let bad = planted("tape/planted.rs", "use crate::viz::Figure;\n");
    assert!(
        bad.iter().any(|b| b.contains("src/tape/planted.rs:1")
            && b.contains("`tape`")
            && b.contains("`viz`")),
        "{bad:?}"
    );
}

#[test]
fn a_planted_upward_inline_path_is_caught() {
    // nn reaching up to models in the middle of an expression, and through a group.
    let bad = planted(
        "nn/planted.rs",
        "fn f() {\n    let s = crate::models::ResNet::cifar(20, ShortcutOption::A);\n}\n",
    );
    assert!(
        bad.iter()
            .any(|b| b.contains("src/nn/planted.rs:2") && b.contains("`models`")),
        "{bad:?}"
    );
    let bad = planted("ops/planted.rs", "use crate::{Float, nn::Module};\n");
    assert!(
        bad.iter()
            .any(|b| b.contains("`ops`") && b.contains("`nn`")),
        "{bad:?}"
    );
}

#[test]
fn a_planted_import_through_a_root_reexport_or_super_is_caught() {
    // `crate::Var` is the tape's; kernels stand below the tape.
    let bad = planted("kernels/fast/planted.rs", "use crate::{Float, Var};\n");
    assert!(
        bad.iter()
            .any(|b| b.contains("`kernels`") && b.contains("`tape`")),
        "{bad:?}"
    );
    // Three `super`s from kernels/fast/x.rs climb to the root, then into ops.
    let bad = planted(
        "kernels/fast/planted2.rs",
        "use super::super::super::ops::RunningStats;\n",
    );
    assert!(
        bad.iter()
            .any(|b| b.contains("`kernels`") && b.contains("`ops`")),
        "{bad:?}"
    );
}

#[test]
fn downward_imports_and_comments_are_not_flagged() {
    // The negative control: a downward import, a doc link upward, a string with `//`.
    let bad = planted(
        "nn/planted.rs",
        "use crate::tape::Var;\n/// See [`crate::viz`].\nconst U: &str = \"http://x\"; // crate::train\n",
    );
    let about_it: Vec<_> = bad.iter().filter(|b| b.contains("planted.rs")).collect();
    assert!(about_it.is_empty(), "{about_it:?}");
}
