import Foundation
import XCTest

@testable import WebhooksCore

/// What the store leaves behind when a write fails, and the limits it keeps.
final class StoreFailureTests: StoreTestCase {
    func webhook(user: String = "u1") -> Webhook {
        Webhook(
            id: Identifier.newUUID(), userId: user, url: validURL, events: ["server.started"], serverId: nil,
            enabled: true, createdAt: "2026-01-15T12:00:00.000Z")
    }

    func delivery(for webhook: Webhook) -> Delivery {
        Delivery(
            id: Identifier.newUUID(), webhookId: webhook.id, userId: webhook.userId, event: "server.started",
            payload: .null, createdAt: "2026-01-15T12:00:00.000Z")
    }

    func testAUserMayHaveAtMostTheLimitOfWebhooks() throws {
        XCTAssertTrue(try store.createWebhook(webhook(), limit: 2))
        XCTAssertTrue(try store.createWebhook(webhook(), limit: 2))
        XCTAssertFalse(try store.createWebhook(webhook(), limit: 2))
        XCTAssertEqual(try store.webhooks(userId: "u1").count, 2)
        XCTAssertTrue(try store.createWebhook(webhook(user: "u2"), limit: 2), "the limit is per user")
    }

    func testAFailedCreateLeavesTheLogAsItWas() throws {
        XCTAssertTrue(try store.createWebhook(webhook(), limit: 100))
        let log = store.layout.webhookLog("u1")
        let before = try FileSystem.read(log)!
        // The file size limit lets the append write a few bytes, then fails it (EFBIG): what a
        // disk filling up mid-write does.
        signal(SIGXFSZ, SIG_IGN)
        var saved = rlimit()
        getrlimit(Int32(RLIMIT_FSIZE.rawValue), &saved)
        var tight = saved
        tight.rlim_cur = rlim_t(before.count + 10)
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &tight)
        XCTAssertThrowsError(try store.createWebhook(webhook(), limit: 100))
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &saved)
        XCTAssertEqual(try FileSystem.read(log), before)
        XCTAssertEqual(try store.webhooks(userId: "u1").count, 1)
        XCTAssertTrue(try store.createWebhook(webhook(), limit: 100))
        XCTAssertEqual(try store.webhooks(userId: "u1").count, 2)
    }

    func testAFailedQueueRemovesWhatItWrote() throws {
        let hook = webhook()
        XCTAssertTrue(try store.createWebhook(hook, limit: 100))
        let kept = delivery(for: hook)
        try store.queue([kept], userId: "u1")
        let first = delivery(for: hook)
        let second = delivery(for: hook)
        // The second delivery's file cannot be written: a folder stands at its path.
        try FileSystem.makeFolder(store.layout.delivery("u1", hook.id, second.id))
        XCTAssertThrowsError(try store.queue([first, second], userId: "u1"))

        XCTAssertEqual(try store.outboxNames().map { OutboxName.deliveryId(of: $0) }, [kept.id])
        XCTAssertNil(try store.delivery(userId: "u1", webhookId: hook.id, id: first.id))
        XCTAssertEqual(try store.deliveryCount(userId: "u1", webhookId: hook.id), 1)
    }

    func testAFailedIndexAppendIsCutOffAgain() throws {
        let hook = webhook()
        XCTAssertTrue(try store.createWebhook(hook, limit: 100))
        try store.queue([delivery(for: hook)], userId: "u1")
        let index = store.deliveryIndex("u1", hook.id)
        try index.truncate(toCount: 0)
        XCTAssertEqual(try index.count(), 0)
    }

    func testIdempotencyLeavesNoLockFilePerKey() throws {
        for n in 0..<20 {
            _ = try store.idempotent(scope: "panel", key: "k\(n)", now: fixedNow) {
                StoredAnswer(status: 404, body: .null, createdAt: Timestamp.format(fixedNow))
            }
        }
        XCTAssertEqual(try FileSystem.list(store.layout.idempotency), ["locks"])
        XCTAssertLessThanOrEqual(try FileSystem.list("\(store.layout.idempotency)/locks").count, 20)
    }

    func testOneManualSendPerUserAndNeverMoreThanTheSlots() throws {
        guard case .admitted(let alice) = try store.admitManualSend(userId: "alice", slots: 2) else {
            return XCTFail("the first send is admitted")
        }
        guard case .userBusy = try store.admitManualSend(userId: "alice", slots: 2) else {
            return XCTFail("alice already has a send in flight")
        }
        guard case .admitted(let bob) = try store.admitManualSend(userId: "bob", slots: 2) else {
            return XCTFail("a second user takes the second slot")
        }
        guard case .workersBusy = try store.admitManualSend(userId: "carol", slots: 2) else {
            return XCTFail("both slots are taken")
        }
        alice.release()
        guard case .admitted(let carol) = try store.admitManualSend(userId: "carol", slots: 2) else {
            return XCTFail("a released slot is free again")
        }
        bob.release()
        carol.release()
    }
}
