import CSV
import Foundation

/// CSV for `--csv` output, quoted by CSV.swift (paths may hold commas and quotes).
enum CSVOutput {
    static func render(_ rows: [[String]]) throws -> String {
        let stream = OutputStream(toMemory: ())
        let writer = try CSVWriter(stream: stream)
        for row in rows { try writer.write(row: row) }
        stream.close()
        let data = stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
