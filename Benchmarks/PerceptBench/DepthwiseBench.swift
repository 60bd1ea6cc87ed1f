// percept-bench depthwise: the depthwise convolution's forward (inference) and training step
// (forward + input and weight gradients), one layer of a mobile backbone at a time.
//
//   percept-bench depthwise [--channels 96] [--size 112] [--kernel 3] [--stride 1] [--batch 32]
//                           [--threads 2] [--steps 5] [--relu6] [--padding same|symmetric] [--no-avx2]
//
// Padding is TensorFlow's "same" (asymmetric at stride 2 on even sizes) or K/2 on every side. GFLOP/s counts 2·K²·C·OH·OW per image
// for the forward pass, and 3× that for a training step (forward, dX, dW), as PyTorch's profiler does.
import Foundation
import PerceptCore
import PerceptNetwork

func benchDepthwise(options: [String]) {
    func integer(_ name: String, _ fallback: Int) -> Int { Int(optionValue(options, name) ?? "") ?? fallback }
    let channels = integer("--channels", 96), size = integer("--size", 112), kernel = integer("--kernel", 3)
    let stride = integer("--stride", 1), batch = integer("--batch", 32), threads = integer("--threads", 2)
    let steps = integer("--steps", 5)
    let g = optionValue(options, "--padding") == "symmetric"
        ? DepthwiseGeometry(height: size, width: size, channels: channels, kernel: kernel, stride: stride, padding: kernel / 2)
        : DepthwiseGeometry.same(height: size, width: size, channels: channels, kernel: kernel, stride: stride)
    var random = SeededRandom(seed: 1)
    let layer = DepthwiseConv2D(name: "dw", geometry: g, bias: true, clipsToSix: options.contains("--relu6"), random: &random)
    layer.threads = threads
    layer.allowsAVX2 = !options.contains("--no-avx2")   // --no-avx2: the portable SIMD8 (SSE) forward
    let input = FloatBuffer(), dOutput = FloatBuffer()
    input.load((0..<(batch * g.inputCount)).map { _ in random.nextUnitFloat() * 2 - 1 })
    dOutput.load((0..<(batch * g.outputCount)).map { _ in random.nextUnitFloat() - 0.5 })
    _ = layer.forward(input, batch: batch, mode: .inference)   // warm-up: buffers, pages, caches
    _ = layer.backward(dOutput, batch: batch)
    let forward = (0..<steps).map { _ in seconds { _ = layer.forward(input, batch: batch, mode: .inference) } }.min()!
    let backward = (0..<steps).map { _ in seconds { _ = layer.backward(dOutput, batch: batch) } }.min()!
    let flops = Double(g.forwardFlops * batch)
    let shape = "\(size)x\(size)x\(channels) k\(kernel) s\(stride) pad \(g.top),\(g.left),\(g.bottom),\(g.right)"
    emit(["tool": "percept-depthwise", "pass": layer.allowsAVX2 ? "forward" : "forward (SIMD8, no AVX2)", "layer": shape, "batch": batch, "threads": threads,
          "seconds": forward, "images_per_s": Double(batch) / forward, "gflops": flops / forward / 1e9])
    emit(["tool": "percept-depthwise", "pass": "backward (dX + dW)", "layer": shape, "batch": batch, "threads": threads,
          "seconds": backward, "images_per_s": Double(batch) / backward, "gflops": 2 * flops / backward / 1e9])
    emit(["tool": "percept-depthwise", "pass": "training step", "layer": shape, "batch": batch, "threads": threads,
          "seconds": forward + backward, "images_per_s": Double(batch) / (forward + backward),
          "gflops": 3 * flops / (forward + backward) / 1e9])
}
