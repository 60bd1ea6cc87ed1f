import Foundation
import PerceptCore

/// Every supported operator written the plain way: whole tensors in ONNX's own layout (NCHW),
/// one obvious loop each, no fusion. It is the compiled runtime's reference twin (tests compare
/// the two on every fixture), the constant folder at load, and the fallback step for operator
/// forms the fast path does not cover — so a graph either runs right or fails at load.
enum ReferenceOperators {
    /// What a node reads: each input's tensor (nil for an optional input left out) and, for the
    /// integer inputs (`Reshape`'s shape, `Clip`'s bounds as ints never occur), their values.
    struct Inputs {
        var tensors: [Tensor?]
        var integers: [[Int]?]
        func tensor(_ i: Int) -> Tensor? { i < tensors.count ? tensors[i] : nil }
        func ints(_ i: Int) -> [Int]? { i < integers.count ? integers[i] : nil }
    }

    /// The operator forms the reference evaluates; `check` rejects the rest at load.
    static func evaluate(_ node: ONNXNode, _ x: Inputs, opset: Int) throws -> Tensor {
        let a = node.attributes
        func input(_ i: Int) throws -> Tensor {
            guard let t = x.tensor(i) else { throw unsupported(node, "input \(i) is missing") }
            return t
        }
        switch node.operatorType {
        case "Identity", "Dropout":
            return try input(0)
        case "Relu": return try input(0).mapped { max($0, 0) }
        case "Sigmoid": return try input(0).mapped { 1 / (1 + exp(-$0)) }
        case "Erf": return try input(0).mapped { erf($0) }
        case "HardSigmoid":
            let alpha = a.float("alpha") ?? 0.2, beta = a.float("beta") ?? 0.5
            return try input(0).mapped { min(max(alpha * $0 + beta, 0), 1) }
        case "HardSwish": return try input(0).mapped { $0 * min(max($0 / 6 + 0.5, 0), 1) }
        case "Clip":
            let (low, high) = try clipBounds(node, x, opset: opset)
            return try input(0).mapped { min(max($0, low), high) }
        case "Add": return try broadcast(try input(0), try input(1), node) { $0 + $1 }
        case "Sub": return try broadcast(try input(0), try input(1), node) { $0 - $1 }
        case "Mul": return try broadcast(try input(0), try input(1), node) { $0 * $1 }
        case "Div": return try broadcast(try input(0), try input(1), node) { $0 / $1 }
        case "Conv": return try convolution(node, try input(0), try input(1), x.tensor(2))
        case "BatchNormalization":
            let t = try input(0)
            let (scale, bias, mean, variance) = (try input(1), try input(2), try input(3), try input(4))
            let epsilon = a.float("epsilon") ?? 1e-5
            let c = t.shape[1], plane = t.shape.dropFirst(2).reduce(1, *)
            var out = t.scalars
            for i in 0..<out.count {
                let ch = (i / plane) % c
                out[i] = (out[i] - mean.scalars[ch]) / (variance.scalars[ch] + epsilon).squareRoot()
                    * scale.scalars[ch] + bias.scalars[ch]
            }
            return Tensor(shape: t.shape, scalars: out)
        case "Pad": return try pad(node, try input(0), x, opset: opset)
        case "MaxPool", "AveragePool": return try pool(node, try input(0))
        case "GlobalAveragePool":
            let t = try input(0)
            return try reduceMean(t, axes: Array(2..<t.rank), keepDims: true, node)
        case "ReduceMean":
            let t = try input(0)
            let axes = a.ints("axes") ?? x.ints(1) ?? Array(0..<t.rank)
            return try reduceMean(t, axes: axes, keepDims: (a.int("keepdims") ?? 1) != 0, node)
        case "Flatten":
            let t = try input(0)
            let axis = normalised(a.int("axis") ?? 1, rank: t.rank)
            let rows = t.shape.prefix(axis).reduce(1, *)
            return Tensor(shape: [rows, t.count / max(rows, 1)], scalars: t.scalars)
        case "Reshape":
            let t = try input(0)
            guard let target = x.ints(1) else { throw unsupported(node, "the target shape is not a constant") }
            return Tensor(shape: try reshapedDimensions(t.shape, target, node), scalars: t.scalars)
        case "Squeeze", "Unsqueeze":
            let t = try input(0)
            let axes = a.ints("axes") ?? x.ints(1)
            return Tensor(shape: try squeezedDimensions(t.shape, axes: axes, node), scalars: t.scalars)
        case "Gemm": return try gemm(node, try input(0), try input(1), x.tensor(2))
        case "MatMul": return try matrixProduct(node, try input(0), try input(1))
        case "Concat": return try concatenate(node, x.tensors.compactMap { $0 })
        case "Softmax": return try softmax(node, try input(0), opset: opset)
        case "Transpose":
            let t = try input(0)
            let permutation = a.ints("perm") ?? Array((0..<t.rank).reversed())
            return transposed(t, permutation)
        default:
            throw unsupported(node, "the operator is not supported")
        }
    }

