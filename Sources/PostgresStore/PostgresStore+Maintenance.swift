import FoundationEssentials
import WebhooksCore

/// Idempotent answers, retention and manual-send places.
extension PostgresStore {
    /// Concurrent requests with one key, on any host, take turns on an advisory lock held by the
    /// session (a process that dies lets it go), so `produce` runs once.
    public func idempotent(scope: String, key: String, now: Date, produce: () throws -> StoredAnswer) throws
        -> StoredAnswer
    {
        let name = StoredAnswer.name(scope: scope, key: key)
        try db.execute("SELECT pg_advisory_lock(\(LockSpace.idempotencyKeys), hashtext($1))", [name])
        defer { _ = try? db.execute("SELECT pg_advisory_unlock(\(LockSpace.idempotencyKeys), hashtext($1))", [name]) }
        let cutoff = Timestamp.format(now.addingTimeInterval(-StoredAnswer.replayWindow))
        if let stored = try firstRecord(
            StoredAnswer.self,
            "SELECT record FROM idempotent_answers WHERE name = $1 AND created_at > $2::timestamptz", [name, cutoff])
        {
            return stored
        }
        let answer = try produce()
        if (200..<300).contains(answer.status) {
            try db.execute(
                """
                INSERT INTO idempotent_answers (name, created_at, record) VALUES ($1, $2::timestamptz, $3)
                ON CONFLICT (name) DO UPDATE SET created_at = excluded.created_at, record = excluded.record
                """, [name, answer.createdAt, try text(answer)])
        }
        return answer
    }

    /// Finished deliveries made before the cutoff go, webhook by webhook, and the rest are
    /// numbered again from 1 so pages stay ranges. One host at a time: the others skip the pass.
    @discardableResult
    public func pruneDeliveries(createdBefore cutoff: Date) throws -> Int {
        let took = try db.execute("SELECT pg_try_advisory_lock(\(LockSpace.pruning), 0)")[0, 0] == "t"
        guard took else { return 0 }
        defer { _ = try? db.execute("SELECT pg_advisory_unlock(\(LockSpace.pruning), 0)") }
        let before = Timestamp.format(cutoff)
        let webhookIds = try db.execute(
            "SELECT DISTINCT webhook_id FROM deliveries WHERE NOT pending AND created_at < $1::timestamptz", [before]
        ).values.compactMap { $0[0] }
        var pruned = 0
        for webhookId in webhookIds {
            pruned += try db.transaction {
                guard try db.execute("SELECT 1 FROM webhooks WHERE id = $1 FOR UPDATE", [webhookId]).count > 0 else {
                    return 0
                }
                let removed = try db.execute(
                    "DELETE FROM deliveries WHERE webhook_id = $1 AND NOT pending AND created_at < $2::timestamptz",
                    [webhookId, before]
                ).affected
                // Through negative numbers, so no two rows ever share a position on the way.
                try db.execute(
                    """
                    UPDATE deliveries d SET position = -r.n
                    FROM (SELECT id, row_number() OVER (ORDER BY position) AS n FROM deliveries WHERE webhook_id = $1) r
                    WHERE d.id = r.id
                    """, [webhookId])
                try db.execute("UPDATE deliveries SET position = -position WHERE webhook_id = $1", [webhookId])
                try db.execute(
                    "UPDATE webhooks SET delivery_count = (SELECT count(*) FROM deliveries WHERE webhook_id = $1) WHERE id = $1",
                    [webhookId])
                return removed
            }
        }
        return pruned
    }

    @discardableResult
    public func expireIdempotencyKeys(now: Date) throws -> Int {
        let cutoff = Timestamp.format(now.addingTimeInterval(-StoredAnswer.replayWindow))
        return try db.execute("DELETE FROM idempotent_answers WHERE created_at <= $1::timestamptz", [cutoff]).affected
    }

    /// One send per user across every host (an advisory lock of the session); the places that
    /// keep a worker free are this host's own (flocks in data_dir), as with flat files.
    public func admitManualSend(userId: String, slots: Int) throws -> SendAdmission {
        let lockUser = "SELECT pg_try_advisory_lock(\(LockSpace.manualSends), hashtext($1))"
        guard try db.execute(lockUser, [userId])[0, 0] == "t" else { return .userBusy }
        let unlockUser = { [db] in
            _ = try? db.execute("SELECT pg_advisory_unlock(\(LockSpace.manualSends), hashtext($1))", [userId])
        }
        guard let slotLock = try FileStore.takeSendSlot(StoreLayout(root: dataDir), slots: slots) else {
            unlockUser()
            return .workersBusy
        }
        return .admitted(
            SendLease {
                slotLock.unlock()
                unlockUser()
            })
    }

    /// "PostgreSQL on 10.0.0.4:5432, database webhooks" (or "on a local socket"), as the server
    /// reports it: never the URI, which may hold a password.
    public func summary() -> String {
        let asked = try? db.execute("SELECT current_database(), host(inet_server_addr()), inet_server_port()")
        guard let row = asked?.first else { return "PostgreSQL (database_url; not reachable now)" }
        let database = row[0] ?? "?"
        guard let host = row[1], let port = row[2] else { return "PostgreSQL on a local socket, database \(database)" }
        return "PostgreSQL on \(host):\(port), database \(database)"
    }

    /// Nothing to repair: every change is a transaction.
    public func recoverAtStart() throws -> [(what: String, count: Int)] { [] }

    public func openSecret(at path: String) throws -> [UInt8] { try adoptSecret(at: path) }

    /// Every host's helpers share the outbox, the waits and the wake-ups.
    public var coordination: HostCoordination? { self }
}
