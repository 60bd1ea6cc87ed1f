import CMPI
import Foundation

/// The ranks of a job started by `mpirun` or `srun`, talking through Open MPI.
///
/// This file is the only one that calls MPI (raw buffers handed to C); ``ThreadGroup`` is its plain
/// reference twin. MPI is initialised once per process, and only when a launcher started it: a
/// command run on its own never touches MPI, so Percept works unchanged where no `mpirun` exists.
/// Every call returns MPI's errors (`MPI_ERRORS_RETURN`) as ``DistributedError/mpi(call:message:)``
/// instead of MPI's default of killing the job without a word.
public final class MPICommunicator: Communicator, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    private let world: MPI_Comm
    /// The process's stderr from before non-root ranks silenced theirs, for ``abandon(_:)``.
    private let errorOutput: Int32

    /// Whether a launcher started this process as one rank of a job (Open MPI's, PMIx's or Slurm's
    /// PMI variables are set): the test for `--distributed` without initialising MPI.
    public static var launchedByMPI: Bool {
        let environment = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"].contains { environment[$0] != nil }
    }

    nonisolated(unsafe) private static var shared: MPICommunicator?
    private static let sharedLock = NSLock()

    /// The job this process belongs to: MPI's world when a launcher started it, otherwise a job of one
    /// (with a note on stderr when `explain` is set, so `--distributed` without `mpirun` is not silent).
    /// Non-root ranks' stdout is silenced, so a job prints exactly what one process prints.
    public static func world(explain: Bool = true) throws -> Communicator {
        guard launchedByMPI else {
            if explain {
                FileHandle.standardError.write(Data(
                    "percept: --distributed without mpirun/srun: running as a single process\n".utf8))
            }
            return SingleProcess()
        }
        return try sharedLock.withLock {
            if let shared { return shared }
            let communicator = try MPICommunicator()
            shared = communicator
            return communicator
        }
    }

    private init() throws {
        var provided: Int32 = 0
        // SERIALIZED: the trainer's threads never call MPI at once, but they may not be the main thread.
        let code = MPI_Init_thread(nil, nil, percept_mpi_thread_serialized(), &provided)
        guard code == MPI_SUCCESS else { throw DistributedError.mpi(call: "MPI_Init_thread", message: "error \(code)") }
        world = percept_mpi_comm_world()
        try Self.check(MPI_Comm_set_errhandler(world, percept_mpi_errors_return()), "MPI_Comm_set_errhandler")
        var rank: Int32 = 0, size: Int32 = 0
        try Self.check(MPI_Comm_rank(world, &rank), "MPI_Comm_rank")
        try Self.check(MPI_Comm_size(world, &size), "MPI_Comm_size")
        self.rank = Int(rank)
        self.size = Int(size)
        errorOutput = dup(STDERR_FILENO)
        // MPI_Finalize at exit so a job that ends normally does not look like a crash to mpirun.
        atexit { _ = MPI_Finalize() }
        if rank != 0 {
            // Only rank 0 talks: the job's output is the single-process output.
            let null = open("/dev/null", O_WRONLY)
            if null >= 0 { dup2(null, STDOUT_FILENO); close(null) }
        }
    }

    public func allreduceSum(_ values: inout [Float]) throws {
        let count = Int32(values.count)
        try values.withUnsafeMutableBytes { buffer in
            try Self.check(MPI_Allreduce(percept_mpi_in_place(), buffer.baseAddress, count, percept_mpi_float(),
                                         percept_mpi_sum(), world), "MPI_Allreduce")
        }
    }

    public func allreduceSum(_ values: inout [Double]) throws {
        let count = Int32(values.count)
        try values.withUnsafeMutableBytes { buffer in
            try Self.check(MPI_Allreduce(percept_mpi_in_place(), buffer.baseAddress, count, percept_mpi_double(),
                                         percept_mpi_sum(), world), "MPI_Allreduce")
        }
    }

    public func startAllreduceSum(_ values: [Float]) throws -> PendingReduction {
        try MPIPendingReduction(values, world: world)
    }

    public func allgather(_ bytes: [UInt8]) throws -> [[UInt8]] {
        // Lengths first, so every rank can size the receive buffer and the displacements.
        var lengths = [Int64](repeating: 0, count: size)
        var mine = Int64(bytes.count)
        try lengths.withUnsafeMutableBytes { receive in
            try Self.check(MPI_Allgather(&mine, 1, percept_mpi_int64(), receive.baseAddress, 1, percept_mpi_int64(), world),
                           "MPI_Allgather")
        }
        guard lengths.allSatisfy({ $0 <= Int64(Int32.max) }), lengths.reduce(0, +) <= Int64(Int32.max) else {
            throw DistributedError.invalidArgument("allgather of more than 2 GiB: \(lengths)")
        }
        let counts = lengths.map { Int32($0) }
        var displacements = [Int32](repeating: 0, count: size)
        for index in counts.indices.dropFirst() { displacements[index] = displacements[index - 1] + counts[index - 1] }
        var gathered = [UInt8](repeating: 0, count: Int(counts.reduce(0, +)))
        try bytes.withUnsafeBytes { send in
            try gathered.withUnsafeMutableBytes { receive in
                try Self.check(MPI_Allgatherv(send.baseAddress, Int32(bytes.count), percept_mpi_byte(), receive.baseAddress,
                                              counts, displacements, percept_mpi_byte(), world), "MPI_Allgatherv")
            }
        }
        return (0..<size).map { Array(gathered[Int(displacements[$0])..<Int(displacements[$0] + counts[$0])]) }
    }

    public func broadcast(_ bytes: [UInt8], from root: Int) throws -> [UInt8] {
        guard (0..<size).contains(root) else { throw DistributedError.invalidArgument("no rank \(root) in a job of \(size)") }
        var length = Int64(bytes.count)
        try Self.check(MPI_Bcast(&length, 1, percept_mpi_int64(), Int32(root), world), "MPI_Bcast")
        guard length <= Int64(Int32.max) else { throw DistributedError.invalidArgument("broadcast of \(length) bytes") }
        var buffer = rank == root ? bytes : [UInt8](repeating: 0, count: Int(length))
        try buffer.withUnsafeMutableBytes { raw in
            try Self.check(MPI_Bcast(raw.baseAddress, Int32(length), percept_mpi_byte(), Int32(root), world), "MPI_Bcast")
        }
        return buffer
    }

    public func barrier() throws {
        try Self.check(MPI_Barrier(world), "MPI_Barrier")
    }

    public func abandon(_ message: String) {
        let line = "percept: rank \(rank) of \(size): \(message)\n"
        _ = line.withCString { write(errorOutput, $0, strlen($0)) }
        // MPI_Abort ends every rank, so none waits forever in a collective this rank will never join.
        MPI_Abort(world, 1)
        exit(1)
    }

    static func check(_ code: Int32, _ call: String) throws {
        guard code != MPI_SUCCESS else { return }
        var text = [CChar](repeating: 0, count: Int(percept_mpi_max_error_string()) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        throw DistributedError.mpi(call: call, message: String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}

/// A non-blocking sum in flight: it owns the buffer MPI writes into until ``wait()`` returns.
final class MPIPendingReduction: PendingReduction {
    private let buffer: UnsafeMutableBufferPointer<Float>
    private let count: Int
    private var request: MPI_Request?
    private var finished = false

    init(_ values: [Float], world: MPI_Comm) throws {
        count = values.count
        buffer = .allocate(capacity: max(values.count, 1))
        _ = buffer.initialize(from: values)
        request = percept_mpi_request_null()
        let code = MPI_Iallreduce(percept_mpi_in_place(), buffer.baseAddress, Int32(values.count), percept_mpi_float(),
                                  percept_mpi_sum(), world, &request)
        // Nothing in flight when the start failed: deinit only frees the buffer.
        if code != MPI_SUCCESS { finished = true; try MPICommunicator.check(code, "MPI_Iallreduce") }
    }

    func wait() throws -> [Float] {
        if !finished {
            try MPICommunicator.check(MPI_Wait(&request, percept_mpi_status_ignore()), "MPI_Wait")
            finished = true
        }
        return Array(buffer.prefix(count))
    }

    deinit {
        // MPI may still write into the buffer until the request completes.
        if !finished { MPI_Wait(&request, percept_mpi_status_ignore()) }
        buffer.deallocate()
    }
}
