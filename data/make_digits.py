"""Converts scikit-learn's copy of the UCI 8x8 handwritten digits into two IDX files.

The digits (1,797 images, 10 classes) are E. Alpaydin and C. Kaynak's "Optical
Recognition of Handwritten Digits" data set, UCI Machine Learning Repository, licensed
CC BY 4.0 (https://doi.org/10.24432/C50P49). scikit-learn's wheel carries the test part as
sklearn/datasets/data/digits.csv.gz. Run once:

    pip download --no-deps scikit-learn -d /tmp/skl
    python data/make_digits.py /tmp/skl/scikit_learn-*.whl

It writes data/digits-images-idx3-ubyte.gz (pixels 0..16, as bytes) and
data/digits-labels-idx1-ubyte.gz, which resgrad embeds with include_bytes!.
"""
import gzip
import struct
import sys
import zipfile

rows = gzip.decompress(zipfile.ZipFile(sys.argv[1]).read("sklearn/datasets/data/digits.csv.gz")).decode().split()
pixels, labels = bytearray(), bytearray()
for row in rows:
    values = [int(float(v)) for v in row.split(",")]
    assert len(values) == 65 and all(0 <= v <= 16 for v in values[:64])
    pixels += bytes(values[:64])
    labels.append(values[64])
n = len(labels)
with gzip.GzipFile("data/digits-images-idx3-ubyte.gz", "wb", mtime=0) as f:
    f.write(struct.pack(">IIII", 0x803, n, 8, 8) + bytes(pixels))
with gzip.GzipFile("data/digits-labels-idx1-ubyte.gz", "wb", mtime=0) as f:
    f.write(struct.pack(">II", 0x801, n) + bytes(labels))
print(f"{n} digits written")
