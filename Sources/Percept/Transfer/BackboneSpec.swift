import Foundation
import PerceptCore
import PerceptData
import PerceptImage

/// What a pretrained backbone expects and gives, as data: the file's checksum, how an image is
/// resized and normalised for it, and which value of its graph is the feature vector.
///
/// The preprocessing of each backbone lives here, not in code: EfficientNet-Lite0 is "shorter
/// side to 256, centre crop 224, (p − 127) / 128"; another network registers its own numbers
/// (`percept backbone add … --resize-to 256 --mean … --std …`).
///
/// Shape letters in this file: N images, H×W pixels, C = 3 channels (RGB); images go to the
/// backbone NHWC (item, row, column, channel).
public struct BackboneSpec: Sendable, Codable, Equatable {
    /// How a decoded image of any size becomes the backbone's input square.
    public enum Resize: String, Sendable, Codable, CaseIterable {
        /// Shorter side to `resizeTo` (aspect kept), then the centred `input`×`input` crop:
        /// ImageNet's evaluation transform (256 → 224).
        case shorterCrop = "shorter-crop"
        /// The whole image stretched to `input`×`input`.
        case squash
        /// The largest centred square, resized to `input`×`input`.
        case centerCrop = "center-crop"
    }

    /// Where the features come from.
    public enum Source: String, Sendable, Codable {
        /// An ONNX graph (a file in the backbone store, or embedded in a model file).
        case onnx
        /// Percept's built-in random-features baseline (`RandomFeatures`): no file, no training.
        case randomFeatures = "random-features"
    }

    public var name: String
    public var source: Source
    /// SHA-256 of the ONNX file as hex; empty for built-in backbones.
    public var sha256: String
    /// The side of the square input the graph takes (224).
    public var inputSize: Int
    public var resize: Resize
    /// The shorter side before the centre crop (`shorter-crop` only): 256 for a 224 input.
    public var resizeTo: Int
    /// Per-channel mean and standard deviation in pixel units (0–255): input = (p − mean) / std.
    public var mean: [Float]
    public var std: [Float]
    /// The graph value used as the feature vector; nil: the input of the final `Gemm`/`MatMul`.
    public var featureNode: String?
    /// Names of the graph's own output classes (ImageNet's), for `percept predict backbone.onnx`.
    public var labels: [String]?
    /// Seed of the built-in random features.
    public var seed: UInt64?

    public init(name: String, source: Source = .onnx, sha256: String = "", inputSize: Int = 224,
                resize: Resize = .shorterCrop, resizeTo: Int? = nil, mean: [Float] = [127, 127, 127],
                std: [Float] = [128, 128, 128], featureNode: String? = nil, labels: [String]? = nil, seed: UInt64? = nil) {
        self.name = name
        self.source = source
        self.sha256 = sha256
        self.inputSize = inputSize
        self.resize = resize
        // ImageNet's ratio: 256 before a 224 crop.
        self.resizeTo = resizeTo ?? Int((Double(inputSize) * 256 / 224).rounded())
        self.mean = mean
        self.std = std
        self.featureNode = featureNode
        self.labels = labels
        self.seed = seed
    }

    /// Throws naming the backbone when the numbers cannot describe a preprocessing.
    public func validate() throws {
        guard inputSize > 0, inputSize <= 4096 else {
            throw PerceptError.invalidArgument("backbone '\(name)': the input size must be 1…4096 pixels, got \(inputSize)")
        }
        guard resize != .shorterCrop || resizeTo >= inputSize else {
            throw PerceptError.invalidArgument("backbone '\(name)': --resize-to \(resizeTo) is smaller than the "
                + "\(inputSize) crop; give at least \(inputSize)")
        }
        guard mean.count == 3, std.count == 3, std.allSatisfy({ $0 > 0 && $0.isFinite }), mean.allSatisfy(\.isFinite) else {
            throw PerceptError.invalidArgument("backbone '\(name)': --mean and --std take three numbers (R,G,B), "
                + "each std above zero, e.g. --mean 127,127,127 --std 128,128,128")
        }
    }

    /// Floats per preprocessed image: H × W × C.
    public var inputCount: Int { inputSize * inputSize * 3 }

    /// The preprocessing alone, in words: part of the feature cache's key, so a changed mean or
    /// crop never reuses old features.
    var preprocessingDescription: String {
        "\(resize.rawValue) \(resizeTo)→\(inputSize) mean \(mean) std \(std) node \(featureNode ?? "classifier-input")"
    }
}

// MARK: - Preprocessing

extension BackboneSpec {
    /// `image` resized and cropped as the backbone expects (`inputSize`², RGB bytes).
    public func fitted(_ image: Image) -> Image {
        let square = ImageSize(width: inputSize, height: inputSize)
        switch resize {
        case .squash: return image.resized(to: square, mode: .squash)
        case .centerCrop: return image.resized(to: square, mode: .centerCrop)
        case .shorterCrop:
            // Shorter side to resizeTo (torchvision's Resize(int)): area averaging when shrinking,
            // bilinear when enlarging, as `Image.resized` does; then the centred crop.
            let shorter = max(1, min(image.width, image.height))
            let scale = Double(resizeTo) / Double(shorter)
            let width = max(inputSize, Int((Double(image.width) * scale).rounded()))
            let height = max(inputSize, Int((Double(image.height) * scale).rounded()))
            let resized = image.resized(to: ImageSize(width: width, height: height), mode: .squash)
            return resized.cropped(x: (width - inputSize) / 2, y: (height - inputSize) / 2, size: inputSize)
        }
    }

    /// One image as the backbone's input: fitted, then (p − mean) / std per channel, H×W×C floats.
    public func input(for image: Image) -> [Float] {
        let pixels = fitted(image).pixels
        var input = [Float](repeating: 0, count: pixels.count)
        let scale = std.map { 1 / $0 }
        for i in 0..<pixels.count {
            let channel = i % 3
            input[i] = (Float(pixels[i]) - mean[channel]) * scale[channel]
        }
        return input
    }

    /// Images `range` of `dataset` as one NHWC batch of backbone inputs, prepared in parallel.
    public func inputs(_ dataset: Dataset, range: Range<Int>, threads: Int? = nil) throws -> [Float] {
        guard dataset.channels == 3 else {
            throw PerceptError.invalidData("backbone '\(name)' takes RGB images; these have \(dataset.channels) channel(s)")
        }
        let images = Parallel.map(count: range.count, threads: threads, chunksPerThread: 2) {
            input(for: dataset.image(at: range.lowerBound + $0))
        }
        return Array(images.joined())
    }
}

extension Image {
    /// The `size`×`size` region whose top-left pixel is (`x`, `y`); the caller keeps it inside.
    func cropped(x: Int, y: Int, size: Int) -> Image {
        var pixels = [UInt8]()
        pixels.reserveCapacity(size * size * 3)
        for row in y..<(y + size) {
            let start = (row * width + x) * 3
            pixels += self.pixels[start..<(start + size * 3)]
        }
        return Image(width: size, height: size, pixels: pixels)
    }
}
