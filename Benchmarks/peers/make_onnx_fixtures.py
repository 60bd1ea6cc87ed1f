"""Small ONNX models and onnxruntime's outputs on them: the fixtures of Percept's ONNX import tests.

    python3 Benchmarks/peers/make_onnx_fixtures.py [--out Tests/Fixtures/onnx] [--only NAME,...]

Writes, in the layout of ONNX's own backend tests (so the Swift side reads them with the protobuf types
it reads models with):
    <out>/<name>/model.onnx, input_0.pb, output_0.pb (output_1.pb, ...), info.json
    <out>/ops/<name>/...   one or a few nodes built with onnx.helper, and ops/INDEX.json
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
import zlib

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

OPSET = 17
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
VERSIONS = {"torch": torch.__version__, "torchvision": torchvision.__version__, "onnx": onnx.__version__,
            "onnxruntime": ort.__version__, "numpy": np.__version__}


def seed_of(name):
    return zlib.crc32(name.encode())


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
    assert difference < 1e-4 * max(1.0, float(np.abs(expected).max())), f"{name}: onnxruntime and torch differ by {difference}"
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


# ---------------------------------------------------------------------------------------------------------
# (b) Operator by operator: one or a few nodes built with onnx.helper, one NCHW image input of batch 2.

class OpCase:
    """A graph of a few nodes on one input `x`; weights drawn from the case's own seeded generator."""

    def __init__(self, name, description, shape=(2, 4, 7, 9), opset=OPSET, scale=1.0):
        self.name, self.description, self.opset = name, description, opset
        self.random = np.random.default_rng(seed_of(name))
        self.x = (self.random.standard_normal(shape) * scale).astype(np.float32)
        self.nodes, self.initializers, self.outputs = [], [], []

    def weight(self, name, shape, scale=0.5):
        value = (self.random.standard_normal(shape) * scale).astype(np.float32)
        return self.constant(name, value)

    def constant(self, name, value):
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name=name))
        return name

    def ints(self, name, values):
        return self.constant(name, np.array(values, dtype=np.int64))

    def node(self, op, inputs, output=None, **attributes):
        output = output or f"{op.lower()}{len(self.nodes)}"
        self.nodes.append(helper.make_node(op, inputs, [output], name=f"{op}_{len(self.nodes)}", **attributes))
        return output

    def model(self, shapes=None):
        outputs = self.outputs or [self.nodes[-1].output[0]]
        graph = helper.make_graph(
            self.nodes, self.name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(self.x.shape))],
            [helper.make_tensor_value_info(o, TensorProto.FLOAT, shapes[o] if shapes else None) for o in outputs],
            self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)],
                                  producer_name="Percept make_onnx_fixtures.py")
        model.ir_version = 8
        return model


