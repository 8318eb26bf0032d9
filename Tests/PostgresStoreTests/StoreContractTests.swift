import Foundation
import XCTest

@testable import PostgresStore
@testable import WebhooksCore

/// What every store must do (WebhooksCore/Store/: Store, Outbox, StoreBackend), checked on both backends: each test
/// runs its scenario on a fresh flat-file store and on a fresh database of a throwaway PostgreSQL
/// cluster (Tests/pg/cluster), started once for the class.
final class StoreContractTests: XCTestCase {
    static var cluster: (folder: String, url: String)?
    static var databases = 0

    override class func setUp() {
        let folder = "/tmp/swh-pgunit-\(getpid())"
        let url = try! run(["start", "\(folder)/c"]).trimmingCharacters(in: .whitespacesAndNewlines)
        cluster = (folder, url)
    }

    override class func tearDown() {
        guard let cluster else { return }
        _ = try? run(["stop", "\(cluster.folder)/c"])
        try? FileManager.default.removeItem(atPath: cluster.folder)
    }

    /// Runs Tests/pg/cluster with `arguments` (plain words: no quoting needed); its stdout.
    private static func run(_ arguments: [String]) throws -> String {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("pg/cluster").path
        guard let pipe = popen(([script] + arguments).joined(separator: " "), "r") else {
            throw CocoaError(.fileReadUnknown)
        }
        var output = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&buffer, 1, buffer.count, pipe)
            if count <= 0 { break }
            output.append(contentsOf: buffer[0..<count])
        }
        guard pclose(pipe) == 0 else { throw CocoaError(.fileReadUnknown) }
        return String(decoding: output, as: UTF8.self)
    }

    /// A fresh database's URL.
    private func newDatabase() throws -> String {
        let url = try XCTUnwrap(Self.cluster?.url)
        Self.databases += 1
        let name = "unit_\(Self.databases)"
        try PostgresConnection(url: url).execute("CREATE DATABASE \(name)")
        return url.replacingOccurrences(of: "/webhooks?", with: "/\(name)?")
    }

    /// Runs `scenario` on a fresh store of each backend.
    private func onEachStore(_ scenario: (StoreBackend, String) throws -> Void) throws {
        try onEachBackend { open, backend in try scenario(try open(), backend) }
    }

    /// Runs `scenario` on a fresh store of each backend, which `open` opens as often as asked (as
    /// several processes or hosts would), each time the same storage.
    private func onEachBackend(_ scenario: (_ open: () throws -> StoreBackend, String) throws -> Void) throws {
        let folder = NSTemporaryDirectory() + "swh-contract-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileStore(root: "\(folder)/files", clock: { Date() }).prepare()
        try scenario({ try FileStore(root: "\(folder)/files", clock: { Date() }) }, "files")
        let url = try newDatabase()
        try PostgresStore(url: url, dataDir: "\(folder)/pg", clock: { Date() }).prepare()
        try scenario({ try PostgresStore(url: url, dataDir: "\(folder)/pg", clock: { Date() }) }, "postgres")
    }

    private func webhook(_ user: String, at createdAt: String = "2026-01-15T12:00:00.000Z") -> Webhook {
        Webhook(
            id: Identifier.newUUID(), userId: user, url: "https://discord.com/api/webhooks/1/x",
            events: ["server.started"], serverId: nil, enabled: true, createdAt: createdAt)
    }

    private func deliveries(_ count: Int, of hook: Webhook) -> [Delivery] {
        (0..<count).map {
            Delivery(
                id: Identifier.newUUID(), webhookId: hook.id, userId: hook.userId, event: "server.started",
                payload: .object(["n": .int(Int64($0))]), createdAt: "2026-01-15T12:00:00.000Z")
        }
    }

    func testKeysAndServers() throws {
        try onEachStore { store, backend in
            let key = APIKeyRecord(
                id: "00aa11bb22cc33dd", kind: .user, subject: "alice", label: "l",
                digest: "ff", createdAt: "2026-01-15T12:00:00.000Z", revokedAt: nil)
            try store.saveKey(key)
            XCTAssertEqual(try store.key(id: key.id), key, backend)
            XCTAssertEqual(try store.key(id: key.id, readAhead: .webhookList), key, backend)
            XCTAssertNil(try store.key(id: "0000000000000000", readAhead: .webhookList), backend)
            XCTAssertEqual(try store.allKeys().map(\.id), [key.id], backend)
            XCTAssertTrue(try store.revokeKey(id: key.id, at: "2026-01-16T00:00:00.000Z"), backend)
            XCTAssertEqual(try store.key(id: key.id)?.revokedAt, "2026-01-16T00:00:00.000Z", backend)
            XCTAssertFalse(try store.revokeKey(id: "0000000000000000", at: "x"), backend)

            let first = try store.putServer(
                id: "s1", name: "One", ownerId: "alice", status: nil, now: "2026-01-15T12:00:00.000Z")
            let again = try store.putServer(
                id: "s1", name: "Uno", ownerId: "alice", status: "RUNNING", now: "2026-01-16T12:00:00.000Z")
            XCTAssertEqual(again.createdAt, first.createdAt, backend)
            XCTAssertEqual(try store.server(id: "s1"), again, backend)
            var scoped = webhook("alice")
            scoped.serverId = "s1"
            XCTAssertTrue(try store.createWebhook(scoped, limit: 10), backend)
            XCTAssertTrue(try store.removeServer(id: "s1"), backend)
            XCTAssertNil(try store.server(id: "s1"), backend)
            XCTAssertNil(
                try store.webhook(userId: "alice", id: scoped.id), "\(backend): a scoped webhook goes with its server")
            XCTAssertFalse(try store.removeServer(id: "s1"), backend)
        }
    }

    func testWebhooksAreTheirUsersOnlyNewestFirstAndLimited() throws {
        try onEachStore { store, backend in
            let older = webhook("alice", at: "2026-01-15T12:00:00.000Z")
            let newer = webhook("alice", at: "2026-01-15T13:00:00.000Z")
            XCTAssertTrue(try store.createWebhook(older, limit: 2), backend)
            XCTAssertTrue(try store.createWebhook(newer, limit: 2), backend)
            XCTAssertFalse(try store.createWebhook(webhook("alice"), limit: 2), backend)
            XCTAssertTrue(try store.createWebhook(webhook("bob"), limit: 2), backend)
            XCTAssertEqual(try store.webhooks(userId: "alice").map(\.id), [newer.id, older.id], backend)
            XCTAssertNil(try store.webhook(userId: "bob", id: older.id), backend)
            let updated = try store.updateWebhook(userId: "alice", id: older.id) { $0.enabled = false }
            XCTAssertEqual(updated?.enabled, false, backend)
            XCTAssertNil(try store.updateWebhook(userId: "bob", id: older.id) { $0.enabled = true }, backend)
            XCTAssertFalse(try store.deleteWebhook(userId: "bob", id: older.id), backend)
            XCTAssertTrue(try store.deleteWebhook(userId: "alice", id: older.id), backend)
            XCTAssertEqual(try store.webhooks(userId: "alice").map(\.id), [newer.id], backend)
        }
    }

    func testDeliveriesArePagedNewestFirstAndPrunedOldestFinishedFirst() throws {
        try onEachStore { store, backend in
            let hook = webhook("alice")
            XCTAssertTrue(try store.createWebhook(hook, limit: 10))
            var made = deliveries(7, of: hook)
            XCTAssertEqual(try store.queue(Array(made[0..<4]), userId: "alice").count, 4, backend)
            XCTAssertEqual(try store.queue(Array(made[4...]), userId: "alice").count, 3, backend)
            XCTAssertEqual(try store.deliveryCount(userId: "alice", webhookId: hook.id), 7, backend)
            let ids = made.map(\.id)
            XCTAssertEqual(
                try store.deliveries(userId: "alice", webhookId: hook.id, offset: 0, limit: 3).map(\.id),
                Array(ids.reversed()[0..<3]), backend)
            XCTAssertEqual(
                try store.deliveries(userId: "alice", webhookId: hook.id, offset: 5, limit: 3).map(\.id),
                [ids[1], ids[0]], backend)
            XCTAssertEqual(try store.deliveries(userId: "bob", webhookId: hook.id, offset: 0, limit: 3), [], backend)
            XCTAssertNil(try store.delivery(userId: "bob", webhookId: hook.id, id: ids[0]), backend)

            // Finish the two oldest and the fourth; the third stays pending.
            for index in [0, 1, 3] {
                made[index].status = .delivered
                let name = try XCTUnwrap(
                    try store.outboxNames().first(where: { OutboxName.deliveryId(of: $0) == ids[index] }))
                XCTAssertTrue(try store.record(made[index], outboxName: name), backend)
            }
            XCTAssertEqual(
                try store.pruneDeliveries(createdBefore: Date(timeIntervalSince1970: 1_768_478_401)), 3, backend)
            XCTAssertEqual(try store.deliveryCount(userId: "alice", webhookId: hook.id), 4, backend)
            XCTAssertEqual(
                try store.deliveries(userId: "alice", webhookId: hook.id, offset: 0, limit: 10).map(\.id),
                [ids[6], ids[5], ids[4], ids[2]], backend)
            XCTAssertEqual(
                try store.deliveries(userId: "alice", webhookId: hook.id, offset: 3, limit: 10).map(\.id), [ids[2]],
                backend)
        }
    }

    func testTheOutboxHoldsPendingDeliveriesInQueueOrderUntilFinished() throws {
        try onEachStore { store, backend in
            let hook = webhook("alice")
            XCTAssertTrue(try store.createWebhook(hook, limit: 10))
            var made = deliveries(3, of: hook)
            try store.queue(made, userId: "alice")
            let names = try store.outboxNames()
            XCTAssertEqual(names.compactMap(OutboxName.deliveryId(of:)), made.map(\.id), backend)
            let claimed = try XCTUnwrap(try store.claimDelivery(outboxName: names[0], sendKey: "discord-1"), backend)
            XCTAssertEqual(claimed.id, made[0].id, backend)
            made[0].attempts = 1
            made[0].status = .failed
            XCTAssertTrue(try store.record(made[0], outboxName: names[0]), backend)
            XCTAssertEqual(try store.outboxNames(), Array(names.dropFirst()), backend)
            XCTAssertEqual(
                try store.delivery(userId: "alice", webhookId: hook.id, id: made[0].id)?.status, .failed, backend)
            XCTAssertTrue(try store.deleteWebhook(userId: "alice", id: hook.id))
            XCTAssertNil(try store.pendingDelivery(outboxName: names[1]), "\(backend): gone with its webhook")
            XCTAssertFalse(try store.record(made[2], outboxName: names[2]), backend)
        }
    }

    func testAPeekSeesTheDeliveryAsLastRecordedAndDropsEntriesOfNoPendingDelivery() throws {
        try onEachStore { store, backend in
            let hook = webhook("alice")
            XCTAssertTrue(try store.createWebhook(hook, limit: 10))
            var made = deliveries(2, of: hook)
            try store.queue(made, userId: "alice")
            let names = try store.outboxNames()
            XCTAssertEqual(try store.peekDelivery(outboxName: names[0])?.attempts, 0, backend)
            made[0].attempts = 1
            made[0].nextAttemptAt = "2026-01-15T12:00:05.000Z"
            XCTAssertTrue(try store.record(made[0], outboxName: names[0]), backend)
            let retry = try XCTUnwrap(try store.peekDelivery(outboxName: names[0]), backend)
            XCTAssertEqual(retry.attempts, 1, "\(backend): the retry as recorded, not as first queued")
            XCTAssertEqual(retry.nextAttemptAt, made[0].nextAttemptAt, backend)
            XCTAssertTrue(try store.deleteWebhook(userId: "alice", id: hook.id))
            XCTAssertNil(try store.peekDelivery(outboxName: names[1]), "\(backend): gone with its webhook")
            XCTAssertFalse(try store.outboxNames().contains(names[1]), "\(backend): its entry is dropped")
        }
    }

    /// Records `delivery` as finished with `status`, as the helper would after its attempt.
    private func finish(_ delivery: Delivery, as status: DeliveryStatus, in store: StoreBackend) throws {
        let name = try XCTUnwrap(try store.outboxNames().first { OutboxName.deliveryId(of: $0) == delivery.id })
        var finished = delivery
        finished.status = status
        finished.attempts = 1
        XCTAssertTrue(try store.record(finished, outboxName: name))
    }

    private func recover(
        _ store: StoreBackend, _ hook: Webhook, user: String? = nil, since: String, until: String, limit: Int
    ) throws -> (queued: [Delivery], remaining: Int) {
        try store.recoverFailed(
            userId: user ?? hook.userId, webhookId: hook.id, since: try XCTUnwrap(Timestamp.parse(since)),
            until: try XCTUnwrap(Timestamp.parse(until)), limit: limit, now: "2026-01-15T13:00:00.000Z",
            makeId: Identifier.newUUID)
    }

    func testRecoveryQueuesFailedDeliveriesOfTheRangeNotSentAgainOldestFirstOnce() throws {
        try onEachStore { store, backend in
            let hook = webhook("alice")
            XCTAssertTrue(try store.createWebhook(hook, limit: 10))
            // Minutes after 12:00 each was created at, and how it ended.
            let made: [(minute: Int, status: DeliveryStatus)] = [
                (-1, .failed), (0, .failed), (1, .delivered), (2, .failed), (3, .failed), (4, .pending),
                (5, .failed), (20, .failed),
            ]
            var originals: [Delivery] = []
            for (number, (minute, status)) in made.enumerated() {
                let created = Timestamp.format(
                    Date(timeIntervalSince1970: 1_768_478_400 + TimeInterval(minute * 60)))
                let delivery = Delivery(
                    id: Identifier.newUUID(), webhookId: hook.id, userId: "alice", event: "server.started",
                    payload: .object(["n": .int(Int64(number))]), createdAt: created)
                try store.queue([delivery], userId: "alice")
                if status != .pending { try finish(delivery, as: status, in: store) }
                originals.append(delivery)
            }
            // The one at 12:03 was retried by hand (at 12:10), so it is not recovered again.
            let manual = originals[4].resend(id: Identifier.newUUID(), now: "2026-01-15T12:10:00.000Z")
            try store.queue([manual], userId: "alice")
            try finish(manual, as: .delivered, in: store)
            let outboxBefore = try store.outboxNames()

            let since = "2026-01-15T12:00:00.000Z"
            let until = "2026-01-15T12:05:00.000Z"
            let first = try recover(store, hook, since: since, until: until, limit: 2)
            XCTAssertEqual(first.queued.map(\.retryOf), [originals[1].id, originals[3].id], backend)
            XCTAssertEqual(first.remaining, 1, backend)
            for (queued, original) in zip(first.queued, [originals[1], originals[3]]) {
                XCTAssertEqual(queued.firstSendId, original.id, backend)
                XCTAssertEqual(queued.payload, original.payload, backend)
                XCTAssertEqual(queued.status, .pending, backend)
                XCTAssertFalse(queued.manual, "\(backend): recoveries go through the normal queue")
                XCTAssertEqual(queued.createdAt, "2026-01-15T13:00:00.000Z", backend)
                XCTAssertEqual(
                    try store.delivery(userId: "alice", webhookId: hook.id, id: queued.id), queued, backend)
            }
            // Queued behind what was pending, in the original order.
            XCTAssertEqual(
                try store.outboxNames().compactMap(OutboxName.deliveryId(of:)),
                outboxBefore.compactMap(OutboxName.deliveryId(of:)) + first.queued.map(\.id), backend)

            let second = try recover(store, hook, since: since, until: until, limit: 2)
            XCTAssertEqual(second.queued.map(\.retryOf), [originals[6].id], backend)
            XCTAssertEqual(second.remaining, 0, backend)
            let third = try recover(store, hook, since: since, until: until, limit: 2)
            XCTAssertEqual(third.queued.count, 0, "\(backend): nothing is queued twice")
            XCTAssertEqual(third.remaining, 0, backend)
            XCTAssertEqual(try store.deliveryCount(userId: "alice", webhookId: hook.id), 12, backend)

            let bobs = try recover(store, hook, user: "bob", since: since, until: until, limit: 2)
            XCTAssertTrue(bobs.queued.isEmpty && bobs.remaining == 0, "\(backend): another user's webhook")
        }
    }

    func testRecoveriesAtOnceQueueEachDeliveryOnce() throws {
        try onEachBackend { open, backend in
            let store = try open()
            let hook = webhook("alice")
            XCTAssertTrue(try store.createWebhook(hook, limit: 10))
            let made = deliveries(40, of: hook)
            try store.queue(made, userId: "alice")
            for delivery in made { try finish(delivery, as: .failed, in: store) }
            let stores = try (0..<4).map { _ in try open() }
            let lock = NSLock()
            var results: [Result<[Delivery], Error>] = []
            DispatchQueue.concurrentPerform(iterations: stores.count) { number in
                let recovered = Result {
                    try recover(
                        stores[number], hook, since: "2026-01-15T12:00:00.000Z", until: "2026-01-15T12:00:00.000Z",
                        limit: 1000
                    ).queued
                }
                lock.withLock { results.append(recovered) }
            }
            let calls = try results.map { try $0.get() }
            XCTAssertEqual(
                calls.flatMap { $0 }.compactMap(\.retryOf).sorted(), made.map(\.id).sorted(),
                "\(backend): each original once")
            XCTAssertEqual(calls.filter { !$0.isEmpty }.count, 1, "\(backend): one call queued them all")
        }
    }

    func testIdempotentAnswersAreStoredOnceAndExpire() throws {
        try onEachStore { store, backend in
            let now = Date(timeIntervalSince1970: 1_768_478_400)
            var runs = 0
            let produce = { () -> StoredAnswer in
                runs += 1
                return StoredAnswer(
                    status: 202, body: .object(["run": .int(Int64(runs))]), createdAt: Timestamp.format(now))
            }
            let first = try store.idempotent(scope: "panel", key: "k", now: now, produce: produce)
            let again = try store.idempotent(
                scope: "panel", key: "k", now: now.addingTimeInterval(60), produce: produce)
            XCTAssertEqual(first, again, backend)
            XCTAssertEqual(runs, 1, backend)
            XCTAssertEqual(
                try store.expireIdempotencyKeys(now: now.addingTimeInterval(StoredAnswer.replayWindow + 1)), 1, backend)
            _ = try store.idempotent(
                scope: "panel", key: "k", now: now.addingTimeInterval(StoredAnswer.replayWindow + 2), produce: produce)
            XCTAssertEqual(runs, 2, backend)
        }
    }

    // MARK: PostgreSQL only: what several hosts sharing one database rely on

    func testAClaimIsOneHelpersUntilItsLeaseRunsOut() throws {
        let url = try newDatabase()
        let one = try PostgresStore(url: url, dataDir: "/tmp/host-one", leaseSeconds: 1, clock: { Date() })
        let two = try PostgresStore(url: url, dataDir: "/tmp/host-two", leaseSeconds: 1, clock: { Date() })
        try one.migrate()
        let hook = webhook("alice")
        XCTAssertTrue(try one.createWebhook(hook, limit: 10))
        let made = deliveries(2, of: hook)
        try one.queue(made, userId: "alice")
        let names = try two.outboxNames()
        XCTAssertNotNil(try one.claimDelivery(outboxName: names[0], sendKey: "discord-1"))
        XCTAssertNil(try two.claimDelivery(outboxName: names[0], sendKey: "discord-1"), "held by host one")
        XCTAssertNil(
            try two.claimDelivery(outboxName: names[1], sendKey: "discord-1"),
            "host one is sending to that Discord webhook")
        XCTAssertEqual(try two.outboxNames(), [names[1]])
        Thread.sleep(forTimeInterval: 1.2)  // host one died mid-send: its lease runs out
        XCTAssertEqual(try two.claimDelivery(outboxName: names[0], sendKey: "discord-1")?.id, made[0].id)
        // A wait Discord asked of one host holds on the other.
        try one.holdSends(sendKey: "discord-2", until: Date().addingTimeInterval(60))
        XCTAssertNil(try two.claimDelivery(outboxName: names[1], sendKey: "discord-2"))
    }

    func testImportCopiesAFlatFileStoreAndRefusesToOverwrite() throws {
        let folder = NSTemporaryDirectory() + "swh-import-" + UUID().uuidString
        defer {
            // The flat-file store and the database's local data_dir beside it.
            try? FileManager.default.removeItem(atPath: folder)
            try? FileManager.default.removeItem(atPath: folder + "-pg")
        }
        let files = try FileStore(root: folder, clock: { Date() })
        try files.prepare()
        let hook = webhook("alice")
        XCTAssertTrue(try files.createWebhook(hook, limit: 10))
        var made = deliveries(3, of: hook)
        try files.queue(made, userId: "alice")
        made[0].status = .delivered
        let name = try XCTUnwrap(try files.outboxNames().first, "an entry")
        try files.record(made[0], outboxName: name)
        _ = try files.putServer(id: "s1", name: "One", ownerId: "alice", status: nil, now: "2026-01-15T12:00:00.000Z")

        let database = try PostgresStore(url: try newDatabase(), dataDir: folder + "-pg", clock: { Date() })
        try database.prepare()
        try database.importRecords(try files.contents())
        XCTAssertEqual(try database.webhooks(userId: "alice"), [hook])
        XCTAssertEqual(
            try database.deliveries(userId: "alice", webhookId: hook.id, offset: 0, limit: 10),
            try files.deliveries(userId: "alice", webhookId: hook.id, offset: 0, limit: 10))
        XCTAssertEqual(try database.outboxNames(), try files.outboxNames())
        XCTAssertEqual(try database.allServers(), try files.allServers())
        XCTAssertThrowsError(try database.importRecords(try files.contents()))
    }
}
