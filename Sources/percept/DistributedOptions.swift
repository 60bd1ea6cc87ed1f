import ArgumentParser
import Foundation
import PerceptDistributed

/// `--distributed`: run as one rank of a job started by `mpirun`/`srun` (train, evaluate, predict).
struct DistributedOptions: ParsableArguments {
    @Flag(help: "Run as one rank of a job started by mpirun or srun (see the README's \"More than one machine\"); alone it is one process.")
    var distributed = false

    /// The job this command belongs to: MPI's world under a launcher with `--distributed`, else one process.
    /// Ranks other than 0 stop printing, so the job's output is the single-process output.
    func communicator() throws -> Communicator {
        guard distributed else { return SingleProcess() }
        let communicator = try MPICommunicator.world()
        DistributedJob.current = communicator
        if !communicator.isRoot { Terminal.otherRank = true }
        return communicator
    }
}

/// The job this process runs in, for the error path: a rank that fails must end every rank
/// (`MPI_Abort`) with its message, or the others wait for it in their next collective.
enum DistributedJob {
    nonisolated(unsafe) static var current: Communicator?

    /// Ends the job when this process is one rank of several; returns when it runs alone.
    static func abandonIfDistributed(_ message: String) {
        guard let current, current.size > 1 else { return }
        current.abandon(message)
    }
}
