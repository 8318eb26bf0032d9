import FoundationEssentials
import Glibc

/// The delivery helper's side of the store: what is pending, and recording what happened.
extension FileStore {
    /// Names of the pending entries, in the order they were queued.
    public func outboxNames() throws -> [String] {
        try outboxEntries().sorted()
    }

    /// Every entry counts, the oldest's queue time is in its name: one listing, no file read.
    public func pendingSummary() throws -> PendingSummary {
        let names = try outboxEntries()
        return PendingSummary(count: names.count, oldestQueuedAt: names.min().flatMap(OutboxName.queuedAt))
    }

    /// The outbox's entries, in no order (a write in progress is a `.tmp-` name).
    private func outboxEntries() throws -> [String] {
        try FileSystem.list(layout.outbox).filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
    }

    /// The pending delivery an outbox entry points to, read under its user's lock so a queue in
    /// progress is seen whole. An entry whose delivery is gone (its webhook was deleted) or
    /// already finished is removed, and nil returned.
    public func pendingDelivery(outboxName name: String) throws -> Delivery? {
        let path = layout.outboxEntry(name)
        guard let entry = try read(OutboxEntry.self, at: path) else { return nil }
        return try withUserLock(entry.userId) {
            let delivery = try read(Delivery.self, at: layout.delivery(entry.userId, entry.webhookId, entry.deliveryId))
            guard let delivery, delivery.status == .pending else {
                try FileSystem.remove(path)
                return nil
            }
            return delivery
        }
    }

    /// Without the user's lock, which every fan-out of that user holds while it writes and syncs
    /// its deliveries: the helper reads up to `scanBatch` entries a pass, and waiting for each
    /// behind a burst of fan-outs starved its sends (seconds a pass). Every file is whole
    /// when it has its name (written under a temp name, then renamed; an entry is a hard link to
    /// a delivery's file made after that rename), but the fan-out may not be committed yet, so
    /// the claim reads it again under the lock. An entry that does not point to a pending delivery
    /// is checked under the lock, and dropped there.
    public func peekDelivery(outboxName name: String) throws -> Delivery? {
        guard let entry = try read(OutboxEntry.self, at: layout.outboxEntry(name)) else { return nil }
        let delivery = try read(Delivery.self, at: layout.delivery(entry.userId, entry.webhookId, entry.deliveryId))
        if let delivery, delivery.status == .pending { return delivery }
        return try pendingDelivery(outboxName: name)
    }

    /// One helper per data_dir (its lock): reading the entry under the user's lock is claiming it.
    public func claimDelivery(outboxName name: String, sendKey: String) throws -> Delivery? {
        try pendingDelivery(outboxName: name)
    }

    /// Moves an entry that cannot be read (it, or the delivery it points to, does not decode) out
    /// of the outbox, kept whole for the admin, so one bad file cannot hold up the rest.
    public func rejectOutboxEntry(_ name: String) throws {
        try FileSystem.makeFolder(layout.rejectedOutbox)
        let from = layout.outboxEntry(name)
        let to = layout.rejectedOutboxEntry(name)
        try FileSystem.check(rename(from, to), "rename", from)
        try FileSystem.syncFolder(layout.rejectedOutbox)
        try FileSystem.syncFolder(layout.outbox)
    }

    /// Whether a file can be written now: a tiny durable write, removed again. The delivery helper
    /// probes with it while the disk is full.
    public func checkWritable() throws {
        let probe = "\(root)/\(FileSystem.tempPrefix)probe.\(getpid())"
        try FileSystem.writeAtomically(Array("probe\n".utf8), to: probe)
        try FileSystem.remove(probe)
    }

    /// Writes a delivery after an attempt; a finished one then leaves the outbox (in that order,
    /// so a crash between the two only leaves an entry that `pendingDelivery` drops). Returns
    /// false when the webhook was deleted meanwhile: the entry is dropped and nothing written.
    @discardableResult
    public func record(_ delivery: Delivery, outboxName name: String) throws -> Bool {
        try withUserLock(delivery.userId) {
            guard try webhook(userId: delivery.userId, id: delivery.webhookId) != nil else {
                try FileSystem.remove(layout.outboxEntry(name))
                return false
            }
            try write(delivery, to: layout.delivery(delivery.userId, delivery.webhookId, delivery.id))
            if delivery.status != .pending {
                try FileSystem.remove(layout.outboxEntry(name))
            }
            return true
        }
    }
}
