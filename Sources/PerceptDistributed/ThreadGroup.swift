import Foundation

/// The ranks of a job as threads of one process, meeting at each collective in shared memory.
///
/// This is the plain reference for ``MPICommunicator``: the same collectives with no library
/// underneath, sums taken in rank order. Tests run data-parallel code on it without `mpirun`, and
/// hold the MPI path to it.
public final class ThreadGroup: @unchecked Sendable {
    public let size: Int
    // Everything below is guarded by `condition`.
    private let condition = NSCondition()
    private var contributions: [Any?]
    private var published: [Any] = []
    private var arrived = 0
    private var round = 0
    private var failure: (rank: Int, message: String)?

    private init(size: Int) {
        self.size = size
        contributions = Array(repeating: nil, count: size)
    }

    /// Runs `body` once per rank, each on its own thread, and returns the results in rank order;
    /// throws the error of the lowest rank that threw.
    public static func run<Result: Sendable>(size: Int,
                                             _ body: @escaping @Sendable (Communicator) throws -> Result) throws -> [Result] {
        guard size >= 1 else { throw DistributedError.invalidArgument("a job needs at least one rank, not \(size)") }
        let group = ThreadGroup(size: size)
        let outcomes = OutcomeBox<Result>(count: size)
        let finished = DispatchGroup()
        for rank in 0..<size {
            finished.enter()
            // Threads, not a dispatch queue: every rank must run at once or the first collective never completes.
            let thread = Thread {
                let communicator = ThreadRank(group: group, rank: rank)
                do { outcomes.set(rank, .success(try body(communicator))) } catch {
                    outcomes.set(rank, .failure(error))
                    group.fail(rank: rank, message: String(describing: error))
                }
                finished.leave()
            }
            thread.stackSize = 16 << 20
            thread.start()
        }
        finished.wait()
        return try outcomes.results()
    }

    /// Deposits this rank's contribution, waits for every rank's, and returns them all in rank order.
    fileprivate func exchange(rank: Int, _ contribution: Any) throws -> [Any] {
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw DistributedError.peerFailed(rank: failure.rank, message: failure.message) }
        contributions[rank] = contribution
        arrived += 1
        if arrived == size {
            published = contributions.map { $0 as Any }
            contributions = Array(repeating: nil, count: size)
            arrived = 0
            round += 1
            condition.broadcast()
            return published
        }
        let myRound = round
        while round == myRound && failure == nil { condition.wait() }
        // Read while holding the lock: the next round cannot publish before this rank arrives at it.
        if round == myRound, let failure { throw DistributedError.peerFailed(rank: failure.rank, message: failure.message) }
        return published
    }

    fileprivate func fail(rank: Int, message: String) {
        condition.lock()
        if failure == nil { failure = (rank, message) }
        condition.broadcast()
        condition.unlock()
    }
}

/// One rank's view of a ``ThreadGroup``.
final class ThreadRank: Communicator, @unchecked Sendable {
    private let group: ThreadGroup
    let rank: Int
    var size: Int { group.size }

    init(group: ThreadGroup, rank: Int) {
        self.group = group
        self.rank = rank
    }

    func allreduceSum(_ values: inout [Float]) throws { values = try sum(values) }
    func allreduceSum(_ values: inout [Double]) throws { values = try sum(values) }
    func startAllreduceSum(_ values: [Float]) throws -> PendingReduction { CompletedReduction(try sum(values)) }

    func allgather(_ bytes: [UInt8]) throws -> [[UInt8]] {
        try group.exchange(rank: rank, bytes).map { $0 as? [UInt8] ?? [] }
    }

    func broadcast(_ bytes: [UInt8], from root: Int) throws -> [UInt8] {
        guard (0..<size).contains(root) else { throw DistributedError.invalidArgument("no rank \(root) in a job of \(size)") }
        return try allgather(bytes)[root]
    }

    func barrier() throws { _ = try group.exchange(rank: rank, ()) }
    func abandon(_ message: String) { group.fail(rank: rank, message: message) }

    /// Element-wise sums in rank order, the same on every rank.
    private func sum<Element: FloatingPoint>(_ values: [Element]) throws -> [Element] {
        let all = try group.exchange(rank: rank, values).map { $0 as? [Element] ?? [] }
        guard all.allSatisfy({ $0.count == values.count }) else {
            throw DistributedError.invalidArgument("allreduce of different lengths: \(all.map(\.count))")
        }
        var total = all[0]
        for other in all.dropFirst() { for index in total.indices { total[index] += other[index] } }
        return total
    }
}

/// Each rank's result or error, written from its own thread.
private final class OutcomeBox<Result>: @unchecked Sendable {
    private let lock = NSLock()
    private var outcomes: [Swift.Result<Result, Error>?]
    init(count: Int) { outcomes = Array(repeating: nil, count: count) }
    func set(_ rank: Int, _ outcome: Swift.Result<Result, Error>) { lock.withLock { outcomes[rank] = outcome } }
    func results() throws -> [Result] {
        try lock.withLock {
            // A rank's own error comes before the peerFailed errors it caused in the others.
            let errors = outcomes.compactMap { outcome -> Error? in
                if case .failure(let error)? = outcome { return error } else { return nil }
            }
            if let first = errors.first(where: { !($0 is DistributedError) }) ?? errors.first { throw first }
            return try outcomes.map { try $0?.get() ?? { throw DistributedError.invalidArgument("a rank did not finish") }() }
        }
    }
}