    static func unsupported(_ node: ONNXNode, _ reason: String) -> PerceptError {
        PerceptError.unsupported(nil, "node '\(node.name)' (\(node.operatorType)): \(reason); supported operators: "
            + ONNXModel.supportedOperators.joined(separator: ", "))
    }

    static func normalised(_ axis: Int, rank: Int) -> Int { axis < 0 ? axis + rank : axis }

    /// Steps a multi-index to the next element of `shape` in row-major order (the last axis fastest).
    static func advance(_ index: inout [Int], within shape: [Int]) {
        var d = shape.count - 1
        while d >= 0 {
            index[d] += 1
            if index[d] < shape[d] { return }
            index[d] = 0
            d -= 1
        }
    }

    static func clipBounds(_ node: ONNXNode, _ x: Inputs, opset: Int) throws -> (Float, Float) {
        if opset < 11 {
            return (node.attributes.float("min") ?? -.greatestFiniteMagnitude,
                    node.attributes.float("max") ?? .greatestFiniteMagnitude)
        }
        func bound(_ i: Int, _ fallback: Float) throws -> Float {
            guard i < x.tensors.count, let t = x.tensors[i] else { return fallback }
            guard t.count == 1 else { throw unsupported(node, "a bound is not a scalar") }
            return t.scalars[0]
        }
        return (try bound(1, -.greatestFiniteMagnitude), try bound(2, .greatestFiniteMagnitude))
    }

