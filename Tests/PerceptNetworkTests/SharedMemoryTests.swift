import XCTest
import PerceptCore
@testable import PerceptNetwork

/// Shared scratch, lent gradient buffers and in-place ReLU/residual additions change where values
/// live, never what they are: a network with them computes exactly what one whose layers own
/// every buffer computes.
final class SharedMemoryTests: XCTestCase {
    func testSharingGivesTheSameLogitsAndGradientsAsOwnBuffers() throws {
        var residualNet = Architecture.resnet20(blocksPerStage: 2, widths: [4, 8, 8])
        residualNet.layers.insert(.dropout(0.2), at: residualNet.layers.count - 1)
        let architectures: [Architecture] = [
            residualNet,
            .tiny(widths: [4, 8]),
            .airbench94(widths: [8, 16, 16], stemWidth: 16),
            Architecture(name: "plain", layers: [.conv(6, name: "c1"), .relu, .conv(6, name: "c2"), .relu, .maxPool(2),
                                                 .batchNorm(name: "n"), .relu, .flatten, .linear(name: "head")]),
        ]
        let shape = FeatureShape(height: 9, width: 9, channels: 2)
        let batch = 5, classes = 3
        let input = FloatBuffer(), dLogits = FloatBuffer()
        input.load(randomValues(batch * shape.count, seed: 3))
        dLogits.load(randomValues(batch * classes, seed: 4))
        for architecture in architectures {
            let shared = try Network(architecture: architecture, inputShape: shape, classCount: classes, seed: 7)
            let owned = try Network(architecture: architecture, inputShape: shape, classCount: classes, seed: 7,
                                    sharesMemory: false)
            for network in [shared, owned] { network.setThreads(2) }
            // Two steps, so buffers are reused with stale contents from the step before.
            for step in 0..<2 {
                let a = shared.forward(input, batch: batch, mode: .training).array(batch * classes)
                let b = owned.forward(input, batch: batch, mode: .training).array(batch * classes)
                XCTAssertEqual(a, b, "\(architecture.name) logits, step \(step)")
                shared.backward(dLogits, batch: batch)
                owned.backward(dLogits, batch: batch)
                for (p, q) in zip(shared.parameters, owned.parameters) {
                    XCTAssertEqual(p.gradient, q.gradient, "\(architecture.name) \(p.name), step \(step)")
                    XCTAssertTrue(p.gradient.contains { $0 != 0 } || !p.trainable, "\(architecture.name) \(p.name) has no gradient")
                }
            }
            let a = shared.forward(input, batch: batch, mode: .inference).array(batch * classes)
            XCTAssertEqual(a, owned.forward(input, batch: batch, mode: .inference).array(batch * classes), architecture.name)
        }
    }
}
