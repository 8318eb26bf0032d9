import Foundation
import XCTest
@testable import StellarDelivery

final class SendGateTests: XCTestCase {
    let start = Date(timeIntervalSince1970: 1_000_000)

    func testOneInFlightPerWebhookAndBucketWaits() {
        var gate = SendGate(concurrency: 10, ratePerSecond: 100)
        XCTAssertTrue(gate.mayStart("a", now: start))
        gate.started("a", now: start)
        XCTAssertFalse(gate.mayStart("a", now: start))
        XCTAssertTrue(gate.mayStart("b", now: start))
        gate.finished("a", wait: 2, now: start)
        XCTAssertFalse(gate.mayStart("a", now: start.addingTimeInterval(1.9)))
        XCTAssertTrue(gate.mayStart("a", now: start.addingTimeInterval(2.1)))
        XCTAssertEqual(gate.nextChange(now: start.addingTimeInterval(1)), start.addingTimeInterval(2))
    }

    func testConcurrencyRateAndGlobalPause() {
        var gate = SendGate(concurrency: 2, ratePerSecond: 3)
        gate.started("a", now: start)
        gate.started("b", now: start)
        XCTAssertFalse(gate.mayStart("c", now: start))  // two in flight
        gate.finished("a", wait: nil, now: start)
        gate.finished("b", wait: nil, now: start)
        gate.started("c", now: start.addingTimeInterval(0.5))
        gate.finished("c", wait: nil, now: start.addingTimeInterval(0.5))
        XCTAssertFalse(gate.mayStart("d", now: start.addingTimeInterval(0.9)))  // three in the last second
        XCTAssertFalse(gate.mayStart("d", now: start.addingTimeInterval(1.02)))  // the margin
        XCTAssertTrue(gate.mayStart("d", now: start.addingTimeInterval(1.04)))
        gate.pauseAll(until: start.addingTimeInterval(60))
        XCTAssertFalse(gate.mayStart("d", now: start.addingTimeInterval(30)))
        XCTAssertTrue(gate.mayStart("d", now: start.addingTimeInterval(61)))
    }
}
