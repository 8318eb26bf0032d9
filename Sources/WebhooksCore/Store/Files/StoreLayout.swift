/// Where everything lives under `data_dir`, the one place its paths are built. Readable JSON: a
/// file per record, but a user's webhooks, which are one log; ownership comes from the path, so
/// one user's requests can only ever name that user's files:
///
///     secret.key                                   server secret for key digests (unless secret_file)
///     keys/{keyId}.json                            API keys (digests only)
///     keys/.decoy.json                             read for unknown key ids (same cost as a hit)
///     keys/lock, servers.lock                      flocks for key and server changes
///     servers/{serverId}.json                      servers known from the panel
///     users/{userId}/lock                          flock for every write to that user's data
///     users/{userId}/send.lock                     held while that user's manual send is in flight
///     users/{userId}/webhooks.jsonl                the user's webhooks: one line per change (WebhookLog)
///     users/{userId}/webhooks/{id}/                made at the webhook's first delivery
///     users/{userId}/webhooks/{id}/deliveries.idx  delivery ids, oldest first, fixed-width records
///     users/{userId}/webhooks/{id}/deliveries/{deliveryId}.json
///     outbox/{queued at, ns}-{deliveryId}.json     pending deliveries, for the delivery helper: each
///                                                  a hard link to its delivery's first file
///     outbox-rejected/{name}                       outbox entries the helper could not read
///     idempotency/{sha256}.json                    first answers to POST /events, 24 h
///     idempotency/locks/{00..ff}                   flocks for those answers, by hash prefix
///     send-slots/{n}                               one flock per manual send in flight
///     deliver.lock, deliver.sock                   the delivery helper's lock and socket
///     generations                                  change counters, mapped by every process
///     scoreboard                                   the host's counters and states (Scoreboard), made
///                                                  by the master at each start; with any store
///
/// Names starting with `.tmp-` are writes in progress; start-up recovery removes them.
public struct StoreLayout: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    /// The folders every process makes sure of at start.
    var folders: [String] { [root, keys, servers, users, outbox, idempotency, idempotencyLocks, sendSlots] }

    var generations: String { "\(root)/generations" }
    public var scoreboard: String { "\(root)/scoreboard" }
    public var helperLock: String { "\(root)/deliver.lock" }
    public var helperSocket: String { "\(root)/deliver.sock" }

    var keys: String { "\(root)/keys" }
    var keysLock: String { "\(keys)/lock" }
    var keyDecoy: String { "\(keys)/.decoy.json" }
    func key(_ keyId: String) -> String { "\(keys)/\(keyId).json" }

    var servers: String { "\(root)/servers" }
    var serversLock: String { "\(root)/servers.lock" }
    func server(_ serverId: String) -> String { "\(servers)/\(serverId).json" }

    var users: String { "\(root)/users" }
    func user(_ userId: String) -> String { "\(users)/\(userId)" }
    func userLock(_ userId: String) -> String { "\(user(userId))/lock" }
    func userSendLock(_ userId: String) -> String { "\(user(userId))/send.lock" }
    func webhookLog(_ userId: String) -> String { "\(user(userId))/webhooks.jsonl" }
    func webhooks(_ userId: String) -> String { "\(user(userId))/webhooks" }
    func webhook(_ userId: String, _ webhookId: String) -> String { "\(webhooks(userId))/\(webhookId)" }
    /// Where a webhook was kept before `webhooks.jsonl`; start-up recovery moves it into the log.
    func legacyWebhookFile(_ userId: String, _ webhookId: String) -> String {
        "\(webhook(userId, webhookId))/webhook.json"
    }
    func deliveryIndex(_ userId: String, _ webhookId: String) -> String {
        "\(webhook(userId, webhookId))/deliveries.idx"
    }
    func deliveries(_ userId: String, _ webhookId: String) -> String { "\(webhook(userId, webhookId))/deliveries" }
    func delivery(_ userId: String, _ webhookId: String, _ deliveryId: String) -> String {
        "\(deliveries(userId, webhookId))/\(deliveryId).json"
    }

    var outbox: String { "\(root)/outbox" }
    func outboxEntry(_ name: String) -> String { "\(outbox)/\(name)" }
    var rejectedOutbox: String { "\(root)/outbox-rejected" }
    func rejectedOutboxEntry(_ name: String) -> String { "\(rejectedOutbox)/\(name)" }

    var idempotency: String { "\(root)/idempotency" }
    var idempotencyLocks: String { "\(idempotency)/locks" }
    func idempotencyAnswer(_ name: String) -> String { "\(idempotency)/\(name).json" }
    /// One of 256 lock files, by the answer's first two hex digits.
    func idempotencyLock(_ name: String) -> String { "\(idempotencyLocks)/\(name.prefix(2))" }

    public var sendSlots: String { "\(root)/send-slots" }
    public func sendSlot(_ slot: Int) -> String { "\(sendSlots)/\(slot)" }
}
