//! File formats: IDX (MNIST, Fashion-MNIST, the embedded digits) and CIFAR-10 binary.
//! Every problem is an [`Error::Data`](crate::Error) naming the file; nothing panics.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use flate2::bufread::GzDecoder;

use super::Dataset;
use crate::error::{Error, Result};

/// The deflate format cannot shrink data by more than about 1032 to 1, so a gzip file of
/// `len` bytes holds at most `len * 1032` bytes of content.
const MAX_DEFLATE_RATIO: u64 = 1032;

/// Where an IDX file's content comes from: the name errors give (a path, or `<image
/// bytes>` for bytes in memory), a reader of the content (un-gzipped), and the most bytes
/// that content can hold.
type Source<'a> = (&'a Path, Content<'a>, u64);

/// An IDX file's content: the raw bytes, or what a gzip stream inflates to.
enum Content<'a> {
    Raw(Box<dyn BufRead + 'a>),
    Gz(GzDecoder<Box<dyn BufRead + 'a>>),
}

impl Read for Content<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Content::Raw(r) => r.read(buf),
            Content::Gz(r) => r.read(buf),
        }
    }
}

impl Content<'_> {
    /// Checks that the content ends right after `what` (what the header promised): no byte
    /// may follow. A gzip stream is read to its end, so that its trailer's checksum and
    /// length are checked (a flipped byte inflates to a wrong pixel otherwise unseen), and
    /// nothing may follow the trailer.
    fn check_end(&mut self, path: &Path, what: &str) -> Result<()> {
        match self.read(&mut [0u8]) {
            Ok(0) => {}
            Ok(_) => {
                return Err(Error::data(
                    path,
                    format!(
                        "more bytes follow {what}: the header's counts do not match the \
                         file (a corrupt header, or two files joined into one)"
                    ),
                ));
            }
            Err(e) => return Err(corrupt_gzip(path, e)),
        }
        if let Content::Gz(gz) = self {
            let rest = gz.get_mut().fill_buf().map_err(|e| corrupt_gzip(path, e))?;
            if !rest.is_empty() {
                return Err(Error::data(
                    path,
                    "bytes follow the end of its gzip stream: a gzip IDX file is one gzip \
                     stream, so the file is corrupt or several were joined (un-gzip it and \
                     gzip it again)",
                ));
            }
        }
        Ok(())
    }
}

/// A file's content as a [`Source`] (see [`open_maybe_gz`]). A path that is not a
/// regular file (a FIFO, a device, a folder) is refused before it is opened.
fn open_file(path: &Path) -> Result<Source<'_>> {
    let io = |e: std::io::Error| Error::data(path, format!("could not read: {e}"));
    crate::io::check_regular_file(path).map_err(|e| Error::data(path, e))?;
    let f = File::open(path).map_err(io)?;
    let len = f.metadata().map_err(io)?.len();
    let (r, bound) = open_maybe_gz(BufReader::new(f), len, path)?;
    Ok((path, r, bound))
}

/// Bytes in memory as a [`Source`] named `name` (see [`open_maybe_gz`]).
fn open_bytes<'a>(bytes: &'a [u8], name: &'a Path) -> Result<Source<'a>> {
    let (r, bound) = open_maybe_gz(Cursor::new(bytes), bytes.len() as u64, name)?;
    Ok((name, r, bound))
}

