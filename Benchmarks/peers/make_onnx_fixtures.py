"""Small ONNX models and onnxruntime's outputs on them: the fixtures of Percept's ONNX import tests.

    python3 Benchmarks/peers/make_onnx_fixtures.py [--out Tests/Fixtures/onnx] [--only NAME,...]

Writes, in the layout of ONNX's own backend tests (so the Swift side reads them with the protobuf types
it reads models with):
    <out>/<name>/model.onnx, input_0.pb, output_0.pb (output_1.pb, ...), info.json
    <out>/ops/<name>/...   one or a few nodes built with onnx.helper (onnx_op_graphs.py), and ops/INDEX.json
    <out>/bad/<name>.onnx  models that must fail at load (only what the Swift tests do not build themselves)
Each .pb is an onnx.TensorProto named for the graph input/output it holds. Inputs are random float32 NCHW
(batch 2, or 3 where the batch dimension is symbolic), outputs are what onnxruntime's
CPUExecutionProvider computes. Everything is seeded: running it again writes the same inputs and weights
(onnxruntime's outputs may differ in the last bits between its versions; info.json records them).
"""
import argparse
import json
import os
import shutil

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper

# torchvision registers fake (meta) kernels for its compiled ops at import; those ops do not load against
# this CPU-only torch build, and registration then fails. Making registration a no-op lets the pure-Python
# models import; no fixture uses a compiled torchvision op (nms, roi_align, ...).
torch.library.register_fake = lambda *a, **k: (lambda f: f)
import torchvision  # noqa: E402
from torchvision.models import efficientnet, mobilenet_v2, mobilenet_v3_small  # noqa: E402
from torchvision.models.resnet import BasicBlock, ResNet  # noqa: E402

from onnx_op_graphs import OPSET, op_cases, seed_of  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
VERSIONS = {"torch": torch.__version__, "torchvision": torchvision.__version__, "onnx": onnx.__version__,
            "onnxruntime": ort.__version__, "numpy": np.__version__}


def run_onnxruntime(model, inputs):
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(names, inputs)))


def write_case(folder, model, inputs, outputs):
    """model.onnx, input_i.pb and output_i.pb in graph order; the folder's size in bytes."""
    if os.path.exists(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    onnx.save(model, os.path.join(folder, "model.onnx"))
    graph_inputs = [i.name for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    for kind, names, values in [("input", graph_inputs, inputs), ("output", [o.name for o in model.graph.output], outputs)]:
        for index, name in enumerate(names):
            tensor = numpy_helper.from_array(np.ascontiguousarray(values[name]), name=name)
            with open(os.path.join(folder, f"{kind}_{index}.pb"), "wb") as file:
                file.write(tensor.SerializeToString())
    return sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))


def write_json(path, value, one_line_entries=False):
    with open(path, "w") as file:
        if one_line_entries:  # an index: one entry a line, so diffs and greps stay readable
            file.write("{\n" + ",\n".join(f" {json.dumps(key)}: {json.dumps(entry, sort_keys=True)}"
                                           for key, entry in sorted(value.items())) + "\n}\n")
        else:
            json.dump(value, file, indent=1, sort_keys=True)
            file.write("\n")


# ---------------------------------------------------------------------------------------------------------
# (a) Whole networks from torchvision, narrow, random weights, eval mode.

