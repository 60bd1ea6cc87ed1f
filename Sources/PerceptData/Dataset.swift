import PerceptCore
import PerceptImage

/// Which part of the data an item belongs to.
public enum Split: UInt8, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case train = 0, validation = 1, test = 2
    /// Not yet assigned (AutoML's UNASSIGNED): `Dataset.split` decides.
    case unassigned = 3

    public var description: String {
        switch self {
        case .train: "train"
        case .validation: "validation"
        case .test: "test"
        case .unassigned: "unassigned"
        }
    }
}

/// A labelled image dataset: N images of one size H×W×C (C = 3, RGB), stored as bytes.
///
/// This is what every loader produces and every model consumes. Pixels are UInt8 in
/// N×H×W×C order (item-major, then rows, columns, channels), the layout of decoded images,
/// and stay bytes until a model turns them into features.
public struct Dataset: Sendable {
    /// Height, width and channels of every image.
    public let height: Int
    public let width: Int
    public let channels: Int
    /// N×H×W×C bytes; item `i` starts at `i * imageByteCount`.
    public let pixels: PixelStorage
    /// Class index per item, `0..<classNames.count`.
    public var labels: [Int32]
    public var classNames: [String]
    /// Where each item came from (file path, archive entry, or `batch.bin#record`).
    public var sources: [String]
    /// The split each item was assigned to by its source (folders named train/val/test,
    /// a manifest's split column), or `.unassigned`.
    public var splits: [Split]

    public init(height: Int, width: Int, channels: Int = 3, pixels: PixelStorage,
                labels: [Int32], classNames: [String], sources: [String]? = nil, splits: [Split]? = nil) throws {
        let count = labels.count
        guard height > 0, width > 0, channels > 0 else {
            throw PerceptError.invalidData("image size \(width)x\(height)x\(channels) is empty")
        }
        guard pixels.count == count * height * width * channels else {
            throw PerceptError.invalidData(
                "pixel buffer holds \(pixels.count) bytes; \(count) images of \(width)x\(height)x\(channels) need \(count * height * width * channels)")
        }
        if let bad = labels.first(where: { $0 < 0 || Int($0) >= classNames.count }) {
            throw PerceptError.invalidData("label \(bad) is outside the \(classNames.count) classes")
        }
        let sources = sources ?? (0..<count).map { "#\($0)" }
        let splits = splits ?? Array(repeating: .unassigned, count: count)
        guard sources.count == count, splits.count == count else {
            throw PerceptError.invalidData("\(count) labels but \(sources.count) sources and \(splits.count) split marks")
        }
        self.height = height
        self.width = width
        self.channels = channels
        self.pixels = pixels
        self.labels = labels
        self.classNames = classNames
        self.sources = sources
        self.splits = splits
    }

    public var count: Int { labels.count }
    public var isEmpty: Bool { labels.isEmpty }
    public var classCount: Int { classNames.count }
    public var imageSize: ImageSize { ImageSize(width: width, height: height) }
    /// H×W×C: the bytes per image, and the feature dimension of raw pixels.
    public var imageByteCount: Int { height * width * channels }

    /// Item `index` as an `Image` (RGB datasets only).
    public func image(at index: Int) -> Image {
        Image(width: width, height: height, pixels: pixels.row(index, rowBytes: imageByteCount))
    }

    /// How many items each class has, indexed by class.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for label in labels { counts[Int(label)] += 1 }
        return counts
    }

    /// A new dataset holding the given items, in the given order (pixels are copied).
    public func subset(_ indices: [Int]) -> Dataset {
        let storage = PixelStorage(gathering: indices, from: pixels, rowBytes: imageByteCount)
        // Safe: shapes and labels are taken from a dataset that was already validated.
        return Dataset(unchecked: height, width, channels, storage,
                       indices.map { labels[$0] }, classNames, indices.map { sources[$0] }, indices.map { splits[$0] })
    }

    /// The items whose source assigned them to `split`.
    public func items(in split: Split) -> Dataset {
        subset(splits.indices.filter { splits[$0] == split })
    }

    private init(unchecked height: Int, _ width: Int, _ channels: Int, _ pixels: PixelStorage,
                 _ labels: [Int32], _ classNames: [String], _ sources: [String], _ splits: [Split]) {
        self.height = height
        self.width = width
        self.channels = channels
        self.pixels = pixels
        self.labels = labels
        self.classNames = classNames
        self.sources = sources
        self.splits = splits
    }
}

extension Dataset {
    /// The same items without the classes that have none, labels renumbered in order.
    public func droppingEmptyClasses() throws -> Dataset {
        let counts = classCounts
        let keptClasses = classNames.indices.filter { counts[$0] > 0 }
        guard keptClasses.count != classCount else { return self }
        var newIndex = [Int32](repeating: -1, count: classCount)
        for (new, old) in keptClasses.enumerated() { newIndex[old] = Int32(new) }
        return try Dataset(height: height, width: width, channels: channels, pixels: pixels,
                           labels: labels.map { newIndex[Int($0)] }, classNames: keptClasses.map { classNames[$0] },
                           sources: sources, splits: splits)
    }
}

extension Dataset {

    /// Every image fitted to `size` (RGB datasets), on every core.
    public func resized(to size: ImageSize, mode: ResizeMode, threads: Int? = nil) throws -> Dataset {
        guard channels == Image.channels else {
            throw PerceptError.invalidData("only RGB datasets can be resized; this one has \(channels) channels")
        }
        let stride = size.pixelCount * channels
        let storage = PixelStorage(rowCount: count, rowBytes: stride, threads: threads) { index in
            image(at: index).resized(to: size, mode: mode).pixels
        }
        return try Dataset(height: size.height, width: size.width, channels: channels, pixels: storage,
                           labels: labels, classNames: classNames, sources: sources, splits: splits)
    }
}

extension Dataset {
    /// A dataset of same-sized images without known labels (for prediction): every label is 0.
    public init(images: [Image], classNames: [String], sources: [String]? = nil) throws {
        guard let first = images.first else {
            throw PerceptError.invalidData("no images given")
        }
        guard images.allSatisfy({ $0.size == first.size }) else {
            throw PerceptError.invalidData("images differ in size; resize them to one size first")
        }
        let stride = first.pixels.count
        let storage = PixelStorage(rowCount: images.count, rowBytes: stride, threads: 1) { images[$0].pixels }
        try self.init(height: first.height, width: first.width, channels: Image.channels, pixels: storage,
                      labels: Array(repeating: 0, count: images.count), classNames: classNames.isEmpty ? ["?"] : classNames,
                      sources: sources)
    }
}
