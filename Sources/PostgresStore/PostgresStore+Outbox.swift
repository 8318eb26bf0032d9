import FoundationEssentials
import WebhooksCore

/// The helpers' side: entries claimed one at a time with a lease, so each send is made by one
/// helper whichever host it runs on, and one at a time per webhook across hosts.
extension PostgresStore {
    /// Entries no other helper holds a live lease on, oldest first.
    public func outboxNames() throws -> [String] {
        try db.execute(
            """
            SELECT name FROM outbox WHERE lease_until IS NULL OR lease_until < now() OR leased_by = $1
            ORDER BY name COLLATE "C"
            """, [leaseHolder]
        ).values.compactMap { $0[0] }
    }

    /// Every host's pending deliveries: the outbox is shared.
    public func pendingSummary() throws -> PendingSummary {
        let row = try db.execute(
            """
            SELECT count(*), min(o.name COLLATE "C") FROM outbox o JOIN deliveries d ON d.id = o.delivery_id WHERE d.pending
            """
        ).first
        return PendingSummary(
            count: row?[0].flatMap { Int($0) } ?? 0, oldestQueuedAt: row?[1].flatMap(OutboxName.queuedAt))
    }

    /// The pending delivery an entry points to (no claim). An entry whose delivery has finished is
    /// removed.
    public func pendingDelivery(outboxName name: String) throws -> Delivery? {
        let row = try db.execute(
            """
            SELECT d.record, d.pending FROM outbox o JOIN deliveries d ON d.id = o.delivery_id WHERE o.name = $1
            """, [name]
        ).first
        guard let row else { return nil }
        guard row[1] == "t" else {
            try db.execute("DELETE FROM outbox WHERE name = $1", [name])
            return nil
        }
        return try record(Delivery.self, row[0])
    }

    /// A read waits on no writer here (each fan-out is one transaction, seen whole or not at all).
    public func peekDelivery(outboxName name: String) throws -> Delivery? {
        try pendingDelivery(outboxName: name)
    }

    /// Claims the entry for this helper for `leaseSeconds`: nil when another helper holds it or
    /// holds a lease to send to the same Discord webhook (one send in flight per webhook, on all
    /// hosts), when Discord's wait for that webhook runs, or when the delivery is no longer pending.
    public func claimDelivery(outboxName name: String, sendKey: String) throws -> Delivery? {
        try db.transaction {
            let free = "(lease_until IS NULL OR lease_until < now() OR leased_by = $2)"
            guard
                try db.execute(
                    "SELECT 1 FROM outbox WHERE name = $1 AND \(free) FOR UPDATE SKIP LOCKED", [name, leaseHolder]
                ).count > 0
            else { return nil }
            // Claims for one Discord webhook take turns, so two hosts never both see it idle.
            try db.execute("SELECT pg_advisory_xact_lock(\(LockSpace.webhookClaims), hashtext($1))", [sendKey])
            let busy = try db.execute(
                """
                SELECT 1 FROM outbox WHERE send_key = $1 AND leased_by <> $2 AND lease_until > now()
                UNION ALL SELECT 1 FROM send_waits WHERE send_key = $1 AND until > now()
                LIMIT 1
                """, [sendKey, leaseHolder])
            guard busy.count == 0 else { return nil }
            let row = try db.execute(
                """
                UPDATE outbox o SET send_key = $4, leased_by = $2, lease_until = now() + make_interval(secs => $3::int)
                FROM deliveries d WHERE o.name = $1 AND d.id = o.delivery_id
                RETURNING d.record, d.pending
                """, [name, leaseHolder, String(leaseSeconds), sendKey]
            ).first
            guard let row, row[1] == "t" else {
                try db.execute("DELETE FROM outbox WHERE name = $1", [name])
                return nil
            }
            return try record(Delivery.self, row[0])
        }
    }

    public func rejectOutboxEntry(_ name: String) throws {
        try db.transaction {
            try db.execute(
                """
                INSERT INTO outbox_rejected (name, delivery_id, reason)
                SELECT name, delivery_id, 'unreadable' FROM outbox WHERE name = $1 ON CONFLICT (name) DO NOTHING
                """, [name])
            try db.execute("DELETE FROM outbox WHERE name = $1", [name])
        }
    }

    public func checkWritable() throws {
        try db.execute("SELECT 1")
    }

    /// Writes the attempt; a finished delivery leaves the outbox, a pending one is released for
    /// whichever helper finds it due next. A wait Discord asked for is kept for every host.
    @discardableResult
    public func record(_ delivery: Delivery, outboxName name: String) throws -> Bool {
        try db.transaction {
            let updated = try db.execute(
                "UPDATE deliveries SET record = $2, pending = $3 WHERE id = $1",
                [delivery.id, try text(delivery), delivery.status == .pending ? "t" : "f"])
            guard updated.affected > 0 else {  // its webhook was deleted, and the delivery with it
                try db.execute("DELETE FROM outbox WHERE name = $1", [name])
                return false
            }
            if delivery.status == .pending {
                try db.execute(
                    "UPDATE outbox SET leased_by = NULL, lease_until = NULL WHERE name = $1 AND leased_by = $2",
                    [name, leaseHolder])
            } else {
                try db.execute("DELETE FROM outbox WHERE name = $1", [name])
            }
            return true
        }
    }

    /// The connection's socket, LISTENing for fan-outs on any host (listening again after a
    /// reconnect; while the database is down, a retry every few seconds at most).
    public func queuedSignal() -> Int32? {
        if !db.listens(Self.outboxChannel) { try? db.listen(Self.outboxChannel) }
        let socket = db.socket
        return socket >= 0 ? socket : nil
    }

    public func takeQueuedSignal() -> Bool {
        ((try? db.drainNotifications()) ?? 0) > 0
    }

    /// Keeps a rate-limit wait for the Discord webhook, seen by every host's claims.
    public func holdSends(sendKey: String, until: Date) throws {
        try db.execute(
            """
            INSERT INTO send_waits (send_key, until) VALUES ($1, $2::timestamptz)
            ON CONFLICT (send_key) DO UPDATE SET until = greatest(send_waits.until, excluded.until)
            """, [sendKey, Timestamp.format(until)])
    }
}

/// The two-key advisory lock spaces (`pg_advisory_lock(space, hashtext(key))`).
enum LockSpace {
    static let webhookClaims = 1
    static let idempotencyKeys = 2
    static let manualSends = 3
    static let pruning = 4
}
