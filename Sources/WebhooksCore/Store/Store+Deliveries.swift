import Foundation

extension Store {
    func deliveryIndex(_ userId: String, _ webhookId: String) -> DeliveryIndex {
        DeliveryIndex(path: "\(webhookFolder(userId, webhookId))/deliveries.idx")
    }

    func deliveryPath(_ userId: String, _ webhookId: String, _ deliveryId: String) -> String {
        "\(webhookFolder(userId, webhookId))/deliveries/\(deliveryId).json"
    }

    /// O(1): the size of the webhook's index.
    public func deliveryCount(userId: String, webhookId: String) throws -> Int {
        try deliveryIndex(userId, webhookId).count()
    }

    /// A page, newest first: O(limit).
    public func deliveries(userId: String, webhookId: String, offset: Int, limit: Int) throws -> [Delivery] {
        try deliveryIndex(userId, webhookId).newestFirst(offset: offset, limit: limit).compactMap {
            try read(Delivery.self, at: deliveryPath(userId, webhookId, $0))
        }
    }

    /// O(1). nil when missing or not this webhook's.
    public func delivery(userId: String, webhookId: String, id: String) throws -> Delivery? {
        guard Identifier.isUUID(webhookId), Identifier.isUUID(id) else { return nil }
        return try read(Delivery.self, at: deliveryPath(userId, webhookId, id))
    }

    /// Queues new pending deliveries of one user: each is in the outbox, on disk and in its
    /// webhook's index before this returns. The outbox entries are written first and the helper
    /// reads an entry's delivery under the same lock, so a crash mid-way leaves at worst an entry
    /// without a delivery, which the helper drops (that request was never answered).
    /// Returns the deliveries queued; a webhook deleted meanwhile simply gets none. When a write
    /// fails (a full disk), everything this call wrote is removed again before the error goes up:
    /// an unanswered request leaves nothing to send.
    @discardableResult
    public func queue(_ deliveries: [Delivery], userId: String) throws -> [Delivery] {
        try withUserLock(userId) {
            var queued: [Delivery] = []
            var written: [String] = []
            var appended: [(index: DeliveryIndex, count: Int)] = []
            do {
                for delivery in deliveries {
                    // Existence is enough here: the caller has just read the webhook itself.
                    guard try FileSystem.size(webhookPath(userId, delivery.webhookId)) != nil else { continue }
                    let entry = "\(outboxFolder)/\(Self.outboxName(for: delivery.id))"
                    try write(OutboxEntry(delivery), to: entry)
                    written.append(entry)
                    queued.append(delivery)
                }
                for (webhookId, group) in Dictionary(grouping: queued, by: \.webhookId) {
                    for delivery in group {
                        let path = deliveryPath(userId, webhookId, delivery.id)
                        try write(delivery, to: path)
                        written.append(path)
                    }
                    let index = deliveryIndex(userId, webhookId)
                    appended.append((index, try index.count()))
                    try index.append(group.map(\.id))
                }
            } catch {
                // Outbox entries first: an entry whose delivery is gone is dropped by the helper.
                for path in written { try? FileSystem.remove(path) }
                for (index, count) in appended { try? index.truncate(toCount: count) }
                throw error
            }
            return queued
        }
    }

    /// The delivery an outbox entry's name points to.
    public static func deliveryId(outboxName name: String) -> String {
        String(name.dropFirst(21).dropLast(".json".count))
    }

    /// `{nanoseconds since 1970, 20 digits}-{id}.json`, taken under the user's lock: names sort
    /// in the order deliveries were queued, so first attempts to a webhook leave in that order.
    static func outboxName(for deliveryId: String) -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let nanoseconds = String(Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec))
        return String(repeating: "0", count: max(0, 20 - nanoseconds.count)) + nanoseconds + "-\(deliveryId).json"
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
