//! Loaders: good files in every format, and a clear error (never a panic) for every bad
//! one. The tests write the files they read.

use std::io::Write;
use std::path::PathBuf;

use resgrad::data;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("resgrad-data-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn idx_images(n: u32, rows: u32, cols: u32) -> Vec<u8> {
    let mut b = Vec::new();
    for v in [0x803u32, n, rows, cols] {
        b.extend_from_slice(&v.to_be_bytes());
    }
    b.extend((0..n * rows * cols).map(|i| (i % 256) as u8));
    b
}

fn idx_labels(n: u32) -> Vec<u8> {
    let mut b = Vec::new();
    for v in [0x801u32, n] {
        b.extend_from_slice(&v.to_be_bytes());
    }
    b.extend((0..n).map(|i| (i % 10) as u8));
    b
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn write(d: &std::path::Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = d.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn idx_files_load_raw_and_gzipped() {
    let d = dir("good");
    let (i, l) = (
        write(&d, "img", &idx_images(5, 3, 4)),
        write(&d, "lab", &idx_labels(5)),
    );
    let raw = data::idx_pair(&i, &l).unwrap();
    assert_eq!((raw.len(), raw.shape, raw.classes), (5, [1, 3, 4], 5));
    assert_eq!(raw.images[13], 13.0 / 255.0);
    let (ig, lg) = (
        write(&d, "img.gz", &gz(&idx_images(5, 3, 4))),
        write(&d, "lab.gz", &gz(&idx_labels(5))),
    );
    let zipped = data::idx_pair(&ig, &lg).unwrap();
    assert_eq!(zipped.images, raw.images);
    assert_eq!(zipped.labels, raw.labels);
}

#[track_caller]
fn bad(result: resgrad::Result<data::Dataset>, parts: &[&str]) {
    let msg = result.unwrap_err().to_string();
    for p in parts {
        assert!(msg.contains(p), "`{p}` not in: {msg}");
    }
}

#[test]
fn bad_idx_files_get_clear_errors() {
    let d = dir("bad");
    let labels = write(&d, "lab", &idx_labels(5));
    let mut wrong_magic = idx_images(5, 3, 4);
    wrong_magic[3] = 0x01;
    bad(
        data::idx_pair(write(&d, "magic", &wrong_magic), &labels),
        &["magic", "0x00000801", "0x00000803"],
    );
    let full = idx_images(5, 3, 4);
    bad(
        data::idx_pair(write(&d, "trunc", &full[..40]), &labels),
        &["truncated", "5 images", "trunc"],
    );
    bad(
        data::idx_pair(write(&d, "short", &full[..10]), &labels),
        &["too short"],
    );
    bad(
        data::idx_pair(write(&d, "img6", &idx_images(6, 3, 4)), &labels),
        &["6 images but 5 labels"],
    );
    bad(
        data::idx_pair(write(&d, "img", &full), d.join("nolabels")),
        &["label file", "missing"],
    );
    bad(
        data::idx_pair(write(&d, "badgz.gz", &gz(&full)[..30]), &labels),
        &["gzip"],
    );
    bad(data::idx_pair(&labels, &labels), &["magic"]);
}

/// `bytes` gzipped in stored (uncompressed) blocks: a flipped byte of content still
/// inflates, to a wrong byte.
fn gz_stored(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn a_file_must_end_where_its_header_says_and_a_gzip_stream_is_checked_to_its_end() {
    let d = dir("ends");
    let labels = write(&d, "lab", &idx_labels(5));
    let images = idx_images(5, 3, 4);
    let load = |name: &str, bytes: &[u8]| data::idx_pair(write(&d, name, bytes), &labels);
    for (name, bytes) in [("raw", images.clone()), ("gz", gz(&images))] {
        assert_eq!(load(name, &bytes).unwrap().len(), 5, "{name}");
    }
    // One byte of a pixel flipped: the stream inflates, its checksum does not match.
    let mut flipped = gz_stored(&images);
    let n = flipped.len();
    flipped[n - 9] ^= 0x01;
    bad(
        load("flipped", &flipped),
        &["corrupt or truncated gzip", "checksum"],
    );
    // The trailer's checksum, or its length, changed.
    for at in [n - 8, n - 4] {
        let mut trailer = gz_stored(&images);
        trailer[at] ^= 0x01;
        bad(load("trailer", &trailer), &["corrupt or truncated gzip"]);
    }
    // A byte more than the header promises, raw or gzipped; the labels too.
    let mut longer = images.clone();
    longer.push(7);
    let rule = "more bytes follow the images the header promises";
    bad(load("longer", &longer), &["longer", rule]);
    bad(load("longer.gz", &gz(&longer)), &["longer.gz", rule]);
    let mut more_labels = idx_labels(5);
    more_labels.push(1);
    bad(
        data::idx_pair(write(&d, "img", &images), write(&d, "lab6", &more_labels)),
        &["lab6", "more bytes follow the labels the header promises"],
    );
    // Bytes after the gzip stream: a second stream, or anything else.
    let rule = "bytes follow the end of its gzip stream";
    let two = [gz(&images), gz(&[0; 200])].concat();
    bad(load("two.gz", &two), &[rule]);
    let tail = [gz(&images), vec![0xff; 4]].concat();
    bad(load("tail.gz", &tail), &[rule]);
}

/// An IDX label file holding exactly `labels`.
fn idx_label_bytes(labels: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    for v in [0x801u32, labels.len() as u32] {
        b.extend_from_slice(&v.to_be_bytes());
    }
    b.extend_from_slice(labels);
    b
}

/// An IDX image header promising `n` images of `rows` x `cols`, with `body` bytes after it.
fn idx_header_only(n: u32, rows: u32, cols: u32, body: usize) -> Vec<u8> {
    let mut b = Vec::new();
    for v in [0x803u32, n, rows, cols] {
        b.extend_from_slice(&v.to_be_bytes());
    }
    b.extend(std::iter::repeat_n(7u8, body));
    b
}

#[test]
fn headers_that_would_crash_later_are_refused_where_they_enter() {
    let d = dir("headers");
    let labels = write(&d, "lab", &idx_labels(5));
    // Dimensions whose product overflows 64 bits on some platforms and any file's size.
    for (name, bytes) in [
        (
            "overflow",
            idx_header_only(u32::MAX, u32::MAX, u32::MAX, 100),
        ),
        (
            "overflow.gz",
            gz(&idx_header_only(u32::MAX, u32::MAX, u32::MAX, 100)),
        ),
    ] {
        bad(
            data::idx_pair(write(&d, name, &bytes), &labels),
            &["promises", "4294967295 images", "the file has 100"],
        );
    }
    // Zero images, and images of 0x0 or 0 columns.
    for (n, r, c) in [(0, 3, 4), (5, 0, 0), (5, 3, 0)] {
        bad(
            data::idx_pair(write(&d, "empty", &idx_header_only(n, r, c, 0)), &labels),
            &["at least one image of at least 1x1"],
        );
    }
    // A stray label: 200 among 0..4 would have made 201 classes.
    let stray = write(&d, "stray", &idx_label_bytes(&[0, 1, 200, 3, 4]));
    bad(
        data::idx_pair(write(&d, "img", &idx_images(5, 3, 4)), &stray),
        &[
            "label 200 (at index 2)",
            "201 classes",
            "no label is 2",
            "0..C-1",
        ],
    );
    // An empty label file beside an empty image file: still at least one image.
    let no_labels = write(&d, "nolab", &idx_label_bytes(&[]));
    bad(
        data::idx_pair(write(&d, "none", &idx_header_only(0, 2, 2, 0)), &no_labels),
        &["at least one image"],
    );
}

#[test]
fn a_test_split_must_match_the_training_split() {
    let write_split = |name: &str, (tr, tc): (u32, u32), test_labels: &[u8]| {
        let d = dir(name);
        write(&d, "train-images-idx3-ubyte", &idx_images(10, 4, 4));
        write(&d, "train-labels-idx1-ubyte", &idx_labels(10));
        write(
            &d,
            "t10k-images-idx3-ubyte",
            &idx_images(test_labels.len() as u32, tr, tc),
        );
        write(&d, "t10k-labels-idx1-ubyte", &idx_label_bytes(test_labels));
        d
    };
    let good = write_split("split-good", (4, 4), &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    let (train, test) = data::idx_dir(&good).unwrap();
    assert_eq!((train.shape, test.shape), ([1, 4, 4], [1, 4, 4]));

    let other_size = write_split("split-size", (5, 5), &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    let msg = data::idx_dir(&other_size).unwrap_err().to_string();
    for w in ["[1, 5, 5]", "[1, 4, 4]", "the same size"] {
        assert!(msg.contains(w), "`{w}` not in: {msg}");
    }

    let more_classes = write_split("split-classes", (4, 4), &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    let msg = data::idx_dir(&more_classes).unwrap_err().to_string();
    for w in ["11 classes", "10"] {
        assert!(msg.contains(w), "`{w}` not in: {msg}");
    }
}

#[test]
fn cifar10_binary_files_load_and_bad_ones_are_named() {
    let d = dir("cifar");
    let mut b = Vec::new();
    for i in 0..3u8 {
        b.push(i);
        b.extend((0..3072).map(|k| ((k + i as usize) % 256) as u8));
    }
    let ds = data::cifar10_file(write(&d, "data_batch_1.bin", &b)).unwrap();
    assert_eq!(
        (ds.len(), ds.shape, ds.labels.clone()),
        (3, [3, 32, 32], vec![0, 1, 2])
    );
    assert_eq!(ds.images[3072 + 1], 2.0 / 255.0);
    bad(
        data::cifar10_file(write(&d, "short.bin", &b[..5000])),
        &["3,073-byte", "truncated"],
    );
    let mut bad_label = b.clone();
    bad_label[3073] = 12;
    bad(
        data::cifar10_file(write(&d, "label.bin", &bad_label)),
        &["record 1", "label 12"],
    );
    bad(
        data::cifar10_file(d.join("absent.bin")),
        &["could not read"],
    );
}

#[test]
fn a_path_that_is_not_a_regular_file_is_refused_before_it_is_opened() {
    let d = dir("not-a-file");
    let labels = write(&d, "lab", &idx_labels(5));
    let rule = "it is a folder, not a regular file";
    bad(data::idx_pair(&d, &labels), &[rule]);
    bad(data::cifar10_file(&d), &[rule]);
    // A device that never ends: read whole, it would fill the memory.
    #[cfg(unix)]
    {
        let zero = std::path::Path::new("/dev/zero");
        bad(data::cifar10_file(zero), &["/dev/zero", "it is a device"]);
        bad(
            data::idx_pair(zero, &labels),
            &["/dev/zero", "it is a device"],
        );
    }
}

#[test]
fn the_embedded_digits_are_all_there() {
    let d = data::digits();
    assert_eq!((d.len(), d.shape, d.classes), (1797, [1, 8, 8], 10));
    let mut counts = [0usize; 10];
    d.labels.iter().for_each(|&l| counts[l] += 1);
    assert!(
        counts.iter().all(|&c| (170..=185).contains(&c)),
        "{counts:?}"
    );
    assert!(d.images.iter().all(|&p| (0.0..=1.0).contains(&p)));
    assert_eq!(d.images.iter().cloned().fold(0.0, f32::max), 1.0);
}

#[test]
fn a_missing_fashion_mnist_folder_says_how_to_get_it() {
    let msg = data::fashion_mnist("/nonexistent/fashion")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("apt-get install dataset-fashion-mnist") && msg.contains("RESGRAD_DATA"),
        "{msg}"
    );
}

#[test]
fn batches_are_seeded_and_augmentation_keeps_shapes() {
    let d = data::digits().take(300);
    let a = d.epoch(64, 7, 0, false);
    let b = d.epoch(64, 7, 0, false);
    assert_eq!(a.len(), 5);
    assert_eq!(a[0].labels, b[0].labels);
    assert_ne!(
        d.epoch(64, 7, 1, false)[0].labels,
        a[0].labels,
        "a new epoch, a new order"
    );
    let aug = d.epoch(64, 7, 0, true);
    assert_eq!(aug[0].images.shape(), &[64, 1, 8, 8]);
    assert_eq!(
        aug[0].labels, a[0].labels,
        "augmentation changes pixels, not the order"
    );
    assert_ne!(aug[0].images, a[0].images);
    let (mean, std) = d.channel_stats();
    let mut n = d.clone();
    n.normalize(&mean, &std);
    let (m2, s2) = n.channel_stats();
    assert!(m2[0].abs() < 1e-4 && (s2[0] - 1.0).abs() < 1e-3);
}

/// Needs the data set on the machine, so it is ignored by default and reported as such;
/// `.ci/run` installs the package and runs it with `-- --include-ignored`, where a missing
/// or wrong data set fails it.
#[test]
#[ignore = "needs dataset-fashion-mnist"]
fn fashion_mnist_loads_from_the_debian_package() {
    // The loader's error already says how to install it.
    let (train, test) =
        data::fashion_mnist(data::fashion_mnist_dir()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (train.len(), test.len(), train.shape, train.classes),
        (60_000, 10_000, [1, 28, 28], 10)
    );
    assert!(train.labels.iter().filter(|&&l| l == 3).count() == 6_000);
}

#[test]
fn synthetic_sets_have_the_promised_shapes() {
    let (x, y) = data::spirals(300, 3, 0.05, 1);
    assert_eq!((x.shape(), y.len()), (&[300usize, 2][..], 300));
    assert_eq!(
        (0..3)
            .map(|c| y.iter().filter(|&&l| l == c).count())
            .collect::<Vec<_>>(),
        vec![100, 100, 100]
    );
    let (gx, gy) = data::regression_grid(256);
    assert_eq!(
        (gx.shape(), gy.shape()),
        (&[256usize, 1][..], &[256usize, 1][..])
    );
    assert!((gx[[0, 0]] + 1.0).abs() < 1e-6 && (gx[[255, 0]] - 1.0).abs() < 1e-6);
    assert!((gy[[128, 0]] - ((3.0 * gx[[128, 0]]).sin() + gx[[128, 0]] / 2.0)).abs() < 1e-6);
}

// ---- choosing a data set by name, as `resgrad degradation --data NAME --data-dir DIR` ----

#[test]
fn every_data_source_parses_its_own_name_and_nothing_else() {
    for s in data::DataSource::ALL {
        assert_eq!(s.name().parse::<data::DataSource>(), Ok(s));
        assert_eq!(
            s.to_string().to_uppercase().parse::<data::DataSource>(),
            Ok(s)
        );
    }
    let err = "mnist".parse::<data::DataSource>().unwrap_err();
    assert!(err.contains("mnist") && err.contains("cifar10"), "{err}");
}

#[test]
fn digits_split_keeps_the_last_300_to_test_on() {
    let (train, test) = data::digits_split();
    assert_eq!((train.len(), test.len()), (1497, 300));
    assert_eq!(
        (train.name.as_str(), test.name.as_str()),
        ("digits train", "digits test")
    );
    let all = data::digits();
    assert_eq!(test.labels[..], all.labels[1497..]);
    assert_eq!(test.images[..], all.images[1497 * 64..]);
}

#[test]
fn idx_and_cifar10_folders_load_by_their_standard_names() {
    let d = dir("idxdir");
    for (stem, n) in [("train", 7), ("t10k", 3)] {
        write(
            &d,
            &format!("{stem}-images-idx3-ubyte.gz"),
            &gz(&idx_images(n, 3, 4)),
        );
        write(&d, &format!("{stem}-labels-idx1-ubyte"), &idx_labels(n));
    }
    let s = data::load_splits(Some(data::DataSource::Idx), Some(&d)).unwrap();
    assert_eq!(
        (s.train.len(), s.test.len(), s.train.shape),
        (7, 3, [1, 3, 4])
    );

    let c = dir("cifardir");
    let record = |label: u8| {
        let mut r = vec![label];
        r.extend(std::iter::repeat_n(label, 3072));
        r
    };
    write(&c, "data_batch_1.bin", &[record(1), record(2)].concat());
    write(&c, "data_batch_2.bin", &record(3));
    write(&c, "test_batch.bin", &record(4));
    let s = data::load_splits(Some(data::DataSource::Cifar10), Some(&c)).unwrap();
    assert_eq!((s.train.len(), s.test.len()), (3, 1));
    assert_eq!(s.train.labels, vec![1, 2, 3]);
    // prepare normalises both splits with the training set's statistics.
    let p = s.prepare(2, false);
    assert_eq!(p.train.len(), 2);
    let mean = p.train.images.iter().sum::<f32>() / p.train.images.len() as f32;
    assert!(mean.abs() < 1e-4, "{mean}");
}

#[test]
fn a_folder_given_explicitly_must_load_there_is_no_fallback() {
    let missing = std::path::Path::new("/nonexistent/resgrad-data");
    for source in [
        None,
        Some(data::DataSource::Fashion),
        Some(data::DataSource::Cifar10),
        Some(data::DataSource::Idx),
    ] {
        let err = data::load_splits(source, Some(missing))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("/nonexistent/resgrad-data"),
            "{source:?}: {err}"
        );
    }
    // idx and cifar10 need a folder; the embedded digits read none.
    for source in [data::DataSource::Idx, data::DataSource::Cifar10] {
        let err = data::load_splits(Some(source), None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--data-dir") && err.contains(source.name()),
            "{err}"
        );
    }
    let err = data::load_splits(Some(data::DataSource::Digits), Some(&dir("digits")))
        .unwrap_err()
        .to_string();
    assert!(err.contains("embedded"), "{err}");
    // A half-written IDX folder is an error naming the missing file.
    let d = dir("halfidx");
    write(&d, "train-images-idx3-ubyte", &idx_images(2, 3, 4));
    let err = data::load_splits(Some(data::DataSource::Idx), Some(&d))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("train-labels-idx1-ubyte") || err.contains("label file"),
        "{err}"
    );
}

#[test]
fn a_folder_without_the_data_set_says_what_it_needs_and_what_it_holds() {
    let d = dir("not-a-data-set");
    write(&d, "notes.txt", b"hello");
    write(&d, "train-images-idx3-ubyte", &idx_images(10, 4, 4));
    let msg = data::idx_dir(&d).unwrap_err().to_string();
    for w in [
        "does not hold an IDX data set",
        "t10k-labels-idx1-ubyte are missing",
        "it holds notes.txt, train-images-idx3-ubyte",
    ] {
        assert!(msg.contains(w), "`{w}` not in: {msg}");
    }
    let msg = data::cifar10_dir(&d).unwrap_err().to_string();
    for w in [
        "does not hold CIFAR-10's binary version",
        "data_batch_1.bin, test_batch.bin are missing",
        "notes.txt",
    ] {
        assert!(msg.contains(w), "`{w}` not in: {msg}");
    }
    let empty = dir("empty-folder");
    let msg = data::idx_dir(&empty).unwrap_err().to_string();
    assert!(msg.contains("it holds nothing"), "{msg}");
}
