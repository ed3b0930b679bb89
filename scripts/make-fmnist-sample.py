#!/usr/bin/python3
"""Writes the Fashion-MNIST sample that mobyc embeds in its jar.

Reads Debian's dataset-fashion-mnist files (/usr/share/datasets/fashion-mnist, or the directory given as the first
argument) and writes the FIRST 5000 training and the FIRST 1000 test images with their labels, as IDX files
compressed with gzip level 9 and mtime 0 (so the same input gives the same bytes), to
moby/src/main/resources/mobyc/data/fashion-mnist-sample/. Prints the per-class counts and the sizes.

    /usr/bin/python3 scripts/make-fmnist-sample.py [SOURCE_DIR]
"""
import gzip
import hashlib
import os
import struct
import sys

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
SPLITS = [("train", 5000), ("t10k", 1000)]
IMAGES_MAGIC, LABELS_MAGIC = 0x00000803, 0x00000801


def read_idx(path, magic):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    found = struct.unpack(">I", raw[:4])[0]
    if found != magic:
        sys.exit(f"{path}: wrong magic 0x{found:08x}, expected 0x{magic:08x}")
    rank = magic & 0xFF
    dims = list(struct.unpack(f">{rank}I", raw[4:4 + 4 * rank]))
    data = raw[4 + 4 * rank:]
    size = 1
    for d in dims:
        size *= d
    if len(data) != size:
        sys.exit(f"{path}: header declares {dims} = {size} bytes of data, the file has {len(data)}")
    return dims, data


def write_idx(path, magic, dims, data):
    header = struct.pack(f">I{len(dims)}I", magic, *dims)
    packed = gzip.compress(header + data, compresslevel=9, mtime=0)
    with open(path, "wb") as f:
        f.write(packed)
    return len(packed)


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = os.path.join(root, "moby/src/main/resources/mobyc/data/fashion-mnist-sample")
    os.makedirs(out, exist_ok=True)
    total = 0
    for prefix, keep in SPLITS:
        dims, images = read_idx(os.path.join(source, f"{prefix}-images-idx3-ubyte.gz"), IMAGES_MAGIC)
        ldims, labels = read_idx(os.path.join(source, f"{prefix}-labels-idx1-ubyte.gz"), LABELS_MAGIC)
        n, rows, cols = dims
        if ldims[0] != n:
            sys.exit(f"{prefix}: {n} images but {ldims[0]} labels")
        if keep > n:
            sys.exit(f"{prefix}: asked for {keep} images, the source has {n}")
        images, labels = images[:keep * rows * cols], labels[:keep]
        sizes = [write_idx(os.path.join(out, f"{prefix}-images-idx3-ubyte.gz"), IMAGES_MAGIC, [keep, rows, cols], images),
                 write_idx(os.path.join(out, f"{prefix}-labels-idx1-ubyte.gz"), LABELS_MAGIC, [keep], labels)]
        total += sum(sizes)
        counts = [labels.count(c) for c in range(len(CLASSES))]
        print(f"{prefix}: first {keep} of {n} images, {rows}x{cols}; images {sizes[0]} bytes, labels {sizes[1]} bytes")
        print("  per class: " + ", ".join(f"{c}={k}" for c, k in enumerate(counts))
              + f"  (min {min(counts)}, max {max(counts)})")
    print(f"total {total} bytes ({total / 2**20:.2f} MiB) in {os.path.relpath(out, root)}")
    for name in sorted(os.listdir(out)):
        with open(os.path.join(out, name), "rb") as f:
            print(f"  {hashlib.sha256(f.read()).hexdigest()[:16]}  {name}")


if __name__ == "__main__":
    main()
