import WebhooksCore

/// Webhooks, and their deliveries numbered per webhook.
extension PostgresStore {
    /// Takes the user's row lock for the rest of the transaction: creates and fan-outs of one user
    /// take turns, on every host.
    func lockUser(_ userId: String) throws {
        try db.execute("INSERT INTO users (id) VALUES ($1) ON CONFLICT (id) DO NOTHING", [userId])
        try db.execute("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", [userId])
    }

    public func webhooks(userId: String) throws -> [Webhook] {
        try webhooksWithDeliveryCounts(userId: userId).map(\.webhook)
    }

    public func webhooksWithDeliveryCounts(userId: String) throws -> [(webhook: Webhook, deliveries: Int)] {
        try db.execute(
            """
            SELECT record, delivery_count FROM webhooks WHERE user_id = $1 ORDER BY created_at COLLATE "C" DESC, id COLLATE "C" DESC
            """, [userId]
        ).values.compactMap { row in
            try record(Webhook.self, row[0]).map { ($0, Int(row[1] ?? "0") ?? 0) }
        }
    }

    /// Rendered every time: any host may have changed the list since.
    public func webhookList(userId: String, render: () throws -> [UInt8]) throws -> [UInt8] {
        try render()
    }

    public func webhook(userId: String, id: String) throws -> Webhook? {
        guard Identifier.isUUID(id) else { return nil }
        return try firstRecord(
            Webhook.self, "SELECT record FROM webhooks WHERE id = $1 AND user_id = $2", [id, userId])
    }

    public func createWebhook(_ webhook: Webhook, limit: Int) throws -> Bool {
        try db.transaction {
            try lockUser(webhook.userId)
            let count =
                Int(try db.execute("SELECT count(*) FROM webhooks WHERE user_id = $1", [webhook.userId])[0, 0] ?? "0")
                ?? 0
            guard count < limit else { return false }
            try db.execute(
                "INSERT INTO webhooks (id, user_id, created_at, record) VALUES ($1, $2, $3, $4)",
                [webhook.id, webhook.userId, webhook.createdAt, try text(webhook)])
            return true
        }
    }

    public func updateWebhook(userId: String, id: String, _ change: (inout Webhook) throws -> Void) throws -> Webhook? {
        guard Identifier.isUUID(id) else { return nil }
        return try db.transaction {
            guard
                var webhook = try firstRecord(
                    Webhook.self, "SELECT record FROM webhooks WHERE id = $1 AND user_id = $2 FOR UPDATE", [id, userId])
            else { return nil }
            try change(&webhook)
            try db.execute("UPDATE webhooks SET record = $2 WHERE id = $1", [id, try text(webhook)])
            return webhook
        }
    }

    /// Its deliveries and their outbox entries go with it (ON DELETE CASCADE).
    public func deleteWebhook(userId: String, id: String) throws -> Bool {
        guard Identifier.isUUID(id) else { return false }
        return try db.execute("DELETE FROM webhooks WHERE id = $1 AND user_id = $2", [id, userId]).affected > 0
    }

    // MARK: Deliveries

    public func deliveryCount(userId: String, webhookId: String) throws -> Int {
        guard Identifier.isUUID(webhookId) else { return 0 }
        let row = try db.execute(
            "SELECT delivery_count FROM webhooks WHERE id = $1 AND user_id = $2", [webhookId, userId]
        ).first
        return Int(row?[0] ?? "0") ?? 0
    }

    /// Newest first: positions count - offset down to count - offset - limit + 1, one index range.
    public func deliveries(userId: String, webhookId: String, offset: Int, limit: Int) throws -> [Delivery] {
        guard Identifier.isUUID(webhookId) else { return [] }
        return try db.execute(
            """
            SELECT d.record FROM webhooks w JOIN deliveries d ON d.webhook_id = w.id
            WHERE w.id = $1 AND w.user_id = $2
              AND d.position <= w.delivery_count - $3::bigint AND d.position > w.delivery_count - $3::bigint - $4::bigint
            ORDER BY d.position DESC
            """, [webhookId, userId, String(offset), String(limit)]
        ).values.compactMap { try record(Delivery.self, $0[0]) }
    }

