"""Reads a Percept pack (`percept dataset import … -o FILE.pack`) for the Python peers: the pixels
memory-mapped as uint8 N×H×W×C and the labels as int32.

Format version 2 is Percept's one container (BinaryContainer.swift): a 32-byte prefix, a JSON header
with the array table, the arrays 64-byte aligned from the end of the header. Version 1 was the pack's
own layout (a 128-byte header of offsets); both are read."""
import json
import struct

import numpy as np


def read_pack(path):
    with open(path, "rb") as f:
        prefix = f.read(32)
        assert prefix[:8] == b"PRCPTPAK", f"{path}: not a Percept pack"
        version, = struct.unpack_from("<I", prefix, 8)
        if version == 1:
            header = prefix + f.read(96)
            n, = struct.unpack_from("<Q", header, 24)
            h, w, c, _ = struct.unpack_from("<4I", header, 32)
            pixels_offset, _ = struct.unpack_from("<QQ", header, 48)
            labels_offset, _ = struct.unpack_from("<QQ", header, 64)
        else:
            header_length, = struct.unpack_from("<Q", prefix, 24)
            header = json.loads(f.read(header_length))
            arrays = {entry["name"]: entry for entry in header["arrays"]}
            content = header["content"]
            n, h, w, c = content["count"], content["height"], content["width"], content["channels"]
            base = 32 + header_length
            pixels_offset = base + arrays["pixels"]["offset"]
            labels_offset = base + arrays["labels"]["offset"]
    pixels = np.memmap(path, dtype=np.uint8, mode="r", offset=pixels_offset, shape=(n, h, w, c))
    labels = np.array(np.memmap(path, dtype="<i4", mode="r", offset=labels_offset, shape=(n,)))
    return pixels, labels
