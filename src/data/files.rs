//! File formats: IDX (MNIST, Fashion-MNIST, the embedded digits) and CIFAR-10 binary.
//! Every problem is an [`Error::Data`](crate::Error) naming the file; nothing panics.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::Dataset;
use crate::error::{Error, Result};

/// Reads a file, un-gzipping it if it starts with the gzip magic bytes.
fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|e| Error::data(path, format!("could not read: {e}")))?;
    gunzip_if_needed(path, raw)
}

fn gunzip_if_needed(path: &Path, raw: Vec<u8>) -> Result<Vec<u8>> {
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| Error::data(path, format!("a corrupt or truncated gzip file: {e}")))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

fn be_u32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Parses IDX image bytes: magic 0x00000803, count, rows, cols, then bytes.
fn parse_idx_images(path: &Path, b: &[u8]) -> Result<(usize, usize, usize, Vec<u8>)> {
    let magic = if b.len() >= 4 { be_u32(b, 0) } else { 0x0803 };
    if magic != 0x0803 {
        return Err(Error::data(
            path,
            format!(
                "wrong magic number 0x{magic:08x}: an IDX image file starts with 0x00000803 (a label file has 0x00000801)"
            ),
        ));
    }
    if b.len() < 16 {
        return Err(Error::data(
            path,
            format!(
                "{} bytes is too short for an IDX image header (16 bytes)",
                b.len()
            ),
        ));
    }
    let (n, rows, cols) = (
        be_u32(b, 4) as usize,
        be_u32(b, 8) as usize,
        be_u32(b, 12) as usize,
    );
    let want = n * rows * cols;
    if b.len() - 16 < want {
        return Err(Error::data(
            path,
            format!(
                "truncated: the header promises {n} images of {rows}x{cols} ({want} bytes), the file has {}",
                b.len() - 16
            ),
        ));
    }
    Ok((n, rows, cols, b[16..16 + want].to_vec()))
}

fn parse_idx_labels(path: &Path, b: &[u8]) -> Result<Vec<usize>> {
    let magic = if b.len() >= 4 { be_u32(b, 0) } else { 0x0801 };
    if magic != 0x0801 {
        return Err(Error::data(
            path,
            format!(
                "wrong magic number 0x{magic:08x}: an IDX label file starts with 0x00000801 (an image file has 0x00000803)"
            ),
        ));
    }
    if b.len() < 8 {
        return Err(Error::data(
            path,
            format!(
                "{} bytes is too short for an IDX label header (8 bytes)",
                b.len()
            ),
        ));
    }
    let n = be_u32(b, 4) as usize;
    if b.len() - 8 < n {
        return Err(Error::data(
            path,
            format!(
                "truncated: the header promises {n} labels, the file has {}",
                b.len() - 8
            ),
        ));
    }
    Ok(b[8..8 + n].iter().map(|&l| l as usize).collect())
}

fn idx_dataset(
    name: &str,
    (ip, ib): (&Path, &[u8]),
    (lp, lb): (&Path, &[u8]),
    scale: f32,
) -> Result<Dataset> {
    let (n, rows, cols, pixels) = parse_idx_images(ip, ib)?;
    let labels = parse_idx_labels(lp, lb)?;
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
    let classes = labels.iter().max().map_or(0, |m| m + 1);
    Ok(Dataset {
        name: name.to_string(),
        images: pixels.iter().map(|&p| p as f32 / scale).collect(),
        shape: [1, rows, cols],
        labels,
        classes,
    })
}

/// An IDX image file and its label file (`.gz` or raw), pixels scaled to [0, 1].
pub fn idx_pair(images: impl AsRef<Path>, labels: impl AsRef<Path>) -> Result<Dataset> {
    let (ip, lp) = (images.as_ref(), labels.as_ref());
    if !lp.exists() {
        return Err(Error::data(
            lp,
            format!("the label file for {} is missing", ip.display()),
        ));
    }
    let (ib, lb) = (read_maybe_gz(ip)?, read_maybe_gz(lp)?);
    let name = ip
        .file_name()
        .map_or("idx".into(), |f| f.to_string_lossy().into_owned());
    idx_dataset(&name, (ip, &ib), (lp, &lb), 255.0)
}

/// The UCI 8x8 handwritten digits, embedded in the crate (CC BY 4.0, see `data/README.md`):
/// 1,797 images `[1, 8, 8]`, pixels 0..16 scaled to [0, 1], 10 classes.
pub fn digits() -> Dataset {
    let (ip, lp) = (
        Path::new("data/digits-images-idx3-ubyte.gz"),
        Path::new("data/digits-labels-idx1-ubyte.gz"),
    );
    let ib = gunzip_if_needed(
        ip,
        include_bytes!("../../data/digits-images-idx3-ubyte.gz").to_vec(),
    );
    let lb = gunzip_if_needed(
        lp,
        include_bytes!("../../data/digits-labels-idx1-ubyte.gz").to_vec(),
    );
    let d = ib.and_then(|ib| lb.and_then(|lb| idx_dataset("digits", (ip, &ib), (lp, &lb), 16.0)));
    d.expect("the embedded digits are valid (tested)")
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
    let folder = dir
        .file_name()
        .map_or("idx".into(), |f| f.to_string_lossy().into_owned());
    train.name = format!("{folder} train");
    test.name = format!("{folder} test");
    Ok((train, test))
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
/// byte and 3,072 pixel bytes (1,024 red, green, blue), pixels scaled to [0, 1].
pub fn cifar10_file(path: impl AsRef<Path>) -> Result<Dataset> {
    let path = path.as_ref();
    let b = std::fs::read(path).map_err(|e| Error::data(path, format!("could not read: {e}")))?;
    const RECORD: usize = 1 + 3 * 32 * 32;
    if b.is_empty() || b.len() % RECORD != 0 {
        return Err(Error::data(
            path,
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
                path,
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
        name: path
            .file_name()
            .map_or("cifar10".into(), |f| f.to_string_lossy().into_owned()),
        images,
        shape: [3, 32, 32],
        labels,
        classes: 10,
    })
}
