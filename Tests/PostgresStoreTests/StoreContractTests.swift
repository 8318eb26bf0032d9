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
        let folder = NSTemporaryDirectory() + "swh-contract-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let files = try FileStore(root: "\(folder)/files", clock: { Date() })
        try files.prepare()
        try scenario(files, "files")
        let database = try PostgresStore(url: try newDatabase(), dataDir: "\(folder)/pg", clock: { Date() })
        try database.prepare()
        try scenario(database, "postgres")
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
