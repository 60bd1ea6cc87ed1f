import PerceptCore

/// `Gemm` or `MatMul` of an item's values (rows of K) by a constant K×M matrix, plus a bias and
/// what followed fused in: Y = X·B + c.
final class MatrixStep: GraphStep, @unchecked Sendable {
    let nodeName: String
    let inputs: [Int]
    let output: Int
    /// Rows per item (1 for a feature vector), K and M.
    let rowsPerItem: Int, inner: Int, columns: Int
    /// K×M, already scaled by Gemm's alpha.
    var matrix: [Float]
    /// ∂loss/∂matrix and ∂loss/∂bias of the latest backward pass (`GraphTrainer`).
    var matrixGradient: [Float] = []
    var biasGradient: [Float] = []
    var epilogue: GraphEpilogue
    /// The initialisers the constants came from, for writing trained values back.
    var origin: MatrixOrigin?

    init(nodeName: String, input: Int, output: Int, rowsPerItem: Int, inner: Int, columns: Int, matrix: [Float],
         epilogue: GraphEpilogue) {
        self.nodeName = nodeName
        self.inputs = [input]
        self.output = output
        self.rowsPerItem = rowsPerItem
        self.inner = inner
        self.columns = columns
        self.matrix = matrix
        self.epilogue = epilogue
    }

    var flopsPerItem: Int { 2 * rowsPerItem * inner * columns }

    func run(_ buffers: StepBuffers, batch: Int) {
        let rows = batch * rowsPerItem
        matrix.withUnsafeBufferPointer { b in
            BLAS.gemm(m: rows, n: columns, k: inner, a: buffers.inputs[0], b: b.baseAddress!, c: buffers.output)
        }
        EpilogueKernels.apply(epilogue, output: buffers.output, rows: rows, columns: columns, addend: nil)
    }
}
