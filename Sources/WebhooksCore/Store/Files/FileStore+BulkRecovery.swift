import FoundationEssentials

/// Bulk recovery on flat files (docs/architecture.md: "Recovery"): the webhook's index is read
/// from the newest record back to the first delivery created before `since`, so a recovery costs
/// the deliveries of its range and later, not the webhook's whole history; all of it under the
/// user's lock, which every queueing takes too, so two recoveries at once take turns and the
/// second sees the first's retries.
extension FileStore {
    public func recoverFailed(
        userId: String, webhookId: String, since: Date, until: Date, limit: Int, now: String,
        makeId: () -> String
    ) throws -> (queued: [Delivery], remaining: Int) {
        guard Identifier.isUUID(webhookId) else { return ([], 0) }
        return try withUserLock(userId) {
            guard try webhook(userId: userId, id: webhookId) != nil else { return ([], 0) }
            let index = deliveryIndex(userId, webhookId)
            var failed: [Delivery] = []  // newest first
            var sentAgain: Set<String> = []
            var scanned = 0
            scan: while true {
                let ids = try index.newestFirst(offset: scanned, limit: Self.recoveryChunk)
                guard !ids.isEmpty else { break }
                for id in ids {
                    scanned += 1
                    // A record missing under an index entry is a queue a crash cut short: nothing.
                    guard let delivery = try read(Delivery.self, at: layout.delivery(userId, webhookId, id)),
                        let created = Timestamp.parse(delivery.createdAt)
                    else { continue }
                    guard created >= since else { break scan }
                    if let original = delivery.retryOf { sentAgain.insert(original) }
                    if delivery.status == .failed && created <= until { failed.append(delivery) }
                }
            }
            let eligible = failed.reversed().filter { !sentAgain.contains($0.id) }
            let resent = eligible.prefix(limit).map { $0.resend(id: makeId(), now: now, asPost: true) }
            let queued = try queueHoldingLock(resent, userId: userId)
            return (queued, eligible.count - resent.count)
        }
    }

    /// Index records read at a time.
    private static let recoveryChunk = 256
}
