import Foundation

/// The ranks of one distributed job and the collectives they run together, as MPI defines them.
///
/// Every rank calls the same collectives in the same order; each call returns once every rank has
/// made it. Two implementations: ``MPICommunicator`` (processes started by `mpirun`/`srun`, Open MPI
/// underneath) and ``ThreadGroup`` (ranks as threads of one process: the plain reference the tests
/// hold the MPI path to, and a way to test data-parallel code without a launcher). A job of one
/// process is ``SingleProcess``, where every collective is the identity.
public protocol Communicator: AnyObject, Sendable {
    /// This process's place in the job, `0..<size`; rank 0 prints, checkpoints and writes the model.
    var rank: Int { get }
    /// How many ranks the job has.
    var size: Int { get }
    /// Replaces `values` on every rank by their element-wise sum over all ranks.
    func allreduceSum(_ values: inout [Float]) throws
    /// Replaces `values` on every rank by their element-wise sum over all ranks.
    func allreduceSum(_ values: inout [Double]) throws
    /// Starts summing `values` over all ranks and returns at once, so the caller can compute while
    /// the bytes travel (DDP's overlap of the backward pass with the gradient exchange).
    func startAllreduceSum(_ values: [Float]) throws -> PendingReduction
    /// Every rank's bytes, in rank order, on every rank (lengths may differ).
    func allgather(_ bytes: [UInt8]) throws -> [[UInt8]]
    /// `root`'s bytes on every rank.
    func broadcast(_ bytes: [UInt8], from root: Int) throws -> [UInt8]
    /// Returns once every rank has called it.
    func barrier() throws
    /// Ends the whole job because this rank cannot go on; `message` names the cause. Under MPI this
    /// does not return (`MPI_Abort` stops every rank, so none waits forever in a collective); in a
    /// ``ThreadGroup`` the other ranks' collectives throw ``DistributedError/peerFailed(rank:message:)``.
    func abandon(_ message: String)
}

/// A sum started by ``Communicator/startAllreduceSum(_:)``.
public protocol PendingReduction: AnyObject {
    /// Waits for the exchange and returns the sums.
    func wait() throws -> [Float]
}

/// What a collective can fail with.
public enum DistributedError: Error, CustomStringConvertible, Equatable {
    /// An MPI call returned an error code; `message` is MPI's own text for it.
    case mpi(call: String, message: String)
    /// Another rank gave up (``Communicator/abandon(_:)``) while this one waited for it.
    case peerFailed(rank: Int, message: String)
    /// The ranks do not hold the same thing where they must (a dataset, a model).
    case mismatch(what: String, detail: String)
    /// A collective was called with arguments that cannot agree (different lengths on different ranks).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .mpi(let call, let message): return "\(call) failed: \(message)"
        case .peerFailed(let rank, let message): return "rank \(rank) stopped the job: \(message)"
        case .mismatch(let what, let detail): return "the ranks do not have the same \(what): \(detail)"
        case .invalidArgument(let message): return message
        }
    }
}

extension Communicator {
    /// Whether this is rank 0, the one that prints and writes.
    public var isRoot: Bool { rank == 0 }

    /// The sum of one number over every rank.
    public func allreduceSum(_ value: Double) throws -> Double {
        var values = [value]
        try allreduceSum(&values)
        return values[0]
    }

    /// This rank's contiguous share of `count` items: the first `count % size` ranks take one more,
    /// so shards differ by at most one item and rank order is item order.
    public func shard(of count: Int) -> Range<Int> {
        Self.shard(of: count, rank: rank, size: size)
    }

    /// Rank `rank`'s share of `count` items among `size` ranks (see ``shard(of:)``).
    public static func shard(of count: Int, rank: Int, size: Int) -> Range<Int> {
        let base = count / size, extra = count % size
        let start = rank * base + min(rank, extra)
        return start..<(start + base + (rank < extra ? 1 : 0))
    }

    /// Checks that every rank holds the same `what` (a checksum of a dataset or a model) before any
    /// work starts; throws ``DistributedError/mismatch(what:detail:)`` naming the first rank that differs.
    public func requireAgreement(on digest: [UInt8], what: String) throws {
        let digests = try allgather(digest)
        for (other, theirs) in digests.enumerated() where theirs != digests[0] {
            throw DistributedError.mismatch(
                what: what, detail: "rank \(other) has \(Self.hex(theirs)), rank 0 has \(Self.hex(digests[0]))")
        }
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        bytes.prefix(8).map { String(format: "%02x", $0) }.joined() + (bytes.count > 8 ? "…" : "")
    }
}

/// A job of one process: every collective returns its input.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allreduceSum(_ values: inout [Float]) throws {}
    public func allreduceSum(_ values: inout [Double]) throws {}
    public func startAllreduceSum(_ values: [Float]) throws -> PendingReduction { CompletedReduction(values) }
    public func allgather(_ bytes: [UInt8]) throws -> [[UInt8]] { [bytes] }
    public func broadcast(_ bytes: [UInt8], from root: Int) throws -> [UInt8] { bytes }
    public func barrier() throws {}
    public func abandon(_ message: String) {}
}

/// A reduction whose result was known when it started.
final class CompletedReduction: PendingReduction {
    private let values: [Float]
    init(_ values: [Float]) { self.values = values }
    func wait() throws -> [Float] { values }
}
