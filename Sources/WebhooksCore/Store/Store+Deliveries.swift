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

    /// Queues new pending deliveries of one user: each is on disk, in its webhook's index and in
    /// the outbox before this returns. A webhook deleted meanwhile simply gets none.
    /// Returns the deliveries queued.
    @discardableResult
    public func queue(_ deliveries: [Delivery], userId: String) throws -> [Delivery] {
        try withUserLock(userId) {
            var queued: [Delivery] = []
            for (webhookId, group) in Dictionary(grouping: deliveries, by: \.webhookId) {
                // Existence is enough here: the caller has just read the webhook itself.
                guard try FileSystem.size(webhookPath(userId, webhookId)) != nil else { continue }
                for delivery in group {
                    try write(delivery, to: deliveryPath(userId, webhookId, delivery.id))
                }
                try deliveryIndex(userId, webhookId).append(group.map(\.id))
                queued += group
            }
            for delivery in queued {
                try write(OutboxEntry(delivery), to: outboxPath(delivery))
            }
            return queued
        }
    }

    /// `20260115120000000-{id}.json`: the creation time's digits first, so names sort in
    /// creation order.
    func outboxPath(_ delivery: Delivery) -> String {
        "\(outboxFolder)/\(delivery.createdAt.filter(\.isASCIIDigit))-\(delivery.id).json"
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
