import XCTest
@testable import WebhooksCore

final class StoreTests: StoreTestCase {
    func makeWebhook(user: String = "u1", createdAt: String = "2026-01-15T12:00:00.000Z") throws -> Webhook {
        let webhook = Webhook(id: Identifier.newUUID(), userId: user, url: validURL, events: ["server.started"], serverId: nil, enabled: true, createdAt: createdAt)
        XCTAssertTrue(try store.createWebhook(webhook, limit: 100))
        return webhook
    }

    func makeDeliveries(_ count: Int, for webhook: Webhook) throws -> [Delivery] {
        let deliveries = (0..<count).map { index in
            Delivery(id: Identifier.newUUID(), webhookId: webhook.id, userId: webhook.userId, event: "server.started",
                     payload: .object(["n": .int(Int64(index))]), createdAt: Timestamp.format(fixedNow))
        }
        try store.queue(deliveries, userId: webhook.userId)
        return deliveries
    }

    func mode(_ path: String) -> Int {
        (try! FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! NSNumber).intValue
    }

    func testAtomicWriteReplacesWholeFileWithPrivatePermissions() throws {
        let path = "\(folder!)/record.json"
        try FileSystem.writeAtomically(Array("one".utf8), to: path)
        try FileSystem.writeAtomically(Array("two".utf8), to: path)
        XCTAssertEqual(try FileSystem.read(path), Array("two".utf8))
        XCTAssertEqual(mode(path), 0o600)
        XCTAssertEqual(try FileSystem.list(folder).filter { $0.hasPrefix(".tmp-") }, [])
    }

    func testFoldersArePrivate() throws {
        let webhook = try makeWebhook()
        XCTAssertEqual(mode("\(folder!)/users/u1"), 0o700)
        XCTAssertEqual(mode(store.layout.webhook("u1", webhook.id)), 0o700)
        XCTAssertEqual(mode(store.layout.webhookFile("u1", webhook.id)), 0o600)
    }

    func testWebhooksAreListedNewestFirstAndOnlyForTheirUser() throws {
        let older = try makeWebhook(createdAt: "2026-01-15T12:00:00.000Z")
        let newer = try makeWebhook(createdAt: "2026-01-15T12:00:01.000Z")
        _ = try makeWebhook(user: "u2")
        XCTAssertEqual(try store.webhooks(userId: "u1").map(\.id), [newer.id, older.id])
        XCTAssertNil(try store.webhook(userId: "u2", id: older.id))
        XCTAssertNil(try store.webhook(userId: "u1", id: "../u2"))
    }

    func testDeliveryPagesAreNewestFirstWithConstantTimeTotal() throws {
        let webhook = try makeWebhook()
        let ids = try makeDeliveries(7, for: webhook).map(\.id)
        XCTAssertEqual(try store.deliveryCount(userId: "u1", webhookId: webhook.id), 7)
        XCTAssertEqual(try store.deliveries(userId: "u1", webhookId: webhook.id, offset: 0, limit: 3).map(\.id), Array(ids.reversed()[0..<3]))
        XCTAssertEqual(try store.deliveries(userId: "u1", webhookId: webhook.id, offset: 5, limit: 3).map(\.id), [ids[1], ids[0]])
        XCTAssertEqual(try store.deliveries(userId: "u1", webhookId: webhook.id, offset: 7, limit: 3), [])
        XCTAssertEqual(try store.delivery(userId: "u1", webhookId: webhook.id, id: ids[3])?.id, ids[3])
    }

    func testQueuedDeliveriesAreInTheOutbox() throws {
        let webhook = try makeWebhook()
        let deliveries = try makeDeliveries(2, for: webhook)
        // Names sort in queue order.
        XCTAssertEqual(try store.outboxNames().map { OutboxName.deliveryId(of: $0) }, deliveries.map(\.id))
        for name in try store.outboxNames() {
            XCTAssertEqual(try store.pendingDelivery(outboxName: name)?.status, .pending)
        }
    }

    func testTornIndexRecordIsNeverCountedAndIsTrimmedByTheNextAppend() throws {
        let webhook = try makeWebhook()
        _ = try makeDeliveries(2, for: webhook)
        let index = store.deliveryIndex("u1", webhook.id)
        let handle = FileHandle(forWritingAtPath: index.path)!
        handle.seekToEndOfFile()
        handle.write(Data("half-a-record".utf8))  // a writer killed mid-append
        handle.closeFile()
        XCTAssertEqual(try index.count(), 2)
        _ = try makeDeliveries(1, for: webhook)
        XCTAssertEqual(try index.count(), 3)
        XCTAssertEqual(try FileSystem.size(index.path), 3 * DeliveryIndex.recordSize)
    }

