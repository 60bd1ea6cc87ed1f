import Foundation
import XCTest

/// Runs programs under Open MPI's `mpirun` for the distributed tests, or skips them where it is missing.
public enum MPILauncher {
    /// `mpirun` on PATH (or in /usr/bin), or a skip naming what to install.
    public static func mpirun() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let candidates = path.split(separator: ":").map { "\($0)/mpirun" } + ["/usr/bin/mpirun", "/opt/homebrew/bin/mpirun"]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("mpirun is not installed (scripts/bootstrap installs openmpi-bin); skipping the MPI test")
        }
        return found
    }

    /// The environment Open MPI needs in CI's container: root is allowed, and shared-memory transport
    /// without the single-copy mechanism containers often forbid (CMA needs ptrace rights).
    public static var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        environment["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none"
        // Two ranks on a machine with fewer reported slots (CI's container) must still start.
        environment["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
        // Local ranks only: no ssh needed (containers often lack it), and ranks waiting in a collective
        // yield the core, since the tests share two cores with everything else.
        environment["OMPI_MCA_plm"] = "isolated"
        environment["OMPI_MCA_mpi_yield_when_idle"] = "1"
        return environment
    }

    /// `mpirun -np ranks executable arguments…`, killed after `timeout` seconds so a hung collective
    /// fails the test instead of stalling CI.
    public static func run(ranks: Int, _ executable: String, _ arguments: [String], timeout: TimeInterval = 120)
        throws -> (status: Int32, stdout: String, stderr: String, timedOut: Bool) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try mpirun())
        process.arguments = ["-np", String(ranks), executable] + arguments
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outputs = Outputs(), done = DispatchGroup()
        for (index, pipe) in [out, err].enumerated() {
            done.enter()
            Thread {
                outputs.set(index, pipe.fileHandleForReading.readDataToEndOfFile())
                done.leave()
            }.start()
        }
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() > deadline { timedOut = true; process.terminate(); break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        process.waitUntilExit()
        done.wait()
        return (process.terminationStatus, outputs.text(0), outputs.text(1), timedOut)
    }
}

/// The two pipes' bytes, each written by its reader thread and read after the group is done.
private final class Outputs: @unchecked Sendable {
    private let lock = NSLock()
    private var data = [Data(), Data()]
    func set(_ index: Int, _ bytes: Data) { lock.withLock { data[index] = bytes } }
    func text(_ index: Int) -> String { lock.withLock { String(decoding: data[index], as: UTF8.self) } }
}
