"""The operator-by-operator graphs of Percept's ONNX fixtures, built with onnx.helper (make_onnx_fixtures.py
writes them with onnxruntime's outputs): one or a few nodes each on one NCHW image input `x` of batch 2, at
odd, non-square sizes, every weight drawn from the case's own seeded generator."""
import zlib

import numpy as np
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


def seed_of(name):
    """A seed that depends only on the case's name, so adding a case leaves the others' bytes unchanged."""
    return zlib.crc32(name.encode())


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
    # The gate is computed from the input, as in squeeze-excite: a per-item [N,4,1,1] value (a constant
    # of that shape would tie the graph to one batch size, which Percept refuses at load).
    c = case("mul_broadcast_nc11", "Mul of a [2,4,1,1] gate, Sigmoid(GlobalAveragePool(x)), by the [2,4,7,9] input "
             "(squeeze-excite's broadcast)")
    c.node("Mul", [c.node("Sigmoid", [c.node("GlobalAveragePool", ["x"])]), "x"])
    c = case("mul_scalar", "Mul by a scalar (rank 0) initialiser 1.7")
    c.node("Mul", ["x", c.constant("k", np.float32(1.7))])
    c = case("hardsigmoid_sixth", "HardSigmoid alpha 1/6 beta 0.5 (as PyTorch exports it)", scale=4.0)
    c.node("HardSigmoid", ["x"], alpha=1.0 / 6, beta=0.5)
    c = case("hardsigmoid_default", "HardSigmoid without attributes (ONNX defaults alpha 0.2, beta 0.5)", scale=4.0)
    c.node("HardSigmoid", ["x"])
    c = case("hardswish", "HardSwish", scale=4.0)
    c.node("HardSwish", ["x"])
    # [1,4,7,9], not [2,4,7,9]: a constant with one value per batch item ties the graph to one batch
    # size, which Percept refuses at load (its sessions run any batch).
    c = case("add_elementwise", "Add of a [1,4,7,9] initialiser: every element of an item its own value, shared by the batch")
    c.node("Add", ["x", c.weight("y", (1, 4, 7, 9))])
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