    func testDeleteRemovesDeliveriesToo() throws {
        let webhook = try makeWebhook()
        _ = try makeDeliveries(3, for: webhook)
        XCTAssertTrue(try store.deleteWebhook(userId: "u1", id: webhook.id))
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.layout.webhook("u1", webhook.id)))
        XCTAssertFalse(try store.deleteWebhook(userId: "u1", id: webhook.id))
        XCTAssertEqual(try FileSystem.list(store.layout.webhooks("u1")), [])
    }

    func testRecoveryRemovesTempFilesAndNothingElse() throws {
        let webhook = try makeWebhook()
        let stray = "\(store.layout.webhook("u1", webhook.id))/.tmp-webhook.json.123.456"
        let strayFolder = "\(store.layout.webhooks("u1"))/.tmp-deleted-x"
        try FileSystem.writeAtomically(Array("half".utf8), to: stray)
        try FileSystem.makeFolder(strayFolder)
        let keep = "\(folder!)/notes.txt"
        try FileSystem.writeAtomically(Array("admin notes".utf8), to: keep)
        XCTAssertEqual(Set(try store.removeStrayTempFiles()), [stray, strayFolder])
        XCTAssertTrue(FileManager.default.fileExists(atPath: keep))
        XCTAssertNotNil(try store.webhook(userId: "u1", id: webhook.id))
    }

    func testACreateKilledMidwayHoldsItsPlaceUntilRecoveryAndIsNeverListed() throws {
        let first = try makeWebhook()
        // What a create killed after its reservation leaves: a `.tmp-new-` folder, half built.
        let stray = "\(store.layout.webhooks("u1"))/.tmp-new-\(Identifier.newUUID())"
        try FileSystem.makeFolder(stray)
        let second = Webhook(id: Identifier.newUUID(), userId: "u1", url: validURL, events: ["server.started"], serverId: nil, enabled: true, createdAt: first.createdAt)
        XCTAssertFalse(try store.createWebhook(second, limit: 2))
        XCTAssertEqual(try store.webhooks(userId: "u1").map(\.id), [first.id])
        XCTAssertEqual(try store.removeStrayTempFiles(), [stray])
        XCTAssertTrue(try store.createWebhook(second, limit: 2))
        XCTAssertFalse(try store.createWebhook(Webhook(id: Identifier.newUUID(), userId: "u1", url: validURL, events: ["server.started"], serverId: nil, enabled: true, createdAt: first.createdAt), limit: 2))
        XCTAssertEqual(Set(try store.webhooks(userId: "u1").map(\.id)), [first.id, second.id])
    }

    func testConcurrentUpdatesUnderTheUserLockLoseNothing() throws {
        let webhook = try makeWebhook()
        DispatchQueue.concurrentPerform(iterations: 20) { index in
            _ = try! store.updateWebhook(userId: "u1", id: webhook.id) { $0.events.append("e\(index)") }
        }
        XCTAssertEqual(try store.webhook(userId: "u1", id: webhook.id)?.events.count, 21)
    }

    func testIdempotentAnswersAreReplayedWithinADayOnly() throws {
        var runs = 0
        let produce = { () -> StoredAnswer in
            runs += 1
            return StoredAnswer(status: 202, body: .int(Int64(runs)), createdAt: Timestamp.format(fixedNow))
        }
        XCTAssertEqual(try store.idempotent(scope: "panel", key: "k", now: fixedNow, produce: produce).body, .int(1))
        XCTAssertEqual(try store.idempotent(scope: "panel", key: "k", now: fixedNow.addingTimeInterval(3600), produce: produce).body, .int(1))
        XCTAssertEqual(try store.idempotent(scope: "other", key: "k", now: fixedNow, produce: produce).body, .int(2))
        XCTAssertEqual(try store.idempotent(scope: "panel", key: "k", now: fixedNow.addingTimeInterval(25 * 3600), produce: produce).body, .int(3))
    }

    func testRemovingAServerRemovesTheWebhooksScopedToIt() throws {
        _ = try store.putServer(id: "s1", name: "S", ownerId: "u1", status: nil, now: "t")
        let scoped = Webhook(id: Identifier.newUUID(), userId: "u1", url: validURL, events: ["server.started"], serverId: "s1", enabled: true, createdAt: "t")
        XCTAssertTrue(try store.createWebhook(scoped, limit: 100))
        let unscoped = try makeWebhook()
        XCTAssertTrue(try store.removeServer(id: "s1"))
        XCTAssertEqual(try store.webhooks(userId: "u1").map(\.id), [unscoped.id])
        XCTAssertNil(try store.server(id: "s1"))
    }
}
