// percept-bench: the Swift side of the side-by-side benchmarks in Benchmarks/run.sh.
//
//   percept-bench import ROOT PACK   decode a folder-per-label tree into a pack, then reload it
//   percept-bench knn PACK [--queries 10000] [--k 20] [--metrics l1,l2] [--l1-queries N]
//                 [--index-all] [--l2-threading workers|blas] [--write PREFIX]
//       exact k-NN: the last `queries` images of the pack search the others (or, with
//       --index-all, all of them); L1 on the first `l1-queries` of those (default: all).
//       --write PREFIX saves neighbour indices as PREFIX-l1.i32 / PREFIX-l2.i32 (int32, N×k).
//       [--l2-search bounded|gemm]: the pooled-bound exact search (default) or the full GEMM.
//   percept-bench ivf | scaling | chart …   (IVFBench.swift)
//
//   percept-bench linear PACK [--model svm|softmax|mlp] [--features pixels|hog-color] …  (Linear.swift)
//   percept-bench cnn [--arch NAME|FILE] [--batch 512] [--threads 2] [--steps 3] [--profile]   (CNNBench.swift)
//   percept-bench conv-layout [--batch 512] [--threads 2]                                      (CNNBench.swift)
//   percept-bench depthwise [--channels 96] [--size 112] [--kernel 3] [--stride 1] [--batch 32]    (DepthwiseBench.swift)
//   percept-bench backbone MODEL.onnx [--batch 32] [--threads 2] [--inputs F --write F]             (BackboneBench.swift)
//   percept-bench knn-sharded PACK [--queries 1000] [--k 10] [--threads T]   (under mpirun; ShardedKNNBench.swift)
//   percept-bench collectives [--sizes N,…] [--repeats 20] [--fail-rank R]  (under mpirun; CollectivesBench.swift)
//   percept-bench cnn-train PACK [--arch NAME] [--epochs N] [--time-limit S] …                  (CNNTrainBench.swift)
//   percept-bench dp-train PACK [--model airbench94|softmax] [--images N] [--steps S]  (under mpirun; DistributedTrainBench.swift)
//
// Prints one JSON line per measurement so run.sh can tabulate it beside the Python peers.
import Foundation
import PerceptCore
import PerceptData
import CKernels
import PerceptModels
import PerceptNetwork

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now()
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}

func emit(_ fields: [String: Any]) {
    if let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]),
       let line = String(data: data, encoding: .utf8) {
        print(line)
    }
}

func benchImport(root: String, pack: String) throws {
    var result: LoadResult?
    let decode = try seconds { result = try DatasetLoader.load(root) }
    guard let dataset = result?.dataset else { return }
    let checksum = (0..<dataset.pixels.count).reduce(UInt64(0)) { $0 + UInt64(dataset.pixels.bytes[$1]) }
    emit(["tool": "percept-import-decode", "images": dataset.count, "seconds": decode,
          "threads": Parallel.defaultThreadCount, "checksum": checksum, "problems": result?.problems.count ?? 0])
    let write = try seconds { try PackFile.write(dataset, to: pack) }
    emit(["tool": "percept-pack-write", "images": dataset.count, "seconds": write])
    // Reload: the first load maps the file; repeat to report a steady number.
    var reloads: [Double] = []
    for _ in 0..<5 {
        reloads.append(try seconds {
            let loaded = try PackFile.load(pack)
            precondition(loaded.count == dataset.count)
        })
    }
    emit(["tool": "percept-pack-reload", "images": dataset.count, "seconds": reloads.sorted()[2],
          "all": reloads])
}

