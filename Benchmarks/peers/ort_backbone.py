"""Peers of `percept-bench backbone`: EfficientNet-Lite0 inference timed in onnxruntime and PyTorch eager.

    python3 Benchmarks/peers/ort_backbone.py [--model ../shared/models/efficientnet-lite0.onnx]
                                             [--batch 32] [--threads 2] [--size 224] [--runs 10] [--warmup 2]
                                             [--torch]

onnxruntime: CPUExecutionProvider, intra_op_num_threads = threads, inter_op 1, sequential execution,
graph optimisations all on (ORT_ENABLE_ALL). With --torch, the same graph as a PyTorch module
(the small interpreter below, which knows the operators this graph uses: Conv, Pad, Clip, Add,
ReduceMean, Gemm; and onnx2torch's conversion when it is installed), each checked against onnxruntime
(max abs diff printed) and timed under torch.inference_mode() in contiguous (NCHW) and channels_last
layouts, with torch.set_num_threads(threads).
The interpreter is the network as one would write it in PyTorch (nn.Conv2d, F.pad, clamp, +, mean,
nn.Linear); onnx2torch's torch.fx module adds its own per-node wrappers (slower in channels_last here).
Timing: `warmup` untimed runs, then the median of `runs` timed runs on one fixed random batch.
One JSON line per measurement, as the other peers print.
"""
import argparse
import json
import os
import statistics
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

DEFAULT_MODEL = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "models", "efficientnet-lite0.onnx")


