import XCTest
@testable import PerceptNetwork
