import PerceptCore
import PerceptImage
import PerceptModels

/// The lecture's 2-D toy demo of k-NN: random points of a few classes in the plane, and the
/// class k-NN gives to every pixel around them, for several k side by side. With k = 1 every
/// outlier carves its own island; larger k smooth the boundaries.
///
/// Each pixel is classified by the library's own `KNearestNeighbors` (fitted on the points as
/// 2-D features), so the picture shows exactly the model's tie-breaks: equal votes go to the class
/// of the nearest neighbour.
public struct DecisionRegions {
    /// A point of the unit square with its class.
    public struct Point: Sendable, Equatable {
        public var x: Double
        public var y: Double
        public var label: Int

        public init(x: Double, y: Double, label: Int) {
            self.x = x
            self.y = y
            self.label = label
        }
    }

    /// Width and height of one panel in pixels.
    public var panelSize: Int
    public var metric: DistanceMetric

    public init(panelSize: Int = 240, metric: DistanceMetric = .l2) {
        self.panelSize = max(32, panelSize)
        self.metric = metric
    }

    /// `count` points of `classes` classes: each class a blob around a random centre, plus some
    /// points anywhere (the outliers that make k = 1 noisy). Deterministic for a seed.
    public static func randomPoints(count: Int, classes: Int, seed: UInt64) -> [Point] {
        var random = SeededRandom(seed: seed)
        let centres = (0..<classes).map { _ in (0.15 + 0.7 * random.nextUnitDouble(), 0.15 + 0.7 * random.nextUnitDouble()) }
        return (0..<count).map { i in
            let label = i % max(1, classes)
            if random.nextUnitDouble() < 0.15 {
                return Point(x: random.nextUnitDouble(), y: random.nextUnitDouble(), label: label)
            }
            let (cx, cy) = centres[label]
            let x = cx + 0.12 * Double(random.nextGaussian()), y = cy + 0.12 * Double(random.nextGaussian())
            return Point(x: min(1, max(0, x)), y: min(1, max(0, y)), label: label)
        }
    }

    /// The class of every pixel of a panel (row-major, panelSize²) under k-NN with `k`.
    public func labels(points: [Point], classes: Int, k: Int) throws -> [Int] {
        var model = KNearestNeighbors(k: k, metric: metric)
        try model.fit(features: Tensor(shape: [points.count, 2], scalars: points.flatMap { [Float($0.x), Float($0.y)] }),
                      labels: points.map { Int32($0.label) }, classNames: (0..<classes).map { "class \($0)" })
        let size = panelSize
        var grid = [Float](repeating: 0, count: size * size * 2)
        for y in 0..<size {
            for x in 0..<size {
                grid[(y * size + x) * 2] = (Float(x) + 0.5) / Float(size)
                grid[(y * size + x) * 2 + 1] = (Float(y) + 0.5) / Float(size)
            }
        }
        let neighbors = try model.neighbors(ofFeatures: Tensor(shape: [size * size, 2], scalars: grid))
        return model.ranking(from: neighbors, count: 1).map { $0.first ?? 0 }
    }

    /// One panel per k, left to right, each titled "k = …", points drawn on top of the regions.
    ///
    /// - Throws: `.invalidArgument` for k < 1 or k above the number of points, or no points.
    public func render(points: [Point], classes: Int, ks: [Int]) throws -> Image {
        guard !points.isEmpty, classes >= 1 else { throw PerceptError.invalidArgument("the toy demo needs points of at least one class") }
        let size = panelSize, gap = 12, titleHeight = 22
        var raster = Raster(width: gap + ks.count * (size + gap), height: titleHeight + size + gap,
                            background: RGB(255, 255, 255))
        for (panel, k) in ks.enumerated() {
            let left = gap + panel * (size + gap), top = titleHeight
            let labels = try self.labels(points: points, classes: classes, k: k)
            for y in 0..<size {
                for x in 0..<size {
                    raster.set(left + x, top + y, Self.color(labels[y * size + x]).mixed(with: RGB(255, 255, 255), 0.55))
                }
            }
            for point in points {
                let cx = Double(left) + point.x * Double(size), cy = Double(top) + point.y * Double(size)
                raster.disc(cx, cy, radius: 4, color: RGB(30, 30, 30))
                raster.disc(cx, cy, radius: 3, color: Self.color(point.label))
            }
            let title = "k = \(k)"
            raster.text(title, x: left + (size - Raster.textWidth(title, scale: 2)) / 2, y: 4, color: RGB(40, 40, 40), scale: 2)
        }
        return raster.image
    }

    static func color(_ label: Int) -> RGB { LineChart.palette[label % LineChart.palette.count] }
}
