"""Reads a Percept pack (`percept dataset import … -o FILE.pack`) for the Python peers: the header
fields they need, the pixels memory-mapped as uint8 N×H×W×C and the labels as int32."""
import struct

import numpy as np


def read_pack(path):
    with open(path, "rb") as f:
        header = f.read(128)
    assert header[:8] == b"PRCPTPAK", f"{path}: not a Percept pack"
    n, = struct.unpack_from("<Q", header, 24)
    h, w, c, _ = struct.unpack_from("<4I", header, 32)
    pixels_offset, _ = struct.unpack_from("<QQ", header, 48)
    labels_offset, _ = struct.unpack_from("<QQ", header, 64)
    pixels = np.memmap(path, dtype=np.uint8, mode="r", offset=pixels_offset, shape=(n, h, w, c))
    labels = np.array(np.memmap(path, dtype="<i4", mode="r", offset=labels_offset, shape=(n,)))
    return pixels, labels
