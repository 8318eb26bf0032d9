import FoundationEssentials
import Glibc

extension FileStore {
    func deliveryIndex(_ userId: String, _ webhookId: String) -> DeliveryIndex {
        DeliveryIndex(path: layout.deliveryIndex(userId, webhookId))
    }

    /// O(1): the size of the webhook's index.
    public func deliveryCount(userId: String, webhookId: String) throws -> Int {
        try deliveryIndex(userId, webhookId).count()
    }

    /// A page, newest first: O(limit).
    public func deliveries(userId: String, webhookId: String, offset: Int, limit: Int) throws -> [Delivery] {
        try deliveryIndex(userId, webhookId).newestFirst(offset: offset, limit: limit).compactMap {
            try read(Delivery.self, at: layout.delivery(userId, webhookId, $0))
        }
    }

    /// O(1). nil when missing or not this webhook's.
    public func delivery(userId: String, webhookId: String, id: String) throws -> Delivery? {
        guard Identifier.isUUID(webhookId), Identifier.isUUID(id) else { return nil }
        return try read(Delivery.self, at: layout.delivery(userId, webhookId, id))
    }

    /// Queues new pending deliveries of one user: each is in the outbox, on disk and in its
    /// webhook's index before this returns. The outbox entries are written first and the helper
    /// reads an entry's delivery under the same lock, so a crash mid-way leaves at worst an entry
    /// without a delivery, which the helper drops (that request was never answered).
    /// Returns the deliveries queued; a webhook deleted meanwhile simply gets none. The files are
    /// committed as one batch (`FileSystem.writeBatch`): a fan-out costs two syncs, not two per
    /// delivery. When a write fails (a full disk), everything this call wrote is removed again
    /// before the error goes up: an unanswered request leaves nothing to send.
    @discardableResult
    public func queue(_ deliveries: [Delivery], userId: String) throws -> [Delivery] {
        try withUserLock(userId) {
            // Taken under the lock, so entry names sort in the order deliveries were queued.
            let queuedAt = clock()
            var queued: [Delivery] = []
            var entries: [(path: String, bytes: [UInt8])] = []
            var records: [(path: String, bytes: [UInt8])] = []
            for (number, delivery) in deliveries.enumerated() {
                // Existence is enough here: the caller has just read the webhook itself.
                guard try FileSystem.size(layout.webhookFile(userId, delivery.webhookId)) != nil else { continue }
                let name = OutboxName.make(deliveryId: delivery.id, queuedAt: queuedAt, sequence: number)
                entries.append((layout.outboxEntry(name), try encode(OutboxEntry(delivery))))
                records.append((layout.delivery(userId, delivery.webhookId, delivery.id), try encode(delivery)))
                queued.append(delivery)
            }
            guard !queued.isEmpty else { return [] }
            defer { generations.bump(.user(userId)) }  // delivery counts change
            var appended: [(index: DeliveryIndex, count: Int)] = []
            do {
                // Outbox entries first, so a crash part way leaves at worst an entry without a
                // delivery, which the helper drops.
                try FileSystem.writeBatch(entries + records, in: root) {
                    for (webhookId, group) in Dictionary(grouping: queued, by: \.webhookId) {
                        let index = deliveryIndex(userId, webhookId)
                        appended.append((index, try index.count()))
                        try index.append(group.map(\.id))
                    }
                }
            } catch {
                for (path, _) in entries + records { try? FileSystem.remove(path) }
                for (index, count) in appended { try? index.truncate(toCount: count) }
                throw error
            }
            return queued
        }
    }
}

/// An outbox entry's name, `{queued at: ns since 1970, 20 digits}-{deliveryId}.json`: names sort
/// in the order deliveries were queued, so first attempts to a webhook leave in that order.
public enum OutboxName {
    static let timeDigits = 20
    static let suffix = ".json"

    /// `sequence` orders the deliveries of one queueing, which share `queuedAt`.
    public static func make(deliveryId: String, queuedAt: Date, sequence: Int) -> String {
        let nanoseconds = Int64(queuedAt.timeIntervalSince1970 * 1_000_000_000) + Int64(sequence)
        return "\(nanoseconds.zeroPadded(timeDigits))-\(deliveryId)\(suffix)"
    }

    /// The delivery a name points to; nil for a name not of this form.
    public static func deliveryId(of name: String) -> String? {
        let parts = name.split(separator: "-", maxSplits: 1)
        guard parts.count == 2, parts[0].count == timeDigits, parts[0].allSatisfy(\.isASCIIDigit),
            parts[1].hasSuffix(suffix)
        else { return nil }
        return String(parts[1].dropLast(suffix.count))
    }
}

/// Points the delivery helper at a pending delivery. Names sort in creation order.
public struct OutboxEntry: Codable, Equatable, Sendable {
    public var deliveryId: String
    public var webhookId: String
    public var userId: String

    init(_ delivery: Delivery) {
        deliveryId = delivery.id
        webhookId = delivery.webhookId
        userId = delivery.userId
    }
}
