// percept-bench ivf / scaling / chart: approximate search, time vs training-set size, and the
// charts drawn from the JSON lines of both tools.
//
//   percept-bench ivf PACK [--queries 10000] [--k 20] [--nlist 256] [--nprobe 1,4,8,16,32]
//                 [--metrics l2,l1] [--index-all]
//       exact ByteIndex search, then IVFIndex at each nprobe: seconds, recall@1 and recall@10
//       against the exact lists (also --write PREFIX: exact and IVF neighbour indices, int32).
//   percept-bench scaling PACK [--sizes 5000,10000,20000,30000,40000] [--queries 1000] [--k 20]
//       exact L1 and L2 search time of `queries` held-out images against the first `size` others.
//   percept-bench chart ivf|scaling RESULTS.jsonl OUTPUT-PREFIX
//       draws OUTPUT-PREFIX.svg and .png from the JSON lines of a run.sh run.
import Foundation
import PerceptCore
import PerceptData
import PerceptModels
import PerceptReports

func option(_ options: [String], _ name: String) -> String? {
    options.firstIndex(of: name).flatMap { $0 + 1 < options.count ? options[$0 + 1] : nil }
}

/// A stratified hold-out that both tools can repeat: the pack is sorted by class, so every
/// (N / queries)-th image (positions step − 1, 2·step − 1, …) is a query and the rest are the index.
/// `faiss_ivf.py` takes the same positions.
func holdOut(_ dataset: Dataset, queries: Int) throws -> (train: Dataset, queries: Dataset) {
    guard queries > 0, queries < dataset.count else { throw PerceptError.invalidArgument("--queries must be 1…\(dataset.count - 1)") }
    let step = dataset.count / queries
    let held = Set((0..<queries).map { $0 * step + step - 1 })
    return (dataset.subset((0..<dataset.count).filter { !held.contains($0) }), dataset.subset(held.sorted()))
}

func benchIVF(pack: String, options: [String]) throws {
    let dataset = try PackFile.load(pack)
    let queryCount = Int(option(options, "--queries") ?? "") ?? 10_000, k = Int(option(options, "--k") ?? "") ?? 20
    let nlist = Int(option(options, "--nlist") ?? "") ?? 256
    let probes = (option(options, "--nprobe") ?? "1,4,8,16,32").split(separator: ",").compactMap { Int($0) }
    var (train, queries) = try holdOut(dataset, queries: queryCount)
    if options.contains("--index-all") { train = dataset }
    for metric in try DistanceMetric.parseList(option(options, "--metrics") ?? "l2") {
        var exact: NeighborList?
        let exactSeconds = try seconds { exact = try ByteIndex(dataset: train, metric: metric).search(queries, k: k) }
        guard let exact else { continue }
        emit(["tool": "percept-exact-\(metric)", "queries": queryCount, "index": train.count, "k": k, "seconds": exactSeconds])
        var ivf: IVFIndex?
        let build = try seconds { ivf = try IVFIndex(dataset: train, metric: metric, nlist: nlist, nprobe: 1) }
        guard let ivf else { continue }
        emit(["tool": "percept-ivf-build-\(metric)", "nlist": nlist, "seconds": build,
              "largest_list": ivf.listSizes.max() ?? 0, "smallest_list": ivf.listSizes.min() ?? 0])
        for nprobe in probes where nprobe <= nlist {
            var found: NeighborList?
            let search = try seconds { found = try ivf.search(queries, k: k, nprobe: nprobe) }
            guard let found else { continue }
            emit(["tool": "percept-ivf-\(metric)", "nlist": nlist, "nprobe": nprobe, "queries": queryCount,
                  "index": train.count, "k": k, "seconds": search, "speedup_vs_exact": exactSeconds / search,
                  "recall_at_1": found.recall(against: exact, at: 1), "recall_at_10": found.recall(against: exact, at: 10)])
            if let prefix = option(options, "--write") {
                try found.indices.withUnsafeBufferPointer { Data(buffer: $0) }
                    .write(to: URL(fileURLWithPath: "\(prefix)-ivf-\(metric)-\(nprobe).i32"))
            }
        }
        if let prefix = option(options, "--write") {
            try exact.indices.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: URL(fileURLWithPath: "\(prefix)-exact-\(metric).i32"))
        }
    }
}

func benchScaling(pack: String, options: [String]) throws {
    let dataset = try PackFile.load(pack)
    let queryCount = Int(option(options, "--queries") ?? "") ?? 1_000, k = Int(option(options, "--k") ?? "") ?? 20
    let sizes = (option(options, "--sizes") ?? "5000,10000,20000,30000,40000").split(separator: ",").compactMap { Int($0) }
    let (rest, queries) = try holdOut(dataset, queries: queryCount)
    var random = SeededRandom(seed: 1)
    let order = Array(0..<rest.count).shuffled(using: &random)  // each size: a random sample of every class
    for metric in try DistanceMetric.parseList(option(options, "--metrics") ?? "l1,l2") {
        for size in sizes where size <= rest.count {
            let train = rest.subset(Array(order.prefix(size)))
            let index = try ByteIndex(dataset: train, metric: metric)
            let search = try seconds { _ = try index.search(queries, k: k) }
            emit(["tool": "percept-scaling-\(metric)", "index": size, "queries": queryCount, "k": k, "seconds": search])
        }
    }
}

/// Reads JSON lines, keeps objects whose "tool" starts with one of `prefixes`.
func readResults(_ path: String) throws -> [[String: Any]] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    return text.split(separator: "\n").compactMap { line in
        guard line.hasPrefix("{") else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
    }
}