def conv(case, x, c_in, c_out, kernel, group=1, bias=True, **attributes):
    w = case.weight(f"w{len(case.nodes)}", (c_out, c_in // group, kernel, kernel), scale=1.0 / np.sqrt(c_in // group * kernel ** 2))
    inputs = [x, w] + ([case.weight(f"b{len(case.nodes)}", (c_out,), 0.5)] if bias else [])
    return case.node("Conv", inputs, kernel_shape=[kernel, kernel], group=group, **attributes)


def op_cases():
    """Each case: (OpCase, operators covered)."""
    cases = []

    def case(name, description, **options):
        c = OpCase(name, description, **options)
        cases.append(c)
        return c

    c = case("conv3x3_s1_p1_bias", "dense 3x3 Conv, stride 1, pads 1, bias, 3 -> 5 channels", shape=(2, 3, 7, 9))
    conv(c, "x", 3, 5, 3, pads=[1, 1, 1, 1], strides=[1, 1])
    c = case("conv3x3_s2_pads0011", "dense 3x3 Conv, stride 2, asymmetric pads [0,0,1,1] (bottom/right), bias",
             shape=(2, 3, 7, 9))
    conv(c, "x", 3, 4, 3, pads=[0, 0, 1, 1], strides=[2, 2])
    c = case("conv1x1_nobias", "pointwise 1x1 Conv without bias, 4 -> 6 channels")
    conv(c, "x", 4, 6, 1, bias=False)
    c = case("conv3x3_grouped", "grouped 3x3 Conv, group 2, 4 -> 6 channels, pads 1, bias")
    conv(c, "x", 4, 6, 3, group=2, pads=[1, 1, 1, 1])
    c = case("conv_depthwise3x3_s1", "depthwise 3x3 Conv (group = channels = 6), stride 1, pads 1, bias", shape=(2, 6, 7, 9))
    conv(c, "x", 6, 6, 3, group=6, pads=[1, 1, 1, 1], strides=[1, 1])
    c = case("conv_depthwise3x3_s2", "depthwise 3x3 Conv (group 6), stride 2, pads 1, bias", shape=(2, 6, 7, 9))
    conv(c, "x", 6, 6, 3, group=6, pads=[1, 1, 1, 1], strides=[2, 2])
    c = case("conv_depthwise5x5_s2_asymmetric", "depthwise 5x5 Conv (group 6), stride 2, pads [1,1,2,2], bias",
             shape=(2, 6, 8, 10))
    conv(c, "x", 6, 6, 5, group=6, pads=[1, 1, 2, 2], strides=[2, 2])
    c = case("conv_explicit_defaults", "3x3 Conv with every attribute spelled out: dilations [1,1], auto_pad NOTSET, "
             "group 1, strides [1,1], pads [1,1,1,1]", shape=(2, 3, 7, 9))
    conv(c, "x", 3, 4, 3, dilations=[1, 1], auto_pad="NOTSET", pads=[1, 1, 1, 1], strides=[1, 1])
    c = case("pad_then_conv", "constant Pad (pads as an int64 initialiser: H 0/1, W 1/2, value input omitted as in "
             "efficientnet-lite0), then a 3x3 stride-2 Conv with no padding of its own", shape=(2, 3, 8, 10))
    padded = c.node("Pad", ["x", c.ints("pads", [0, 0, 0, 1, 0, 0, 1, 2]), ""], mode="constant")
    conv(c, padded, 3, 4, 3, strides=[2, 2], pads=[0, 0, 0, 0])
    c = case("pad_constant_zero", "constant Pad alone, pads H 1/2, W 2/0, constant_value a float initialiser 0")
    c.node("Pad", ["x", c.ints("pads", [0, 0, 1, 2, 0, 0, 2, 0]), c.constant("value", np.float32(0))], mode="constant")
    c = case("batchnorm_eps1e-3", "BatchNormalization in inference, epsilon 1e-3, random scale/bias/mean/variance")
    c.node("BatchNormalization", ["x", c.constant("scale", c.random.uniform(0.5, 1.5, 4).astype(np.float32)),
                                  c.weight("bias", (4,)), c.weight("mean", (4,)),
                                  c.constant("var", c.random.uniform(0.2, 2, 4).astype(np.float32))], epsilon=1e-3)
    c = case("relu", "Relu")
    c.node("Relu", ["x"])
    c = case("clip_0_6", "Clip with min 0 and max 6 as scalar initialiser inputs (ReLU6), inputs spread over -12..12", scale=4.0)
    c.node("Clip", ["x", c.constant("min", np.float32(0)), c.constant("max", np.float32(6))])
    c = case("sigmoid", "Sigmoid", scale=3.0)
    c.node("Sigmoid", ["x"])
    c = case("mul_broadcast_nc11", "Mul of a [2,4,1,1] initialiser by the [2,4,7,9] input (squeeze-excite's broadcast)")
    c.node("Mul", [c.weight("s", (2, 4, 1, 1)), "x"])
    c = case("mul_scalar", "Mul by a scalar (rank 0) initialiser 1.7")
    c.node("Mul", ["x", c.constant("k", np.float32(1.7))])
    c = case("hardsigmoid_sixth", "HardSigmoid alpha 1/6 beta 0.5 (as PyTorch exports it)", scale=4.0)
    c.node("HardSigmoid", ["x"], alpha=1.0 / 6, beta=0.5)
    c = case("hardsigmoid_default", "HardSigmoid without attributes (ONNX defaults alpha 0.2, beta 0.5)", scale=4.0)
    c.node("HardSigmoid", ["x"])
    c = case("hardswish", "HardSwish", scale=4.0)
    c.node("HardSwish", ["x"])
    c = case("add_elementwise", "Add of a [2,4,7,9] initialiser, same shape as the input")
    c.node("Add", ["x", c.weight("y", (2, 4, 7, 9))])
    c = case("add_channel_bias", "Add broadcasting a per-channel [1,4,1,1] initialiser")
    c.node("Add", ["x", c.weight("bias", (1, 4, 1, 1))])
    c = case("maxpool_k3_s2_p1", "MaxPool kernel 3, stride 2, pads 1 (ResNet's stem pool; pads never win)")
    c.node("MaxPool", ["x"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    c = case("maxpool_k2_s2_floor", "MaxPool kernel 2, stride 2, ceil_mode 0 on odd 7x9 (the last row/column dropped)")
    c.node("MaxPool", ["x"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=0)
    for include in (0, 1):
        c = case(f"averagepool_k3_s1_p1_include{include}", f"AveragePool kernel 3, stride 1, pads 1, "
                 f"count_include_pad {include}")
        c.node("AveragePool", ["x"], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1], count_include_pad=include)
    c = case("globalaveragepool", "GlobalAveragePool to [2,4,1,1]")
    c.node("GlobalAveragePool", ["x"])
    for keep in (1, 0):
        c = case(f"reducemean_hw_keepdims{keep}", f"ReduceMean axes [2,3] as an attribute (opset 17), keepdims {keep}")
        c.node("ReduceMean", ["x"], axes=[2, 3], keepdims=keep)
    c = case("reducemean_axes_input_opset18", "ReduceMean with axes [2,3] as an int64 initialiser input (opset 18), "
             "keepdims 1", opset=18)
    c.node("ReduceMean", ["x", c.ints("axes", [2, 3])], keepdims=1)
    c = case("flatten_axis1", "Flatten axis 1: [2,4,7,9] -> [2,252]")
    c.node("Flatten", ["x"], axis=1)
    c = case("reshape_n_minus1", "Reshape to a constant shape [2,-1]")
    c.node("Reshape", ["x", c.ints("shape", [2, -1])])
    c = case("reshape_0_minus1", "Reshape to a constant shape [0,-1] (0 copies the input's dimension)")
    c.node("Reshape", ["x", c.ints("shape", [0, -1])])
    c = case("squeeze_axes23", "GlobalAveragePool, then Squeeze with axes [2,3] as an input (opset 13 style) -> [2,4]")
    c.node("Squeeze", [c.node("GlobalAveragePool", ["x"]), c.ints("axes", [2, 3])])
    c = case("unsqueeze_axes23", "ReduceMean keepdims 0 -> [2,4], Unsqueeze with axes [2,3] as an input -> [2,4,1,1], "
             "Mul by the input")
    pooled = c.node("ReduceMean", ["x"], axes=[2, 3], keepdims=0)
    c.node("Mul", [c.node("Unsqueeze", [pooled, c.ints("axes", [2, 3])]), "x"])
    c = case("gemm_transb_bias", "Flatten, then Gemm transB 1, alpha 1, beta 1, bias: [2,60] x [10,60]^T + [10]",
             shape=(2, 4, 3, 5))
    c.node("Gemm", [c.node("Flatten", ["x"], axis=1), c.weight("w", (10, 60), 0.2), c.weight("b", (10,))],
           transB=1, alpha=1.0, beta=1.0)
    c = case("matmul", "Flatten, then MatMul [2,60] x [60,10] initialiser", shape=(2, 4, 3, 5))
    c.node("MatMul", [c.node("Flatten", ["x"], axis=1), c.weight("w", (60, 10), 0.2)])
    c = case("concat_channels", "Concat on axis 1 of a 3x3 Conv (3 channels) and a 1x1 Conv (5 channels)")
    first = conv(c, "x", 4, 3, 3, pads=[1, 1, 1, 1])
    second = conv(c, "x", 4, 5, 1)
    c.node("Concat", [first, second], axis=1)
    c = case("identity", "Identity")
    c.node("Identity", ["x"])
    c = case("identity_of_initializer", "a Conv whose bias is an Identity of an initialiser (how the TorchScript "
             "exporter aliases equal-valued initialisers)")
    bias = c.node("Identity", [c.weight("shared_bias", (4,))])
    c.node("Conv", ["x", c.weight("w", (4, 4, 1, 1)), bias], kernel_shape=[1, 1])
    c = case("dropout_inference", "Dropout with ratio 0.3 as an input and no training_mode (inference: the identity)")
    c.node("Dropout", ["x", c.constant("ratio", np.float32(0.3))])
    c = case("constant_add", "a Constant node (a [1,4,1,1] tensor attribute) feeding Add")
    value = c.random.standard_normal((1, 4, 1, 1)).astype(np.float32)
    c.nodes.append(helper.make_node("Constant", [], ["c"], name="Constant_0", value=numpy_helper.from_array(value)))
    c.node("Add", ["x", "c"])
    c = case("constant_clip_bounds", "Clip whose min and max come from scalar Constant nodes (as the TorchScript "
             "exporter writes ReLU6 with constant folding on)", scale=4.0)
    for bound, number in [("lo", 0.0), ("hi", 6.0)]:
        c.nodes.append(helper.make_node("Constant", [], [bound], name=f"Constant_{bound}",
                                        value=numpy_helper.from_array(np.array(number, dtype=np.float32))))
    c.node("Clip", ["x", "lo", "hi"])
    c = case("squeeze_excite", "squeeze-excite: GlobalAveragePool, 1x1 Conv 6->2, Relu, 1x1 Conv 2->6, HardSigmoid, "
             "Mul by the input", shape=(2, 6, 7, 9))
    squeezed = conv(c, c.node("GlobalAveragePool", ["x"]), 6, 2, 1)
    gate = c.node("HardSigmoid", [conv(c, c.node("Relu", [squeezed]), 2, 6, 1)], alpha=1.0 / 6, beta=0.5)
    c.node("Mul", [gate, "x"])
    c = case("inverted_residual", "MobileNetV2's block: 1x1 Conv 4->12, Clip 0..6, depthwise 3x3 Conv, Clip 0..6, "
             "1x1 Conv 12->4, Add the input")
    low, high = c.constant("low", np.float32(0)), c.constant("high", np.float32(6))
    expanded = c.node("Clip", [conv(c, "x", 4, 12, 1), low, high])
    filtered = c.node("Clip", [conv(c, expanded, 12, 12, 3, group=12, pads=[1, 1, 1, 1]), low, high])
    c.node("Add", [conv(c, filtered, 12, 4, 1), "x"])
    return cases


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
