import Foundation
import XCTest

@testable import StellarDelivery
@testable import WebhooksCore

final class DueQueueTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_000_000)

    func job(_ id: String, manual: Bool = false, webhook: String = "w", dueIn seconds: TimeInterval = 0) -> Job {
        var delivery = Delivery(
            id: id, webhookId: webhook, userId: "u", event: "server.started", payload: .null, createdAt: "t")
        delivery.manual = manual
        delivery.nextAttemptAt = Timestamp.format(now.addingTimeInterval(seconds))
        return Job(delivery, rateLimitKey: "k-\(webhook)", now: now)
    }

    func testManualSendsComeFirstThenQueueOrder() {
        var queue = DueQueue()
        queue.insert("3", job("c"))
        queue.insert("1", job("a"))
        queue.insert("4", job("d", manual: true))
        queue.insert("2", job("b"))
        queue.insert("0", job("e", manual: true))
        XCTAssertEqual(queue.inSendOrder.map(\.name), ["0", "4", "1", "2", "3"])
        queue.remove("1")
        queue.remove("4")
        queue.insert("2", job("b", manual: true))  // replaced, and moved
        XCTAssertEqual(queue.inSendOrder.map(\.name), ["0", "2", "3"])
        XCTAssertEqual(queue.count, 3)
        XCTAssertEqual(queue.deliveryIds, ["e", "b", "c"])
    }

    func testTheNextDueTimeAndAWebhooksAutomaticJobs() {
        var queue = DueQueue()
        queue.insert("1", job("a", webhook: "w1", dueIn: 30))
        queue.insert("2", job("b", webhook: "w1", dueIn: 5))
        queue.insert("3", job("c", manual: true, webhook: "w1"))
        queue.insert("4", job("d", webhook: "w2"))
        XCTAssertEqual(queue.nextDue(after: now), now.addingTimeInterval(5))
        XCTAssertEqual(Set(queue.automaticJobs(ofWebhook: "w1")), ["1", "2"])
    }

    func testChoresScanOnRequestOrEveryFewSecondsAndPruneHourly() {
        var chores = Chores(now: now)
        XCTAssertTrue(chores.scanDue(now: now))
        XCTAssertFalse(chores.scanDue(now: now.addingTimeInterval(1)))
        chores.scanRequested = true
        XCTAssertTrue(chores.scanDue(now: now.addingTimeInterval(1)))
        XCTAssertTrue(chores.scanDue(now: now.addingTimeInterval(1 + Chores.scanInterval)))
        XCTAssertTrue(chores.pruneDue(now: now))
        XCTAssertFalse(chores.pruneDue(now: now.addingTimeInterval(60)))
        XCTAssertTrue(chores.pruneDue(now: now.addingTimeInterval(Chores.pruneInterval)))
    }

    func testWaitersOfFinishedDeliveriesAreTakenOnce() {
        var waiters = Waiters()
        waiters.add(5, for: "a")
        waiters.add(6, for: "a")
        waiters.add(7, for: "b")
        XCTAssertEqual(waiters.takeFinished(pending: ["b"]).sorted(), [5, 6])
        XCTAssertTrue(waiters.isAwaited("b"))
        XCTAssertFalse(waiters.isAwaited("a"))
        XCTAssertEqual(waiters.takeAll(), [7])
        XCTAssertTrue(waiters.isEmpty)
    }
}

final class ParkedJobsTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_000_000)

    func testParkedJobsWaitUntilDueAndAreForgottenWhenGoneFromTheOutbox() {
        var parked = ParkedJobs()
        parked.park("b", until: now.addingTimeInterval(600))
        parked.park("a", until: now.addingTimeInterval(120))
        parked.park("c", until: now.addingTimeInterval(300))
        XCTAssertEqual(parked.earliest, now.addingTimeInterval(120))
        XCTAssertTrue(parked.isWaiting("a", now: now))
        XCTAssertFalse(parked.isWaiting("a", now: now.addingTimeInterval(120)))
        XCTAssertFalse(parked.isWaiting("z", now: now))
        parked.keepOnly(listed: ["b", "c", "d"])  // "a" finished elsewhere
        XCTAssertEqual(parked.count, 2)
        XCTAssertEqual(parked.earliest, now.addingTimeInterval(300))
        parked.unpark("c")
        XCTAssertEqual(parked.count, 1)
    }
}
