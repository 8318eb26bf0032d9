import XCTest

@testable import WebhooksCore

final class StoreTests: StoreTestCase {
    func makeWebhook(user: String = "u1", createdAt: String = "2026-01-15T12:00:00.000Z") throws -> Webhook {
        let webhook = Webhook(
            id: Identifier.newUUID(), userId: user, url: validURL, events: ["server.started"], serverId: nil,
            enabled: true, createdAt: createdAt)
        XCTAssertTrue(try store.createWebhook(webhook, limit: 100))
        return webhook
    }

    func makeDeliveries(_ count: Int, for webhook: Webhook) throws -> [Delivery] {
        let deliveries = (0..<count).map { index in
            Delivery(
                id: Identifier.newUUID(), webhookId: webhook.id, userId: webhook.userId, event: "server.started",
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
        _ = try makeDeliveries(1, for: webhook)
        XCTAssertEqual(mode("\(folder!)/users/u1"), 0o700)
        XCTAssertEqual(mode(store.layout.webhookLog("u1")), 0o600)
        XCTAssertEqual(mode(store.layout.webhook("u1", webhook.id)), 0o700)
        XCTAssertEqual(mode(store.layout.deliveries("u1", webhook.id)), 0o700)
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
        XCTAssertEqual(
            try store.deliveries(userId: "u1", webhookId: webhook.id, offset: 0, limit: 3).map(\.id),
            Array(ids.reversed()[0..<3]))
        XCTAssertEqual(
            try store.deliveries(userId: "u1", webhookId: webhook.id, offset: 5, limit: 3).map(\.id), [ids[1], ids[0]])
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

    /// The helper schedules from the outbox while fan-outs hold the user's lock (a burst of them
    /// held it nearly all the time and starved its sends); only the claim before a send waits.
    func testPeekingAtAnEntryWaitsForNoFanOutButClaimingDoes() throws {
        let webhook = try makeWebhook()
        let queued = try makeDeliveries(1, for: webhook)[0]
        let name = try XCTUnwrap(try store.outboxNames().first)
        let fanOut = try FileLock(store.layout.userLock("u1"))  // as a fan-out in progress holds it
        let peeked = DispatchSemaphore(value: 0)
        let claimed = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            XCTAssertEqual((try? self.store.peekDelivery(outboxName: name))?.id, queued.id)
            peeked.signal()
            XCTAssertEqual((try? self.store.claimDelivery(outboxName: name, sendKey: "discord-1"))?.id, queued.id)
            claimed.signal()
        }
        XCTAssertEqual(peeked.wait(timeout: .now() + 30), .success, "the peek waited for the user's lock")
        XCTAssertEqual(claimed.wait(timeout: .now() + 0.2), .timedOut, "the claim must wait for the fan-out")
        fanOut.unlock()
        XCTAssertEqual(claimed.wait(timeout: .now() + 30), .success)
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
        let stray = "\(store.layout.user("u1"))/.tmp-webhooks.jsonl.123.456"
        let strayFolder = "\(store.layout.webhooks("u1"))/.tmp-deleted-x"
        try FileSystem.writeAtomically(Array("half".utf8), to: stray)
        try FileSystem.makeFolder(strayFolder)
        let keep = "\(folder!)/notes.txt"
        try FileSystem.writeAtomically(Array("admin notes".utf8), to: keep)
        XCTAssertEqual(Set(try store.removeStrayTempFiles()), [stray, strayFolder])
        XCTAssertTrue(FileManager.default.fileExists(atPath: keep))
        XCTAssertNotNil(try store.webhook(userId: "u1", id: webhook.id))
    }

    func testATornLogLineIsNeverReadAndIsCutOffByTheNextWrite() throws {
        let first = try makeWebhook()
        let log = store.layout.webhookLog("u1")
        let whole = try FileSystem.size(log)!
        let handle = FileHandle(forWritingAtPath: log)!
        handle.seekToEndOfFile()
        handle.write(Data(#"{"live":2,"webhook":{"id":"#.utf8))  // a writer killed mid-append
        handle.closeFile()
        XCTAssertEqual(try store.webhooks(userId: "u1").map(\.id), [first.id])
        let second = Webhook(
            id: Identifier.newUUID(), userId: "u1", url: validURL, events: ["server.started"], serverId: nil,
            enabled: true, createdAt: first.createdAt)
        XCTAssertTrue(try store.createWebhook(second, limit: 2))
        XCTAssertEqual(
            try FileSystem.size(log),
            whole + (try RecordCoding.encodeLine(WebhookLog.Line(live: 2, webhook: second))).count)
        XCTAssertEqual(Set(try store.webhooks(userId: "u1").map(\.id)), [first.id, second.id])
        XCTAssertFalse(
            try store.createWebhook(
                Webhook(
                    id: Identifier.newUUID(), userId: "u1", url: validURL, events: ["server.started"], serverId: nil,
                    enabled: true, createdAt: first.createdAt), limit: 2))
    }

    func testTheLimitCountsWhatUpdatesAndDeletesLeave() throws {
        let kept = try makeWebhook()
        let doomed = try makeWebhook()
        _ = try store.updateWebhook(userId: "u1", id: kept.id) { $0.events = ["server.stopped"] }
        XCTAssertTrue(try store.deleteWebhook(userId: "u1", id: doomed.id))
        let next = Webhook(
            id: Identifier.newUUID(), userId: "u1", url: validURL, events: ["server.started"], serverId: nil,
            enabled: true, createdAt: kept.createdAt)
        XCTAssertTrue(try store.createWebhook(next, limit: 2))
        XCTAssertFalse(
            try store.createWebhook(
                Webhook(
                    id: Identifier.newUUID(), userId: "u1", url: validURL, events: ["server.started"], serverId: nil,
                    enabled: true, createdAt: kept.createdAt), limit: 2))
        XCTAssertEqual(try store.webhook(userId: "u1", id: kept.id)?.events, ["server.stopped"])
        XCTAssertNil(try store.webhook(userId: "u1", id: doomed.id))
    }

    func testTheCountIsReadFromTheLastLineHoweverItIsWritten() throws {
        let webhook = try makeWebhook()
        let written = try RecordCoding.encodeLine(WebhookLog.Line(live: 1234, webhook: webhook)).dropLast()
        XCTAssertEqual(try WebhookLog.Appender.live(of: Array(written)), 1234)
        XCTAssertEqual(try WebhookLog.Appender.live(of: Array(#"{"live":0,"removed":"x"}"#.utf8)), 0)
        // Keys in another order (edited by hand): decoded whole.
        XCTAssertEqual(try WebhookLog.Appender.live(of: Array(#"{"removed":"x","live":7}"#.utf8)), 7)
        XCTAssertEqual(try WebhookLog.Appender.live(of: Array(#"{"live":12 ,"removed":"x"}"#.utf8)), 12)
        XCTAssertThrowsError(try WebhookLog.Appender.live(of: Array(#"{"live":"#.utf8)))
    }

    func testALogOfMostlyOldChangesIsRewritten() throws {
        let webhook = try makeWebhook()
        for round in 0..<100 {
            _ = try store.updateWebhook(userId: "u1", id: webhook.id) { $0.events = ["e\(round)"] }
        }
        let (webhooks, lines) = try store.webhookLog("u1").read()
        XCTAssertEqual(webhooks.map(\.events), [["e99"]])
        XCTAssertLessThanOrEqual(lines, 2 + 64, "rewritten once mostly dead")
        XCTAssertEqual(try FileSystem.list(store.layout.user("u1")).filter { $0.hasPrefix(".tmp-") }, [])
    }

    func testRecoveryMovesWebhookFilesIntoTheLogAndRemovesFoldersOfDeletedWebhooks() throws {
        let logged = try makeWebhook(createdAt: "2026-01-15T12:00:02.000Z")
        // Kept the way earlier versions kept them: a folder with a webhook.json, and deliveries.
        let legacy = Webhook(
            id: Identifier.newUUID(), userId: "u1", url: validURL, events: ["server.started"], serverId: nil,
            enabled: true, createdAt: "2026-01-15T12:00:01.000Z")
        try FileSystem.makeFolder(store.layout.webhook("u1", legacy.id))
        try FileSystem.writeAtomically(
            try RecordCoding.encode(legacy), to: store.layout.legacyWebhookFile("u1", legacy.id))
        try store.deliveryIndex("u1", legacy.id).append([Identifier.newUUID(), Identifier.newUUID()])
        // A delete killed after its removal line: the folder is left.
        let orphan = "\(store.layout.webhooks("u1"))/\(Identifier.newUUID())"
        try FileSystem.makeFolder("\(orphan)/deliveries")
        // A create killed mid-append.
        let handle = FileHandle(forWritingAtPath: store.layout.webhookLog("u1"))!
        handle.seekToEndOfFile()
        handle.write(Data(#"{"live":2,"webh"#.utf8))
        handle.closeFile()
        let recovered = try store.recoverWebhooks()
        XCTAssertEqual(
            try FileSystem.read(store.layout.webhookLog("u1"))?.last, UInt8(ascii: "\n"), "the torn line is cut off")
        XCTAssertEqual(recovered.moved, 1)
        XCTAssertEqual(recovered.removed, 1)
        XCTAssertEqual(try store.webhooks(userId: "u1").map(\.id), [logged.id, legacy.id])
        XCTAssertEqual(try store.deliveryCount(userId: "u1", webhookId: legacy.id), 2)
        XCTAssertNil(try FileSystem.size(store.layout.legacyWebhookFile("u1", legacy.id)))
        XCTAssertNil(try FileSystem.size(orphan))
        XCTAssertEqual(try store.recoverWebhooks().moved, 0, "a second start finds nothing to do")
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
        XCTAssertEqual(
            try store.idempotent(scope: "panel", key: "k", now: fixedNow.addingTimeInterval(3600), produce: produce)
                .body, .int(1))
        XCTAssertEqual(try store.idempotent(scope: "other", key: "k", now: fixedNow, produce: produce).body, .int(2))
        XCTAssertEqual(
            try store.idempotent(
                scope: "panel", key: "k", now: fixedNow.addingTimeInterval(25 * 3600), produce: produce
            ).body, .int(3))
    }

    func testRemovingAServerRemovesTheWebhooksScopedToIt() throws {
        _ = try store.putServer(id: "s1", name: "S", ownerId: "u1", status: nil, now: "t")
        let scoped = Webhook(
            id: Identifier.newUUID(), userId: "u1", url: validURL, events: ["server.started"], serverId: "s1",
            enabled: true, createdAt: "t")
        XCTAssertTrue(try store.createWebhook(scoped, limit: 100))
        let unscoped = try makeWebhook()
        XCTAssertTrue(try store.removeServer(id: "s1"))
        XCTAssertEqual(try store.webhooks(userId: "u1").map(\.id), [unscoped.id])
        XCTAssertNil(try store.server(id: "s1"))
    }
}
