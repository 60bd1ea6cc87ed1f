import ArgumentParser

@main
struct Percept: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "percept",
        abstract: "Image classification on your own machine: import, train, evaluate, predict, report.",
        version: "0.1.0",
        subcommands: [])
}
