// percept-bench dp-train PACK [--model airbench94|softmax] [--images N] [--steps S] [--epochs E]
//        [--threads T] [--separate-waiting]
// percept-bench dp-train --count   (floats each rank sends per step for airbench94 and ResNet-20 on CIFAR-10)
//
// Data-parallel training throughput (Benchmarks/RESULTS.md, "Data-parallel training on MPI"):
// under `mpirun -np N` each rank trains on its share of every global batch, alone it is one
// process. airbench94: TrainingOptions.airbench94 (batch 1,024) on the first N pack images for
// S steps, no validation. softmax: the softmax family's pixel defaults (batch 200, mean-image
// preprocessing) for E epochs on the first N images. The communicator is wrapped to time every
// allreduce; --separate-waiting puts a barrier before each, so waiting for the slowest rank shows
// apart from the transfer. Rank 0 prints one JSON line: images/s, seconds a step, and per step the
// allreduce (transfer) and waiting seconds, the slowest rank's.
import Dispatch
import Foundation
import PerceptCore
import PerceptData
import PerceptDistributed
import PerceptModels
import PerceptNetwork
import PerceptPreprocessing

func benchDistributedTrain(pack: String, options: [String]) throws {
    if pack == "--count" { return try countGradientFloats() }
    let comm: Communicator = MPICommunicator.launchedByMPI ? try MPICommunicator.world() : SingleProcess()
    let timed = TimedCommunicator(comm, separatesWaiting: options.contains("--separate-waiting"))
    let model = optionValue(options, "--model") ?? "airbench94"
    let threads = optionValue(options, "--threads").flatMap(Int.init) ?? 1
    let dataset = try PackFile.load(pack)
    let count = min(dataset.count, optionValue(options, "--images").flatMap(Int.init) ?? dataset.count)
    let train = dataset.subset(Array(0..<count))
    var fields: [String: Any] = ["tool": "percept-dp-train", "model": model, "ranks": comm.size, "threads": threads,
                                 "images": count]
    let start = DispatchTime.now()
    switch model {
    case "airbench94":
        let steps = optionValue(options, "--steps").flatMap(Int.init) ?? 6
        var o = TrainingOptions.airbench94(epochs: 1)
        o.threads = threads
        o.keepBest = false
        // One epoch cut to `steps` global batches: the schedule runs over the whole epoch as usual.
        let trainer = Trainer(architecture: .airbench94(), options: o, communicator: timed)
        var stepsDone = 0, images = 0, firstStepEnd: DispatchTime?
        struct Enough: Error {}
        do {
            _ = try trainer.fit(train: train) { progress in
                stepsDone = progress.step
                if progress.step == 1 {
                    firstStepEnd = DispatchTime.now()  // the first step warms caches: left out of the rate
                    timed.reset()
                } else {
                    images += o.batchSize
                }
                if progress.step >= steps + 1 { throw Enough() }
            }
        } catch is Enough {}
        let seconds = secondsSince(firstStepEnd ?? start)
        fields["batch"] = o.batchSize
        fields["steps"] = stepsDone - 1
        fields["images_per_second"] = Double(images) / seconds
        fields["seconds_per_step"] = seconds / Double(max(1, stepsDone - 1))
    case "softmax":
        let epochs = optionValue(options, "--epochs").flatMap(Int.init) ?? 3
        let sgd = SGDOptions(learningRate: 1e-2, regularization: 1e-3, momentum: 0.9, learningRateDecay: 0.8,
                             batchSize: 200, epochs: epochs, seed: 1, threads: threads)
        let prepared = try PreparedData.trainingAndValidation(train, validation: nil, features: .pixels,
                                                              preprocessing: .meanImage, options: sgd)
        timed.reset()
        let fitStart = DispatchTime.now()
        var classifier = LinearClassifier(loss: .softmax, preprocessing: .meanImage, options: sgd)
        let history = try classifier.fit(prepared.train, communicator: timed)
        let seconds = secondsSince(fitStart)
        fields["batch"] = sgd.batchSize
        fields["steps"] = history.iterations
        fields["images_per_second"] = Double(epochs * count) / seconds
        fields["seconds_per_step"] = seconds / Double(max(1, history.iterations))
        fields["final_loss"] = history.epochLosses.last ?? 0
    default:
        throw PerceptError.invalidArgument("--model must be airbench94 or softmax, got '\(model)'")
    }
    let perStep = try timed.slowestPerStep()
    fields["allreduce_seconds_per_step"] = perStep.allreduce
    fields["waiting_seconds_per_step"] = perStep.waiting
    fields["allreduce_bytes"] = timed.lastBytes
    fields["wall_seconds"] = secondsSince(start)
    if comm.isRoot { emit(fields) }
}

