"""onnxruntime's answers for EfficientNet-Lite0 on 1,000 CIFAR-10 images, the oracle of Percept's ONNX import.

    python3 Benchmarks/peers/efficientnet_oracle.py [--model ../shared/models/efficientnet-lite0.onnx]
        [--data ../shared/datasets/cifar10-binary-sample/data_batch_1.bin]
        [--out Tests/Fixtures/onnx/efficientnet-lite0-oracle.json]

The model itself cannot be committed, so the test that uses this file skips without ../shared. The
inputs are rebuilt bit for bit from the CIFAR-10 binary (see INPUTS below, also written into the JSON);
the 1280-d features are the input of the final Gemm, read by adding that value as a second graph output
to an in-memory copy of the model. onnxruntime: CPUExecutionProvider, all graph optimisations.
"""
import argparse
import hashlib
import json
import os

import numpy as np
import onnx
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
SHARED = os.path.join(ROOT, "..", "shared")
IMAGES = 1000
SCALE = 7  # 32 → 224
INPUTS = ("Records 0..999 of data_batch_1.bin (CIFAR-10 binary: each record is 3073 bytes, a label byte, then "
          "1024 R, 1024 G, 1024 B bytes, row-major 32x32). Each image is enlarged 32 -> 224 by exact 7x pixel "
          "replication (output pixel (y, x) = input pixel (y / 7, x / 7), integer division; no interpolation), "
          "then each byte p becomes (p - 127) / 128 as float32 (computed in float32). Layout NCHW [N, 3, 224, 224], "
          "channels R, G, B. input_sha256 is the sha256 of all 1,000 images' float32 little-endian bytes in that "
          "layout, concatenated in record order; first_input_sha256 of image 0's alone.")


def significant(value, digits=6):
    return float(f"{value:.{digits - 1}e}")


def cifar_inputs(path):
    raw = np.fromfile(path, dtype=np.uint8)
    records = raw[: IMAGES * 3073].reshape(IMAGES, 3073)
    labels = records[:, 0].astype(int)
    pixels = records[:, 1:].reshape(IMAGES, 3, 32, 32)
    enlarged = pixels.repeat(SCALE, axis=2).repeat(SCALE, axis=3)
    images = (enlarged.astype(np.float32) - np.float32(127)) / np.float32(128)
    return labels, np.ascontiguousarray(images, dtype="<f4")


def with_feature_output(model):
    """The model with the input of its last Gemm as a second output; that value's name."""
    gemm = [node for node in model.graph.node if node.op_type == "Gemm"][-1]
    feature = gemm.input[0]
    model.graph.output.append(onnx.helper.make_tensor_value_info(feature, onnx.TensorProto.FLOAT, ["batch", 1280]))
    return model, feature, gemm.name


def sha256_file(path):
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=os.path.join(SHARED, "models", "efficientnet-lite0.onnx"))
    parser.add_argument("--data", default=os.path.join(SHARED, "datasets", "cifar10-binary-sample", "data_batch_1.bin"))
    parser.add_argument("--out", default=os.path.join(ROOT, "Tests", "Fixtures", "onnx", "efficientnet-lite0-oracle.json"))
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()

    labels, images = cifar_inputs(args.data)
    model, feature_name, gemm_name = with_feature_output(onnx.load(args.model))
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    output_name = model.graph.output[0].name
    logits, features = [], []
    for start in range(0, IMAGES, args.batch):
        out = session.run([output_name, feature_name], {input_name: images[start:start + args.batch]})
        logits.append(out[0])
        features.append(out[1][:4] if start == 0 else None)
    logits = np.concatenate(logits)
    features = features[0].reshape(4, -1)
    order = np.argsort(-logits, axis=1)
    top1 = order[:, 0]
    margin = logits[np.arange(IMAGES), top1] - logits[np.arange(IMAGES), order[:, 1]]

    oracle = {
        "source": "Benchmarks/peers/efficientnet_oracle.py",
        "model": os.path.basename(args.model),
        "model_sha256": sha256_file(args.model),
        "data": "cifar10-binary-sample/data_batch_1.bin",
        "data_sha256": sha256_file(args.data),
        "inputs": INPUTS,
        "input_name": input_name,
        "input_shape": [IMAGES, 3, 224, 224],
        "input_sha256": hashlib.sha256(images.tobytes()).hexdigest(),
        "first_input_sha256": hashlib.sha256(images[0].tobytes()).hexdigest(),
        "runtime": {"onnxruntime": ort.__version__, "onnx": onnx.__version__, "numpy": np.__version__,
                    "provider": "CPUExecutionProvider"},
        "logits_name": output_name,
        "feature_name": feature_name,
        "feature_consumer": gemm_name,
        "cifar10_labels": labels.tolist(),
        "top1": top1.tolist(),
        "top1_margin": [significant(m, 4) for m in margin],
        "logits_first_8": [[significant(v) for v in row] for row in logits[:8]],
        "features_first_4": [[significant(v) for v in row] for row in features],
        "logits_scale": significant(float(np.abs(logits).max()), 4),
        "features_scale": significant(float(np.abs(features).max()), 4),
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    temporary = args.out + ".tmp"
    with open(temporary, "w") as file:
        json.dump(oracle, file, separators=(",", ":"))
        file.write("\n")
    os.replace(temporary, args.out)
    print(f"{args.out}: {os.path.getsize(args.out)} bytes, smallest top-1 margin {margin.min():.3g}, "
          f"top-1 classes used {len(set(top1.tolist()))}")


if __name__ == "__main__":
    main()
