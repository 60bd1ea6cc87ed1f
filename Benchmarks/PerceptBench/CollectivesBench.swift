// percept-bench collectives [--sizes 1024,262144,...] [--repeats 20] [--fail-rank R]
//
// Run under `mpirun -np N`: checks every collective against its known answer (exit 3 on a wrong
// answer, so the MPI tests can run it), then times MPI_Allreduce of float gradients at each size
// (bytes per step of the models in the communication model) and prints one JSON line per size.
// Without mpirun it runs the same on ranks as threads (ThreadGroup), the reference.
// --fail-rank R: rank R abandons the job after the checks, to test that every rank stops with its message.
import Foundation
import PerceptDistributed

func benchCollectives(options: [String]) throws {
    let sizes = (optionValue(options, "--sizes") ?? "256,65536,280000,1200000,4000000")
        .split(separator: ",").compactMap { Int($0) }
    let repeats = Int(optionValue(options, "--repeats") ?? "20") ?? 20
    let failRank = optionValue(options, "--fail-rank").flatMap { Int($0) }
    let comm: Communicator
    if MPICommunicator.launchedByMPI {
        comm = try MPICommunicator.world()
    } else {
        let threads = Int(optionValue(options, "--threads") ?? "2") ?? 2
        _ = try ThreadGroup.run(size: threads) { comm in try runCollectives(comm, sizes: sizes, repeats: repeats, failRank: failRank) }
        return
    }
    try runCollectives(comm, sizes: sizes, repeats: repeats, failRank: failRank)
}

private func runCollectives(_ comm: Communicator, sizes: [Int], repeats: Int, failRank: Int?) throws {
    let n = comm.size, r = comm.rank
    func require(_ condition: Bool, _ what: String) {
        guard condition else {
            FileHandle.standardError.write(Data("percept-bench: rank \(r): wrong \(what)\n".utf8))
            exit(3)
        }
    }
    // Known answers: rank r contributes r + i at index i, so every index sums to n(n-1)/2 + n·i.
    var floats = (0..<1000).map { Float(r + $0) }
    try comm.allreduceSum(&floats)
    require(floats.enumerated().allSatisfy { $1 == Float(n * (n - 1) / 2 + n * $0) }, "float allreduce")
    require(try comm.allreduceSum(Double(r) + 0.25) == Double(n * (n - 1) / 2) + 0.25 * Double(n), "double allreduce")
    let pending = try comm.startAllreduceSum([Float(r), 1])
    require(try pending.wait() == [Float(n * (n - 1) / 2), Float(n)], "non-blocking allreduce")
    let gathered = try comm.allgather([UInt8](repeating: UInt8(r), count: r + 1))
    require(gathered == (0..<n).map { [UInt8](repeating: UInt8($0), count: $0 + 1) }, "allgather")
    require(try comm.broadcast(r == n - 1 ? [42, 7] : [], from: n - 1) == [42, 7], "broadcast")
    try comm.barrier()
    if comm.isRoot { print("{\"collectives\":\"ok\",\"ranks\":\(n)}") }
    if let failRank, failRank == r { comm.abandon("asked to fail (--fail-rank \(failRank))") }
    for size in sizes {
        var gradient = [Float](repeating: 1, count: size)
        try comm.allreduceSum(&gradient)  // warm-up: connections and buffers
        var times: [Double] = []
        for _ in 0..<repeats {
            try comm.barrier()
            times.append(try seconds { try comm.allreduceSum(&gradient) })
        }
        // Every rank's median is the job's; report the slowest rank's, which is what a step waits for.
        let median = times.sorted()[times.count / 2]
        let medians = try comm.allgather(withUnsafeBytes(of: median) { Array($0) })
        let slowest = medians.map { $0.withUnsafeBytes { $0.loadUnaligned(as: Double.self) } }.max() ?? median
        if comm.isRoot {
            // Bus bandwidth as NCCL defines it: a ring allreduce moves 2(n−1)/n of the buffer per rank.
            emit(["tool": "percept-allreduce", "ranks": n, "floats": size, "bytes": size * 4, "seconds": slowest,
                  "bus_gbytes_per_second": 2.0 * Double(n - 1) / Double(n) * Double(size * 4) / slowest / 1e9])
        }
    }
}
