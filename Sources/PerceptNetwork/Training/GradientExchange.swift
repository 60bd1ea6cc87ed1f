import PerceptDistributed

/// Data-parallel training's one collective per step: every rank's gradients, BatchNorm running
/// statistics and batch counters packed into one flat buffer and summed with a single allreduce.
///
/// Each rank trains on its contiguous share of the global batch of B images (N_r of them) and its
/// loss is the mean over that share, so its gradient is weighted by N_r/B before the sum: the sum
/// is then the single-process mean gradient of the whole batch (the backward pass, BatchNorm's
/// included, is linear in ∂loss/∂logits). Every rank then applies the same optimiser step to the
/// same weights, so the weights never drift apart.
///
/// BatchNorm normalises with each rank's own batch statistics (as PyTorch DDP does by default):
/// synchronising them would cost two more collectives per BatchNorm layer in the forward and
/// backward passes (nine round trips a step for airbench94, each waiting for the slowest rank),
/// while a shard of ≥ 64 images already estimates them well. The running statistics are averaged
/// over the ranks every step (a few hundred floats riding in the same buffer), so they stay
/// identical on every rank and the saved model does not depend on which rank wrote it. A network
/// with BatchNorm therefore equals the single-process run only when that run also normalises per
/// shard; one without BatchNorm equals it within float rounding.
///
/// One buffer rather than DDP's buckets overlapped with the backward pass: on the machines measured
/// (Benchmarks/RESULTS.md, "Data-parallel training on MPI") airbench94's 7.9 MB exchange took 6 ms
/// of a 3.9 s step on idle cores, so overlapping it could win at most that. (`percept-bench dp-train` times the exchange by wrapping
/// the communicator.)
final class GradientExchange {
    let communicator: Communicator
    private var buffer: [Float] = []

    init(communicator: Communicator) { self.communicator = communicator }

    /// What every rank knows after a step's exchange.
    struct StepTotals {
        /// The summed loss of the global batch (mean loss × images, over all ranks) and its correct count.
        var lossSum: Double
        var correct: Int
        /// Some rank ran past the time limit before this step's exchange.
        var outOfTime: Bool
    }

    /// Replaces each trainable parameter's gradient (of this rank's `localCount` images) by the
    /// mean gradient of the global batch of `globalCount`, the BatchNorm running statistics in
    /// `state` by their mean over the ranks, and returns the batch's totals.
    func exchange(trainable: [Parameter], state: [Parameter], localCount: Int, globalCount: Int,
                  meanLoss: Double, correct: Int, outOfTime: Bool) throws -> StepTotals {
        let weight = Float(localCount) / Float(globalCount)
        buffer.removeAll(keepingCapacity: true)
        for p in trainable where p.trainable { for g in p.gradient { buffer.append(g * weight) } }
        for s in state { buffer.append(contentsOf: s.value) }
        // Counters as floats: exact for counts below 2^24; the loss only shows in progress and history.
        buffer.append(Float(meanLoss * Double(localCount)))
        buffer.append(Float(correct))
        buffer.append(outOfTime ? 1 : 0)
        try communicator.allreduceSum(&buffer)

        var index = 0
        for p in trainable where p.trainable {
            for k in p.gradient.indices { p.gradient[k] = buffer[index + k] }
            index += p.count
        }
        let ranks = Float(communicator.size)
        for s in state {
            for k in s.value.indices { s.value[k] = buffer[index + k] / ranks }
            index += s.count
        }
        return StepTotals(lossSum: Double(buffer[index]), correct: Int(buffer[index + 1].rounded()),
                          outOfTime: buffer[index + 2] > 0)
    }
}
