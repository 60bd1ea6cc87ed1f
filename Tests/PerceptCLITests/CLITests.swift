import Foundation
import XCTest
import PerceptData
import PerceptImage
import PerceptCore
import Percept

/// Runs the built `percept` executable as a user would and checks output, files and exit codes
/// (0 ok, 1 usage, 2 bad input).
final class CLITests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("percept-cli-\(UUID().uuidString)").path
        for (label, name) in ["cat", "dog"].enumerated() {
            try FileManager.default.createDirectory(atPath: "\(folder)/data/\(name)", withIntermediateDirectories: true)
            for index in 0..<10 {
                let image = Image(width: 8, height: 8, fill: (UInt8(100 * label), UInt8(10 * index), 50))
                try Data(try image.pngData()).write(to: URL(fileURLWithPath: "\(folder)/data/\(name)/\(index).png"))
            }
        }
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    private func percept(_ arguments: String...) throws -> (status: Int32, stdout: String, stderr: String) {
        try runPercept(arguments)
    }

    func testImportWritesAPackWithStratifiedSplits() throws {
        let run = try percept("dataset", "import", "\(folder)/data", "-o", "\(folder)/d.pack", "--split", "80,10,10", "--seed", "3")
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("20 images"), run.stdout)
        let dataset = try PackFile.load("\(folder)/d.pack")
        XCTAssertEqual(dataset.count, 20)
        for label in [Int32(0), 1] {
            let marks = zip(dataset.labels, dataset.splits).filter { $0.0 == label }.map(\.1)
            XCTAssertEqual(marks.filter { $0 == .train }.count, 8)
            XCTAssertEqual(marks.filter { $0 == .validation }.count, 1)
            XCTAssertEqual(marks.filter { $0 == .test }.count, 1)
        }
    }

    func testInspectJSON() throws {
        let run = try percept("dataset", "inspect", "\(folder)/data", "--json")
        XCTAssertEqual(run.status, 0, run.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(object?["imageCount"] as? Int, 20)
        XCTAssertEqual((object?["classes"] as? [[String: Any]])?.count, 2)
        let warnings = (object?["warnings"] as? [[String: Any]])?.compactMap { $0["kind"] as? String } ?? []
        XCTAssertEqual(Set(warnings), ["few-images"])
    }

    func testBadFileIsReportedThenStrictMakesItFatal() throws {
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: "\(folder)/data/dog/readme.jpg"))
        let lenient = try percept("dataset", "import", "\(folder)/data", "-o", "\(folder)/d.pack")
        XCTAssertEqual(lenient.status, 0, lenient.stderr)
        XCTAssertTrue(lenient.stderr.contains("readme.jpg"), lenient.stderr)
        let strict = try percept("dataset", "import", "\(folder)/data", "-o", "\(folder)/s.pack", "--strict")
        XCTAssertEqual(strict.status, 2)
        XCTAssertTrue(strict.stderr.contains("readme.jpg"), strict.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(folder)/s.pack"))
    }

    func testSymbolicLinksAreFollowedOnceAndLeavingTheFolderNeedsFollowLinks() throws {
        let files = FileManager.default
        try files.createSymbolicLink(atPath: "\(folder)/data/cat/loop", withDestinationPath: "..")
        try files.createDirectory(atPath: "\(folder)/elsewhere", withIntermediateDirectories: true)
        for index in 0..<2 {
            let image = Image(width: 8, height: 8, fill: (100, UInt8(200 + index), 50))
            try Data(try image.pngData()).write(to: URL(fileURLWithPath: "\(folder)/elsewhere/\(index).png"))
        }
        try files.createSymbolicLink(atPath: "\(folder)/data/dog/more", withDestinationPath: "\(folder)/elsewhere")
        let contained = try percept("dataset", "import", "\(folder)/data", "-o", "\(folder)/d.pack")
        XCTAssertEqual(contained.status, 0, contained.stderr)
        XCTAssertTrue(contained.stdout.contains("20 images"), contained.stdout)
        XCTAssertTrue(contained.stderr.contains("cat/loop") && contained.stderr.contains("loop"), contained.stderr)
        XCTAssertTrue(contained.stderr.contains("dog/more") && contained.stderr.contains("--follow-links"), contained.stderr)
        let followed = try percept("dataset", "import", "\(folder)/data", "-o", "\(folder)/f.pack", "--follow-links")
        XCTAssertEqual(followed.status, 0, followed.stderr)
        XCTAssertTrue(followed.stdout.contains("22 images"), followed.stdout)
        XCTAssertEqual(try PackFile.load("\(folder)/f.pack").classCounts, [10, 12])
    }

    func testUsageErrorsExitOneAndInputErrorsExitTwo() throws {
        let badSize = try percept("dataset", "import", "\(folder)/data", "-o", "\(folder)/x.pack", "--size", "0x3")
        XCTAssertEqual(badSize.status, 1)
        XCTAssertTrue(badSize.stderr.contains("WIDTHxHEIGHT"), badSize.stderr)
        let badSplit = try percept("dataset", "import", "\(folder)/data", "-o", "\(folder)/x.pack", "--split", "50,10,10")
        XCTAssertEqual(badSplit.status, 1)
        XCTAssertTrue(badSplit.stderr.contains("sum"), badSplit.stderr)
        let missing = try percept("dataset", "inspect", "\(folder)/nothing-here")
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("nothing-here"), missing.stderr)
        let unknown = try percept("dataset", "frobnicate")
        XCTAssertEqual(unknown.status, 1)
    }

    func testTuneKNNWritesTheChartAndRejectsOneFold() throws {
        let run = try percept("tune", "knn", "\(folder)/data", "--k", "1,3,5", "--metric", "l1,l2", "--folds", "5",
                              "--output", "\(folder)/cv")
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("best: k ="), run.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(folder)/cv/knn-cv.svg"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(folder)/cv/knn-cv.png"))
        let one = try percept("tune", "knn", "\(folder)/data", "--folds", "1", "--output", "\(folder)/cv1")
        XCTAssertEqual(one.status, 1)
        XCTAssertTrue(one.stderr.contains("--folds"), one.stderr)
    }
}

