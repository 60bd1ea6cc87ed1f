import Foundation

// HOG's pixel-reading entry points: one image's bytes, read in place (a dataset row or a
// memory-mapped pack), to luminance and on to the descriptor. The cell histograms and block
// normalisation themselves are plain Swift on [Float] (Features/HistogramOfOrientedGradients.swift);
// `cellHistogramsReference` below is their test oracle.

extension HistogramOfOrientedGradients {
    /// The descriptor of one H×W×C image.
    public func features(of pixels: UnsafeRawBufferPointer, height: Int, width: Int, channels: Int) -> [Float] {
        let gray = Self.luminance(pixels, height: height, width: width, channels: channels)
        let cells = cellHistograms(gray: gray, height: height, width: width)
        guard blockNormalization else { return cells }
        let (rows, columns) = cellGrid(height: height, width: width)
        return normalizedBlocks(cells, rows: rows, columns: columns)
    }

    /// The luminance of an H×W×C image (C = 3: RGB weights; otherwise the mean of the channels), 0…1.
    static func luminance(_ pixels: UnsafeRawBufferPointer, height: Int, width: Int, channels: Int) -> [Float] {
        precondition(pixels.count >= height * width * channels,
                     "HOG: \(pixels.count) bytes for a \(width)x\(height)x\(channels) image")
        var gray = [Float](repeating: 0, count: height * width)
        for i in 0..<(height * width) {
            if channels == 3 {
                gray[i] = (0.299 * Float(pixels[3 * i]) + 0.587 * Float(pixels[3 * i + 1]) + 0.114 * Float(pixels[3 * i + 2])) / 255
            } else {
                var sum: Float = 0
                for k in 0..<channels { sum += Float(pixels[channels * i + k]) }
                gray[i] = sum / Float(channels) / 255
            }
        }
        return gray
    }

    /// Reference twin of `luminance` + `cellHistograms` (the test oracle), written from the
    /// definition rather than for speed: in Double, one cell at a time, each pixel's vote shared
    /// out by a triangle of one bin's width around every bin centre (which is the same as the
    /// linear split between the two nearest bins), angles in degrees.
    static func cellHistogramsReference(pixels: [UInt8], height: Int, width: Int, channels: Int,
                                        cellSize: Int, orientations: Int) -> [Float] {
        func brightness(_ y: Int, _ x: Int) -> Double {
            let pixel = pixels[((y * width + x) * channels)..<((y * width + x + 1) * channels)].map(Double.init)
            if channels == 3 { return (0.299 * pixel[0] + 0.587 * pixel[1] + 0.114 * pixel[2]) / 255 }
            return pixel.reduce(0, +) / Double(channels) / 255
        }
        let rows = height / cellSize, columns = width / cellSize
        let binWidth = 180 / Double(orientations)
        var histograms: [Float] = []
        for cellRow in 0..<rows {
            for cellColumn in 0..<columns {
                var votes = [Double](repeating: 0, count: orientations)
                for y in (cellRow * cellSize)..<((cellRow + 1) * cellSize) {
                    for x in (cellColumn * cellSize)..<((cellColumn + 1) * cellSize) {
                        let gx = brightness(y, min(width - 1, x + 1)) - brightness(y, max(0, x - 1))
                        let gy = brightness(min(height - 1, y + 1), x) - brightness(max(0, y - 1), x)
                        let magnitude = (gx * gx + gy * gy).squareRoot()
                        let degrees = (atan2(gy, gx) * 180 / .pi + 360).truncatingRemainder(dividingBy: 180)
                        for bin in 0..<orientations {
                            let distance = abs(degrees - (Double(bin) + 0.5) * binWidth)
                            let around = min(distance, 180 - distance)  // 0° and 180° are one direction
                            votes[bin] += magnitude * max(0, 1 - around / binWidth)
                        }
                    }
                }
                histograms += votes.map { Float($0 / Double(cellSize * cellSize)) }
            }
        }
        return histograms
    }
}
