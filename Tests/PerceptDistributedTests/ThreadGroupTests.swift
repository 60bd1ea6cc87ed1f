import XCTest
@testable import PerceptDistributed

/// The collectives on the thread reference: known sums, rank order, failures that reach every rank.
final class ThreadGroupTests: XCTestCase {
    func testAllreduceSumsEveryRanksValuesInRankOrder() throws {
        let results = try ThreadGroup.run(size: 3) { comm -> [Float] in
            var values: [Float] = [Float(comm.rank), 1, Float(comm.rank * comm.rank)]
            try comm.allreduceSum(&values)
            return values
        }
        for values in results { XCTAssertEqual(values, [0 + 1 + 2, 3, 0 + 1 + 4]) }
    }

    func testDoubleSumAndStartedSumAgreeWithBlockingSum() throws {
        let results = try ThreadGroup.run(size: 4) { comm -> (Double, [Float]) in
            let total = try comm.allreduceSum(Double(comm.rank) + 0.5)
            let pending = try comm.startAllreduceSum([Float(comm.rank), -Float(comm.rank)])
            return (total, try pending.wait())
        }
        for (total, sums) in results {
            XCTAssertEqual(total, 0.5 + 1.5 + 2.5 + 3.5)
            XCTAssertEqual(sums, [6, -6])
        }
    }

    func testAllgatherKeepsRankOrderAndLengths() throws {
        let results = try ThreadGroup.run(size: 3) { comm in
            try comm.allgather([UInt8](repeating: UInt8(comm.rank), count: comm.rank + 1))
        }
        for gathered in results { XCTAssertEqual(gathered, [[0], [1, 1], [2, 2, 2]]) }
    }

    func testBroadcastTakesTheRootsBytes() throws {
        let results = try ThreadGroup.run(size: 3) { comm in try comm.broadcast([UInt8(10 + comm.rank)], from: 2) }
        XCTAssertEqual(results, [[12], [12], [12]])
        XCTAssertThrowsError(try ThreadGroup.run(size: 2) { comm in try comm.broadcast([], from: 5) })
    }

    func testMismatchedLengthsAreRefused() {
        XCTAssertThrowsError(try ThreadGroup.run(size: 2) { comm -> [Float] in
            var values = [Float](repeating: 1, count: comm.rank + 1)
            try comm.allreduceSum(&values)
            return values
        })
    }

    func testAFailingRankStopsTheOthersWithItsMessage() {
        struct ShardUnreadable: Error {}
        XCTAssertThrowsError(try ThreadGroup.run(size: 3) { comm -> Int in
            if comm.rank == 1 { throw ShardUnreadable() }
            try comm.barrier()  // would wait forever for rank 1 without failure propagation
            return comm.rank
        }) { error in XCTAssertTrue(error is ShardUnreadable, "the failing rank's own error comes first, got \(error)") }
        XCTAssertThrowsError(try ThreadGroup.run(size: 2) { comm -> Int in
            if comm.rank == 0 { comm.abandon("cannot read shard 0") ; return 0 }
            try comm.barrier()
            return 1
        }) { error in
            XCTAssertEqual(error as? DistributedError, .peerFailed(rank: 0, message: "cannot read shard 0"))
        }
    }

    func testShardsCoverEveryItemOnceAndDifferByAtMostOne() {
        for count in [0, 1, 5, 10, 11, 1000] {
            for size in 1...5 {
                let shards = (0..<size).map { SingleProcess.shard(of: count, rank: $0, size: size) }
                XCTAssertEqual(shards.first?.lowerBound, 0)
                XCTAssertEqual(shards.last?.upperBound, count)
                for (left, right) in zip(shards, shards.dropFirst()) { XCTAssertEqual(left.upperBound, right.lowerBound) }
                let lengths = shards.map(\.count)
                XCTAssertLessThanOrEqual(lengths.max()! - lengths.min()!, 1, "count \(count), size \(size)")
            }
        }
    }

    func testAgreementIsRequiredOnDigests() throws {
        XCTAssertNoThrow(try ThreadGroup.run(size: 3) { comm in try comm.requireAgreement(on: [1, 2, 3], what: "dataset") })
        XCTAssertThrowsError(try ThreadGroup.run(size: 3) { comm in
            try comm.requireAgreement(on: comm.rank == 2 ? [9] : [1], what: "dataset")
        }) { error in
            guard case .mismatch(let what, let detail)? = error as? DistributedError else { return XCTFail("\(error)") }
            XCTAssertEqual(what, "dataset")
            XCTAssertTrue(detail.contains("rank 2"), detail)
        }
    }

    func testSingleProcessIsTheIdentity() throws {
        let comm = SingleProcess()
        var values: [Float] = [1, 2]
        try comm.allreduceSum(&values)
        XCTAssertEqual(values, [1, 2])
        XCTAssertEqual(try comm.allgather([7]), [[7]])
        XCTAssertEqual(comm.shard(of: 9), 0..<9)
    }
}
