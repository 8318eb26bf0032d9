import Foundation
import XCTest

@testable import WebhooksCore

/// A worker's cache sees every change made through any other store on the same data_dir (another
/// worker, the CLI, the helper) on its very next read.
final class ReadCacheTests: StoreTestCase {
    func testAChangeThroughAnotherProcessIsSeenOnTheNextRead() throws {
        let cached = try FileStore(root: folder, clock: { Date() }, caching: true)
        let hook = Webhook(
            id: Identifier.newUUID(), userId: "u1", url: validURL, events: ["server.started"], serverId: "s1",
            enabled: true, createdAt: "t")
        XCTAssertEqual(try cached.webhooks(userId: "u1").count, 0)
        XCTAssertTrue(try store.createWebhook(hook, limit: 100))
        XCTAssertEqual(try cached.webhooks(userId: "u1").map(\.id), [hook.id])
        _ = try store.updateWebhook(userId: "u1", id: hook.id) { $0.enabled = false }
        XCTAssertEqual(try cached.webhook(userId: "u1", id: hook.id)?.enabled, false)
        XCTAssertTrue(try store.deleteWebhook(userId: "u1", id: hook.id))
        XCTAssertNil(try cached.webhook(userId: "u1", id: hook.id))

        XCTAssertNil(try cached.server(id: "s1"))
        _ = try store.putServer(id: "s1", name: "One", ownerId: "u1", status: nil, now: "t")
        XCTAssertEqual(try cached.server(id: "s1")?.name, "One")
        _ = try store.putServer(id: "s1", name: "Renamed", ownerId: "u1", status: nil, now: "t")
        XCTAssertEqual(try cached.server(id: "s1")?.name, "Renamed")

        let key = APIKeyRecord(
            id: "0123456789abcdef", kind: .user, subject: "u1", label: nil, digest: "00", createdAt: "t", revokedAt: nil
        )
        XCTAssertNil(try cached.key(id: key.id))
        try store.saveKey(key)
        XCTAssertNotNil(try cached.key(id: key.id))
        XCTAssertTrue(try store.revokeKey(id: key.id, at: "t2"))
        XCTAssertEqual(try cached.key(id: key.id)?.revokedAt, "t2")
    }

    /// A burst of fan-outs must not make every reader of the user's webhooks (the next fan-out,
    /// the helper before each send) parse the log again; the list with its counts is renewed.
    func testAFanOutRenewsTheDeliveryCountsButNotTheCachedWebhooks() throws {
        let cached = try FileStore(root: folder, clock: { Date() }, caching: true)
        let hook = Webhook(
            id: Identifier.newUUID(), userId: "u1", url: validURL, events: ["server.started"], serverId: nil,
            enabled: true, createdAt: "t")
        XCTAssertTrue(try store.createWebhook(hook, limit: 100))
        XCTAssertEqual(try cached.webhooks(userId: "u1").count, 1)
        XCTAssertEqual(try cached.webhookList(userId: "u1") { [1] }, [1])
        let delivery = Delivery(
            id: Identifier.newUUID(), webhookId: hook.id, userId: "u1", event: "server.started", payload: .object([:]),
            createdAt: "t")
        XCTAssertEqual(try store.queue([delivery], userId: "u1").count, 1)
        // Behind the store's back (no generation bump): a reader that reads the log again sees none.
        try FileSystem.remove(store.layout.webhookLog("u1"))
        XCTAssertEqual(try cached.webhooks(userId: "u1").count, 1, "the fan-out left the cached webhooks valid")
        XCTAssertEqual(try cached.webhookList(userId: "u1") { [2] }, [2], "the counts changed: rendered again")
    }

    func testWithoutChangesTheCacheIsUsed() throws {
        let cached = try FileStore(root: folder, clock: { Date() }, caching: true)
        let hook = Webhook(
            id: Identifier.newUUID(), userId: "u1", url: validURL, events: ["server.started"], serverId: nil,
            enabled: true, createdAt: "t")
        XCTAssertTrue(try store.createWebhook(hook, limit: 100))
        XCTAssertEqual(try cached.webhooks(userId: "u1").count, 1)
        // A file changed behind the store's back (no generation bump) is not noticed: the cache
        // answered. (Admins edit data_dir with the service stopped.)
        try FileSystem.remove(store.layout.webhookLog("u1"))
        XCTAssertEqual(try cached.webhooks(userId: "u1").count, 1)
        XCTAssertEqual(try store.webhooks(userId: "u1").count, 0)
    }
}
