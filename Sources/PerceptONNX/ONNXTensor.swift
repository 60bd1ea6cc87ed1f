import Foundation
import PerceptCore

/// A constant tensor from an ONNX file: an initialiser (weights, biases, pads) or a `Constant`
/// node's value.
///
/// Weights are Float32 and become a `Tensor`; integer tensors (Int64, or Int32 widened) are the
/// shapes, pads and axes that operators such as `Pad` and `Reshape` take as inputs, kept as `[Int]`.
public enum ONNXTensor: Sendable, Equatable {
    case float32(Tensor)
    case int64(shape: [Int], values: [Int])

    public var shape: [Int] {
        switch self {
        case .float32(let tensor): return tensor.shape
        case .int64(let shape, _): return shape
        }
    }

    /// The number of elements (1 for a scalar, whose shape is `[]`).
    public var count: Int {
        switch self {
        case .float32(let tensor): return tensor.count
        case .int64(_, let values): return values.count
        }
    }

    /// The Float32 tensor, or nil for an integer tensor.
    public var floatTensor: Tensor? {
        if case .float32(let tensor) = self { return tensor }
        return nil
    }

    /// The integers in row-major order, or nil for a Float32 tensor.
    public var integers: [Int]? {
        if case .int64(_, let values) = self { return values }
        return nil
    }
}

extension ONNXTensor {
    /// Reads a `TensorProto`, checking that its data is inside the file and matches its shape.
    /// `role` names the tensor in messages ("initializer 'conv1.weight'").
    init(_ proto: Onnx_TensorProto, role: String, path: String) throws {
        if proto.dataLocation == .external || !proto.externalData.isEmpty {
            let location = proto.externalData.first { $0.key == "location" }?.value
            throw PerceptError.unsupported(path, "\(role) keeps its data in an external file"
                + (location.map { " ('\($0)')" } ?? "")
                + "; Percept reads only self-contained models: save it again with the data inside "
                + "(onnx.save(model, path, save_as_external_data=False); files over 2 GB cannot be)")
        }
        if proto.hasSegment {
            throw PerceptError.unsupported(path, "\(role) is split into segments, which Percept does not read")
        }
        let shape = proto.dims.map { Int($0) }
        let count = try Self.elementCount(of: shape, role: role, path: path)
        let dataType = Onnx_TensorProto.DataType(rawValue: Int(proto.dataType))
        switch dataType {
        case .float:
            let scalars = proto.hasRawData
                ? try Self.littleEndianFloats(proto.rawData, count: count, role: role, path: path)
                : proto.floatData
            try Self.check(scalars.count, against: shape, count: count, role: role, path: path)
            self = .float32(Tensor(shape: shape, scalars: scalars))
        case .int64, .int32:
            let isInt64 = dataType == .int64
            let values = proto.hasRawData
                ? try Self.littleEndianIntegers(proto.rawData, count: count, width: isInt64 ? 8 : 4, role: role, path: path)
                : isInt64 ? proto.int64Data.map { Int($0) } : proto.int32Data.map { Int($0) }
            try Self.check(values.count, against: shape, count: count, role: role, path: path)
            self = .int64(shape: shape, values: values)
        default:
            let name = dataType.map { "\($0)".uppercased() } ?? "number \(proto.dataType)"
            throw PerceptError.unsupported(path, "\(role) has element type \(name); Percept reads FLOAT, INT64 "
                + "and INT32 tensors (export the model in float32)")
        }
    }

    /// The product of `shape`, or an error when a dimension is negative or the product overflows
    /// (a damaged file can claim any dimensions).
    private static func elementCount(of shape: [Int], role: String, path: String) throws -> Int {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else {
                throw PerceptError.corrupt(path, "\(role) has a negative dimension in its shape \(shape)")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow, product <= Int(Int32.max) else {
                throw PerceptError.corrupt(path, "\(role) claims an impossible shape \(shape)")
            }
            count = product
        }
        return count
    }

    private static func check(_ found: Int, against shape: [Int], count: Int, role: String, path: String) throws {
        guard found == count else {
            throw PerceptError.corrupt(path, "\(role) has shape \(shape) (\(count) values) but holds \(found); "
                + "the file may be truncated or damaged")
        }
    }

    private static func rawBytes(_ data: Data, count: Int, width: Int, role: String, path: String) throws -> FileBytes {
        guard data.count == count * width else {
            throw PerceptError.corrupt(path, "\(role) needs \(count * width) bytes of data for \(count) values "
                + "but holds \(data.count); the file may be truncated or damaged")
        }
        return FileBytes(copying: data)
    }

    // raw_data is little-endian whatever the writer's machine (the ONNX IR says so).
    private static func littleEndianFloats(_ data: Data, count: Int, role: String, path: String) throws -> [Float] {
        try rawBytes(data, count: count, width: 4, role: role, path: path).floats(at: 0, count: count)
    }

    /// Int64s (`width` 8) or Int32s (`width` 4), widened to Int.
    private static func littleEndianIntegers(_ data: Data, count: Int, width: Int, role: String,
                                             path: String) throws -> [Int] {
        let bytes = try rawBytes(data, count: count, width: width, role: role, path: path)
        return (0..<count).map { index in
            width == 8 ? Int(bytes.integer(at: 8 * index, as: Int64.self)) : Int(bytes.integer(at: 4 * index, as: Int32.self))
        }
    }
}
