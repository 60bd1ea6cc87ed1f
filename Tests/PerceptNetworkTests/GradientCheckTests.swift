import XCTest
import PerceptCore
@testable import PerceptNetwork

/// The checker itself must be able to fail: a layer with a deliberately wrong backward is caught.
final class GradientCheckerTests: XCTestCase {
    final class WrongDouble: Layer {
        let name = "wrong"
        let inputShape = FeatureShape(vector: 4)
        var outputShape: FeatureShape { inputShape }
        var needsInputGradient = true
        var threads = 1
        let output = FloatBuffer(), dInput = FloatBuffer()
        func forward(_ input: FloatBuffer, batch: Int, mode: ForwardMode) -> FloatBuffer {
            output.reserve(batch * 4)
            for i in 0..<(batch * 4) { output.pointer[i] = 2 * input.pointer[i] }
            return output
        }
        func backward(_ dOutput: FloatBuffer, batch: Int) -> FloatBuffer {
            dInput.reserve(batch * 4)
            for i in 0..<(batch * 4) { dInput.pointer[i] = 3 * dOutput.pointer[i] }  // should be 2
            return dInput
        }
    }

    func testCheckerCatchesAWrongBackward() {
        XCTAssertNotNil(gradientMismatch(WrongDouble(), input: randomValues(8, seed: 1), batch: 2))
        // …and passes the same layer once its backward is right (a scale of 2 is what forward does).
        let scale = Scale(name: "double", factor: 2, shape: FeatureShape(vector: 4))
        XCTAssertNil(gradientMismatch(scale, input: randomValues(8, seed: 1), batch: 2))
    }
}
