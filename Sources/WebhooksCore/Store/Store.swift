import FoundationEssentials

/// Everything the service keeps: keys, servers, webhooks, deliveries, idempotent answers: what
/// the API's handlers and the command line read and write. Two backends (docs/architecture.md:
/// "Storage"): `FileStore`, flat files under `data_dir` (the default), and the PostgreSQL store
/// that several hosts share. Each is a `StoreBackend`: this, the delivery helper's `Outbox`, and
/// what `serve` does with it at start. Every method is a whole, durable step: when it returns, what
/// it wrote survives a crash; when it throws, nothing acknowledged was lost. A backend that cannot
/// reach its storage throws an error whose `isStorageUnavailable` is true, which the API answers
/// with 503.
public protocol Store: AnyObject, Sendable {
    /// Makes the storage ready (folders, schema); safe from every process at every start.
    func prepare() throws

    // MARK: Keys
    func saveKey(_ key: APIKeyRecord) throws
    /// `readAhead`: what the request reads next, which a backend may fetch in the same trip.
    func key(id keyId: String, readAhead: ReadAhead) throws -> APIKeyRecord?
    /// A record that no key matches, read for an unknown key id so that it costs what a known one does.
    func keyDecoy() throws -> APIKeyRecord?
    func allKeys() throws -> [APIKeyRecord]
    func revokeKey(id keyId: String, at now: String) throws -> Bool

    // MARK: Servers
    func server(id serverId: String) throws -> Server?
    func allServers() throws -> [Server]
    func putServer(id: String, name: String, ownerId: String, status: String?, now: String) throws -> Server
    func removeServer(id: String) throws -> Bool

    // MARK: Webhooks
    /// The user's webhooks, newest first.
    func webhooks(userId: String) throws -> [Webhook]
    /// The user's webhooks, newest first, each with its number of deliveries: one read.
    func webhooksWithDeliveryCounts(userId: String) throws -> [(webhook: Webhook, deliveries: Int)]
    /// The user's rendered `GET /webhooks` answer; `render` runs when no kept copy is current.
    func webhookList(userId: String, render: () throws -> [UInt8]) throws -> [UInt8]
    /// nil for a missing webhook and for another user's alike.
    func webhook(userId: String, id: String) throws -> Webhook?
    /// False when the user already has `limit` webhooks.
    func createWebhook(_ webhook: Webhook, limit: Int) throws -> Bool
    /// Read-modify-write that never loses a concurrent update; nil when there is no such webhook.
    func updateWebhook(userId: String, id: String, _ change: (inout Webhook) throws -> Void) throws -> Webhook?
    func deleteWebhook(userId: String, id: String) throws -> Bool

    // MARK: Deliveries
    func deliveryCount(userId: String, webhookId: String) throws -> Int
    /// Newest first; O(limit) whatever the offset and the total.
    func deliveries(userId: String, webhookId: String, offset: Int, limit: Int) throws -> [Delivery]
    func delivery(userId: String, webhookId: String, id: String) throws -> Delivery?
    /// Queues new pending deliveries (one fan-out, committed together); returns those queued
    /// (a webhook deleted meanwhile gets none).
    @discardableResult
    func queue(_ deliveries: [Delivery], userId: String) throws -> [Delivery]
    /// Bulk recovery (docs/architecture.md: "Recovery"): queues again, as new deliveries made by
    /// `Delivery.resend` and queued as `queue` queues them, the webhook's `failed` deliveries
    /// created in `since...until` that nothing sent again yet (no delivery's `retryOf` names
    /// them), oldest first, at most `limit`; returns those queued and how many more there are.
    /// Selecting and queueing are one step per webhook, so two recoveries at once never queue one
    /// delivery twice. Reads only the deliveries created since `since` (a retry is always created
    /// after its original). None for a missing webhook or another user's.
    func recoverFailed(
        userId: String, webhookId: String, since: Date, until: Date, limit: Int, now: String,
        makeId: () -> String
    ) throws -> (queued: [Delivery], remaining: Int)

    /// How many deliveries are pending and when the oldest was queued (monitoring).
    func pendingSummary() throws -> PendingSummary

    // MARK: Idempotency, retention, manual sends
    /// The answer stored for (`scope`, `key`) within the last 24 h, else `produce`'s, stored when
    /// a success. Concurrent requests with one key run `produce` once.
    func idempotent(scope: String, key: String, now: Date, produce: () throws -> StoredAnswer) throws -> StoredAnswer
    func pruneDeliveries(createdBefore cutoff: Date) throws -> Int
    func expireIdempotencyKeys(now: Date) throws -> Int
    /// A place for one manual send: one per user, and at most `slots` at once.
    func admitManualSend(userId: String, slots: Int) throws -> SendAdmission
}

/// The first answer given to a request carrying an `Idempotency-Key`.
public struct StoredAnswer: Codable, Equatable, Sendable {
    public var status: Int
    public var body: JSONValue
    public var createdAt: String

    /// How long an answer is replayed.
    public static let replayWindow: TimeInterval = 24 * 3600

    /// What an answer is filed under: a hash, so neither a key nor its length shows in a name.
    public static func name(scope: String, key: String) -> String {
        Crypto.sha256(Array((scope + "\n" + key).utf8)).hexString
    }

    public init(status: Int, body: JSONValue, createdAt: String) {
        self.status = status
        self.body = body
        self.createdAt = createdAt
    }
}

/// Admission for manual sends (a test, a manual retry). Each holds a worker until the helper has
/// sent it, so one user may have one in flight, and together they may hold all workers but one:
/// the others stay free for every other request.
public enum SendAdmission {
    case admitted(SendLease)
    /// This user already has a send in flight.
    case userBusy
    /// Every worker that sends may hold is holding one.
    case workersBusy
}

/// The places held by one admitted send; `release` when its answer is ready.
public struct SendLease {
    let onRelease: () -> Void

    public init(onRelease: @escaping () -> Void) {
        self.onRelease = onRelease
    }

    public func release() { onRelease() }
}

extension Store {
    /// The key alone, nothing read ahead.
    public func key(id keyId: String) throws -> APIKeyRecord? { try key(id: keyId, readAhead: .nothing) }
}

/// An error from a store's storage. `isStorageUnavailable`: the disk is full or failing, or the
/// database is down: nothing the client did, and it may pass by itself, so the API answers 503.
public protocol StorageFailure: Error {
    var isStorageUnavailable: Bool { get }
}
