// Shape letters used throughout PerceptNetwork: N images in a batch, H height, W width, C channels
// (Cin/Cout for a convolution's input/output), K kernel size, D a flattened feature dimension.
// Activations are NHWC: item-major, then rows, columns, channels — channels innermost, so a pixel's
// channels are one contiguous run (the layout chosen by measurement, see Conv2D+GEMM.swift).

/// A growable, manually managed Float array owned by one layer: its output or its input gradient.
///
/// Layers keep their buffers between steps, so the steady-state training step allocates nothing:
/// `reserve` only reallocates when a larger batch arrives. Contents are undefined after a grow.
public final class FloatBuffer: @unchecked Sendable {
    public private(set) var pointer: UnsafeMutablePointer<Float>
    public private(set) var capacity: Int

    public init(capacity: Int = 0) {
        self.capacity = max(capacity, 1)
        pointer = .allocate(capacity: self.capacity)
        pointer.initialize(repeating: 0, count: self.capacity)
    }

    deinit { pointer.deallocate() }

    /// Makes room for `count` floats (keeping nothing when it has to grow).
    public func reserve(_ count: Int) {
        guard count > capacity else { return }
        pointer.deallocate()
        capacity = count
        pointer = .allocate(capacity: count)
        pointer.initialize(repeating: 0, count: count)
    }

    /// The first `count` floats as a buffer pointer.
    public func view(_ count: Int) -> UnsafeMutableBufferPointer<Float> {
        precondition(count <= capacity, "FloatBuffer: \(count) floats requested, \(capacity) reserved")
        return UnsafeMutableBufferPointer(start: pointer, count: count)
    }

    /// Copies the first `count` floats out (tests, export).
    public func array(_ count: Int) -> [Float] { Array(view(count)) }

    /// Overwrites the start with `values`, growing if needed.
    public func load(_ values: [Float]) {
        reserve(values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    public func zero(_ count: Int) {
        precondition(count <= capacity)
        pointer.update(repeating: 0, count: count)
    }
}
