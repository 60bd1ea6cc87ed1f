import Foundation
import XCTest
@testable import PerceptONNX
import PerceptCore

/// Each load-time check on a tiny model that breaks exactly one rule, and what a good one gives.
final class ONNXLoadTests: XCTestCase {
    func testTinyModelLoadsWithShapesNodesAndWeights() throws {
        let model = try ONNXModel.load(try TinyONNXModel.write(TinyONNXModel.convolutionRelu()))
        XCTAssertEqual(model.opsetVersion, 17)
        XCTAssertEqual(model.irVersion, 8)
        XCTAssertEqual(model.inputs, [ONNXValueInfo(name: "images", elementType: "FLOAT", shape: [nil, 3, 4, 4])])
        XCTAssertEqual(model.outputs.map(\.description), ["features: FLOAT [N, 2, 4, 4]"])
        XCTAssertEqual(model.nodes.map(\.operatorType), ["Conv", "Relu"])
        XCTAssertEqual(model.nodes[0].inputs, ["images", "conv.weight", "conv.bias"])
        XCTAssertEqual(model.nodes[0].outputs, ["conv_out"])
        XCTAssertEqual(model.nodes[0].attributes, ["strides": .ints([1, 1]), "group": .int(1)])
        // raw_data (little-endian bytes) and float_data read to the same values.
        XCTAssertEqual(model.initializers["conv.weight"],
                       .float32(Tensor(shape: [2, 3, 1, 1], scalars: [0, 0.1, 0.2, 0.3, 0.4, 0.5])))
        XCTAssertEqual(model.initializers["conv.bias"], .float32(Tensor(shape: [2], scalars: [0.5, -0.5])))
        XCTAssertEqual(model.initializerNames, ["conv.weight", "conv.bias"])
        XCTAssertEqual(model.parameterCount, 8)
        XCTAssertNil(model.classifierInput, "no Gemm or MatMul")
    }

    func testClassifierInputWidthFollowsTheWeightLayout() throws {
        for (operatorType, transB, weightShape) in [("Gemm", Int64(1), [5, 32]), ("Gemm", 0, [32, 5]), ("MatMul", 0, [32, 5])] {
            var proto = TinyONNXModel.convolutionRelu()
            proto.graph.initializer.append(TinyONNXModel.floatTensor("fc.weight", shape: weightShape,
                                                                     values: Array(repeating: 0, count: 160), raw: true))
            proto.graph.node.append(TinyONNXModel.node("fc", operatorType, inputs: ["features", "fc.weight"], outputs: ["logits"],
                                                       attributes: operatorType == "Gemm" ? [TinyONNXModel.intAttribute("transB", transB)] : []))
            proto.graph.output[0] = TinyONNXModel.valueInfo("logits", [nil, 5], batchName: "batch")
            let model = try ONNXModel.load(try TinyONNXModel.write(proto))
            XCTAssertEqual(model.classifierInput, ONNXFeatureVector(name: "features", width: 32, classifierNode: "fc"),
                           "\(operatorType) transB \(transB)")
        }
    }

    func testEveryAttributeKindAndIntegerInitializersAreRead() throws {
        var proto = TinyONNXModel.convolutionRelu()
        var clipMode = Onnx_AttributeProto()
        clipMode.name = "mode"
        clipMode.type = .string
        clipMode.s = Data("constant".utf8)
        var alpha = Onnx_AttributeProto()
        alpha.name = "alpha"
        alpha.type = .float
        alpha.f = 0.25
        var scales = Onnx_AttributeProto()
        scales.name = "scales"
        scales.type = .floats
        scales.floats = [1, 2]
        var value = Onnx_AttributeProto()
        value.name = "value"
        value.type = .tensor
        value.t = TinyONNXModel.floatTensor("", shape: [], values: [6], raw: false)
        proto.graph.initializer.append(TinyONNXModel.int64Tensor("pads", values: [0, 0, 1, 1, 0, 0, 1, 1]))
        proto.graph.node += [
            TinyONNXModel.node("six", "Constant", inputs: [], outputs: ["six"], attributes: [value]),
            TinyONNXModel.node("pad", "Pad", inputs: ["features", "pads"], outputs: ["padded"], attributes: [clipMode]),
            TinyONNXModel.node("hard", "HardSigmoid", inputs: ["padded"], outputs: ["hard"], attributes: [alpha, scales]),
        ]
        let model = try ONNXModel.load(try TinyONNXModel.write(proto))
        XCTAssertEqual(model.nodes[2].attributes["value"], .tensor(.float32(Tensor(shape: [], scalars: [6]))))
        XCTAssertEqual(model.nodes[3].attributes["mode"], .string("constant"))
        XCTAssertEqual(model.nodes[4].attributes, ["alpha": .float(0.25), "scales": .floats([1, 2])])
        XCTAssertEqual(model.initializers["pads"], .int64(shape: [8], values: [0, 0, 1, 1, 0, 0, 1, 1]))
        XCTAssertEqual(model.initializers["pads"]?.integers, [0, 0, 1, 1, 0, 0, 1, 1])
        XCTAssertEqual(model.parameterCount, 8, "integer tensors are shapes, not parameters")
    }

