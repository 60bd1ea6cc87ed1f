import Foundation
import XCTest
import PerceptImage

/// What broke for a new user: `percept train photos/` on photos larger than any sensible model input.
/// Without --size each family fits them to its documented default input size.
final class DefaultSizeCLITests: XCTestCase {
    func testPhotosAreFittedToTheFamilysDefaultInput() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("percept-size-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (label, name) in ["cats", "dogs"].enumerated() {
            try FileManager.default.createDirectory(atPath: "\(folder)/photos/\(name)", withIntermediateDirectories: true)
            for index in 0..<10 {
                let photo = Image(width: 500, height: 375, fill: (UInt8(200 * label), UInt8(12 * index), 90))
                try Data(try photo.jpegData(quality: 90)).write(to: URL(fileURLWithPath: "\(folder)/photos/\(name)/\(index).jpg"))
            }
        }
        for (family, size, extra) in [("knn", "32x32", [String]()), ("cnn", "64x64", ["--epochs", "1"])] {
            let run = try runPercept(["train", "\(folder)/photos", "--model", family, "-o", "\(folder)/\(family).percept", "--json"] + extra)
            XCTAssertEqual(run.status, 0, "\(family): \(run.stderr)")
            let summary = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
            XCTAssertEqual(summary?["inputSize"] as? String, size, family)
        }
        // An explicit size still wins.
        let sized = try runPercept(["train", "\(folder)/photos", "--model", "knn", "--size", "48x40", "-o", "\(folder)/s.percept", "--json"])
        XCTAssertEqual(sized.status, 0, sized.stderr)
        XCTAssertTrue(sized.stdout.contains("\"48x40\""), sized.stdout)
    }
}
