// percept-bench cnn: training and inference throughput of the CNN engine, and the layout
// measurement behind NHWC (see Benchmarks/RESULTS.md).
//
//   percept-bench cnn [--arch airbench94|resnet20|FILE] [--batch 512] [--threads 2] [--steps 3]
//                     [--warmup 1] [--profile] [--parallelism automatic|batch|blas] [--column-budget FLOATS]
//                     [--winograd on|off] [--winograd-budget FLOATS] [--winograd-tile 2|4]
//                     [--direct-max-channels N] [--inference-only]
//   percept-bench conv-layout [--batch 512] [--threads 2] [--skip-nchw]
import Foundation
import PerceptCore
import PerceptNetwork

func optionValue(_ options: [String], _ name: String) -> String? {
    options.firstIndex(of: name).flatMap { $0 + 1 < options.count ? options[$0 + 1] : nil }
}

func benchCNN(options: [String]) throws {
    let archName = optionValue(options, "--arch") ?? "airbench94"
    let architecture = try Architecture.named(archName) ?? Architecture.load(archName)
    let batch = Int(optionValue(options, "--batch") ?? "") ?? 512
    let threads = Int(optionValue(options, "--threads") ?? "") ?? 2
    let steps = Int(optionValue(options, "--steps") ?? "") ?? 3
    let warmup = Int(optionValue(options, "--warmup") ?? "") ?? 1
    let shape = FeatureShape(height: 32, width: 32, channels: 3)
    let network = try Network(architecture: architecture, inputShape: shape, classCount: 10, seed: 1)
    network.setThreads(threads)
    let parallelism: Conv2D.Parallelism = switch optionValue(options, "--parallelism") {
    case "blas": .blas
    case "batch": .batch
    default: .automatic
    }
    for case let conv as Conv2D in allLayers(network.layers) { conv.parallelism = parallelism }
    if let budget = optionValue(options, "--column-budget").flatMap(Int.init) {
        for case let conv as Conv2D in allLayers(network.layers) { conv.columnBudget = budget }
    }
    if let budget = optionValue(options, "--winograd-budget").flatMap(Int.init) {
        for case let conv as Conv2D in allLayers(network.layers) { conv.winogradBudget = budget }
    }
    // The direct kernel only for layers up to this many output channels (measuring where it pays).
    if let widest = optionValue(options, "--direct-max-channels").flatMap(Int.init) {
        for case let conv as Conv2D in allLayers(network.layers) where conv.geometry.outChannels > widest {
            conv.allowsDirectConvolution = false
        }
    }
    // Winograd's tile everywhere it runs (2 or 4); absent, each layer's preferred tile.
    if let tile = optionValue(options, "--winograd-tile").flatMap(Int.init).flatMap(WinogradTile.init(rawValue:)) {
        for case let conv as Conv2D in allLayers(network.layers) { conv.winogradTile = tile }
    }
    let winograd = optionValue(options, "--winograd") != "off"
    for case let conv as Conv2D in allLayers(network.layers) { conv.allowsWinograd = winograd }
    var random = SeededRandom(seed: 2)
    let input = FloatBuffer(capacity: batch * shape.count)
    for i in 0..<(batch * shape.count) { input.pointer[i] = random.nextGaussian() }
    let labels = (0..<batch).map { _ in Int32(random.next() % 10) }
    let dLogits = FloatBuffer(capacity: batch * 10)
    let optimizer = SGD(momentum: 0.9, nesterov: true, weightDecay: 5e-4)
    let trainable = network.parameters.filter(\.trainable)
    let flops = Double(network.forwardFlopsPerImage)
    func trainStep() {
        let logits = network.forward(input, batch: batch, mode: .training)
        _ = CrossEntropy.softmaxCrossEntropy(logits: logits, labels: labels, classes: 10, smoothing: 0.2,
                                             dLogits: dLogits)
        network.backward(dLogits, batch: batch)
        optimizer.step(trainable, learningRate: 0.01)
    }
    BLAS.withThreadCount(threads) {
        if !options.contains("--inference-only") {
            for _ in 0..<warmup { trainStep() }
            var times: [Double] = []
            for _ in 0..<steps { times.append(seconds { trainStep() }) }
            let best = times.min() ?? 1, median = times.sorted()[times.count / 2]
            emit(["tool": "percept-cnn-train", "arch": architecture.name, "batch": batch, "threads": threads,
                  "parallelism": "\(parallelism)", "winograd": winograd,
                  "seconds_per_step": median, "images_per_second": Double(batch) / median,
                  "best_images_per_second": Double(batch) / best,
                  "gflops": 3 * flops * Double(batch) / median / 1e9, "all": times,
                  "peak_memory_mb": (peakResidentMemoryBytes() ?? 0) / 1_000_000])
        }
        for _ in 0..<warmup { _ = network.forward(input, batch: batch, mode: .inference) }
        var inference: [Double] = []
        for _ in 0..<steps { inference.append(seconds { _ = network.forward(input, batch: batch, mode: .inference) }) }
        let m = inference.sorted()[inference.count / 2]
        emit(["tool": "percept-cnn-infer", "arch": architecture.name, "batch": batch, "threads": threads,
              "parallelism": "\(parallelism)",
              "seconds_per_batch": m, "images_per_second": Double(batch) / m, "gflops": flops * Double(batch) / m / 1e9,
              "all": inference])
        if options.contains("--profile") { profile(network, input: input, batch: batch, dLogits: dLogits) }
    }
}

