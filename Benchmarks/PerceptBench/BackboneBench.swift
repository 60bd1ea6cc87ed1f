// percept-bench backbone: an ONNX backbone run by Percept's runtime (ONNXSession), images/s.
//
//   percept-bench backbone MODEL.onnx [--batch 32] [--threads 2] [--steps 5] [--output NAME]
//                          [--inputs FILE --write FILE] [--profile] [--micro-batch N]
//
// --inputs reads float32 NCHW images (raw, little-endian) and --write saves the outputs (raw
// float32, N × outputCount) for the peers' agreement check (Benchmarks/peers/ort_backbone.py).
// GFLOP/s counts 2 × the multiply-adds of the graph's convolutions and matrix products.
import Foundation
import PerceptCore
import PerceptONNX

func benchBackbone(path: String, options: [String]) throws {
    func integer(_ name: String, _ fallback: Int) -> Int { Int(optionValue(options, name) ?? "") ?? fallback }
    let batch = integer("--batch", 32), threads = integer("--threads", 2), steps = integer("--steps", 5)
    let model = try ONNXModel.load(path)
    let compileSeconds = try seconds { _ = try ONNXSession(model: model, output: optionValue(options, "--output"), threads: threads) }
    let session = try ONNXSession(model: model, output: optionValue(options, "--output"), threads: threads)
    session.microBatch = optionValue(options, "--micro-batch").flatMap { Int($0) }
    let (h, w, c) = (session.imageHeight, session.imageWidth, session.imageChannels)
    if let inputPath = optionValue(options, "--inputs"), let outputPath = optionValue(options, "--write") {
        let data = try Data(contentsOf: URL(fileURLWithPath: inputPath))
        let nchw = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let count = nchw.count / (h * w * c)
        var nhwc = [Float](repeating: 0, count: nchw.count)
        for n in 0..<count { for ch in 0..<c { for p in 0..<(h * w) {
            nhwc[(n * h * w + p) * c + ch] = nchw[(n * c + ch) * h * w + p]
        } } }
        var outputs: [Float] = []
        let elapsed = try seconds { outputs = try session.run(images: nhwc, batch: count) }
        try outputs.withUnsafeBufferPointer { try Data(buffer: $0).write(to: URL(fileURLWithPath: outputPath)) }
        emit(["tool": "percept-backbone-check", "images": count, "seconds": elapsed, "outputs": session.outputCount])
        return
    }
    var random = SeededRandom(seed: 7)
    let images = (0..<(batch * h * w * c)).map { _ in random.nextUnitFloat() * 2 - 1 }
    if options.contains("--profile") {
        _ = try session.profile(images: images, batch: batch)
        let steps = try session.profile(images: images, batch: batch)
        let total = steps.reduce(0) { $0 + $1.seconds }
        for kind in Set(steps.map(\.kind)).sorted() {
            let part = steps.filter { $0.kind == kind }
            let seconds = part.reduce(0) { $0 + $1.seconds }, flops = part.reduce(0) { $0 + $1.flops }
            emit(["tool": "percept-backbone-profile", "kind": kind, "steps": part.count, "seconds": seconds,
                  "share": seconds / total, "gflops": Double(flops) / seconds / 1e9])
        }
        return
    }
    _ = try session.run(images: images, batch: batch)   // warm-up: buffers, pages
    var times: [Double] = []
    for _ in 0..<steps { times.append(try seconds { _ = try session.run(images: images, batch: batch) }) }
    times.sort()
    let median = times[times.count / 2]
    let flops = Double(session.forwardFlops) * Double(batch)
    emit(["tool": "percept-backbone", "model": URL(fileURLWithPath: path).lastPathComponent, "batch": batch,
          "threads": threads, "seconds": median, "images_per_second": Double(batch) / median,
          "gflops": flops / median / 1e9, "compile_seconds": compileSeconds, "output": session.outputName])
}