func benchKNN(pack: String, options: [String]) throws {
    func value(_ name: String) -> String? {
        options.firstIndex(of: name).flatMap { $0 + 1 < options.count ? options[$0 + 1] : nil }
    }
    let dataset = try PackFile.load(pack)
    let queryCount = Int(value("--queries") ?? "") ?? 10_000, k = Int(value("--k") ?? "") ?? 20
    guard queryCount > 0, queryCount < dataset.count else {
        throw PerceptError.invalidArgument("--queries must be 1…\(dataset.count - 1)")
    }
    let indexAll = options.contains("--index-all")
    let train = indexAll ? dataset : dataset.subset(Array(0..<(dataset.count - queryCount)))
    let queries = dataset.subset(Array((dataset.count - queryCount)..<dataset.count))
    let threading = value("--l2-threading").flatMap(ByteIndex.L2Threading.init(rawValue:)) ?? .blasSingleThreadedPerWorker
    let metrics = (value("--metrics") ?? "l1,l2").split(separator: ",").compactMap { DistanceMetric(rawValue: String($0)) }
    for metric in metrics {
        let n = metric == .l1 ? min(queryCount, Int(value("--l1-queries") ?? "") ?? queryCount) : queryCount
        let searched = n == queryCount ? queries : queries.subset(Array(0..<n))
        var index: ByteIndex?
        let build = try seconds {
            index = try ByteIndex(dataset: train, metric: metric)
            index?.l2Threading = threading
            index?.l2Search = value("--l2-search").flatMap(ByteIndex.L2Search.init(rawValue:)) ?? .bounded
            index?.statistics = L2SearchStatistics()
        }
        var found: NeighborList?
        let search = try seconds { found = try index?.search(searched, k: k) }
        guard let found else { continue }
        let d = train.imageByteCount, pairs = Double(n) * Double(train.count)
        var fields: [String: Any] = [
            "tool": "percept-knn-\(metric)", "queries": n, "index": train.count, "dim": d, "k": k,
            "seconds": search, "build_seconds": build, "threads": Parallel.defaultThreadCount,
            "avx2": percept_has_avx2() == 1, "queries_per_second": Double(n) / search,
        ]
        if metric == .l2 {
            // 2·N·M·D flops in the GEMM (the rest is O(N·M)).
            fields["gflops"] = 2 * pairs * Double(d) / search / 1e9
            fields["l2_threading"] = threading.rawValue
            fields["l2_search"] = index?.l2Search.rawValue
            if index?.l2Search == .bounded { fields["exact_fraction"] = index?.statistics?.exactFraction }
        } else {
            fields["gbytes_compared_per_second"] = pairs * Double(d) / search / 1e9
        }
        emit(fields)
        if let prefix = value("--write") {
            let data = found.indices.withUnsafeBufferPointer { Data(buffer: $0) }
            try data.write(to: URL(fileURLWithPath: "\(prefix)-\(metric).i32"))
        }
    }
}

let arguments = CommandLine.arguments
do {
    switch arguments.dropFirst().first {
    case "import" where arguments.count == 4:
        try benchImport(root: arguments[2], pack: arguments[3])
    case "knn" where arguments.count >= 3:
        try benchKNN(pack: arguments[2], options: Array(arguments.dropFirst(3)))
    case "ivf" where arguments.count >= 3:
        try benchIVF(pack: arguments[2], options: Array(arguments.dropFirst(3)))
    case "accuracy" where arguments.count >= 3:
        try benchAccuracy(pack: arguments[2], options: Array(arguments.dropFirst(3)))
    case "scaling" where arguments.count >= 3:
        try benchScaling(pack: arguments[2], options: Array(arguments.dropFirst(3)))
    case "chart" where arguments.count == 5:
        try drawChart(kind: arguments[2], results: arguments[3], output: arguments[4])
    case "linear" where arguments.count >= 3:
        try benchLinear(pack: arguments[2], options: Array(arguments.dropFirst(3)))
    case "cnn":
        try benchCNN(options: Array(arguments.dropFirst(2)))
    case "cnn-train" where arguments.count >= 3:
        try benchCNNTrain(pack: arguments[2], options: Array(arguments.dropFirst(3)))
    case "conv-layout":
        benchConvLayout(options: Array(arguments.dropFirst(2)))
    case "backbone" where arguments.count >= 3:
        try benchBackbone(path: arguments[2], options: Array(arguments.dropFirst(3)))
    case "knn-sharded" where arguments.count >= 3:
        try benchShardedKNN(pack: arguments[2], options: Array(arguments.dropFirst(3)))
    case "dp-train" where arguments.count >= 3:
        try benchDistributedTrain(pack: arguments[2], options: Array(arguments.dropFirst(3)))
    case "collectives":
        try benchCollectives(options: Array(arguments.dropFirst(2)))
    case "depthwise":
        benchDepthwise(options: Array(arguments.dropFirst(2)))
    default:
        FileHandle.standardError.write(Data("usage: percept-bench import ROOT PACK | knn PACK [--queries N] [--k K] [--metrics l1,l2] [--l1-queries N] [--index-all] [--l2-threading workers|blas] [--write PREFIX]\n".utf8))
        exit(1)
    }
} catch {
    FileHandle.standardError.write(Data("percept-bench: \(error)\n".utf8))
    exit(2)
}
