import Foundation
import PerceptCore

/// The reference twin's windowed and matrix operators, NCHW, in Double accumulation.
extension ReferenceOperators {
    /// A 2-D window's placement along one axis: its size, stride, dilation and the zeros before and after.
    struct Window: Equatable {
        var kernel: Int, stride: Int, dilation: Int, before: Int, after: Int
        var extent: Int { (kernel - 1) * dilation + 1 }
        func outputSize(_ size: Int, ceilMode: Bool = false) -> Int {
            let span = size + before + after - extent
            guard ceilMode else { return span / stride + 1 }
            var out = (span + stride - 1) / stride + 1
            // A last window that starts in the trailing padding is dropped (PyTorch's and ONNX's rule).
            if (out - 1) * stride >= size + before { out -= 1 }
            return out
        }
    }

    /// The height and width windows of a Conv or pooling node over an input of `height`×`width`.
    static func windows(_ node: ONNXNode, kernel: [Int], height: Int, width: Int) throws -> (Window, Window) {
        let a = node.attributes
        guard kernel.count == 2 else { throw unsupported(node, "only 2-D windows are supported, got \(kernel)") }
        let strides = a.ints("strides") ?? [1, 1], dilations = a.ints("dilations") ?? [1, 1]
        guard strides.count == 2, dilations.count == 2, strides.allSatisfy({ $0 > 0 }), dilations.allSatisfy({ $0 > 0 }) else {
            throw unsupported(node, "strides \(strides) or dilations \(dilations) are not two positive numbers")
        }
        var pads = a.ints("pads") ?? [0, 0, 0, 0]
        guard pads.count == 4, pads.allSatisfy({ $0 >= 0 }) else { throw unsupported(node, "pads \(pads) are not 4 non-negative numbers") }
        let autoPad = a.string("auto_pad") ?? "NOTSET"
        if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
            for (axis, size) in [height, width].enumerated() {
                let extent = (kernel[axis] - 1) * dilations[axis] + 1
                let total = max(0, ((size + strides[axis] - 1) / strides[axis] - 1) * strides[axis] + extent - size)
                let small = total / 2, large = total - total / 2
                (pads[axis], pads[axis + 2]) = autoPad == "SAME_UPPER" ? (small, large) : (large, small)
            }
        } else if autoPad == "VALID" {
            pads = [0, 0, 0, 0]
        } else if autoPad != "NOTSET" {
            throw unsupported(node, "auto_pad '\(autoPad)' is not supported")
        }
        return (Window(kernel: kernel[0], stride: strides[0], dilation: dilations[0], before: pads[0], after: pads[2]),
                Window(kernel: kernel[1], stride: strides[1], dilation: dilations[1], before: pads[1], after: pads[3]))
    }

    static func convolution(_ node: ONNXNode, _ x: Tensor, _ w: Tensor, _ b: Tensor?) throws -> Tensor {
        guard x.rank == 4, w.rank == 4 else { throw unsupported(node, "only 2-D convolutions of NCHW images are supported") }
        let (n, c, h, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (m, cPerGroup, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        let groups = node.attributes.int("group") ?? 1
        guard groups > 0, c == cPerGroup * groups, m % groups == 0 else {
            throw unsupported(node, "\(c) input channels do not fit weights \(w.shape) in \(groups) groups")
        }
        let (wy, wx) = try windows(node, kernel: [kh, kw], height: h, width: width)
        let (oh, ow) = (wy.outputSize(h), wx.outputSize(width))
        guard oh > 0, ow > 0 else { throw unsupported(node, "the kernel is larger than the padded input") }
        let mPerGroup = m / groups
        var out = [Float](repeating: 0, count: n * m * oh * ow)
        for item in 0..<n {
            for o in 0..<m {
                let group = o / mPerGroup
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var sum = Double(b?.scalars[o] ?? 0)
                        for ci in 0..<cPerGroup {
                            let channel = group * cPerGroup + ci
                            for ky in 0..<kh {
                                let iy = oy * wy.stride - wy.before + ky * wy.dilation
                                guard iy >= 0, iy < h else { continue }
                                for kx in 0..<kw {
                                    let ix = ox * wx.stride - wx.before + kx * wx.dilation
                                    guard ix >= 0, ix < width else { continue }
                                    sum += Double(x.scalars[((item * c + channel) * h + iy) * width + ix])
                                        * Double(w.scalars[((o * cPerGroup + ci) * kh + ky) * kw + kx])
                                }
                            }
                        }
                        out[((item * m + o) * oh + oy) * ow + ox] = Float(sum)
                    }
                }
            }
        }
        return Tensor(shape: [n, m, oh, ow], scalars: out)
    }

    static func pad(_ node: ONNXNode, _ x: Tensor, _ inputs: Inputs, opset: Int) throws -> Tensor {
        let mode = node.attributes.string("mode") ?? "constant"
        guard mode == "constant" else { throw unsupported(node, "pad mode '\(mode)' (only 'constant')") }
        let pads = opset < 11 ? node.attributes.ints("pads") : inputs.ints(1)
        guard let pads, pads.count == 2 * x.rank, pads.allSatisfy({ $0 >= 0 }) else {
            throw unsupported(node, "the pads are not constant non-negative numbers, two per axis")
        }
        let value = opset < 11 ? (node.attributes.float("value") ?? 0) : (inputs.tensor(2)?.scalars.first ?? 0)
        let shape = (0..<x.rank).map { x.shape[$0] + pads[$0] + pads[$0 + x.rank] }
        var out = [Float](repeating: value, count: shape.reduce(1, *))
        var index = [Int](repeating: 0, count: x.rank)
        for v in x.scalars {
            var target = 0
            for d in 0..<x.rank { target = target * shape[d] + index[d] + pads[d] }
            out[target] = v
            advance(&index, within: x.shape)
        }
        return Tensor(shape: shape, scalars: out)
    }

    static func pool(_ node: ONNXNode, _ x: Tensor) throws -> Tensor {
        guard x.rank == 4, let kernel = node.attributes.ints("kernel_shape") else {
            throw unsupported(node, "only 2-D pooling of NCHW images with a kernel_shape is supported")
        }
        let isMax = node.operatorType == "MaxPool"
        let ceilMode = (node.attributes.int("ceil_mode") ?? 0) != 0
        let includesPadding = (node.attributes.int("count_include_pad") ?? 0) != 0
        guard node.outputs.count == 1 || node.outputs[1].isEmpty else { throw unsupported(node, "MaxPool's indices output") }
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (wy, wx) = try windows(node, kernel: kernel, height: h, width: w)
        let (oh, ow) = (wy.outputSize(h, ceilMode: ceilMode), wx.outputSize(w, ceilMode: ceilMode))
        var out = [Float](repeating: 0, count: n * c * oh * ow)
        for plane in 0..<(n * c) {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var best = -Float.infinity, sum = 0.0, count = 0, padded = 0
                    for ky in 0..<wy.kernel {
                        let iy = oy * wy.stride - wy.before + ky * wy.dilation
                        for kx in 0..<wx.kernel {
                            let ix = ox * wx.stride - wx.before + kx * wx.dilation
                            if iy >= -wy.before, iy < h + wy.after, ix >= -wx.before, ix < w + wx.after { padded += 1 }
                            guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                            let v = x.scalars[(plane * h + iy) * w + ix]
                            best = max(best, v)
                            sum += Double(v)
                            count += 1
                        }
                    }
                    out[(plane * oh + oy) * ow + ox] = isMax ? best : Float(sum / Double(max(1, includesPadding ? padded : count)))
                }
            }
        }
        return Tensor(shape: [n, c, oh, ow], scalars: out)
    }

    static func gemm(_ node: ONNXNode, _ a: Tensor, _ b: Tensor, _ c: Tensor?) throws -> Tensor {
        guard a.rank == 2, b.rank == 2 else { throw unsupported(node, "Gemm needs 2-D inputs, got \(a.shape) and \(b.shape)") }
        let transA = (node.attributes.int("transA") ?? 0) != 0, transB = (node.attributes.int("transB") ?? 0) != 0
        let alpha = node.attributes.float("alpha") ?? 1, beta = node.attributes.float("beta") ?? 1
        let (m, k) = transA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (kb, n) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        guard k == kb else { throw unsupported(node, "inner sizes \(k) and \(kb) differ") }
        var product = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    sum += Double(a.scalars[transA ? p * m + i : i * k + p]) * Double(b.scalars[transB ? j * k + p : p * n + j])
                }
                product[i * n + j] = alpha * Float(sum)
            }
        }
        let result = Tensor(shape: [m, n], scalars: product)
        guard let c, beta != 0 else { return result }
        return try broadcast(result, c, node) { $0 + beta * $1 }
    }

    /// NumPy's matmul for operands of rank ≥ 2: the last two axes multiplied, the axes before them
    /// broadcast (a [K, N] weight times a batch, or a [H, H] selection times an image batch).
    static func matrixProduct(_ node: ONNXNode, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        guard a.rank >= 2, b.rank >= 2, a.shape[a.rank - 1] == b.shape[b.rank - 2] else {
            throw unsupported(node, "MatMul of \(a.shape) by \(b.shape)")
        }
        let (m, k, n) = (a.shape[a.rank - 2], a.shape[a.rank - 1], b.shape[b.rank - 1])
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        let rank = max(batchA.count, batchB.count)
        let sa = Array(repeating: 1, count: rank - batchA.count) + batchA
        let sb = Array(repeating: 1, count: rank - batchB.count) + batchB
        var batch = [Int](repeating: 1, count: rank)
        for d in 0..<rank {
            guard sa[d] == sb[d] || sa[d] == 1 || sb[d] == 1 else { throw unsupported(node, "batch axes \(a.shape) and \(b.shape) do not broadcast") }
            batch[d] = max(sa[d], sb[d])
        }
        let count = batch.reduce(1, *)
        var out = [Float](repeating: 0, count: count * m * n)
        var index = [Int](repeating: 0, count: rank)
        for item in 0..<count {
            var (ia, ib) = (0, 0)
            for d in 0..<rank {
                ia = ia * sa[d] + (sa[d] == 1 ? 0 : index[d])
                ib = ib * sb[d] + (sb[d] == 1 ? 0 : index[d])
            }
            for i in 0..<m {
                for j in 0..<n {
                    var sum = 0.0
                    for p in 0..<k { sum += Double(a.scalars[(ia * m + i) * k + p]) * Double(b.scalars[(ib * k + p) * n + j]) }
                    out[(item * m + i) * n + j] = Float(sum)
                }
            }
            advance(&index, within: batch)
        }
        return Tensor(shape: batch + [m, n], scalars: out)
    }

    static func concatenate(_ node: ONNXNode, _ parts: [Tensor]) throws -> Tensor {
        guard let first = parts.first else { throw unsupported(node, "nothing to concatenate") }
        let axis = normalised(node.attributes.int("axis") ?? 1, rank: first.rank)
        func fits(_ part: Tensor) -> Bool {
            part.rank == first.rank && (0..<first.rank).allSatisfy { d in d == axis || part.shape[d] == first.shape[d] }
        }
        guard axis >= 0, axis < first.rank, parts.allSatisfy(fits) else {
            throw unsupported(node, "shapes \(parts.map(\.shape)) do not concatenate on axis \(axis)")
        }
        let outer = first.shape.prefix(axis).reduce(1, *)
        var out: [Float] = []
        for o in 0..<outer {
            for part in parts {
                let run = part.shape.suffix(from: axis).reduce(1, *)
                out.append(contentsOf: part.scalars[(o * run)..<((o + 1) * run)])
            }
        }
        var shape = first.shape
        shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
        return Tensor(shape: shape, scalars: out)
    }

    static func softmax(_ node: ONNXNode, _ x: Tensor, opset: Int) throws -> Tensor {
        let axis = normalised(node.attributes.int("axis") ?? (opset < 13 ? 1 : -1), rank: x.rank)
        guard axis >= 0, axis < x.rank else { throw unsupported(node, "axis out of range for \(x.shape)") }
        // Before opset 13 the axis splits the tensor into a matrix and the rows are normalised;
        // from 13 on only that axis is: the same when it is the last.
        let inner = opset < 13 ? x.shape.suffix(from: axis).reduce(1, *) : x.shape[axis]
        let after = opset < 13 ? 1 : x.shape.suffix(from: axis + 1).reduce(1, *)
        var out = x.scalars
        for block in 0..<(x.count / (inner * after)) {
            for offset in 0..<after {
                let indices = (0..<inner).map { (block * inner + $0) * after + offset }
                let peak = indices.map { x.scalars[$0] }.max() ?? 0
                let exps = indices.map { Double(exp(x.scalars[$0] - peak)) }
                let total = exps.reduce(0, +)
                for (i, e) in zip(indices, exps) { out[i] = Float(e / total) }
            }
        }
        return Tensor(shape: x.shape, scalars: out)
    }
}
