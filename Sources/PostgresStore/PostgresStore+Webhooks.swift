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

    /// Rendered again only when the rows it shows changed, on any host: the fingerprint is every
    /// listed webhook's id and row version (`xmin`, new at every insert or update, so a count a
    /// fan-out moved too) and its server's row version, read before rendering, in this request's
    /// key lookup or else on its own. A change committed after that read moves the next request's.
    public func webhookList(userId: String, render: () throws -> [UInt8]) throws -> [UInt8] {
        let readAhead = listCache.takeReadAhead(userId: userId)
        guard
            let fingerprint = try readAhead
                ?? db.execute(Self.userListFingerprint, [userId]).first?[0] ?? nil
        else {
            return try render()  // no webhooks: nothing worth keeping
        }
        if let kept = listCache.answer(userId: userId, fingerprint: fingerprint) { return kept }
        let body = try render()
        listCache.keep(body, userId: userId, fingerprint: fingerprint)
        return body
    }

    static let userListFingerprint = listFingerprint(of: "$1")

    /// The fingerprint of user `user`'s list (an SQL expression); NULL for a user without webhooks.
    /// md5 keeps it short however many webhooks are listed.
    static func listFingerprint(of user: String) -> String {
        """
        SELECT md5(string_agg(
            w.id || ':' || w.xmin || ':' || coalesce((SELECT s.xmin::text FROM servers s WHERE s.id = w.server_id), '-'),
            ',' ORDER BY w.id))
        FROM webhooks w WHERE w.user_id = \(user)
        """
    }

    public func webhook(userId: String, id: String) throws -> Webhook? {
        guard Identifier.isUUID(id) else { return nil }
        return try firstRecord(
            Webhook.self, "SELECT record FROM webhooks WHERE id = $1 AND user_id = $2", [id, userId])
    }

    /// One statement (`create_webhook`, migration 2): the user's row locked, the count, the insert.
    public func createWebhook(_ webhook: Webhook, limit: Int) throws -> Bool {
        try db.execute(
            "SELECT create_webhook($1, $2, $3, $4, $5)",
            [webhook.id, webhook.userId, webhook.createdAt, try text(webhook), String(limit)])[0, 0] == "t"
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

    /// One transaction for the whole fan-out, in two statements whatever its size: the webhooks'
    /// counts moved, then the numbered rows and outbox entries written and every host's helper
    /// woken (a NOTIFY delivered when it commits).
    @discardableResult
    public func queue(_ deliveries: [Delivery], userId: String) throws -> [Delivery] {
        guard !deliveries.isEmpty else { return [] }
        return try db.transaction { try queueInTransaction(deliveries, userId: userId) }
    }

    /// `queue`'s work, inside a transaction the caller holds (a bulk recovery, which selects what
    /// it queues in the same transaction).
    func queueInTransaction(_ deliveries: [Delivery], userId: String) throws -> [Delivery] {
        let queuedAt = clock()
        let sequence = Dictionary(uniqueKeysWithValues: deliveries.enumerated().map { ($1.id, $0) })
        let groups = Dictionary(grouping: deliveries, by: \.webhookId)
        let ids = groups.keys.sorted()
        // Each webhook's count after this fan-out; a webhook deleted meanwhile is not returned.
        let totals = Dictionary(
            uniqueKeysWithValues: try db.execute(
                Self.countDeliveries,
                [ids, ids.map { String(groups[$0]?.count ?? 0) }].map(PostgresArray.literal) + [userId]
            ).values.compactMap { row in row[0].flatMap { id in Int(row[1] ?? "").map { (id, $0) } } })
        var queued: [Delivery] = []
        var rows:
            (
                ids: [String], webhooks: [String], positions: [String], created: [String], records: [String],
                names: [String]
            ) = ([], [], [], [], [], [])
        for webhookId in ids {
            guard let group = groups[webhookId], let total = totals[webhookId] else { continue }
            for (index, delivery) in group.enumerated() {
                rows.ids.append(delivery.id)
                rows.webhooks.append(webhookId)
                rows.positions.append(String(total - group.count + index + 1))
                rows.created.append(delivery.createdAt)
                rows.names.append(
                    OutboxName.make(
                        deliveryId: delivery.id, queuedAt: queuedAt, sequence: sequence[delivery.id] ?? 0))
                queued.append(delivery)
            }
        }
        guard !queued.isEmpty else { return [] }
        rows.records = try RecordCoding.encode(fanOut: queued).map { String(decoding: $0, as: UTF8.self) }
        try db.execute(
            Self.insertDeliveries,
            [rows.ids, rows.webhooks, rows.positions, rows.created, rows.records, rows.names].map(
                PostgresArray.literal))
        return queued
    }

    /// Adds `$2[i]` to the count of webhook `$1[i]` of user `$3`; returns the new counts. The rows
    /// are locked in id order first, so two fan-outs never wait on each other in a circle.
    static let countDeliveries = """
        WITH counts AS (SELECT * FROM unnest($1::text[], $2::bigint[]) AS c (id, n)),
        locked AS MATERIALIZED (
            SELECT w.id FROM webhooks w JOIN counts USING (id) WHERE w.user_id = $3 ORDER BY w.id FOR UPDATE OF w
        )
        UPDATE webhooks w SET delivery_count = w.delivery_count + counts.n
        FROM counts JOIN locked USING (id) WHERE w.id = counts.id
        RETURNING w.id, w.delivery_count
        """

    /// The deliveries' rows and outbox entries in one statement, and the helpers' wake-up call.
    static let insertDeliveries = """
        WITH rows AS (
            SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[], $5::text[], $6::text[])
                AS r (id, webhook_id, position, created_at, record, name)
        ),
        delivered AS (
            INSERT INTO deliveries (id, webhook_id, position, created_at, pending, record)
            SELECT id, webhook_id, position, created_at, true, record FROM rows
        ),
        entered AS (INSERT INTO outbox (name, delivery_id, webhook_id) SELECT name, id, webhook_id FROM rows)
        SELECT pg_notify('\(outboxChannel)', '')
        """

    /// Helpers LISTEN here: something was queued.
    static let outboxChannel = "stellar_webhooks_outbox"
}

/// Text arrays for `unnest`: one statement for a whole fan-out, however many rows.
enum PostgresArray {
    /// `{"a","b\"c"}`: every element quoted, with `\` and `"` escaped. Built as UTF-8 bytes: a
    /// fan-out of 2,000 is megabytes of records.
    static func literal(_ elements: [String]) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(elements.reduce(2) { $0 + $1.utf8.count + 3 })
        bytes.append(UInt8(ascii: "{"))
        for (index, element) in elements.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "\""))
            for byte in element.utf8 {
                if byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\"") { bytes.append(UInt8(ascii: "\\")) }
                bytes.append(byte)
            }
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }
}
