import ArgumentParser
import Foundation
import PerceptCore

@main
struct PerceptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "percept",
        abstract: "Image classification on your own machine: import, train, evaluate, predict, report.",
        discussion: """
            Examples:
              percept demo                                  # the whole pipeline on built-in data
              percept dataset inspect ~/photos              # label statistics and problems
              percept dataset import ~/photos -o photos.pack --size 64x64
              percept tune knn photos.pack                  # choose k and the metric by cross-validation
            """,
        version: PerceptVersion.current,
        subcommands: [DatasetCommand.self, Train.self, Evaluate.self, Predict.self, Report.self, TuneCommand.self, KNNCommand.self, Demo.self,
                      BackboneCommand.self, Export.self, Serve.self])

    /// Exit codes: 0 ok, 1 usage, 2 bad input, 3 internal error.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as PerceptError {
            DistributedJob.abandonIfDistributed(error.description)
            Terminal.error(error.description)
            Foundation.exit(error.kind == .invalidArgument ? 1 : 2)
        } catch {
            DistributedJob.abandonIfDistributed(String(describing: error))
            let code = exitCode(for: error)
            if code == .success {
                PerceptCommand.exit(withError: error)
            }
            // ArgumentParser's own messages (usage, help) are printed by it; map its codes to ours.
            let message = fullMessage(for: error)
            // ArgumentParser's messages already start with "Error:" (or are help text).
            if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            if code == .validationFailure {
                Foundation.exit(1)
            }
            Foundation.exit(code == .failure ? 3 : code.rawValue)
        }
    }
}
