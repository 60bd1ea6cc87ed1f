// percept-bench knn-sharded PACK [--queries 1000] [--k 10] [--metrics l1,l2] [--threads T] [--repeats 3] [--write PREFIX]
//
// Exact k-NN search of the last `queries` images of the pack against the others, as
// `percept evaluate KNN-MODEL --distributed` runs it: under `mpirun -np N` each rank searches its
// shard of the stored images and the top-k lists are merged (KNearestNeighbors+Sharded.swift);
// alone, the single-process search. Prints one JSON line per metric (rank 0): images/s, and per rank
// where the time went: searching its shard, exchanging the lists (including waiting for the slowest
// rank), merging. --write PREFIX saves indices and distances (PREFIX-l1.i32/.f32 …) so a script can
// check that the ranks' merged answer equals the single process's byte for byte.
import Foundation
import PerceptCore
import PerceptData
import PerceptDistributed
import PerceptModels

func benchShardedKNN(pack: String, options: [String]) throws {
    let comm: Communicator = MPICommunicator.launchedByMPI ? try MPICommunicator.world() : SingleProcess()
    let dataset = try PackFile.load(pack)
    let queryCount = Int(optionValue(options, "--queries") ?? "") ?? 1000
    let k = Int(optionValue(options, "--k") ?? "") ?? 10
    let threads = Int(optionValue(options, "--threads") ?? "") ?? Parallel.defaultThreadCount
    let repeats = max(1, Int(optionValue(options, "--repeats") ?? "") ?? 3)
    guard queryCount > 0, queryCount < dataset.count else {
        throw PerceptError.invalidArgument("--queries must be 1…\(dataset.count - 1)")
    }
    let train = dataset.subset(Array(0..<(dataset.count - queryCount)))
    let queries = dataset.subset(Array((dataset.count - queryCount)..<dataset.count))
    let metrics = (optionValue(options, "--metrics") ?? "l1,l2").split(separator: ",").compactMap { DistanceMetric(rawValue: String($0)) }
    for metric in metrics {
        var model: KNearestNeighbors?
        let build = try seconds { model = try KNearestNeighbors(k: k, metric: metric, threads: threads).fitted(on: train) }
        guard let model else { continue }
        var runs: [(total: Double, timings: ShardedSearchTimings)] = []
        var found: NeighborList?
        for _ in 0..<repeats {
            try comm.barrier()  // every rank starts together, so `exchange` measures the imbalance
            let timings = ShardedSearchTimings()
            let total = try seconds { found = try model.neighbors(of: queries, communicator: comm, timings: timings) }
            runs.append((total, timings))
        }
        // The median run by total time; every rank's split of it, gathered to rank 0.
        let median = runs.sorted { $0.total < $1.total }[runs.count / 2]
        let mine = [median.total, median.timings.search, median.timings.exchange, median.timings.merge]
        let all = try comm.allgather(mine.flatMap { value in (0..<8).map { UInt8(truncatingIfNeeded: value.bitPattern >> UInt64(8 * $0)) } })
            .map { bytes in (0..<4).map { i in Double(bitPattern: (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[i * 8 + $1]) << UInt64(8 * $1) }) } }
        guard comm.isRoot else { continue }
        let slowest = all.map { $0[0] }.max() ?? median.total
        var fields: [String: Any] = [
            "tool": "percept-knn-sharded-\(metric)", "ranks": comm.size, "threads_per_rank": threads,
            "queries": queryCount, "index": train.count, "dim": train.imageByteCount, "k": k, "repeats": repeats,
            "seconds": slowest, "images_per_second": Double(queryCount) / slowest, "build_seconds": build,
            "all_totals": runs.map(\.total),
        ]
        if comm.size > 1 {
            fields["rank_search_seconds"] = all.map { $0[1] }
            fields["rank_exchange_seconds"] = all.map { $0[2] }
            fields["rank_merge_seconds"] = all.map { $0[3] }
            fields["merge_bytes_per_rank"] = 16 + queryCount * k * 12
        }
        emit(fields)
        if let prefix = optionValue(options, "--write"), let found {
            try Data(found.indices.flatMap { index in (0..<4).map { UInt8(truncatingIfNeeded: UInt32(bitPattern: index) >> UInt32(8 * $0)) } })
                .write(to: URL(fileURLWithPath: "\(prefix)-\(metric).i32"))
            try Data(found.distances.flatMap { d in (0..<4).map { UInt8(truncatingIfNeeded: d.bitPattern >> UInt32(8 * $0)) } })
                .write(to: URL(fileURLWithPath: "\(prefix)-\(metric).f32"))
        }
    }
}