    func testIntegerTensorsReadTheSameFromRawBytesAndTypedFields() throws {
        let values: [Int64] = [-1, 0, 7, 1 << 40]
        let typed = TinyONNXModel.int64Tensor("shape", values: values)
        var raw = typed
        raw.int64Data = []
        raw.rawData = Data(values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } })
        for proto in [typed, raw] {
            XCTAssertEqual(try ONNXTensor(proto, role: "shape", path: "t.onnx"),
                           .int64(shape: [4], values: [-1, 0, 7, 1 << 40]))
        }
        var int32 = typed
        int32.dataType = Int32(Onnx_TensorProto.DataType.int32.rawValue)
        int32.int64Data = []
        int32.int32Data = [-1, 0, 7, 9]
        var int32Raw = int32
        int32Raw.int32Data = []
        int32Raw.rawData = Data(int32.int32Data.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } })
        for proto in [int32, int32Raw] {
            XCTAssertEqual(try ONNXTensor(proto, role: "axes", path: "t.onnx"), .int64(shape: [4], values: [-1, 0, 7, 9]))
        }
    }

    func testUnsupportedOperatorNamesTheNodeTheOperatorAndTheSupportedList() throws {
        var proto = TinyONNXModel.convolutionRelu()
        proto.graph.node[1].opType = "LSTM"
        TinyONNXModel.assertLoadFails(try TinyONNXModel.write(proto), kind: .unsupported,
                                      mentioning: ["'relu'", "'LSTM'", "#1", ONNXModel.supportedOperators.joined(separator: ", ")])
        // A supported name in a custom domain is another operator.
        proto.graph.node[1].opType = "Relu"
        proto.graph.node[1].domain = "com.microsoft"
        TinyONNXModel.assertLoadFails(try TinyONNXModel.write(proto), kind: .unsupported,
                                      mentioning: ["'relu'", "'Relu' of domain 'com.microsoft'"])
    }

    func testDynamicInputDimensionOtherThanBatchIsRefused() throws {
        var proto = TinyONNXModel.convolutionRelu()
        proto.graph.input[0].type.tensorType.shape.dim[2].dimParam = "height"
        TinyONNXModel.assertLoadFails(try TinyONNXModel.write(proto), kind: .unsupported,
                                      mentioning: ["input 'images'", "dimension 2", "'height'", "static"])
        var unsized = TinyONNXModel.convolutionRelu()
        unsized.graph.input[0].type.tensorType.shape.dim[1] = Onnx_TensorShapeProto.Dimension()
        TinyONNXModel.assertLoadFails(try TinyONNXModel.write(unsized), kind: .unsupported,
                                      mentioning: ["input 'images'", "dimension 1", "without a size"])
        var shapeless = TinyONNXModel.convolutionRelu()
        shapeless.graph.input[0].type.tensorType.clearShape()
        TinyONNXModel.assertLoadFails(try TinyONNXModel.write(shapeless), kind: .unsupported,
                                      mentioning: ["input 'images'", "no shape"])
    }

    func testBatchDimensionMayBeSymbolicOrFixed() throws {
        var proto = TinyONNXModel.convolutionRelu()
        proto.graph.input[0].type.tensorType.shape.dim[0].dimValue = 8
        let model = try ONNXModel.load(try TinyONNXModel.write(proto))
        XCTAssertEqual(model.inputs[0].shape, [8, 3, 4, 4])
    }

    func testExternalDataTensorIsRefusedNamingTheTensorAndItsFile() throws {
        var proto = TinyONNXModel.convolutionRelu()
        proto.graph.initializer[0].clearRawData()
        proto.graph.initializer[0].dataLocation = .external
        var location = Onnx_StringStringEntryProto()
        location.key = "location"
        location.value = "weights.bin"
        proto.graph.initializer[0].externalData = [location]
        TinyONNXModel.assertLoadFails(try TinyONNXModel.write(proto), kind: .unsupported,
                                      mentioning: ["initializer 'conv.weight'", "external file", "'weights.bin'"])
    }

    func testOpsetOutsideTheSupportedRangeIsRefused() throws {
        for version: Int64 in [6, 22] {
            var proto = TinyONNXModel.convolutionRelu()
            proto.opsetImport = [TinyONNXModel.opset(version)]
            TinyONNXModel.assertLoadFails(try TinyONNXModel.write(proto), kind: .unsupported,
                                          mentioning: ["opset \(version)", "7...21"])
        }
        var longName = TinyONNXModel.convolutionRelu()
        longName.opsetImport = [TinyONNXModel.opset(13, domain: "ai.onnx"), TinyONNXModel.opset(3, domain: "ai.onnx.ml")]
        let model = try ONNXModel.load(try TinyONNXModel.write(longName))
        XCTAssertEqual(model.opsetVersions, ["": 13, "ai.onnx.ml": 3])
        var none = TinyONNXModel.convolutionRelu()
        none.opsetImport = []
        TinyONNXModel.assertLoadFails(try TinyONNXModel.write(none), kind: .corrupt, mentioning: ["opset_import"])
    }

    func testTruncatedEmptyAndNonONNXFilesAreCorrupt() throws {
        let bytes: Data = try TinyONNXModel.convolutionRelu().serializedBytes()
        TinyONNXModel.assertLoadFails(try TinyONNXModel.write(bytes.prefix(bytes.count - 7)), kind: .corrupt,
                                      mentioning: ["truncated"])
        TinyONNXModel.assertLoadFails(try TinyONNXModel.write(Data()), kind: .corrupt, mentioning: ["empty"])
        TinyONNXModel.assertLoadFails(try TinyONNXModel.write(Data("name,label\ncat.jpg,cat\n".utf8)), kind: .corrupt,
                                      mentioning: ["not an ONNX model"])
        TinyONNXModel.assertLoadFails(try TinyONNXModel.write(Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])),
                                      kind: .corrupt, mentioning: ["not an ONNX model"])
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-\(UUID().uuidString).onnx").path
        TinyONNXModel.assertLoadFails(missing, kind: .io, mentioning: ["cannot read"])
    }

    func testWeightsShorterThanTheirShapeAreCorrupt() throws {
        var proto = TinyONNXModel.convolutionRelu()
        proto.graph.initializer[1].floatData = [0.5]
        TinyONNXModel.assertLoadFails(try TinyONNXModel.write(proto), kind: .corrupt,
                                      mentioning: ["initializer 'conv.bias'", "[2]", "holds 1"])
        var raw = TinyONNXModel.convolutionRelu()
        raw.graph.initializer[0].rawData = raw.graph.initializer[0].rawData.prefix(20)
        TinyONNXModel.assertLoadFails(try TinyONNXModel.write(raw), kind: .corrupt,
                                      mentioning: ["initializer 'conv.weight'", "24 bytes", "holds 20"])
        var huge = TinyONNXModel.convolutionRelu()
        huge.graph.initializer[1].dims = [Int64.max, 4]
        TinyONNXModel.assertLoadFails(try TinyONNXModel.write(huge), kind: .corrupt, mentioning: ["impossible shape"])
    }

    func testNodeReadingAnUnknownValueOrMissingOutputIsCorrupt() throws {
        var proto = TinyONNXModel.convolutionRelu()
        proto.graph.node.swapAt(0, 1)
        TinyONNXModel.assertLoadFails(try TinyONNXModel.write(proto), kind: .corrupt,
                                      mentioning: ["node 'relu'", "'conv_out'", "out of order"])
        var orphan = TinyONNXModel.convolutionRelu()
        orphan.graph.output[0].name = "logits"
        TinyONNXModel.assertLoadFails(try TinyONNXModel.write(orphan), kind: .corrupt, mentioning: ["'logits'"])
    }

    func testOtherElementTypesAreRefusedByName() throws {
        var proto = TinyONNXModel.convolutionRelu()
        proto.graph.initializer[1].dataType = Int32(Onnx_TensorProto.DataType.float16.rawValue)
        TinyONNXModel.assertLoadFails(try TinyONNXModel.write(proto), kind: .unsupported,
                                      mentioning: ["initializer 'conv.bias'", "FLOAT16"])
    }
}
