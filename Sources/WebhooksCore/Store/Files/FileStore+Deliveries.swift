import FoundationEssentials
import Glibc

/// A webhook's deliveries on flat files: a file each under the webhook's folder, its index
/// (`DeliveryIndex`, oldest first, for pages in O(limit)), and the outbox entries a fan-out
/// queues with them, committed together.
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
    /// webhook's index before this returns. The helper claims an entry's delivery under the same
    /// lock before sending it, so it never sends from a fan-out half made (its scan, which only
    /// schedules, reads without the lock); a crash mid-way leaves at worst deliveries not
    /// in the index, or entries whose delivery is gone, which the helper drops (that request was
    /// never answered).
    /// Returns the deliveries queued; a webhook deleted meanwhile simply gets none. The files are
    /// committed as one batch (`FileSystem.writeBatch`): a fan-out costs two syncs, not two per
    /// delivery. When a write fails (a full disk), everything this call wrote is removed again
    /// before the error goes up: an unanswered request leaves nothing to send.
    @discardableResult
    public func queue(_ deliveries: [Delivery], userId: String) throws -> [Delivery] {
        try withUserLock(userId) { try queueHoldingLock(deliveries, userId: userId) }
    }

    /// `queue`'s work, for a caller that already holds the user's lock (a bulk recovery, which
    /// selects what it queues under the same lock).
    func queueHoldingLock(_ deliveries: [Delivery], userId: String) throws -> [Delivery] {
        // Taken under the lock, so entry names sort in the order deliveries were queued.
        let queuedAt = clock()
        var queued: [Delivery] = []
        var entries: [(path: String, record: String)] = []
        // Read under the lock (the cached list is checked against the user's generation).
        let live = Set(try webhooks(userId: userId).map(\.id))
        for (number, delivery) in deliveries.enumerated() {
            guard live.contains(delivery.webhookId) else { continue }
            let name = OutboxName.make(deliveryId: delivery.id, queuedAt: queuedAt, sequence: number)
            entries.append((layout.outboxEntry(name), layout.delivery(userId, delivery.webhookId, delivery.id)))
            queued.append(delivery)
        }
        guard !queued.isEmpty else { return [] }
        let records = zip(entries.map(\.record), try RecordCoding.encode(fanOut: queued)).map { (path: $0, bytes: $1) }
        defer { generations.bump(.deliveries(userId)) }  // delivery counts change
        var appended: [(index: DeliveryIndex, count: Int)] = []
        var linked: [String] = []
        do {
            // A webhook's folder is made at its first delivery; the batch's syncs make it durable.
            for webhookId in Set(queued.map(\.webhookId)) {
                try FileSystem.makeFolder(layout.deliveries(userId, webhookId), sync: false)
            }
            // An outbox entry is a second name of the delivery's first file (a hard link): one
            // new inode per delivery, not two, and inodes are most of a fan-out's cost. Both
            // names and the index records are made durable by the batch's second sync.
            try FileSystem.writeBatch(records, in: root) {
                for (entry, record) in entries {
                    try FileSystem.check(link(record, entry), "link", entry)
                    linked.append(entry)
                }
                for (webhookId, group) in Dictionary(grouping: queued, by: \.webhookId) {
                    let index = deliveryIndex(userId, webhookId)
                    appended.append((index, try index.count()))
                    try index.append(group.map(\.id))
                }
            }
        } catch {
            for path in linked + records.map(\.path) { try? FileSystem.remove(path) }
            for (index, count) in appended { try? index.truncate(toCount: count) }
            throw error
        }
        return queued
    }
}
