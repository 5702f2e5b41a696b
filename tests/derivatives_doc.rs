//! `docs/derivatives.md` is generated from the code, so it cannot drift from it: the
//! headings and the backward rules come from the comments of the `match` in
//! `src/backward.rs`, the op names and forward formulas from `src/op.rs`.
//!
//! When the page is out of date this test fails; regenerate it with
//! `RESGRAD_BLESS=1 cargo test --test derivatives_doc`.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One op's row: its name, what it computes, its backward rule.
#[derive(Debug)]
struct Row {
    variant: String,
    name: String,
    forward: String,
    rule: String,
}

/// Variant -> its doc comment (the forward), in declaration order, from `pub enum Op`.
fn variants(op_rs: &str) -> Result<Vec<(String, String)>, String> {
    let start = op_rs
        .find("pub enum Op<")
        .ok_or("src/op.rs has no `pub enum Op`")?;
    let mut out = Vec::new();
    let mut doc: Vec<String> = Vec::new();
    for line in op_rs[start..].lines().skip(1) {
        if line == "}" {
            break;
        }
        if let Some(d) = line.strip_prefix("    /// ") {
            doc.push(d.trim().to_string());
        } else if line.starts_with("    ") && !line.starts_with("     ") {
            let name: String = line
                .trim()
                .chars()
                .take_while(|c| c.is_alphanumeric())
                .collect();
            if !name.is_empty() {
                out.push((name, doc.join(" ")));
            }
            doc.clear();
        }
    }
    Ok(out)
}

/// Variant -> its short name, from `Op::name`'s match (`Op::MatMul => "matmul"`); a variant
/// with several names (a leaf is `input` or `param`) lists them all.
fn names(op_rs: &str) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let Some(start) = op_rs.find("pub fn name(&self)") else {
        return map;
    };
    for line in op_rs[start..].lines().skip(1) {
        let t = line.trim();
        if t == "}" {
            break;
        }
        let (Some(v), Some(q)) = (t.strip_prefix("Op::"), t.split_once("=> \"")) else {
            continue;
        };
        let variant: String = v.chars().take_while(|c| c.is_alphanumeric()).collect();
        let name = q.1.trim_end_matches(&['"', ','][..]).to_string();
        map.entry(variant).or_default().push(name);
    }
    map
}

/// The sections and rows of the backward table, in the order of the `match`.
fn table(backward_rs: &str, op_rs: &str) -> Result<Vec<(String, Vec<Row>)>, String> {
    let vars = variants(op_rs)?;
    let forward: BTreeMap<_, _> = vars.iter().cloned().collect();
    let names = names(op_rs);
    let start = backward_rs
        .find("Ok(match op {")
        .ok_or("src/backward.rs has no `match op`")?;
    let mut sections: Vec<(String, Vec<Row>)> = Vec::new();
    let mut pending: Vec<String> = Vec::new();
    for line in backward_rs[start..].lines().skip(1) {
        if line == "    })" {
            break;
        }
        // Arm-level lines are indented by exactly eight spaces.
        let Some(t) = line.strip_prefix("        ") else {
            continue;
        };
        if t.starts_with(' ') {
            continue;
        }
        if let Some(h) = t.strip_prefix("// ----") {
            let title = h.trim_end_matches('-').trim();
            sections.push((title.to_string(), Vec::new()));
            pending.clear();
        } else if let Some(c) = t.strip_prefix("//") {
            pending.push(c.trim().to_string());
        } else if t.starts_with("Op::") {
            let head = t.split("=>").next().unwrap_or(t);
            let arm: Vec<String> = head
                .split("Op::")
                .skip(1)
                .map(|v| v.chars().take_while(|c| c.is_alphanumeric()).collect())
                .collect();
            if pending.is_empty() {
                return Err(format!(
                    "src/backward.rs: the arm of Op::{} has no formula comment above it",
                    arm.join(" | Op::")
                ));
            }
            let rule = pending.join(" ");
            let section = sections
                .last_mut()
                .ok_or("src/backward.rs: an arm before the first `// ---- section ----`")?;
            for v in arm {
                // `Op::Custom` is named by the learner's op, not by `Op::name`.
                let name = names
                    .get(&v)
                    .map(|n| n.join(", "))
                    .unwrap_or_else(|| v.to_lowercase());
                section.1.push(Row {
                    forward: forward.get(&v).cloned().unwrap_or_default(),
                    variant: v,
                    name,
                    rule: rule.clone(),
                });
            }
            pending.clear();
        }
    }
    let seen: Vec<&str> = sections
        .iter()
        .flat_map(|s| s.1.iter().map(|r| r.variant.as_str()))
        .collect();
    let missing: Vec<&str> = vars
        .iter()
        .map(|(v, _)| v.as_str())
        .filter(|v| !seen.contains(v))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "Op variants with no arm of their own in src/backward.rs: {missing:?}"
        ));
    }
    Ok(sections)
}

