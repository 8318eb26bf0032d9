import Foundation
import XCTest

@testable import StellarDelivery
@testable import WebhooksCore

final class StorageOutageTests: XCTestCase {
    let start = Date(timeIntervalSince1970: 1_000_000)

    func testTheCriticalLineComesOnceThenAtMostOnceAMinute() {
        var outage = StorageOutage()
        XCTAssertFalse(outage.isActive)
        XCTAssertTrue(outage.failed(now: start))
        XCTAssertFalse(outage.failed(now: start.addingTimeInterval(5)))
        XCTAssertFalse(outage.failed(now: start.addingTimeInterval(59)))
        XCTAssertTrue(outage.failed(now: start.addingTimeInterval(61)))
        XCTAssertEqual(outage.ended(now: start.addingTimeInterval(70)), 70)
        XCTAssertFalse(outage.isActive)
        XCTAssertTrue(outage.failed(now: start.addingTimeInterval(71)), "a new outage logs again")
    }

    func testTheStoreIsTriedAgainEveryFewSeconds() {
        var outage = StorageOutage()
        XCTAssertFalse(outage.shouldRetry(now: start))
        XCTAssertNil(outage.nextChange)
        _ = outage.failed(now: start)
        XCTAssertFalse(outage.shouldRetry(now: start.addingTimeInterval(4.9)))
        XCTAssertTrue(outage.shouldRetry(now: start.addingTimeInterval(StorageOutage.retryInterval)))
        XCTAssertEqual(outage.nextChange, start.addingTimeInterval(StorageOutage.retryInterval))
        XCTAssertLessThanOrEqual(StorageOutage.retryInterval, 10)
    }

    func testHeldOutcomesAreKeptUntilWritten() {
        var outage = StorageOutage()
        let delivery = Delivery(
            id: "d", webhookId: "w", userId: "u", event: "server.started", payload: .null, createdAt: "t")
        outage.hold("entry.json", delivery, rateLimitKey: "k")
        XCTAssertTrue(outage.isHeld("entry.json"))
        outage.written("entry.json")
        XCTAssertFalse(outage.isHeld("entry.json"))
    }
}