/// Every command, found by walking `--help`, explains itself with examples.
final class HelpTests: XCTestCase {
    private func subcommands(of path: [String]) throws -> [String] {
        let help = try runPercept(path + ["--help"]).stdout
        guard let section = help.components(separatedBy: "SUBCOMMANDS:").last, help.contains("SUBCOMMANDS:") else { return [] }
        // Command lines start with two spaces and a lower-case name; wrapped descriptions are indented further.
        return section.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("  "), !line.hasPrefix("   "), let name = line.split(separator: " ").first,
                  name.first?.isLowercase == true, name != "See" else { return nil }
            return String(name)
        }
    }

    func testEveryLeafCommandHasHelpWithExamples() throws {
        var queue = [[String]()], leaves: [[String]] = []
        while let path = queue.popLast() {
            let children = try subcommands(of: path)
            if children.isEmpty { leaves.append(path) } else { queue += children.map { path + [$0] } }
        }
        XCTAssertGreaterThanOrEqual(leaves.count, 10, "\(leaves)")
        for leaf in leaves {
            let run = try runPercept(leaf + ["--help"])
            XCTAssertEqual(run.status, 0, "percept \(leaf.joined(separator: " ")) --help")
            XCTAssertTrue(run.stdout.contains("Examples:"), "percept \(leaf.joined(separator: " ")) --help has no examples")
            XCTAssertTrue(run.stdout.contains("percept \(leaf.joined(separator: " "))"),
                          "the examples of \(leaf.joined(separator: " ")) do not show the command")
        }
    }
}

/// One version string from flag to report.
final class VersionTests: XCTestCase {
    func testTheCommandAndTheLibrarySayTheSameVersion() throws {
        let run = try runPercept(["--version"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines), PerceptVersion.current)
    }
}

/// `percept train --help` lists every registered family with its options and defaults.
final class TrainHelpTests: XCTestCase {
    func testHelpListsEveryFamilysOptionsFromTheRegistry() throws {
        let run = try runPercept(["train", "--help"])
        XCTAssertEqual(run.status, 0, run.stderr)
        for family in ModelRegistry.families {
            let size = family.defaultInputSize
            XCTAssertTrue(run.stdout.contains("--model \(family.name)  (default input \(size.width)x\(size.height))"), family.name)
            for parameter in family.parameters {
                XCTAssertTrue(run.stdout.contains("--\(parameter.name)"), "\(family.name): --\(parameter.name)")
            }
        }
        XCTAssertFalse(run.stdout.split(separator: "\n").contains { $0.count > 80 }, "no line is re-wrapped by the terminal")
    }
}