/// A table cell: rustdoc links `[`x`](crate::..)` become plain code, runs of spaces (used
/// to align formulas in the source) become one, and `|` is escaped.
fn cell(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("](crate::") {
        let close = rest[i..].find(')').map_or(rest.len(), |j| i + j + 1);
        let open = rest[..i].rfind('[').unwrap_or(i);
        out.push_str(&rest[..open]);
        out.push_str(&rest[open + 1..i]);
        rest = &rest[close..];
    }
    out.push_str(rest);
    out.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

fn render(sections: &[(String, Vec<Row>)]) -> String {
    let mut md = String::from(
        "# The table of derivatives\n\n\
         <!-- Generated from src/backward.rs and src/op.rs by tests/derivatives_doc.rs:\n     \
         edit the comments there, then run RESGRAD_BLESS=1 cargo test --test derivatives_doc -->\n\n\
         Every backward rule of resgrad is in one file, [`src/backward.rs`](../src/backward.rs):\n\
         a `match` over the [`Op`](../src/op.rs) enum, one arm per op, with its formula in a\n\
         comment above the arm. This page is that table, generated from the code, so the two\n\
         cannot disagree.\n\n\
         Notation: an op computes `y` from its inputs `a` (and `b`), or `x` (and `w`, `b`) for\n\
         the CNN ops; `g = dE/dy` (also `dy`) is the gradient of the loss with respect to the\n\
         output. Each rule gives the local derivative, or `dE/da` directly; the chain rule is\n\
         the product with `g`.\n\n\
         If an input was broadcast (a `[3]` added to a `[2, 3]`), one element of it fed many\n\
         outputs, so it receives the **sum** of their gradients: the backward sums over the\n\
         broadcast axes (`arrays::reduce_to_shape`).\n",
    );
    for (title, rows) in sections {
        let mut t = title.chars();
        let title: String = t
            .next()
            .map(|c| c.to_uppercase().collect::<String>() + t.as_str())
            .unwrap_or_default();
        md.push_str(&format!(
            "\n## {title}\n\n| op | `Op::` | forward | backward rule |\n|---|---|---|---|\n"
        ));
        for r in rows {
            md.push_str(&format!(
                "| {} | `{}` | {} | {} |\n",
                cell(&r.name),
                r.variant,
                cell(&r.forward),
                cell(&r.rule)
            ));
        }
    }
    md.push_str(
        "\nThe conv, batch-norm and pooling loops are in `src/kernels/` (a reference version\n\
         written to be read and a fast one tested against it; see `docs/kernels.md`). A\n\
         [`CustomOp`](../src/op.rs) supplies its own `forward` and `backward` and is recorded\n\
         like a built-in; [`gradcheck`](../src/gradcheck.rs) checks any rule against finite\n\
         differences.\n",
    );
    md
}

fn sources() -> (String, String) {
    (
        fs::read_to_string(root().join("src/backward.rs")).unwrap(),
        fs::read_to_string(root().join("src/op.rs")).unwrap(),
    )
}

#[test]
fn every_op_has_a_formula_and_the_page_is_current() {
    let (backward_rs, op_rs) = sources();
    let sections = table(&backward_rs, &op_rs).unwrap_or_else(|e| panic!("{e}"));
    let rows: usize = sections.iter().map(|s| s.1.len()).sum();
    let declared = variants(&op_rs).unwrap().len();
    assert!(
        declared >= 30,
        "only {declared} Op variants were read from src/op.rs"
    );
    assert_eq!(rows, declared, "one row per Op variant");
    let want = render(&sections);
    let path = root().join("docs/derivatives.md");
    if std::env::var_os("RESGRAD_BLESS").is_some() {
        fs::write(&path, &want).unwrap();
    }
    let have = fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/derivatives.md is not what src/backward.rs says; regenerate it with \
         RESGRAD_BLESS=1 cargo test --test derivatives_doc"
    );
}

#[test]
fn an_arm_without_its_formula_is_caught() {
    let (backward_rs, op_rs) = sources();
    let doctored = backward_rs.replacen("        // d tanh(a)/da = 1 - y^2\n", "", 1);
    assert_ne!(doctored, backward_rs, "the planted change must apply");
    let err = table(&doctored, &op_rs).unwrap_err();
    assert!(err.contains("Op::Tanh"), "{err}");
}

#[test]
fn a_variant_with_no_arm_is_caught() {
    let (backward_rs, op_rs) = sources();
    let doctored = op_rs.replacen("    Mse,\n", "    Mse,\n    /// planted\n    Planted,\n", 1);
    assert_ne!(doctored, op_rs, "the planted change must apply");
    let err = table(&backward_rs, &doctored).unwrap_err();
    assert!(err.contains("Planted"), "{err}");
}

#[test]
fn a_changed_formula_makes_the_page_stale() {
    let (backward_rs, op_rs) = sources();
    let doctored = backward_rs.replacen("1 - y^2", "1 - y^3", 1);
    assert_ne!(doctored, backward_rs, "the planted change must apply");
    let page = fs::read_to_string(root().join("docs/derivatives.md")).unwrap();
    let regenerated = render(&table(&doctored, &op_rs).unwrap());
    assert_ne!(page, regenerated);
}
