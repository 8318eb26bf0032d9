import FoundationEssentials
import Glibc

/// Keeps the store bounded (docs/architecture.md: "Files on disk"): finished deliveries older than
/// `retention_days` go, with their index records; pending ones stay whatever their age. Idempotency
/// answers go after 24 h.
extension FileStore {
    /// Returns how many deliveries were pruned.
    @discardableResult
    public func pruneDeliveries(createdBefore cutoff: Date) throws -> Int {
        var pruned = 0
        for userId in try FileSystem.list(layout.users) where Identifier.isExternalID(userId) {
            for webhookId in try FileSystem.list(layout.webhooks(userId)) where Identifier.isUUID(webhookId) {
                pruned += try pruneDeliveries(userId: userId, webhookId: webhookId, createdBefore: cutoff)
            }
        }
        return pruned
    }

    /// Walks the index from the oldest record and stops at the first delivery made after the
    /// cutoff, so a pass costs O(pruned + 1) per webhook. Files go first, then the index is
    /// rewritten: a crash in between leaves index records without files, which read as absent
    /// and are dropped by the next pass.
    func pruneDeliveries(userId: String, webhookId: String, createdBefore cutoff: Date) throws -> Int {
        try withUserLock(userId) {
            let index = deliveryIndex(userId, webhookId)
            let total = try index.count()
            var doomed: [String] = []
            var kept: [String] = []
            var scanned = 0
            scan: while scanned < total {
                for id in try index.oldestFirst(offset: scanned, limit: 256) {
                    if let delivery = try read(Delivery.self, at: layout.delivery(userId, webhookId, id)) {
                        guard let created = Timestamp.parse(delivery.createdAt), created < cutoff else { break scan }
                        if delivery.status == .pending { kept.append(id) } else { doomed.append(id) }
                    } else {
                        doomed.append(id)
                    }
                    scanned += 1
                }
            }
            guard !doomed.isEmpty else { return 0 }
            defer { generations.bump(.deliveries(userId)) }  // delivery counts change
            for id in doomed {
                try FileSystem.remove(layout.delivery(userId, webhookId, id))
            }
            let rest = try index.oldestFirst(offset: scanned, limit: total - scanned)
            try index.replace(with: kept + rest)
            return doomed.count
        }
    }

    /// Removes idempotency answers older than the 24 h window. Returns how many.
    @discardableResult
    public func expireIdempotencyKeys(now: Date) throws -> Int {
        var expired = 0
        for name in try FileSystem.list(layout.idempotency) where name.hasSuffix(".json") && !name.hasPrefix(".") {
            let answer = String(name.dropLast(".json".count))
            let path = layout.idempotencyAnswer(answer)
            try FileLock.withLock(layout.idempotencyLock(answer)) {
                guard let stored = try read(StoredAnswer.self, at: path),
                    let created = Timestamp.parse(stored.createdAt),
                    now.timeIntervalSince(created) >= StoredAnswer.replayWindow
                else { return }
                try FileSystem.remove(path)
                expired += 1
            }
        }
        return expired
    }
}
