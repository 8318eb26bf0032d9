import Foundation

/// The flat-file store under `data_dir` (design §7). One readable JSON file per record; ownership
/// comes from the path, so one user's requests can only ever name that user's files:
///
///     secret.key                                   server secret for key digests
///     keys/{keyId}.json                            API keys (digests only)
///     keys/.decoy.json                             read for unknown key ids (same cost as a hit)
///     servers/{serverId}.json                      servers known from the panel
///     users/{userId}/lock                          flock for every write to that user's data
///     users/{userId}/send.lock                     held while that user's manual send is in flight
///     send-slots/{n}                               one flock per manual send in flight (workers - 1)
///     users/{userId}/webhooks/{id}/webhook.json
///     users/{userId}/webhooks/{id}/deliveries.idx  delivery ids, oldest first, fixed-width records
///     users/{userId}/webhooks/{id}/deliveries/{deliveryId}.json
///     outbox/{queued at, ns}-{deliveryId}.json     pending deliveries, for the delivery helper
///     idempotency/{sha256}.json                    first answers to POST /events, 24 h
///     idempotency/locks/{00..ff}                   flocks for those answers, by hash prefix
///     outbox-rejected/{name}                       outbox entries the helper could not read
///     deliver.lock, deliver.sock                   the delivery helper's lock and socket
///
/// Every write is atomic and durable (FileSystem.writeAtomically) and made under a flock, so the
/// workers, the delivery helper and the CLI can all write at once.
public final class Store: @unchecked Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    /// Creates the top-level folders. Safe to call from every process at every start.
    public func prepare() throws {
        for folder in [root, keysFolder, serversFolder, usersFolder, outboxFolder, idempotencyFolder, "\(idempotencyFolder)/locks", sendSlotsFolder] {
            try FileSystem.makeFolder(folder)
        }
        try prepareKeyDecoy()
    }

    var keysFolder: String { "\(root)/keys" }
    var serversFolder: String { "\(root)/servers" }
    var usersFolder: String { "\(root)/users" }
    var outboxFolder: String { "\(root)/outbox" }
    var idempotencyFolder: String { "\(root)/idempotency" }
    var serversLock: String { "\(root)/servers.lock" }

    func userFolder(_ userId: String) -> String { "\(usersFolder)/\(userId)" }
    func userLock(_ userId: String) -> String { "\(userFolder(userId))/lock" }
    func webhooksFolder(_ userId: String) -> String { "\(userFolder(userId))/webhooks" }
    func webhookFolder(_ userId: String, _ webhookId: String) -> String { "\(webhooksFolder(userId))/\(webhookId)" }

    /// Runs `body` holding the user's lock: every change to a user's webhooks and deliveries.
    func withUserLock<T>(_ userId: String, _ body: () throws -> T) throws -> T {
        try FileSystem.makeFolder(userFolder(userId))
        return try FileLock.withLock(userLock(userId), body)
    }

    // MARK: Records as JSON files

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    func write<T: Encodable>(_ record: T, to path: String) throws {
        var bytes = Array(try Self.encoder.encode(record))
        bytes.append(UInt8(ascii: "\n"))
        try FileSystem.writeAtomically(bytes, to: path)
    }

    /// Every record in a folder of `{id}.json` files.
    func readAll<T: Decodable>(_ type: T.Type, in folder: String) throws -> [T] {
        try FileSystem.list(folder)
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
            .compactMap { try read(T.self, at: "\(folder)/\($0)") }
    }

    /// The record at `path`, or nil when there is none.
    func read<T: Decodable>(_ type: T.Type, at path: String) throws -> T? {
        guard let bytes = try FileSystem.read(path) else { return nil }
        return try JSONDecoder().decode(T.self, from: Data(bytes))
    }
}
