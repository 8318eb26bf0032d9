import FoundationEssentials
import WebhooksCore

/// Bulk recovery in the database (docs/architecture.md: "Recovery"): one transaction that locks
/// the webhook's row, so two recoveries of it on any hosts take turns and the second sees the
/// first's retries, then selects and queues.
extension PostgresStore {
    public func recoverFailed(
        userId: String, webhookId: String, since: Date, until: Date, limit: Int, now: String,
        makeId: () -> String
    ) throws -> (queued: [Delivery], remaining: Int) {
        guard Identifier.isUUID(webhookId) else { return ([], 0) }
        return try db.transaction {
            let locked = try db.execute(
                "SELECT 1 FROM webhooks WHERE id = $1 AND user_id = $2 FOR UPDATE", [webhookId, userId])
            guard locked.count > 0 else { return ([], 0) }
            let rows = try db.execute(
                Self.recoverableSQL,
                [webhookId, Timestamp.format(since), Timestamp.format(until), String(limit)])
            let originals = try rows.values.compactMap { try record(Delivery.self, $0[0]) }
            let total = Int(rows.first?[1] ?? "0") ?? 0
            let queued = try queueInTransaction(
                originals.map { $0.resend(id: makeId(), now: now, asPost: true) }, userId: userId)
            return (queued, total - originals.count)
        }
    }

    /// The failed deliveries of webhook $1 created in [$2, $3] that no delivery's `retryOf`
    /// names, oldest first, at most $4, each with how many there are in all. `recent` is what
    /// was created since $2: found by walking `position` (creation order) back from the newest to
    /// the first delivery created before $2, one index range, however long the history before.
    static let recoverableSQL = """
        WITH recent AS (
            SELECT id, position, created_at, record, record::jsonb AS doc FROM deliveries
            WHERE webhook_id = $1 AND position > coalesce(
                (SELECT position FROM deliveries WHERE webhook_id = $1 AND created_at < $2::timestamptz
                 ORDER BY position DESC LIMIT 1), 0)
        ), eligible AS (
            SELECT position, record FROM recent d
            WHERE d.doc->>'status' = 'failed' AND d.created_at >= $2::timestamptz AND d.created_at <= $3::timestamptz
              AND NOT EXISTS (SELECT 1 FROM recent r WHERE r.doc->>'retryOf' = d.id)
        )
        SELECT record, count(*) OVER () FROM eligible ORDER BY position LIMIT $4::bigint
        """
}
