import ArgumentParser
import Foundation
import PerceptCore
import PerceptData
import PerceptImage

struct DatasetSynthesize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synthesize",
        abstract: "Draw Percept's built-in dataset (ten classes of shapes and textures), as a pack or as PNG folders.",
        discussion: """
            Examples:
              percept dataset synthesize -o shapes.pack --per-class 500
              percept dataset synthesize -o shapes/ --folders --size 48x48 --seed 7
            """)

    @Option(name: [.short, .customLong("output")], help: "A .pack file, or a folder with --folders.")
    var output: String

    @Option(name: .customLong("per-class"), help: "Images per class.")
    var perClass = 300

    @Option(help: "Image size WIDTHxHEIGHT.")
    var size = "32x32"

    @Option(help: "Random seed: the same seed draws the same images.")
    var seed: UInt64 = 0

    @Flag(help: "Write one folder of PNG files per class instead of a pack.")
    var folders = false

    func validate() throws {
        guard perClass >= 1 else { throw ValidationError("--per-class must be at least 1") }
        _ = try ImageSize(parsing: size)
    }

    func run() throws {
        let shapes = SyntheticShapes(imageSize: try ImageSize(parsing: size), seed: seed)
        let dataset = try shapes.makeDataset(perClass: perClass)
        if folders {
            try writeImageFolders(dataset, to: output)
        } else {
            try PackFile.write(dataset, to: output)
        }
        print("wrote \(output): \(dataset.count) images of \(dataset.width)x\(dataset.height), \(dataset.classCount) classes")
    }
}

/// Writes `root/<class>/<n>.png` for every item, atomically per file, on every core.
/// Returns the path of each item's file, in item order.
@discardableResult
func writeImageFolders(_ dataset: Dataset, to root: String) throws -> [String] {
    for name in dataset.classNames {
        try FileManager.default.createDirectory(atPath: "\(root)/\(name)", withIntermediateDirectories: true)
    }
    var perClassIndex = [Int](repeating: 0, count: dataset.classCount)
    let paths = dataset.labels.map { label -> String in
        defer { perClassIndex[Int(label)] += 1 }
        return String(format: "%@/%@/%05d.png", root, dataset.classNames[Int(label)], perClassIndex[Int(label)])
    }
    let failures = Parallel.map(count: dataset.count) { index -> String? in
        do {
            try AtomicFile.write(Data(try dataset.image(at: index).pngData()), to: paths[index])
            return nil
        } catch {
            return "\(error)"
        }
    }
    if let failure = failures.compactMap({ $0 }).first { throw PerceptError.io(root, failure) }
    return paths
}