func allLayers(_ layers: [any Layer]) -> [any Layer] {
    layers.flatMap { layer -> [any Layer] in
        if let residual = layer as? Residual { return [layer] + allLayers(residual.layers) }
        if let linear = layer as? Linear { return [linear] }
        return [layer]
    }
}

/// Forward and backward seconds of every top-level layer for one training step.
func profile(_ network: Network, input: FloatBuffer, batch: Int, dLogits: FloatBuffer) {
    var x = input
    var forward: [Double] = [], backward: [Double] = []
    for layer in network.layers { forward.append(seconds { x = layer.forward(x, batch: batch, mode: .training) }) }
    var d = dLogits
    for layer in network.layers.reversed() { backward.append(seconds { d = layer.backward(d, batch: batch) }) }
    backward.reverse()
    x = input
    var inference: [Double] = []
    for layer in network.layers { inference.append(seconds { x = layer.forward(x, batch: batch, mode: .inference) }) }
    for (i, layer) in network.layers.enumerated() {
        let conv = layer as? Conv2D
        let gflops = conv.map { Double($0.geometry.forwardFlops * batch) / 1e9 }
        var fields: [String: Any] = ["layer": layer.name, "forward_s": forward[i], "backward_s": backward[i],
                                     "inference_s": inference[i],
                                     "output": "\(layer.outputShape)"]
        if let gflops {
            fields["forward_gflops"] = gflops / forward[i]
            fields["backward_gflops"] = 2 * gflops / backward[i]
        }
        emit(fields)
    }
}