class TinyResNet(ResNet):
    """ResNet-18's shape (BasicBlock, layers [2, 2, 2, 2]) at widths 8/16/32/64 instead of 64/128/256/512."""

    def __init__(self, widths=(8, 16, 32, 64), num_classes=10):
        torch.nn.Module.__init__(self)
        self._norm_layer = torch.nn.BatchNorm2d
        self.inplanes, self.dilation, self.groups, self.base_width = widths[0], 1, 1, 64
        self.conv1 = torch.nn.Conv2d(3, widths[0], kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(widths[0])
        self.relu = torch.nn.ReLU(inplace=True)
        self.maxpool = torch.nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(BasicBlock, widths[0], 2)
        self.layer2 = self._make_layer(BasicBlock, widths[1], 2, stride=2)
        self.layer3 = self._make_layer(BasicBlock, widths[2], 2, stride=2)
        self.layer4 = self._make_layer(BasicBlock, widths[3], 2, stride=2)
        self.avgpool = torch.nn.AdaptiveAvgPool2d((1, 1))
        self.fc = torch.nn.Linear(widths[3], num_classes)


def tiny_mobilenet_v2(head=512):
    """MobileNetV2 at width 0.25 with its 1280-wide last 1×1 convolution narrowed to `head` (the file stays < 1 MB)."""
    network = mobilenet_v2(width_mult=0.25, num_classes=10)
    last = network.features[-1]
    network.features[-1] = type(last)(last[0].in_channels, head, kernel_size=1, norm_layer=torch.nn.BatchNorm2d,
                                      activation_layer=torch.nn.ReLU6)
    network.classifier[-1] = torch.nn.Linear(head, 10)
    return network


def tiny_efficientnet_b0():
    setting, last_channel = efficientnet._efficientnet_conf("efficientnet_b0", width_mult=0.25, depth_mult=0.5)
    return efficientnet.EfficientNet(setting, dropout=0.2, num_classes=10, last_channel=last_channel)


# name: (constructor, how torchvision builds it, BatchNorm kept as its own node?, symbolic batch?)
NETWORKS = {
    "resnet_tiny": (TinyResNet, "torchvision.models.resnet.ResNet subclass: BasicBlock, layers [2,2,2,2], "
                    "widths 8/16/32/64, 10 classes", True, False),
    "mobilenet_v2_tiny": (tiny_mobilenet_v2, "torchvision.models.mobilenet_v2(width_mult=0.25, num_classes=10) "
                          "with the last 1x1 Conv narrowed 1280 -> 512 channels (and the classifier 512 -> 10)",
                          False, False),
    "mobilenet_v3_small_tiny": (lambda: mobilenet_v3_small(width_mult=0.25, num_classes=10),
                                "torchvision.models.mobilenet_v3_small(width_mult=0.25, num_classes=10)", True, True),
    "efficientnet_b0_tiny": (tiny_efficientnet_b0,
                             "torchvision EfficientNet(_efficientnet_conf('efficientnet_b0', width_mult=0.25, "
                             "depth_mult=0.5), dropout=0.2, num_classes=10)", False, False),
}


def randomise_batchnorm_and_biases(module, generator):
    """BatchNorm's running statistics and affine parameters away from their initial values, so it is not the
    identity; biases (torchvision starts convolution biases at zero) random, so a dropped bias shows; the
    classifiers at PyTorch's default initialisation (torchvision's is tiny), so logits are of order one."""
    for layer in module.modules():
        if isinstance(layer, torch.nn.Linear):
            layer.reset_parameters()
        if isinstance(layer, (torch.nn.Conv2d, torch.nn.Linear)) and layer.bias is not None:
            layer.bias.data.copy_(torch.randn(layer.bias.shape, generator=generator) * 0.1)
        if isinstance(layer, torch.nn.BatchNorm2d):
            c = layer.num_features
            layer.running_mean.copy_(torch.randn(c, generator=generator) * 0.2)
            layer.running_var.copy_(torch.rand(c, generator=generator) * 1.5 + 0.5)
            layer.weight.data.copy_(torch.rand(c, generator=generator) + 0.5)
            layer.bias.data.copy_(torch.randn(c, generator=generator) * 0.2)


def export_network(name, out):
    build, source, keep_batchnorm, symbolic_batch = NETWORKS[name]
    torch.manual_seed(seed_of(name))
    network = build()
    generator = torch.Generator().manual_seed(seed_of(name) + 1)
    randomise_batchnorm_and_biases(network, generator)
    network.eval()
    batch = 3 if symbolic_batch else 2
    images = torch.randn(batch, 3, 64, 64, generator=generator)
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, f"{name}.tmp.onnx")
    # TrainingMode.PRESERVE on a network in eval mode keeps BatchNormalization as its own node (EVAL would
    # fuse it into the preceding Conv); constant folding then also stays off so nothing else folds it.
    torch.onnx.export(network, (images,), path, opset_version=OPSET, dynamo=False, input_names=["images"],
                      output_names=["logits"],
                      training=torch.onnx.TrainingMode.PRESERVE if keep_batchnorm else torch.onnx.TrainingMode.EVAL,
                      do_constant_folding=not keep_batchnorm,
                      dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}} if symbolic_batch else None)
    model = onnx.load(path)
    os.remove(path)
    onnx.checker.check_model(model, full_check=True)
    inputs = {"images": images.numpy()}
    outputs = run_onnxruntime(model, inputs)
    with torch.no_grad():
        expected = network(images).numpy()
    difference = float(np.abs(outputs["logits"] - expected).max())
    assert difference < 1e-4 * max(1.0, float(np.abs(expected).max())), \
        f"{name}: onnxruntime and torch differ by {difference}"
    size = write_case(os.path.join(out, name), model, inputs, outputs)
    gemms = [node for node in model.graph.node if node.op_type == "Gemm"]
    if gemms:  # the feature vector transfer learning reads, as a tensor of its own beside the outputs
        probe = onnx.ModelProto()
        probe.CopyFrom(model)
        probe.graph.output.append(helper.make_tensor_value_info(gemms[-1].input[0], TensorProto.FLOAT, None))
        features = run_onnxruntime(probe, inputs)[gemms[-1].input[0]]
        with open(os.path.join(out, name, "penultimate.pb"), "wb") as file:
            file.write(numpy_helper.from_array(features, name=gemms[-1].input[0]).SerializeToString())
        size += os.path.getsize(os.path.join(out, name, "penultimate.pb"))
    operators = sorted({node.op_type for node in model.graph.node})
    info = {
        "source": source,
        "script": "Benchmarks/peers/make_onnx_fixtures.py",
        "seed": seed_of(name),
        "versions": VERSIONS,
        "opset": OPSET,
        "exporter": "torch.onnx.export(dynamo=False), training=" + ("PRESERVE, do_constant_folding=False "
                    "(BatchNormalization kept)" if keep_batchnorm else "EVAL, do_constant_folding=True "
                    "(BatchNorm folded into Conv)"),
        "batchnorm": "kept" if keep_batchnorm else "folded",
        "input": {"name": "images", "shape": list(images.shape), "batch": "symbolic" if symbolic_batch else "static",
                  "values": "standard normal"},
        "operators": operators,
        "operator_counts": {op: sum(node.op_type == op for node in model.graph.node) for op in operators},
        "nodes": len(model.graph.node),
        "parameters": int(sum(p.numel() for p in network.parameters())),
        "penultimate": gemms[-1].input[0] if gemms else None,
        "penultimate_file": "penultimate.pb (onnxruntime's value of it on input_0.pb)" if gemms else None,
        "classifier_node": gemms[-1].name if gemms else None,
        "max_abs_logit": float(np.abs(outputs["logits"]).max()),
        "max_abs_diff_torch_vs_onnxruntime": difference,
    }
    write_json(os.path.join(out, name, "info.json"), info)
    return size, info


