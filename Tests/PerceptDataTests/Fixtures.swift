import Foundation
import PerceptCore
import PerceptData
import PerceptImage

/// A temporary folder a test fills with files and removes at the end.
final class TemporaryFolder {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("percept-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `bytes` at `relative` (folders created), returning the full path.
    @discardableResult
    func write(_ relative: String, _ bytes: [UInt8]) throws -> String {
        let full = "\(path)/\(relative)"
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: full, contents: Data(bytes)) else {
            throw PerceptError.io(full, "test fixture could not be written")
        }
        return full
    }

    func write(_ relative: String, text: String) throws {
        try write(relative, Array(text.utf8))
    }

    func makeFolder(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: "\(path)/\(relative)", withIntermediateDirectories: true)
    }
}

/// A flat-colour image whose colour encodes (label, index), so tests can tell which file an
/// item came from after decoding: red = 40·label + 10, green = 20·index + 5 (mod 256), blue = 200.
func fixtureImage(label: Int, index: Int, width: Int = 8, height: Int = 8) -> Image {
    Image(width: width, height: height, fill: (UInt8((40 * label + 10) % 256), UInt8((20 * index + 5) % 256), 200))
}

func fixturePNG(label: Int, index: Int, width: Int = 8, height: Int = 8) throws -> [UInt8] {
    try fixtureImage(label: label, index: index, width: width, height: height).pngData()
}

/// Writes a folder-per-label tree `root/<label>/<i>.png` with `perClass` PNGs per label.
func writeLabelFolders(_ folder: TemporaryFolder, root: String = "", labels: [String], perClass: Int,
                       width: Int = 8, height: Int = 8) throws {
    for (label, name) in labels.enumerated() {
        for index in 0..<perClass {
            let prefix = root.isEmpty ? "" : root + "/"
            try folder.write("\(prefix)\(name)/\(index).png",
                             try fixturePNG(label: label, index: index, width: width, height: height))
        }
    }
}