func drawChart(kind: String, results path: String, output: String) throws {
    let rows = try readResults(path)
    func number(_ row: [String: Any], _ key: String) -> Double? { (row[key] as? NSNumber)?.doubleValue }
    var series: [LineChart.Series] = []
    let chart: LineChart
    switch kind {
    case "ivf":
        for (i, tool) in ["percept-ivf-l2", "faiss-ivf-l2"].enumerated() {
            let points = rows.filter { $0["tool"] as? String == tool }.compactMap { row -> LineChart.Point? in
                guard let s = number(row, "seconds"), let r = number(row, "recall_at_1") else { return nil }
                return LineChart.Point(x: s, samples: [], mean: r, spread: 0)
            }.sorted { $0.x < $1.x }
            if !points.isEmpty {
                series.append(.init(name: tool.hasPrefix("faiss") ? "faiss IVF" : "Percept IVF",
                                    color: LineChart.palette[i], points: points))
            }
        }
        for (i, tool) in ["percept-exact-l2", "faiss-knn-l2"].enumerated() {
            if let row = rows.first(where: { $0["tool"] as? String == tool }), let s = number(row, "seconds") {
                series.append(.init(name: i == 0 ? "Percept exact" : "faiss exact",
                                    color: LineChart.palette[i + 2], points: [.init(x: s, samples: [1], mean: 1, spread: 0)]))
            }
        }
        chart = LineChart(title: "IVF nlist 256, nprobe 1-32: recall at 1 vs time",
                          xLabel: "seconds for 10,000 queries (40,000 stored)", yLabel: "recall at 1", series: series)
    case "scaling":
        for (i, tool) in ["percept-scaling-l1", "percept-scaling-l2"].enumerated() {
            let points = rows.filter { $0["tool"] as? String == tool }.compactMap { row -> LineChart.Point? in
                guard let n = number(row, "index"), let s = number(row, "seconds") else { return nil }
                return LineChart.Point(x: n, samples: [], mean: s, spread: 0)
            }.sorted { $0.x < $1.x }
            if !points.isEmpty { series.append(.init(name: tool.hasSuffix("l1") ? "L1" : "L2", color: LineChart.palette[i], points: points)) }
        }
        chart = LineChart(title: "Exact search time vs training-set size",
                          xLabel: "training images (1,000 queries, k = 20)", yLabel: "seconds", series: series)
    case "cnn-curve":
        // Validation accuracy against wall minutes, one series per run (each begins with its "start"
        // line): percept-bench cnn-train and peers/torch_airbench.py lines, in the order they ran.
        var runs: [(tool: String, name: String, points: [LineChart.Point])] = []
        for row in rows {
            guard let tool = row["tool"] as? String, ["percept-cnn-train", "torch-airbench94"].contains(tool) else { continue }
            let engine = tool == "percept-cnn-train" ? "Percept" : "PyTorch"
            let event = row["event"] as? String
            if event == "start" {
                // Short, as the PNG's legend column holds ~10 characters: engine (or "+cutout", or the
                // first group width of a wider net, "w96") and epochs.
                let cutout = (number(row, "cutout") ?? 0) > 0
                let widths = (row["widths"] as? String).flatMap { $0.split(separator: ",").first }.map { "w\($0)" }
                let label = widths ?? (cutout ? "+cutout" : engine)
                let name = "\(label) \(number(row, "epochs").map { "\(Int($0))" } ?? "?")"
                runs.append((tool, name, []))
            } else if event == "epoch", let s = number(row, "wall_seconds"), let a = number(row, "validation_accuracy") {
                if runs.last?.tool != tool { runs.append((tool, engine, [])) }  // a log without start lines
                runs[runs.count - 1].points.append(LineChart.Point(x: s / 60, samples: [], mean: a, spread: 0))
            }
        }
        for (i, run) in runs.enumerated() where !run.points.isEmpty {
            series.append(.init(name: run.name, color: LineChart.palette[i % LineChart.palette.count], points: run.points))
        }
        chart = LineChart(title: "airbench94 recipe, CIFAR-10, 2 cores",
                          xLabel: "minutes since start (all included)", yLabel: "validation accuracy",
                          series: series)
    default:
        throw PerceptError.invalidArgument("chart kind must be ivf, scaling or cnn-curve")
    }
    try AtomicFile.write(Data(chart.svg().utf8), to: "\(output).svg")
    try AtomicFile.write(Data(try chart.pngData()), to: "\(output).png")
}

/// Sanity accuracies: `queries` images held out (`holdOut`), k-NN on the others, k = 1…20 by L1 and L2.
func benchAccuracy(pack: String, options: [String]) throws {
    let dataset = try PackFile.load(pack)
    let queryCount = Int(option(options, "--queries") ?? "") ?? 10_000
    let (train, queries) = try holdOut(dataset, queries: queryCount)
    let ks = [1, 3, 5, 7, 10, 20]
    for metric in [DistanceMetric.l1, .l2] {
        var model = KNearestNeighbors(k: ks.max() ?? 1, metric: metric)
        try model.fit(train)
        let found = try model.neighbors(of: queries)
        var fields: [String: Any] = ["tool": "percept-accuracy-\(metric)", "index": train.count, "queries": queryCount]
        for k in ks {
            let lists = NeighborList(k: k, indices: (0..<queryCount).flatMap { found.neighbors(of: $0).prefix(k) },
                                     distances: (0..<queryCount).flatMap { found.distances[($0 * found.k)..<($0 * found.k + k)] })
            let predicted = model.ranking(from: lists, count: 1).map { $0.first ?? -1 }
            let right = zip(predicted, queries.labels).filter { $0 == Int($1) }.count
            fields["k\(k)"] = Double(right) / Double(queryCount)
        }
        emit(fields)
    }
}
