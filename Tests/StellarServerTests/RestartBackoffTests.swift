import XCTest

@testable import StellarServer

final class RestartBackoffTests: XCTestCase {
    func testYoungDeathsWaitLongerEachTimeUpToTenSeconds() {
        var backoff = RestartBackoff()
        XCTAssertEqual(backoff.delay(afterLivingFor: 0.5), 0.1)
        XCTAssertEqual(backoff.delay(afterLivingFor: 0.5), 0.2)
        XCTAssertEqual(backoff.delay(afterLivingFor: 1), 0.4)
        for _ in 0..<10 { _ = backoff.grow() }
        XCTAssertEqual(backoff.delay(afterLivingFor: 0), RestartBackoff.longest)
    }

    func testAChildThatLivedAWhileIsReplacedAtOnceAndResetsTheDelay() {
        var backoff = RestartBackoff()
        _ = backoff.delay(afterLivingFor: 0)
        _ = backoff.delay(afterLivingFor: 0)
        XCTAssertEqual(backoff.delay(afterLivingFor: 60), 0)
        XCTAssertEqual(backoff.delay(afterLivingFor: 0), 0.1)
    }
}