    public func delivery(userId: String, webhookId: String, id: String) throws -> Delivery? {
        guard Identifier.isUUID(webhookId), Identifier.isUUID(id) else { return nil }
        return try firstRecord(
            Delivery.self,
            """
            SELECT d.record FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
            WHERE d.id = $1 AND d.webhook_id = $2 AND w.user_id = $3
            """, [id, webhookId, userId])
    }

    /// One transaction for the whole fan-out: numbered rows and outbox entries, then a NOTIFY
    /// that wakes every host's helper when it commits.
    @discardableResult
    public func queue(_ deliveries: [Delivery], userId: String) throws -> [Delivery] {
        guard !deliveries.isEmpty else { return [] }
        return try db.transaction { try queueInTransaction(deliveries, userId: userId) }
    }

    /// `queue`'s work, inside a transaction the caller holds (a bulk recovery, which selects what
    /// it queues in the same transaction).
    func queueInTransaction(_ deliveries: [Delivery], userId: String) throws -> [Delivery] {
        let queuedAt = clock()
        var queued: [Delivery] = []
        var rows:
            (
                ids: [String], webhooks: [String], positions: [String], created: [String], records: [String],
                names: [String]
            ) = ([], [], [], [], [], [])
        let sequence = Dictionary(uniqueKeysWithValues: deliveries.enumerated().map { ($1.id, $0) })
        // Webhooks in a fixed order, so two fan-outs never wait on each other in a circle.
        for (webhookId, group) in Dictionary(grouping: deliveries, by: \.webhookId).sorted(by: { $0.key < $1.key }) {
            let counted = try db.execute(
                "UPDATE webhooks SET delivery_count = delivery_count + $3 WHERE id = $1 AND user_id = $2 RETURNING delivery_count",
                [webhookId, userId, String(group.count)]
            ).first
            guard let total = Int(counted?[0] ?? "") else { continue }  // deleted meanwhile
            for (index, delivery) in group.enumerated() {
                rows.ids.append(delivery.id)
                rows.webhooks.append(webhookId)
                rows.positions.append(String(total - group.count + index + 1))
                rows.created.append(delivery.createdAt)
                rows.records.append(try text(delivery))
                rows.names.append(
                    OutboxName.make(
                        deliveryId: delivery.id, queuedAt: queuedAt, sequence: sequence[delivery.id] ?? 0))
                queued.append(delivery)
            }
        }
        guard !queued.isEmpty else { return [] }
        try db.execute(
            """
            INSERT INTO deliveries (id, webhook_id, position, created_at, pending, record)
            SELECT id, webhook_id, position, created_at, true, record
            FROM unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[], $5::text[]) AS r (id, webhook_id, position, created_at, record)
            """, [rows.ids, rows.webhooks, rows.positions, rows.created, rows.records].map(PostgresArray.literal))
        try db.execute(
            """
            INSERT INTO outbox (name, delivery_id, webhook_id)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
            """, [rows.names, rows.ids, rows.webhooks].map(PostgresArray.literal))
        try db.execute("NOTIFY \(Self.outboxChannel)")
        return queued
    }

    /// Helpers LISTEN here: something was queued.
    static let outboxChannel = "stellar_webhooks_outbox"
}

/// Text arrays for `unnest`: one statement for a whole fan-out, however many rows.
enum PostgresArray {
    /// `{"a","b\"c"}`: every element quoted, with `\` and `"` escaped.
    static func literal(_ elements: [String]) -> String? {
        var text = "{"
        for (index, element) in elements.enumerated() {
            if index > 0 { text += "," }
            text += "\""
            for character in element.unicodeScalars {
                if character == "\\" || character == "\"" { text += "\\" }
                text.unicodeScalars.append(character)
            }
            text += "\""
        }
        return text + "}"
    }
}
