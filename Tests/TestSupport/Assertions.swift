import XCTest

/// Asserts that every element of `actual` is within `atol + rtol·|expected|` of `expected`,
/// and names the first element that is not.
public func assertClose(_ actual: [Float], _ expected: [Float], rtol: Float = 1e-5, atol: Float = 1e-6,
                        _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        XCTFail("count \(actual.count) ≠ \(expected.count) \(message)", file: file, line: line)
        return
    }
    for (i, (a, e)) in zip(actual, expected).enumerated() where !(abs(a - e) <= atol + rtol * abs(e)) {
        XCTFail("element \(i): \(a) vs expected \(e) (rtol \(rtol), atol \(atol)) \(message)", file: file, line: line)
        return
    }
}

/// The scalar form of `assertClose`.
public func assertClose(_ actual: Double, _ expected: Double, rtol: Double = 1e-9, atol: Double = 1e-12,
                        _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    if !(abs(actual - expected) <= atol + rtol * abs(expected)) {
        XCTFail("\(actual) vs expected \(expected) \(message)", file: file, line: line)
    }
}
