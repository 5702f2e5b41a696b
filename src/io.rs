//! File writing that never leaves a partial file behind.

use std::fs;
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` by writing a temporary file beside it and renaming it into
/// place, so a crash or a full disk leaves either the old file or the new one, never half.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".tmp{}", std::process::id()));
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