    /// NumPy broadcasting of two tensors.
    static func broadcast(_ a: Tensor, _ b: Tensor, _ node: ONNXNode, _ f: (Float, Float) -> Float) throws -> Tensor {
        let rank = max(a.rank, b.rank)
        let sa = Array(repeating: 1, count: rank - a.rank) + a.shape
        let sb = Array(repeating: 1, count: rank - b.rank) + b.shape
        var shape = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            guard sa[i] == sb[i] || sa[i] == 1 || sb[i] == 1 else {
                throw unsupported(node, "shapes \(a.shape) and \(b.shape) do not broadcast")
            }
            shape[i] = max(sa[i], sb[i])
        }
        let count = shape.reduce(1, *)
        func strides(_ s: [Int]) -> [Int] {
            var result = [Int](repeating: 0, count: rank), step = 1
            for i in (0..<rank).reversed() {
                result[i] = s[i] == 1 ? 0 : step
                step *= s[i]
            }
            return result
        }
        let (stridesA, stridesB) = (strides(sa), strides(sb))
        var out = [Float](repeating: 0, count: count)
        var index = [Int](repeating: 0, count: rank)
        for i in 0..<count {
            var (ia, ib) = (0, 0)
            for d in 0..<rank { ia += index[d] * stridesA[d]; ib += index[d] * stridesB[d] }
            out[i] = f(a.scalars[ia], b.scalars[ib])
            advance(&index, within: shape)
        }
        return Tensor(shape: shape, scalars: out)
    }

    static func reduceMean(_ t: Tensor, axes: [Int], keepDims: Bool, _ node: ONNXNode) throws -> Tensor {
        let axes = Set(axes.map { normalised($0, rank: t.rank) })
        let kept = (0..<t.rank).map { axes.contains($0) ? 1 : t.shape[$0] }
        let count = kept.reduce(1, *)
        var sums = [Double](repeating: 0, count: count)
        var index = [Int](repeating: 0, count: t.rank)
        for value in t.scalars {
            var target = 0
            for d in 0..<t.rank { target = target * kept[d] + (axes.contains(d) ? 0 : index[d]) }
            sums[target] += Double(value)
            advance(&index, within: t.shape)
        }
        let reduced = Double(t.count / max(count, 1))
        let shape = keepDims ? kept : (0..<t.rank).filter { !axes.contains($0) }.map { t.shape[$0] }
        return Tensor(shape: shape, scalars: sums.map { Float($0 / reduced) })
    }

    /// Reshape's target with 0 (copy the input's dimension) and one −1 (whatever remains) resolved.
    static func reshapedDimensions(_ shape: [Int], _ target: [Int], _ node: ONNXNode) throws -> [Int] {
        var dims = target.enumerated().map { $0.element == 0 && $0.offset < shape.count ? shape[$0.offset] : $0.element }
        let total = shape.reduce(1, *)
        if let unknown = dims.firstIndex(of: -1) {
            let known = dims.enumerated().filter { $0.offset != unknown }.reduce(1) { $0 * $1.element }
            guard known > 0, total % known == 0 else { throw unsupported(node, "cannot reshape \(shape) to \(target)") }
            dims[unknown] = total / known
        }
        guard dims.reduce(1, *) == total, dims.allSatisfy({ $0 > 0 }) else {
            throw unsupported(node, "cannot reshape \(shape) to \(target)")
        }
        return dims
    }

    static func squeezedDimensions(_ shape: [Int], axes: [Int]?, _ node: ONNXNode) throws -> [Int] {
        if node.operatorType == "Squeeze" {
            let axes = Set((axes ?? shape.indices.filter { shape[$0] == 1 }).map { normalised($0, rank: shape.count) })
            guard axes.allSatisfy({ $0 < shape.count && shape[$0] == 1 }) else {
                throw unsupported(node, "squeezes an axis of length other than 1 in \(shape)")
            }
            return shape.indices.filter { !axes.contains($0) }.map { shape[$0] }
        }
        guard let axes else { throw unsupported(node, "no axes given") }
        let rank = shape.count + axes.count
        let inserted = Set(axes.map { normalised($0, rank: rank) })
        var rest = shape.makeIterator()
        return (0..<rank).map { inserted.contains($0) ? 1 : (rest.next() ?? 1) }
    }

    static func transposed(_ t: Tensor, _ permutation: [Int]) -> Tensor {
        let shape = permutation.map { t.shape[$0] }
        var sourceStrides = [Int](repeating: 1, count: t.rank)
        for d in stride(from: t.rank - 2, through: 0, by: -1) { sourceStrides[d] = sourceStrides[d + 1] * t.shape[d + 1] }
        var out = [Float](repeating: 0, count: t.count)
        var index = [Int](repeating: 0, count: t.rank)
        for i in 0..<t.count {
            var source = 0
            for d in 0..<t.rank { source += index[d] * sourceStrides[permutation[d]] }
            out[i] = t.scalars[source]
            advance(&index, within: shape)
        }
        return Tensor(shape: shape, scalars: out)
    }
}

extension Tensor {
    func mapped(_ f: (Float) -> Float) -> Tensor { Tensor(shape: shape, scalars: scalars.map(f)) }
}

extension Dictionary where Key == String, Value == ONNXAttribute {
    func int(_ key: String) -> Int? { if case .int(let v)? = self[key] { return v }; return nil }
    func float(_ key: String) -> Float? {
        switch self[key] {
        case .float(let v)?: return v
        case .int(let v)?: return Float(v)
        default: return nil
        }
    }
    func ints(_ key: String) -> [Int]? { if case .ints(let v)? = self[key] { return v }; return nil }
    func string(_ key: String) -> String? { if case .string(let v)? = self[key] { return v }; return nil }
}
