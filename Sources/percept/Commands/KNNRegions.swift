import ArgumentParser
import Foundation
import PerceptCore
import PerceptModels
import PerceptReports

/// `percept knn regions`: the lecture's 2-D toy demo.
struct KNNRegions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "regions",
        abstract: "Draw k-NN decision regions of random 2-D points, one panel per k.",
        discussion: """
            Random points of a few classes (blobs plus some stray points, fixed by --seed) and the class
            k-NN gives every pixel around them: k = 1 follows every stray point, larger k smooth it out.

            Examples:
              percept knn regions -o regions.png
              percept knn regions --classes 5 --points 100 --k 1,5,15 --metric l1 --seed 7 -o regions.png
            """)

    @Option(help: "Number of classes (2…6).")
    var classes = 3

    @Option(help: "Number of points.")
    var points = 60

    @Option(name: .customLong("k"), help: "Values of k, one panel each, comma-separated.")
    var kList = "1,3,5"

    @Option(help: "Distance: l1, l2 or cosine.")
    var metric = "l2"

    @Option(help: "Seed for the points.")
    var seed: UInt64 = 1

    @Option(help: "Panel width and height in pixels.")
    var size = 240

    @Option(name: [.short, .customLong("output")], help: "The PNG to write.")
    var output = "regions.png"

    func validate() throws {
        guard (2...6).contains(classes) else { throw ValidationError("--classes must be 2…6 (got \(classes))") }
        guard points >= classes else { throw ValidationError("--points must be at least --classes (\(classes)); got \(points)") }
        guard (32...1024).contains(size) else { throw ValidationError("--size must be 32…1024 pixels (got \(size))") }
        let ks = try self.ks()
        if let bad = ks.first(where: { $0 > points }) {
            throw ValidationError("k = \(bad) exceeds the \(points) points; use k ≤ \(points)")
        }
        do { _ = try DistanceMetric(parsing: metric) } catch let error as PerceptError { throw ValidationError(error.reason) }
    }

    func ks() throws -> [Int] {
        let values = kList.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.count <= 8, values.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw ValidationError("--k takes up to 8 positive whole numbers separated by commas, e.g. 1,3,5 (got \(kList))")
        }
        return values.compactMap { $0 }
    }

    func run() throws {
        let drawn = DecisionRegions.randomPoints(count: points, classes: classes, seed: seed)
        let picture = try DecisionRegions(panelSize: size, metric: try DistanceMetric(parsing: metric))
            .render(points: drawn, classes: classes, ks: try ks())
        try AtomicFile.write(Data(try picture.pngData()), to: output)
        print("wrote \(output): \(points) points of \(classes) classes, k = \(kList), \(metric)")
    }
}
