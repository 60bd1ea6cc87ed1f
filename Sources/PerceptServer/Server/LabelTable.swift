import CSV
import Foundation

/// A dataset's label statistics as CSV (label, images), quoted by CSV.swift: label names are the
/// uploader's folder names and may hold commas or quotes.
enum LabelTable {
    static func csv(_ classes: [DatasetStatus.LabelCount]) throws -> String {
        let stream = OutputStream(toMemory: ())
        let writer = try CSVWriter(stream: stream)
        try writer.write(row: ["label", "images"])
        for label in classes { try writer.write(row: [label.name, String(label.count)]) }
        stream.close()
        let data = stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
