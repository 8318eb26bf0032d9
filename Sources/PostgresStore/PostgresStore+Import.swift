import WebhooksCore

/// `stellar-webhooks import --data-dir DIR`: a flat-file store copied into an empty database.
extension PostgresStore {
    public struct ImportRefused: Error, CustomStringConvertible {
        public var description: String
    }

    /// Copies everything in one transaction, ids, times and records unchanged; deliveries keep
    /// their order, and pending ones their outbox entries. Refuses a database that already holds
    /// keys, servers or webhooks: nothing is ever overwritten.
    public func importRecords(_ contents: FileStore.Contents) throws {
        try db.transaction {
            let held =
                try db.execute(
                    """
                    SELECT (SELECT count(*) FROM api_keys) + (SELECT count(*) FROM servers) + (SELECT count(*) FROM webhooks)
                    """)[0, 0] ?? "0"
            guard held == "0" else {
                throw ImportRefused(
                    description: "the database already holds keys, servers or webhooks: import only into an empty one")
            }
            for key in contents.keys { try saveKey(key) }
            for server in contents.servers {
                try db.execute(
                    "INSERT INTO servers (id, owner_id, record) VALUES ($1, $2, $3)",
                    [server.id, server.ownerId, try text(server)])
            }
            for (webhook, deliveries) in contents.webhooks {
                try db.execute("INSERT INTO users (id) VALUES ($1) ON CONFLICT (id) DO NOTHING", [webhook.userId])
                try db.execute(
                    "INSERT INTO webhooks (id, user_id, created_at, record, delivery_count) VALUES ($1, $2, $3, $4, $5)",
                    [webhook.id, webhook.userId, webhook.createdAt, try text(webhook), String(deliveries.count)])
                for (offset, delivery) in deliveries.enumerated() {
                    try db.execute(
                        """
                        INSERT INTO deliveries (id, webhook_id, position, created_at, pending, record)
                        VALUES ($1, $2, $3, $4::timestamptz, $5, $6)
                        """,
                        [
                            delivery.id, webhook.id, String(offset + 1), delivery.createdAt,
                            delivery.status == .pending ? "t" : "f", try text(delivery),
                        ])
                    if delivery.status == .pending, let name = contents.outbox[delivery.id] {
                        try db.execute(
                            "INSERT INTO outbox (name, delivery_id, webhook_id) VALUES ($1, $2, $3)",
                            [name, delivery.id, webhook.id])
                    }
                }
            }
            for (name, answer) in contents.answers {
                try db.execute(
                    "INSERT INTO idempotent_answers (name, created_at, record) VALUES ($1, $2::timestamptz, $3)",
                    [name, answer.createdAt, try text(answer)])
            }
        }
    }
}
