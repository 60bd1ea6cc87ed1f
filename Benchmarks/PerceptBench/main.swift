// percept-bench: the Swift side of the side-by-side benchmarks in Benchmarks/run.sh.
//
//   percept-bench import ROOT PACK   decode a folder-per-label tree into a pack, then reload it
//
// Prints one JSON line per measurement so run.sh can tabulate it beside the Python peers.
import Foundation
import PerceptCore
import PerceptData

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now()
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}

func emit(_ fields: [String: Any]) {
    if let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]),
       let line = String(data: data, encoding: .utf8) {
        print(line)
    }
}

func benchImport(root: String, pack: String) throws {
    var result: LoadResult?
    let decode = try seconds { result = try DatasetLoader.load(root) }
    guard let dataset = result?.dataset else { return }
    let checksum = (0..<dataset.pixels.count).reduce(UInt64(0)) { $0 + UInt64(dataset.pixels.bytes[$1]) }
    emit(["tool": "percept-import-decode", "images": dataset.count, "seconds": decode,
          "threads": Parallel.defaultThreadCount, "checksum": checksum, "problems": result?.problems.count ?? 0])
    let write = try seconds { try PackFile.write(dataset, to: pack) }
    emit(["tool": "percept-pack-write", "images": dataset.count, "seconds": write])
    // Reload: the first load maps the file; repeat to report a steady number.
    var reloads: [Double] = []
    for _ in 0..<5 {
        reloads.append(try seconds {
            let loaded = try PackFile.load(pack)
            precondition(loaded.count == dataset.count)
        })
    }
    emit(["tool": "percept-pack-reload", "images": dataset.count, "seconds": reloads.sorted()[2],
          "all": reloads])
}

let arguments = CommandLine.arguments
do {
    switch arguments.dropFirst().first {
    case "import" where arguments.count == 4:
        try benchImport(root: arguments[2], pack: arguments[3])
    default:
        FileHandle.standardError.write(Data("usage: percept-bench import ROOT PACK\n".utf8))
        exit(1)
    }
} catch {
    FileHandle.standardError.write(Data("percept-bench: \(error)\n".utf8))
    exit(2)
}