def median_seconds(runs, warmup, body):
    for _ in range(warmup):
        body()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def ort_session(path, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def interpreted_module(model):
    """The ONNX graph as a torch.nn.Module: one nn.Conv2d/nn.Linear per node, weights from the initialisers."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for node in model.graph.node:  # Constant nodes (shapes, clip bounds) join the initialisers
        if node.op_type == "Constant":
            weights[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)

    def attributes(node):
        return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}

    class Interpreted(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleDict()
            self.steps = []
            for index, node in enumerate(model.graph.node):
                if node.op_type == "Constant":
                    continue
                key, a = f"n{index}", attributes(node)
                if node.op_type == "Conv":
                    w = torch.from_numpy(weights[node.input[1]].copy())
                    pads = a.get("pads", [0, 0, 0, 0])
                    assert pads[:2] == pads[2:], f"{node.name}: asymmetric Conv pads need a Pad node"
                    conv = nn.Conv2d(w.shape[1] * a.get("group", 1), w.shape[0], tuple(w.shape[2:]),
                                     stride=tuple(a.get("strides", [1, 1])), padding=tuple(pads[:2]),
                                     dilation=tuple(a.get("dilations", [1, 1])), groups=a.get("group", 1),
                                     bias=len(node.input) > 2 and node.input[2] != "")
                    conv.weight.data.copy_(w)
                    if conv.bias is not None:
                        conv.bias.data.copy_(torch.from_numpy(weights[node.input[2]].copy()))
                    self.layers[key] = conv
                elif node.op_type == "Gemm":
                    w = torch.from_numpy(weights[node.input[1]].copy())
                    assert a.get("transB", 0) == 1 and a.get("alpha", 1.0) == 1.0 and a.get("beta", 1.0) == 1.0
                    linear = nn.Linear(w.shape[1], w.shape[0])
                    linear.weight.data.copy_(w)
                    linear.bias.data.copy_(torch.from_numpy(weights[node.input[2]].copy()))
                    self.layers[key] = linear
                elif node.op_type == "Pad":
                    pads = [int(p) for p in weights[node.input[1]]]  # ONNX: begins of every axis, then ends
                    rank = len(pads) // 2
                    assert a.get("mode", b"constant") in (b"constant", "constant") and pads[:2] == [0, 0]
                    torch_pads = []  # F.pad: last axis first, (begin, end) pairs
                    for axis in reversed(range(2, rank)):
                        torch_pads += [pads[axis], pads[axis + rank]]
                    a["torch_pads"] = torch_pads
                elif node.op_type == "Clip":
                    a["bounds"] = [float(weights[name]) if name else None for name in list(node.input[1:3])]
                elif node.op_type not in ("Add", "ReduceMean"):
                    raise ValueError(f"node {node.name}: operator {node.op_type} not interpreted")
                self.steps.append((key, node.op_type, list(node.input), node.output[0], a))

        def forward(self, images):
            values = {model.graph.input[0].name: images}
            for key, op, inputs, output, a in self.steps:
                x = values[inputs[0]]
                if op in ("Conv", "Gemm"):
                    y = self.layers[key](x)
                elif op == "Pad":
                    y = F.pad(x, a["torch_pads"])
                elif op == "Clip":
                    y = torch.clamp(x, *a["bounds"])
                elif op == "Add":
                    y = x + values[inputs[1]]
                else:  # ReduceMean
                    y = x.mean(dim=tuple(a["axes"]), keepdim=bool(a.get("keepdims", 1)))
                values[output] = y
            return values[model.graph.output[0].name]

    return Interpreted()


def onnx2torch_module(model):
    """onnx2torch's conversion (a torch.fx GraphModule), or None when onnx2torch is not installed."""
    import torch
    # torchvision (imported by onnx2torch) registers fake kernels for its compiled ops; those do not
    # load against this CPU-only torch build, so registration is made a no-op before the import.
    torch.library.register_fake = lambda *a, **k: (lambda f: f)
    try:
        from onnx2torch import convert
    except ImportError:
        return None
    return convert(model)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=DEFAULT_MODEL)
    for name, default in [("batch", 32), ("threads", 2), ("size", 224), ("runs", 10), ("warmup", 2)]:
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--torch", action="store_true", help="also time PyTorch eager on the same graph")
    parser.add_argument("--converter", choices=["interpreter", "onnx2torch", "both"], default="both",
                        help="how the graph becomes a torch module (both: each in turn, onnx2torch when installed)")
    args = parser.parse_args()

    rng = np.random.default_rng(32)
    images = rng.uniform(-1, 1, size=(args.batch, 3, args.size, args.size)).astype(np.float32)
    common = {"network": os.path.basename(args.model), "batch": args.batch, "threads": args.threads,
              "size": args.size, "runs": args.runs}

    session = ort_session(args.model, args.threads)
    feed = {session.get_inputs()[0].name: images}
    reference = session.run(None, feed)[0]
    median, best = median_seconds(args.runs, args.warmup, lambda: session.run(None, feed))
    print(json.dumps({"runtime": "onnxruntime", "version": ort.__version__, **common, "seconds": median,
                      "best_seconds": best, "images_per_second": args.batch / median}, sort_keys=True), flush=True)

    if not args.torch:
        return
    import torch
    torch.set_num_threads(args.threads)
    model = onnx.load(args.model)
    modules = []
    if args.converter in ("interpreter", "both"):
        modules.append(("interpreter", interpreted_module(model)))
    if args.converter in ("onnx2torch", "both"):
        converted = onnx2torch_module(model)
        if converted is None and args.converter == "onnx2torch":
            raise SystemExit("ort_backbone.py: onnx2torch is not installed (pip install onnx2torch)")
        if converted is not None:
            modules.append(("onnx2torch", converted))
    for (converter, module), (layout, memory_format) in [(m, f) for m in modules for f in
                                                         [("contiguous", torch.contiguous_format),
                                                          ("channels_last", torch.channels_last)]]:
        module = module.eval().to(memory_format=memory_format)
        x = torch.from_numpy(images).contiguous(memory_format=memory_format)
        with torch.inference_mode():
            difference = float(np.abs(module(x).numpy() - reference).max())
            assert difference < 1e-3 * max(1.0, float(np.abs(reference).max())), f"torch differs by {difference}"
            median, best = median_seconds(args.runs, args.warmup, lambda: module(x))
        print(json.dumps({"runtime": "torch", "version": torch.__version__, "converter": converter, "layout": layout,
                          **common, "seconds": median, "best_seconds": best, "images_per_second": args.batch / median,
                          "max_abs_diff_vs_onnxruntime": difference}, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
