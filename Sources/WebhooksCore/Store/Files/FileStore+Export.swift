import FoundationEssentials

/// Everything a flat-file store holds, read in full: what `import` copies into a database.
extension FileStore {
    public struct Contents {
        public var keys: [APIKeyRecord] = []
        public var servers: [Server] = []
        /// Each webhook with its deliveries, oldest first (the index's order).
        public var webhooks: [(webhook: Webhook, deliveries: [Delivery])] = []
        /// Outbox entry names, by delivery id.
        public var outbox: [String: String] = [:]
        /// Idempotent answers, by name.
        public var answers: [(name: String, answer: StoredAnswer)] = []

        public var deliveryCount: Int { webhooks.reduce(0) { $0 + $1.deliveries.count } }
    }

    /// Reads the whole store. Run it with the service stopped: a store that changes meanwhile is
    /// read as whatever each file held when it was read.
    public func contents() throws -> Contents {
        var contents = Contents()
        contents.keys = try allKeys()
        contents.servers = try allServers()
        for userId in try FileSystem.list(layout.users).sorted() where Identifier.isExternalID(userId) {
            for webhook in try webhooks(userId: userId).reversed() {
                let index = deliveryIndex(userId, webhook.id)
                let ids = try index.oldestFirst(offset: 0, limit: try index.count())
                let deliveries = try ids.compactMap {
                    try read(Delivery.self, at: layout.delivery(userId, webhook.id, $0))
                }
                contents.webhooks.append((webhook, deliveries))
            }
        }
        for name in try outboxNames() {
            if let deliveryId = OutboxName.deliveryId(of: name) { contents.outbox[deliveryId] = name }
        }
        for file in try FileSystem.list(layout.idempotency).sorted()
        where file.hasSuffix(".json") && !file.hasPrefix(".") {
            let name = String(file.dropLast(".json".count))
            if let answer = try read(StoredAnswer.self, at: layout.idempotencyAnswer(name)) {
                contents.answers.append((name, answer))
            }
        }
        return contents
    }
}
