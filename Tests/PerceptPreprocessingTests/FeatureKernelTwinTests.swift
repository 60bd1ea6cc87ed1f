import XCTest
import PerceptCore
@testable import PerceptPreprocessing

/// The pixel-reading HOG and hue kernels against their plain reference twins, on random images.
final class FeatureKernelTwinTests: XCTestCase {
    /// Random bytes, or (every other image) a smooth random ramp whose gradients often fall
    /// exactly on bin centres and edges.
    private func randomImages(_ random: inout SeededRandom) -> [(pixels: [UInt8], height: Int, width: Int, channels: Int)] {
        var images: [(pixels: [UInt8], height: Int, width: Int, channels: Int)] = []
        for (height, width, channels) in [(32, 32, 3), (24, 40, 3), (19, 27, 3), (16, 16, 1), (20, 12, 4), (8, 8, 3)] {
            let smooth = images.count % 2 == 1
            let stepX = 1 + Int(random.next() % 8), stepY = Int(random.next() % 9)
            var pixels: [UInt8] = []
            for y in 0..<height {
                for x in 0..<width {
                    for k in 0..<channels {
                        pixels.append(smooth ? UInt8(truncatingIfNeeded: stepX * x + stepY * y + 40 * k) : UInt8(random.next() % 256))
                    }
                }
            }
            images.append((pixels, height, width, channels))
        }
        return images
    }

    func testHOGCellHistogramsMatchTheReference() {
        var random = SeededRandom(seed: 14)
        for image in randomImages(&random) {
            for (cellSize, orientations) in [(8, 9), (4, 6), (6, 12)] {
                let hog = HistogramOfOrientedGradients(cellSize: cellSize, orientations: orientations, blockNormalization: false)
                let fast = image.pixels.withUnsafeBytes {
                    hog.features(of: $0, height: image.height, width: image.width, channels: image.channels)
                }
                let reference = HistogramOfOrientedGradients.cellHistogramsReference(
                    pixels: image.pixels, height: image.height, width: image.width, channels: image.channels,
                    cellSize: cellSize, orientations: orientations)
                XCTAssertEqual(fast.count, reference.count)
                XCTAssertEqual(fast.count, hog.dimension(height: image.height, width: image.width))
                XCTAssertGreaterThan(reference.reduce(0, +), 0, "a random image has gradients")
                for (index, (got, expected)) in zip(fast, reference).enumerated() {
                    XCTAssertEqual(got, expected, accuracy: 1e-5 + 1e-4 * abs(expected),
                                   "\(image.width)x\(image.height)x\(image.channels), cell \(cellSize), bin \(index)")
                }
            }
        }
    }

    func testHueHistogramMatchesTheReference() {
        var random = SeededRandom(seed: 15)
        for image in randomImages(&random) {
            for bins in [1, 7, 10, 36] {
                let hue = HueHistogram(bins: bins)
                let fast = image.pixels.withUnsafeBytes {
                    hue.features(of: $0, height: image.height, width: image.width, channels: image.channels)
                }
                let reference = hue.featuresReference(of: image.pixels, channels: image.channels)
                XCTAssertEqual(fast, reference, "\(image.width)x\(image.height)x\(image.channels), \(bins) bins")
                if image.channels == 3 { XCTAssertGreaterThan(fast.reduce(0, +), 0.5) }
            }
        }
    }
}