/// NHWC im2col + one GEMM per chunk (what Conv2D does) against NCHW with one GEMM per image
/// (Y[Cout, OH·OW] = W × Col), for the layers that dominate the two networks.
func benchConvLayout(options: [String]) {
    let batch = Int(optionValue(options, "--batch") ?? "") ?? 512
    let threads = Int(optionValue(options, "--threads") ?? "") ?? 2
    let layers: [(String, ConvGeometry)] = [
        ("airbench block2.conv1 15x15 64->256", ConvGeometry(height: 15, width: 15, inChannels: 64, kernelHeight: 3, kernelWidth: 3,
                                                            stride: 1, padding: 1, outChannels: 256)),
        ("airbench block3.conv1 7x7 256->256", ConvGeometry(height: 7, width: 7, inChannels: 256, kernelHeight: 3, kernelWidth: 3,
                                                           stride: 1, padding: 1, outChannels: 256)),
        ("resnet stage1 32x32 16->16", ConvGeometry(height: 32, width: 32, inChannels: 16, kernelHeight: 3, kernelWidth: 3,
                                                    stride: 1, padding: 1, outChannels: 16)),
        ("resnet stem 32x32 3->16", ConvGeometry(height: 32, width: 32, inChannels: 3, kernelHeight: 3, kernelWidth: 3,
                                                 stride: 1, padding: 1, outChannels: 16)),
        ("resnet stage2 16x16 32->32", ConvGeometry(height: 16, width: 16, inChannels: 32, kernelHeight: 3, kernelWidth: 3,
                                                    stride: 1, padding: 1, outChannels: 32)),
        ("resnet stage3 8x8 64->64", ConvGeometry(height: 8, width: 8, inChannels: 64, kernelHeight: 3, kernelWidth: 3,
                                                  stride: 1, padding: 1, outChannels: 64)),
    ]
    BLAS.withThreadCount(threads) {
        // The reference: one large square sgemm.
        let n = 2048
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        let t = (0..<3).map { _ in seconds { c.withUnsafeMutableBufferPointer { BLAS.gemm(m: n, n: n, k: n, a: a, b: b, c: $0.baseAddress!) } } }.min()!
        emit(["layout": "sgemm 2048³", "threads": threads, "seconds": t, "gflops": 2 * pow(Double(n), 3) / t / 1e9])
        for (name, g) in layers {
            var random = SeededRandom(seed: 1)
            let input = (0..<(batch * g.inputCount)).map { _ in random.nextUnitFloat() }
            let weight = (0..<(g.patchLength * g.outChannels)).map { _ in random.nextUnitFloat() - 0.5 }
            let output = UnsafeMutablePointer<Float>.allocate(capacity: batch * g.outputCount)
            defer { output.deallocate() }
            let flops = Double(g.forwardFlops * batch)
            for budget in [1 << 19, 1 << 21, 1 << 23] {
                for workers in [1, threads] {
                    let chunk = ConvKernels.chunkImages(g, batch: (batch + workers - 1) / workers, floatBudget: budget)
                    let cols = (0..<workers).map { _ in
                        UnsafeMutablePointer<Float>.allocate(capacity: chunk * g.outHeight * g.outWidth * g.patchLength)
                    }
                    let t = input.withUnsafeBufferPointer { x in
                        (0..<3).map { _ in
                            seconds { ConvKernels.forward(g, input: x.baseAddress!, batch: batch, weight: weight, bias: nil,
                                                          output: output, cols: cols, chunk: chunk, threads: threads) }
                        }.min()!
                    }
                    cols.forEach { $0.deallocate() }
                    emit(["layout": "NHWC im2col+GEMM", "parallel": workers == 1 ? "blas threads" : "batch workers",
                          "layer": name, "column_budget_floats": budget, "chunk_images": chunk,
                          "seconds": t, "gflops": flops / t / 1e9])
                }
            }
            if ConvKernels.directConvolutionAvailable(g) {
                let t = input.withUnsafeBufferPointer { x in
                    (0..<3).map { _ in
                        seconds { _ = ConvKernels.forwardDirect(g, input: x.baseAddress!, batch: batch, weight: weight,
                                                                output: output, threads: threads) }
                    }.min()!
                }
                emit(["layout": "NHWC direct (AVX2 FMA)", "layer": name, "seconds": t, "gflops": flops / t / 1e9])
            }
            if options.contains("--skip-nchw") { continue }
            // NCHW: per image, col is (Cin·K·K) × (OH·OW), Y = W[Cout, Cin·K·K] × col.
            let pixels = g.outHeight * g.outWidth
            let col = UnsafeMutablePointer<Float>.allocate(capacity: g.patchLength * pixels)
            defer { col.deallocate() }
            let t = input.withUnsafeBufferPointer { x in
                weight.withUnsafeBufferPointer { w in
                    (0..<3).map { _ in
                        seconds {
                            for n in 0..<batch {
                                let image = x.baseAddress! + n * g.inputCount  // read as C×H×W
                                var row = 0
                                for ci in 0..<g.inChannels {
                                    for ky in 0..<g.kernelHeight {
                                        for kx in 0..<g.kernelWidth {
                                            let out = col + row * pixels
                                            for oy in 0..<g.outHeight {
                                                let iy = oy * g.stride - g.padding + ky
                                                for ox in 0..<g.outWidth {
                                                    let ix = ox * g.stride - g.padding + kx
                                                    out[oy * g.outWidth + ox] = iy >= 0 && iy < g.height && ix >= 0 && ix < g.width
                                                        ? image[(ci * g.height + iy) * g.width + ix] : 0
                                                }
                                            }
                                            row += 1
                                        }
                                    }
                                }
                                BLAS.gemm(m: g.outChannels, n: pixels, k: g.patchLength, a: w.baseAddress!, b: col,
                                          c: output + n * g.outputCount)
                            }
                        }
                    }.min()!
                }
            }
            emit(["layout": "NCHW per-image im2col+GEMM", "layer": name, "seconds": t, "gflops": flops / t / 1e9])
        }
    }
}