/// Content of `len` bytes as a reader (un-gzipped if it starts with the gzip magic bytes),
/// and the most bytes that content can hold: `len` for raw content; for gzip, the
/// uncompressed size its trailer records, where that is exact (below 4 GiB), or else
/// deflate's limit. A header that promises more than this is refused before anything is
/// inflated. Files and bytes in memory both come through here.
fn open_maybe_gz<'a, R: BufRead + Seek + 'a>(
    mut f: R,
    len: u64,
    name: &Path,
) -> Result<(Content<'a>, u64)> {
    let io = |e: std::io::Error| Error::data(name, format!("could not read: {e}"));
    let mut magic = [0u8; 2];
    // The smallest gzip file is 18 bytes (10 of header, 8 of trailer).
    let is_gz = len >= 18 && f.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
    if !is_gz {
        f.seek(SeekFrom::Start(0)).map_err(io)?;
        return Ok((Content::Raw(Box::new(f)), len));
    }
    // The last four bytes of a gzip file: the uncompressed size modulo 2^32.
    let mut isize = [0u8; 4];
    f.seek(SeekFrom::End(-4)).map_err(io)?;
    f.read_exact(&mut isize).map_err(io)?;
    f.seek(SeekFrom::Start(0)).map_err(io)?;
    let gz = GzDecoder::new(Box::new(f) as Box<dyn BufRead + 'a>);
    Ok((Content::Gz(gz), gz_bound(len, isize)))
}

/// The most bytes a gzip file of `len` bytes whose trailer ends in `isize` can inflate to:
/// the recorded size where deflate's limit is below 4 GiB (so the record is exact), but
/// never more than that limit, whatever a corrupt or forged trailer records.
fn gz_bound(len: u64, isize: [u8; 4]) -> u64 {
    let limit = len.saturating_mul(MAX_DEFLATE_RATIO);
    if limit < 1 << 32 {
        u64::from(u32::from_le_bytes(isize)).min(limit)
    } else {
        limit
    }
}

/// Reads exactly `n` bytes, or says what went wrong: a short file, or a corrupt gzip stream.
fn read_n(r: &mut dyn Read, n: u64, path: &Path, what: &str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(usize::try_from(n).unwrap_or(0).min(1 << 30));
    match r.take(n).read_to_end(&mut out) {
        Ok(got) if got as u64 == n => Ok(out),
        Ok(got) => Err(Error::data(
            path,
            format!("truncated: {what} needs {n} bytes, the file holds {got}"),
        )),
        Err(e) => Err(corrupt_gzip(path, e)),
    }
}

fn corrupt_gzip(path: &Path, e: std::io::Error) -> Error {
    Error::data(path, format!("a corrupt or truncated gzip file: {e}"))
}

fn be_u32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Reads an IDX header of `len` bytes (8 for labels, 16 for images) whose first four bytes
/// must be `magic`.
fn idx_header(
    r: &mut dyn Read,
    path: &Path,
    (len, magic): (u64, u32),
    kind: (&str, &str),
) -> Result<Vec<u8>> {
    let (this, other) = kind;
    let mut head = Vec::with_capacity(len as usize);
    if let Err(e) = r.take(len).read_to_end(&mut head) {
        return Err(corrupt_gzip(path, e));
    }
    // The magic number first: a file of the other kind is named as such even if short.
    let found = if head.len() >= 4 {
        be_u32(&head, 0)
    } else {
        magic
    };
    if (head.len() as u64) < len && found == magic {
        return Err(Error::data(
            path,
            format!("too short for an IDX {this} header ({len} bytes)"),
        ));
    }
    if found != magic {
        return Err(Error::data(
            path,
            format!(
                "wrong magic number 0x{found:08x}: an IDX {this} file starts with 0x{magic:08x} \
                 ({} {other} file has 0x{:08x})",
                if other == "image" { "an" } else { "a" },
                magic ^ 0x2
            ),
        ));
    }
    Ok(head)
}

/// Reads IDX images: magic 0x00000803, count, rows, cols, then one byte per pixel.
fn idx_images_from(
    r: &mut Content,
    bound: u64,
    path: &Path,
) -> Result<(usize, usize, usize, Vec<u8>)> {
    let head = idx_header(r, path, (16, 0x0803), ("image", "label"))?;
    let (n, rows, cols) = (be_u32(&head, 4), be_u32(&head, 8), be_u32(&head, 12));
    if n == 0 || rows == 0 || cols == 0 {
        return Err(Error::data(
            path,
            format!(
                "the header promises {n} images of {rows}x{cols}: a data set needs at least one \
                 image of at least 1x1"
            ),
        ));
    }
    let want = u64::from(n)
        .checked_mul(u64::from(rows))
        .and_then(|v| v.checked_mul(u64::from(cols)))
        .filter(|&w| w <= bound.saturating_sub(16))
        .ok_or_else(|| {
            Error::data(
                path,
                format!(
                    "truncated: the header promises {n} images of {rows}x{cols} ({} bytes), the \
                     file has {}",
                    u128::from(n) * u128::from(rows) * u128::from(cols),
                    bound.saturating_sub(16)
                ),
            )
        })?;
    let what = "the images the header promises";
    let pixels = read_n(r, want, path, what)?;
    r.check_end(path, what)?;
    Ok((n as usize, rows as usize, cols as usize, pixels))
}

/// Reads IDX labels: magic 0x00000801, count, then one byte per label.
fn idx_labels_from(r: &mut Content, bound: u64, path: &Path) -> Result<Vec<usize>> {
    let head = idx_header(r, path, (8, 0x0801), ("label", "image"))?;
    let n = u64::from(be_u32(&head, 4));
    if n > bound.saturating_sub(8) {
        return Err(Error::data(
            path,
            format!(
                "truncated: the header promises {n} labels, the file has {}",
                bound.saturating_sub(8)
            ),
        ));
    }
    let what = "the labels the header promises";
    let b = read_n(r, n, path, what)?;
    r.check_end(path, what)?;
    Ok(b.iter().map(|&l| l as usize).collect())
}

/// Checks that labels number their classes `0..C` with every class present, so that a
/// stray label (a 200 among 0..9) is an error rather than 191 empty classes; returns `C`.
fn check_classes(path: &Path, labels: &[usize]) -> Result<usize> {
    let classes = labels.iter().max().map_or(0, |m| m + 1);
    let mut seen = vec![false; classes];
    for &l in labels {
        seen[l] = true;
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        let (at, big) = labels
            .iter()
            .enumerate()
            .max_by_key(|&(i, &l)| (l, std::cmp::Reverse(i)))
            .map(|(i, &l)| (i, l))
            .unwrap_or((0, 0));
        return Err(Error::data(
            path,
            format!(
                "label {big} (at index {at}) implies {classes} classes, but no label is \
                 {missing}: classes must be numbered 0..C-1 with every class present"
            ),
        ));
    }
    Ok(classes)
}

fn idx_dataset(
    name: &str,
    (ip, (n, rows, cols, pixels)): (&Path, (usize, usize, usize, Vec<u8>)),
    (lp, labels): (&Path, Vec<usize>),
    scale: f32,
) -> Result<Dataset> {
    if labels.len() != n {
        return Err(Error::data(
            ip,
            format!(
                "{n} images but {} labels in {}: the two files do not belong together",
                labels.len(),
                lp.display()
            ),
        ));
    }
    let classes = check_classes(lp, &labels)?;
    Ok(Dataset {
        name: name.to_string(),
        images: pixels.iter().map(|&p| p as f32 / scale).collect(),
        shape: [1, rows, cols],
        labels,
        classes,
    })
}

/// An IDX image source and its label source as a data set named `name`, pixels divided
/// by `scale`: what [`idx_pair`], [`idx_pair_from_bytes`] and [`digits`] share.
fn idx_pair_from(name: &str, images: Source, labels: Source, scale: f32) -> Result<Dataset> {
    let (ip, mut ir, ibound) = images;
    let images = idx_images_from(&mut ir, ibound, ip)?;
    let (lp, mut lr, lbound) = labels;
    let labels = idx_labels_from(&mut lr, lbound, lp)?;
    idx_dataset(name, (ip, images), (lp, labels), scale)
}

/// An IDX image file and its label file (`.gz` or raw), pixels scaled to [0, 1].
///
/// The files are read as [`idx_pair_from_bytes`] reads bytes (the same checks, the same
/// errors), streamed: only what the header promises is read, after the header is checked,
/// and nothing may follow it. A gzip file is read to the end of its stream, so that its
/// checksum and length are checked. A path that is not a regular file (a FIFO, a folder)
/// is refused before it is opened.
pub fn idx_pair(images: impl AsRef<Path>, labels: impl AsRef<Path>) -> Result<Dataset> {
    let (ip, lp) = (images.as_ref(), labels.as_ref());
    if !lp.exists() {
        return Err(Error::data(
            lp,
            format!("the label file for {} is missing", ip.display()),
        ));
    }
    let name = ip
        .file_name()
        .map_or("idx".into(), |f| f.to_string_lossy().into_owned());
    idx_pair_from(&name, open_file(ip)?, open_file(lp)?, 255.0)
}

/// An IDX image file and its label file given as bytes in memory (each gzipped or raw,
/// as [`idx_pair`] reads them from files), pixels scaled to [0, 1]; the data set is named
/// `idx`.
///
/// Any content is an error or a data set, never a panic: errors name `<image bytes>` or
/// `<label bytes>` and say what is wrong (a wrong magic number, a header promising more
/// or less than the bytes hold, a corrupt gzip stream or a checksum that does not match,
/// a stray label, ...).
///
/// ```
/// // One 1x2 image (header: magic 0x803, 1 image, 1 row, 2 columns) and its label.
/// let images = [0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 255];
/// let labels = [0, 0, 8, 1, 0, 0, 0, 1, 0];
/// let d = resgrad::data::idx_pair_from_bytes(&images, &labels)?;
/// assert_eq!((d.len(), d.shape, d.classes), (1, [1, 1, 2], 1));
/// let short = resgrad::data::idx_pair_from_bytes(&images[..17], &labels).unwrap_err();
/// assert!(short.to_string().contains("<image bytes>"));
/// # Ok::<(), resgrad::Error>(())
/// ```
pub fn idx_pair_from_bytes(images: &[u8], labels: &[u8]) -> Result<Dataset> {
    let (ip, lp) = (Path::new("<image bytes>"), Path::new("<label bytes>"));
    idx_pair_from(
        "idx",
        open_bytes(images, ip)?,
        open_bytes(labels, lp)?,
        255.0,
    )
}

/// The UCI 8x8 handwritten digits, embedded in the crate (CC BY 4.0, see `data/README.md`):
/// 1,797 images `[1, 8, 8]`, pixels 0..16 scaled to [0, 1], 10 classes.
pub fn digits() -> Dataset {
    let (ip, lp) = (
        Path::new("data/digits-images-idx3-ubyte.gz"),
        Path::new("data/digits-labels-idx1-ubyte.gz"),
    );
    let images = include_bytes!("../../data/digits-images-idx3-ubyte.gz");
    let labels = include_bytes!("../../data/digits-labels-idx1-ubyte.gz");
    open_bytes(images, ip)
        .and_then(|images| idx_pair_from("digits", images, open_bytes(labels, lp)?, 16.0))
        .expect("the embedded digits are valid (tested)")
}

/// Where Fashion-MNIST is looked for: `RESGRAD_DATA` if set, else Debian's
/// `/usr/share/datasets/fashion-mnist` (package `dataset-fashion-mnist`).
pub fn fashion_mnist_dir() -> PathBuf {
    std::env::var_os("RESGRAD_DATA").map_or_else(
        || PathBuf::from("/usr/share/datasets/fashion-mnist"),
        PathBuf::from,
    )
}

/// Fashion-MNIST's training and test sets from `dir` (IDX files, `.gz` or not).
pub fn fashion_mnist(dir: impl AsRef<Path>) -> Result<(Dataset, Dataset)> {
    let dir = dir.as_ref();
    if !dir.is_dir() {
        return Err(Error::data(
            dir,
            "no such folder; install Fashion-MNIST with `apt-get install dataset-fashion-mnist`, or point RESGRAD_DATA at a folder with its IDX files",
        ));
    }
    let (mut train, mut test) = idx_dir(dir)?;
    train.name = "fashion-mnist train".into();
    test.name = "fashion-mnist test".into();
    Ok((train, test))
}

/// An error if `dir` lacks any of `expected` (a name counts if it is there raw or `.gz`,
/// when `gz` is true): it lists what was expected and what the folder holds.
fn expect_files(dir: &Path, expected: &[&str], gz: bool, what: &str) -> Result<()> {
    let present =
        |name: &str| dir.join(name).exists() || (gz && dir.join(format!("{name}.gz")).exists());
    let missing: Vec<&str> = expected.iter().copied().filter(|n| !present(n)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    let shown = match found.len() {
        0 => "nothing".to_string(),
        n if n <= 8 => found.join(", "),
        n => format!("{}, and {} more", found[..8].join(", "), n - 8),
    };
    Err(Error::data(
        dir,
        format!(
            "this folder does not hold {what}: it needs {}{}, and {} missing; it holds {shown}",
            expected.join(", "),
            if gz { " (each .gz or not)" } else { "" },
            missing.join(", ") + if missing.len() == 1 { " is" } else { " are" },
        ),
    ))
}

/// The training and test sets of any MNIST-like folder `dir`: the four standard IDX files
/// `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte` and
/// `t10k-labels-idx1-ubyte`, each `.gz` or not.
pub fn idx_dir(dir: impl AsRef<Path>) -> Result<(Dataset, Dataset)> {
    let dir = dir.as_ref();
    if !dir.is_dir() {
        return Err(Error::data(
            dir,
            "no such folder; an IDX folder holds train-images-idx3-ubyte, train-labels-idx1-ubyte, \
             t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each .gz or not)",
        ));
    }
    expect_files(
        dir,
        &[
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        ],
        true,
        "an IDX data set",
    )?;
    let find = |stem: &str| {
        let gz = dir.join(format!("{stem}.gz"));
        if gz.exists() { gz } else { dir.join(stem) }
    };
    let mut train = idx_pair(
        find("train-images-idx3-ubyte"),
        find("train-labels-idx1-ubyte"),
    )?;
    let mut test = idx_pair(
        find("t10k-images-idx3-ubyte"),
        find("t10k-labels-idx1-ubyte"),
    )?;
    check_test_split(&train, &test, &find("t10k-images-idx3-ubyte"))?;
    let folder = dir
        .file_name()
        .map_or("idx".into(), |f| f.to_string_lossy().into_owned());
    train.name = format!("{folder} train");
    test.name = format!("{folder} test");
    Ok((train, test))
}

/// A test split must hold images of the training split's size, and only its classes.
fn check_test_split(train: &Dataset, test: &Dataset, path: &Path) -> Result<()> {
    if test.shape != train.shape {
        return Err(Error::data(
            path,
            format!(
                "test images of shape {:?} but training images of shape {:?}: a net takes \
                 images of one size, so both splits must have the same size",
                test.shape, train.shape
            ),
        ));
    }
    if test.classes > train.classes {
        return Err(Error::data(
            path,
            format!(
                "the test labels name {} classes, the training labels only {}: a net cannot \
                 be tested on classes it never saw",
                test.classes, train.classes
            ),
        ));
    }
    Ok(())
}

/// The CIFAR-10 binary version from `dir` (`cifar-10-batches-bin`): the training set from
/// every `data_batch_1.bin` .. `data_batch_5.bin` present (at least the first), the test
/// set from `test_batch.bin`.
pub fn cifar10_dir(dir: impl AsRef<Path>) -> Result<(Dataset, Dataset)> {
    let dir = dir.as_ref();
    if !dir.is_dir() {
        return Err(Error::data(
            dir,
            "no such folder; CIFAR-10's binary version (cifar-10-batches-bin) holds data_batch_1.bin .. \
             data_batch_5.bin and test_batch.bin",
        ));
    }
    expect_files(
        dir,
        &["data_batch_1.bin", "test_batch.bin"],
        false,
        "CIFAR-10's binary version",
    )?;
    let mut parts = vec![cifar10_file(dir.join("data_batch_1.bin"))?];
    for i in 2..=5 {
        let p = dir.join(format!("data_batch_{i}.bin"));
        if p.exists() {
            parts.push(cifar10_file(p)?);
        }
    }
    let train = Dataset::concat("cifar-10 train", &parts).expect("CIFAR-10 files share one shape");
    let mut test = cifar10_file(dir.join("test_batch.bin"))?;
    test.name = "cifar-10 test".into();
    Ok((train, test))
}

/// The embedded digits ([`digits`]) split into the first 1,497 images to train on and the
/// last 300 to test on.
pub fn digits_split() -> (Dataset, Dataset) {
    digits().split_at(1497)
}

/// One CIFAR-10 binary file (`data_batch_N.bin`, `test_batch.bin`): records of one label
/// byte and 3,072 pixel bytes (1,024 red, green, blue), pixels scaled to [0, 1]. Read as
/// [`cifar10_from_bytes`] reads bytes, errors naming the file. A path that is not a
/// regular file (a FIFO, a folder) is refused before it is opened.
pub fn cifar10_file(path: impl AsRef<Path>) -> Result<Dataset> {
    let path = path.as_ref();
    crate::io::check_regular_file(path).map_err(|e| Error::data(path, e))?;
    let b = std::fs::read(path).map_err(|e| Error::data(path, format!("could not read: {e}")))?;
    let name = path
        .file_name()
        .map_or("cifar10".into(), |f| f.to_string_lossy().into_owned());
    cifar10_records(path, name, &b)
}

/// CIFAR-10 binary records given as bytes in memory (what [`cifar10_file`] reads from a
/// file), as a data set named `name`; errors name `name` too.
///
/// Any content is an error or a data set, never a panic.
///
/// ```
/// let mut record = vec![7u8]; // the label, then 3,072 pixels
/// record.extend([128u8; 3072]);
/// let d = resgrad::data::cifar10_from_bytes("one record", &record)?;
/// assert_eq!((d.len(), d.labels[0], d.shape), (1, 7, [3, 32, 32]));
/// let e = resgrad::data::cifar10_from_bytes("one record", &record[..3000]).unwrap_err();
/// assert!(e.to_string().contains("one record"));
/// # Ok::<(), resgrad::Error>(())
/// ```
pub fn cifar10_from_bytes(name: &str, bytes: &[u8]) -> Result<Dataset> {
    cifar10_records(Path::new(name), name.to_string(), bytes)
}

/// The records of `b`, errors naming `source`, the data set named `name`.
fn cifar10_records(source: &Path, name: String, b: &[u8]) -> Result<Dataset> {
    const RECORD: usize = 1 + 3 * 32 * 32;
    if b.is_empty() || !b.len().is_multiple_of(RECORD) {
        return Err(Error::data(
            source,
            format!(
                "{} bytes is not a whole number of 3,073-byte CIFAR-10 records (truncated or not a CIFAR-10 binary file)",
                b.len()
            ),
        ));
    }
    let n = b.len() / RECORD;
    let mut images = Vec::with_capacity(n * 3072);
    let mut labels = Vec::with_capacity(n);
    for (i, rec) in b.chunks_exact(RECORD).enumerate() {
        if rec[0] > 9 {
            return Err(Error::data(
                source,
                format!(
                    "record {i} has label {}, CIFAR-10 has 10 classes (0..9)",
                    rec[0]
                ),
            ));
        }
        labels.push(rec[0] as usize);
        images.extend(rec[1..].iter().map(|&p| p as f32 / 255.0));
    }
    Ok(Dataset {
        name,
        images,
        shape: [3, 32, 32],
        labels,
        classes: 10,
    })
}