def write_op_case(c, out):
    model = c.model()
    outputs = run_onnxruntime(model, {"x": c.x})
    model = c.model({name: list(value.shape) for name, value in outputs.items()})
    onnx.checker.check_model(model, full_check=True)
    size = write_case(os.path.join(out, c.name), model, {"x": c.x}, outputs)
    operators = list(dict.fromkeys(node.op_type for node in model.graph.node))
    return size, {"operators": operators, "description": c.description, "opset": c.opset,
                  "input": list(c.x.shape), "outputs": {name: list(value.shape) for name, value in outputs.items()}}


# ---------------------------------------------------------------------------------------------------------
# (c) Load-time errors the Swift tests do not already build in code (they cover an unsupported operator,
# truncated and non-ONNX files, external data, opsets 6 and 22, non-batch symbolic dimensions).

def write_bad(out):
    os.makedirs(out, exist_ok=True)
    random = np.random.default_rng(seed_of("bad"))
    # A feature-vector classifier: its input is [N, 16], not an image [N, C, H, W].
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["features", "w", "b"], ["logits"], name="fc", transB=1)], "rank2_input",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 16])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 3])],
        [numpy_helper.from_array(random.standard_normal((3, 16)).astype(np.float32), "w"),
         numpy_helper.from_array(np.zeros(3, np.float32), "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, os.path.join(out, "input_rank2.onnx"))
    write_json(os.path.join(out, "INDEX.json"), {
        "input_rank2.onnx": "a valid ONNX model (Gemm on a [batch, 16] input) whose input is not an image "
                            "[N, C, H, W]: loading it as a backbone must fail naming the input 'features' and its rank"})
    return os.path.getsize(os.path.join(out, "input_rank2.onnx"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(ROOT, "Tests", "Fixtures", "onnx"))
    parser.add_argument("--only", default="", help="comma-separated fixture names (default: all)")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    total = 0
    for name in NETWORKS:
        if only and name not in only:
            continue
        size, info = export_network(name, args.out)
        total += size
        print(f"{name}: {size} bytes, {info['nodes']} nodes, {info['parameters']} parameters, {info['operator_counts']}")
    index = {}
    for c in op_cases():
        if only and c.name not in only:
            continue
        size, entry = write_op_case(c, os.path.join(args.out, "ops"))
        index[c.name] = entry
        total += size
    if index:
        if not only:
            write_json(os.path.join(args.out, "ops", "INDEX.json"), index, one_line_entries=True)
        print(f"ops: {len(index)} graphs")
    if not only:
        total += write_bad(os.path.join(args.out, "bad"))
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
