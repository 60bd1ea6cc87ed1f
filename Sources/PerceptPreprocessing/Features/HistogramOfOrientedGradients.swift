import Foundation

/// The histogram of oriented gradients (Dalal & Triggs, 2005): the image's edges, summarised
/// per cell by direction — the representation image classification used before CNNs.
///
/// For one H×W image: brightness gradients by central differences ([−1, 0, 1], one-sided at
/// the border), on luminance (0.299 R + 0.587 G + 0.114 B, scaled to 0…1). Each pixel votes its
/// gradient magnitude for its unsigned orientation θ = atan2(gy, gx) mod 180° (x to the right,
/// y downward: brightness rising to the right is 0°, rising downward 90°), split linearly
/// between the two nearest of `orientations` bins centred at (b + ½)·180°/B. Each
/// `cellSize`×`cellSize` cell keeps the mean vote per bin. With `blockNormalization`, every
/// 2×2 block of cells (stride one cell) is L2-normalised, clipped at 0.2 and normalised again
/// (L2-Hys), so lighting and contrast changes cancel.
///
/// Output length: cellsY·cellsX·B, or (cellsY−1)·(cellsX−1)·4·B with block normalisation.
/// A 32×32 image with 8-pixel cells and 9 bins gives 144, or 324 with blocks.
/// The pixel-reading entry points (`features(of:…)`, `luminance`) and the reference twin of
/// `cellHistograms` are in `Kernels/HOGKernels.swift`.
public struct HistogramOfOrientedGradients: Sendable, Codable, Equatable {
    public var cellSize: Int
    public var orientations: Int
    public var blockNormalization: Bool

    public init(cellSize: Int = 8, orientations: Int = 9, blockNormalization: Bool = true) {
        self.cellSize = cellSize
        self.orientations = orientations
        self.blockNormalization = blockNormalization
    }

    /// Cells down and across in an image of this size (partial cells at the edges are dropped).
    public func cellGrid(height: Int, width: Int) -> (rows: Int, columns: Int) {
        (height / max(1, cellSize), width / max(1, cellSize))
    }

    /// The feature length for an image of this size.
    public func dimension(height: Int, width: Int) -> Int {
        let (rows, columns) = cellGrid(height: height, width: width)
        if blockNormalization { return max(0, rows - 1) * max(0, columns - 1) * 4 * orientations }
        return rows * columns * orientations
    }

    /// The per-cell orientation histograms (cellsY×cellsX×B, before any block normalisation)
    /// of a luminance image.
    public func cellHistograms(gray: [Float], height: Int, width: Int) -> [Float] {
        let (rows, columns) = cellGrid(height: height, width: width)
        let bins = orientations
        var histograms = [Float](repeating: 0, count: rows * columns * bins)
        guard rows > 0, columns > 0, bins > 0 else { return histograms }
        let binWidth = Float.pi / Float(bins)
        let perCell = 1 / Float(cellSize * cellSize)
        for y in 0..<(rows * cellSize) {
            let up = max(0, y - 1), down = min(height - 1, y + 1)
            let cellRow = y / cellSize
            for x in 0..<(columns * cellSize) {
                let left = max(0, x - 1), right = min(width - 1, x + 1)
                let gx = gray[y * width + right] - gray[y * width + left]
                let gy = gray[down * width + x] - gray[up * width + x]
                let magnitude = (gx * gx + gy * gy).squareRoot()
                guard magnitude > 0 else { continue }
                var angle = atan2(gy, gx)
                if angle < 0 { angle += .pi }
                if angle >= .pi { angle -= .pi }
                let position = angle / binWidth - 0.5
                let lowerEdge = position.rounded(.down)
                let fraction = position - lowerEdge
                let lower = (Int(lowerEdge) + bins) % bins, upper = (lower + 1) % bins
                let base = (cellRow * columns + x / cellSize) * bins
                histograms[base + lower] += magnitude * (1 - fraction) * perCell
                histograms[base + upper] += magnitude * fraction * perCell
            }
        }
        return histograms
    }

    /// L2-Hys normalisation of every 2×2 block of cells.
    func normalizedBlocks(_ cells: [Float], rows: Int, columns: Int) -> [Float] {
        let bins = orientations, blockLength = 4 * bins
        guard rows > 1, columns > 1 else { return [] }
        var out = [Float](repeating: 0, count: (rows - 1) * (columns - 1) * blockLength)
        var block = [Float](repeating: 0, count: blockLength)
        let epsilon: Float = 1e-3
        for by in 0..<(rows - 1) {
            for bx in 0..<(columns - 1) {
                for (k, (cy, cx)) in [(by, bx), (by, bx + 1), (by + 1, bx), (by + 1, bx + 1)].enumerated() {
                    for b in 0..<bins { block[k * bins + b] = cells[(cy * columns + cx) * bins + b] }
                }
                for _ in 0..<2 {  // normalise, clip at 0.2, normalise again
                    var sum: Float = 0
                    for v in block { sum += v * v }
                    let scale = 1 / (sum + epsilon * epsilon).squareRoot()
                    for i in block.indices { block[i] = min(0.2, block[i] * scale) }
                }
                let sum = block.reduce(0) { $0 + $1 * $1 }
                let scale = 1 / (sum + epsilon * epsilon).squareRoot()
                let base = (by * (columns - 1) + bx) * blockLength
                for i in block.indices { out[base + i] = block[i] * scale }
            }
        }
        return out
    }
}
