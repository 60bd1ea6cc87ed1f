import ArgumentParser
import Foundation
import PerceptData

struct DatasetDownloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Download an official dataset release, verify its checksum and extract it to a cache folder.",
        discussion: """
            Without network access, download the archive elsewhere and import it directly:
              percept dataset import cifar-10-binary.tar.gz -o cifar10.pack

            Examples:
              percept dataset download cifar10
              percept dataset download cifar100 --cache /data/percept
            """)

    @Argument(help: "cifar10 or cifar100.")
    var name: DatasetDownload

    @Option(help: "Cache root (default: ~/.cache/percept).")
    var cache: String?

    @Option(help: "Seconds to wait for the server before giving up.")
    var timeout: Double = 10

    func run() throws {
        Terminal.info("downloading \(name.url) …")
        let folder = try name.fetch(cacheRoot: cache, timeout: timeout)
        print(folder)
    }
}

extension DatasetDownload: ExpressibleByArgument {}
