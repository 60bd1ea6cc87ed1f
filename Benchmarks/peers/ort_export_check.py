"""Checks `percept export` against `percept predict` with onnxruntime on real image files.

Usage: python3 Benchmarks/peers/ort_export_check.py MODEL.percept IMAGE_FOLDER [--limit 1000]
           [--percept .build/release/percept] [--onnx MODEL.onnx] [--threads 2]

Steps: export MODEL (unless --onnx is given); decode up to --limit images of IMAGE_FOLDER (a stratified
subset) once with `percept dataset import` at the model's input size and resize mode (so both sides see
the same pixels: Percept's decoder, Percept's resize); run `percept predict --json` on the same files and
onnxruntime on the decoded pixels (float32 NCHW, 0–255, as the export's contract says); compare every
image's top-1 label and every class probability. Prints a JSON summary; exit status 0 when top-1 is
identical on every image and no probability differs by more than 1e-4.
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from percept_pack import read_pack  # noqa: E402


def pack_sources(path):
    """The `sources` array of a version-2 pack: each a UInt32 byte count and UTF-8 bytes."""
    with open(path, "rb") as f:
        prefix = f.read(32)
        header_length, = struct.unpack_from("<Q", prefix, 24)
        header = json.loads(f.read(header_length))
        entry = next(a for a in header["arrays"] if a["name"] == "sources")
        f.seek(32 + header_length + entry["offset"])
        data = f.read(entry["byteCount"])
    sources, offset = [], 0
    while offset + 4 <= len(data) and len(sources) < header["content"]["count"]:
        length, = struct.unpack_from("<I", data, offset)
        sources.append(data[offset + 4:offset + 4 + length].decode("utf-8"))
        offset += 4 + length
    return sources


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command[:3])} … failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model")
    parser.add_argument("images")
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--percept", default=".build/release/percept")
    parser.add_argument("--onnx")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="ort-export-check-")
    onnx_path = args.onnx or os.path.join(work, "model.onnx")
    if not args.onnx:
        run([args.percept, "export", args.model, "-o", onnx_path])
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    labels = json.loads(meta["percept.labels"])
    size, resize = meta["percept.input_size"], meta["percept.resize"]

    pack = os.path.join(work, "images.pack")
    run([args.percept, "dataset", "import", args.images, "-o", pack, "--size", size, "--resize", resize,
         "--limit", str(args.limit), "--quiet"])
    pixels, _ = read_pack(pack)
    sources = pack_sources(pack)
    # Sources are the paths as the import saw them (the folder as given, then the file within it).
    files = [source if os.path.exists(source) else os.path.join(args.images, source) for source in sources]
    assert len(files) == len(pixels), f"{len(files)} sources for {len(pixels)} images"

    images = np.ascontiguousarray(np.asarray(pixels, dtype=np.float32).transpose(0, 3, 1, 2))
    ours = np.concatenate([session.run(["probabilities"], {"images": images[i:i + 256]})[0]
                           for i in range(0, len(images), 256)])

    predictions = json.loads(run([args.percept, "predict", args.model, *files, "--json", "--top", str(len(labels))]))
    theirs = np.zeros_like(ours)
    for row, prediction in enumerate(predictions):
        assert not prediction.get("error"), f"{prediction['path']}: {prediction['error']}"
        for guess in prediction["top"]:
            theirs[row, labels.index(guess["label"])] = guess["probability"]

    same_top1 = int((ours.argmax(axis=1) == theirs.argmax(axis=1)).sum())
    largest = float(np.abs(ours - theirs).max())
    summary = {"model": args.model, "images": len(files), "sameTop1": same_top1, "maxProbabilityDifference": largest,
               "inputSize": size, "resize": resize,
               "onnxruntime": ort.__version__}
    print(json.dumps(summary, indent=2))
    return 0 if same_top1 == len(files) and largest <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
