#!/usr/bin/env python3
"""Peer for the import benchmark: decode every JPEG under a folder-per-label tree with Pillow
into one uint8 N×H×W×3 numpy array, the same work `percept dataset import` does.

Usage: pillow_decode.py ROOT [--processes N]
Prints one JSON line: {"tool": ..., "images": N, "seconds": S}.
"""
import json
import os
import sys
import time
from multiprocessing import Pool

import numpy as np
from PIL import Image


def list_files(root):
    files, labels = [], []
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    for label, name in enumerate(classes):
        folder = os.path.join(root, name)
        for file in sorted(os.listdir(folder)):
            files.append(os.path.join(folder, file))
            labels.append(label)
    return files, np.array(labels, dtype=np.int32)


def decode(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)


def decode_chunk(paths):
    return np.stack([decode(p) for p in paths])


def main():
    root = sys.argv[1]
    processes = int(sys.argv[sys.argv.index("--processes") + 1]) if "--processes" in sys.argv else 1
    start = time.perf_counter()
    files, labels = list_files(root)
    if processes == 1:
        pixels = np.stack([decode(p) for p in files])
    else:
        chunks = [files[i:i + 1000] for i in range(0, len(files), 1000)]
        with Pool(processes) as pool:
            pixels = np.concatenate(pool.map(decode_chunk, chunks))
    seconds = time.perf_counter() - start
    assert pixels.shape[0] == len(files) == labels.shape[0]
    tool = "pillow" if processes == 1 else f"pillow-multiprocessing-{processes}"
    print(json.dumps({"tool": tool, "images": int(pixels.shape[0]), "seconds": round(seconds, 3),
                      "checksum": int(pixels.astype(np.uint64).sum())}))


if __name__ == "__main__":
    main()
