#!/usr/bin/env python3
"""Runs an ONNX model with onnxruntime on raw float32 input and prints its outputs as JSON.

Usage: onnxruntime_run.py MODEL.onnx INPUT.f32 N,C,H,W
INPUT.f32 holds N*C*H*W little-endian float32 values (the `images` input, NCHW). When the `onnx`
package is installed, the model first passes its checker with full shape inference. Prints
{"outputs": {name: [[...], ...]}, "inputs": [...], "metadata": {...}, "checkedByONNX": bool} on stdout; exits 3 when
onnxruntime is missing (the Swift test then skips), 2 on any other failure.
"""
import json
import sys

try:
    import numpy as np
    import onnxruntime as ort
except ImportError as error:
    print(f"onnxruntime or numpy missing: {error}", file=sys.stderr)
    sys.exit(3)


def check_with_onnx(model):
    """The ONNX checker with shape inference, when the `onnx` package is installed (optional)."""
    try:
        import onnx
    except ImportError:
        return False
    onnx.checker.check_model(onnx.load(model), full_check=True)
    return True


def main():
    model, raw, shape = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3].split(",")]
    checked = check_with_onnx(model)
    images = np.fromfile(raw, dtype="<f4").reshape(shape)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    values = session.run(names, {session.get_inputs()[0].name: images})
    print(json.dumps({
        "outputs": {name: value.astype(float).tolist() for name, value in zip(names, values)},
        "inputs": [{"name": i.name, "shape": [d if isinstance(d, int) else str(d) for d in i.shape]}
                   for i in session.get_inputs()],
        "metadata": session.get_modelmeta().custom_metadata_map,
        "checkedByONNX": checked,
    }))


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # a clear message for the test's failure output
        print(f"onnxruntime failed: {error}", file=sys.stderr)
        sys.exit(2)
