// percept-bench backbone: an ONNX backbone run by Percept's runtime (ONNXSession), images/s.
//
//   percept-bench backbone MODEL.onnx [--batch 32] [--threads 2] [--steps 5] [--output NAME]
//                          [--inputs FILE --write FILE] [--profile] [--micro-batch N]
//                          [--oracle Tests/Fixtures/onnx/efficientnet-lite0-oracle.json [--data data_batch_1.bin]]
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
    if let oraclePath = optionValue(options, "--oracle") {
        try checkOracle(session, oraclePath: oraclePath, data: optionValue(options, "--data")
                        ?? "../shared/datasets/cifar10-binary-sample/data_batch_1.bin")
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

/// Agreement with onnxruntime on the 1,000 CIFAR-10 images of Tests/Fixtures/onnx/efficientnet-lite0-oracle.json:
/// each record enlarged 7× by pixel replication, (p − 127) / 128 (Benchmarks/peers/efficientnet_oracle.py).
func checkOracle(_ session: ONNXSession, oraclePath: String, data dataPath: String) throws {
    struct Oracle: Decodable {
        var top1: [Int]
        var logits_first_8: [[Float]]
    }
    let oracle = try JSONDecoder().decode(Oracle.self, from: Data(contentsOf: URL(fileURLWithPath: oraclePath)))
    let data = try Data(contentsOf: URL(fileURLWithPath: dataPath))
    var agree = 0, largest: Float = 0
    var logitsSeen = 0
    for first in stride(from: 0, to: oracle.top1.count, by: 100) {
        let records = first..<min(first + 100, oracle.top1.count)
        var images: [Float] = []
        images.reserveCapacity(records.count * 224 * 224 * 3)
        for record in records {
            let base = record * 3073 + 1
            for y in 0..<224 { for x in 0..<224 { for channel in 0..<3 {
                images.append((Float(data[base + channel * 1024 + (y / 7) * 32 + x / 7]) - 127) / 128)
            } } }
        }
        let logits = try session.run(images: images, batch: records.count)
        for (offset, record) in records.enumerated() {
            let row = logits[(offset * 1000)..<((offset + 1) * 1000)]
            if let top = row.indices.max(by: { row[$0] < row[$1] }), top - offset * 1000 == oracle.top1[record] { agree += 1 }
            if record < oracle.logits_first_8.count {
                for (a, b) in zip(row, oracle.logits_first_8[record]) { largest = max(largest, abs(a - b)) }
                logitsSeen += 1
            }
        }
    }
    emit(["tool": "percept-backbone-oracle", "images": oracle.top1.count, "top1_agree": agree,
          "max_abs_logit_difference_first_8": largest, "logit_rows_compared": logitsSeen])
}