/// One JSON line per architecture: its trainable floats (the gradient), the BatchNorm statistics
/// that ride along, and the bytes of one step's allreduce (`GradientExchange`'s buffer).
private func countGradientFloats() throws {
    for architecture in [Architecture.airbench94(), .resnet20()] {
        let network = try Network(architecture: architecture, inputShape: FeatureShape(height: 32, width: 32, channels: 3),
                                  classCount: 10, seed: 1)
        let trainable = network.parameters.filter(\.trainable).reduce(0) { $0 + $1.count }
        let statistics = network.state.reduce(0) { $0 + $1.count }
        emit(["tool": "percept-dp-count", "arch": architecture.name, "trainable_floats": trainable,
              "batchnorm_statistics": statistics, "allreduce_bytes": (trainable + statistics + 3) * 4])
    }
}

private func secondsSince(_ start: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}

/// A communicator that forwards everything and times the allreduces (optionally after a barrier,
/// whose time is the waiting for the slowest rank).
private final class TimedCommunicator: Communicator, @unchecked Sendable {
    let inner: Communicator
    let separatesWaiting: Bool
    private(set) var allreduceSeconds = 0.0, waitingSeconds = 0.0, calls = 0, lastBytes = 0

    init(_ inner: Communicator, separatesWaiting: Bool) {
        self.inner = inner
        self.separatesWaiting = separatesWaiting
    }

    var rank: Int { inner.rank }
    var size: Int { inner.size }

    func reset() { (allreduceSeconds, waitingSeconds, calls) = (0, 0, 0) }

    private func timed(bytes: Int, _ body: () throws -> Void) throws {
        let start = DispatchTime.now()
        if separatesWaiting { try inner.barrier() }
        let arrived = DispatchTime.now()
        try body()
        waitingSeconds += Double(arrived.uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        allreduceSeconds += secondsSince(arrived)
        calls += 1
        lastBytes = bytes
    }

    func allreduceSum(_ values: inout [Float]) throws {
        try timed(bytes: values.count * 4) { try inner.allreduceSum(&values) }
    }
    func allreduceSum(_ values: inout [Double]) throws {
        // Small Double sums (validation counts) are not gradient steps: only big ones are timed.
        if values.count < 16 { return try inner.allreduceSum(&values) }
        try timed(bytes: values.count * 8) { try inner.allreduceSum(&values) }
    }
    func startAllreduceSum(_ values: [Float]) throws -> PendingReduction { try inner.startAllreduceSum(values) }
    func allgather(_ bytes: [UInt8]) throws -> [[UInt8]] { try inner.allgather(bytes) }
    func broadcast(_ bytes: [UInt8], from root: Int) throws -> [UInt8] { try inner.broadcast(bytes, from: root) }
    func barrier() throws { try inner.barrier() }
    func abandon(_ message: String) { inner.abandon(message) }

    /// Per-step allreduce and waiting seconds of the slowest rank.
    func slowestPerStep() throws -> (allreduce: Double, waiting: Double) {
        let steps = Double(max(1, calls))
        var mine = [allreduceSeconds / steps, waitingSeconds / steps]
        guard size > 1 else { return (mine[0], mine[1]) }
        let all = try inner.allgather(mine.withUnsafeBytes { Array($0) })
        mine = [0, 0]
        for bytes in all {
            let values = bytes.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
            mine = [max(mine[0], values[0]), max(mine[1], values[1])]
        }
        return (mine[0], mine[1])
    }
}
