import XCTest
import Foundation
@testable import PerceptNetwork

final class TestTimeAugmentationTests: XCTestCase {
    func settingsJSON(_ views: String) -> Data {
        Data("""
        {"architecture": {"name": "tiny", "layers": []}, "normalization": {"mean": [0.5], "std": [0.25]}\(views)}
        """.utf8)
    }

    /// Model files of layout 1 stored the views as two flags; they read as the one setting.
    func testLayoutOneFlagsReadAsTheEnum() throws {
        let cases: [(String, TestTimeAugmentation)] = [
            ("", .none),
            (#", "testTimeFlip": false"#, .none),
            (#", "testTimeFlip": true"#, .flip),
            (#", "testTimeFlip": true, "testTimeTranslate": true"#, .flipAndTranslate),
        ]
        for (flags, expected) in cases {
            let settings = try JSONDecoder().decode(ConvNetClassifier.Settings.self, from: settingsJSON(flags))
            XCTAssertEqual(settings.testTimeAugmentation, expected, flags)
        }
    }

    /// Layout 2 writes one key holding the CLI's name for the views, and reads it back.
    func testSettingsWriteOneKey() throws {
        for views in TestTimeAugmentation.allCases {
            let settings = ConvNetClassifier.Settings(architecture: .tiny(), normalization: .cifar10, testTimeAugmentation: views)
            let data = try JSONEncoder().encode(settings)
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
            XCTAssertEqual(object["testTimeAugmentation"] as? String, views.rawValue)
            XCTAssertNil(object["testTimeFlip"])
            XCTAssertEqual(try JSONDecoder().decode(ConvNetClassifier.Settings.self, from: data), settings)
        }
        XCTAssertEqual(TestTimeAugmentation.allCases.map(\.rawValue), ["none", "flip", "flip-translate"])
    }
}
