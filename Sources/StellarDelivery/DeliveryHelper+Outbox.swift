import FoundationEssentials
import Glibc
import WebhooksCore

/// The helper's view of the outbox: picking up new entries, and the hourly pruning pass.
extension DeliveryHelper {
    func maintain(now: Date) {
        if outage.shouldRetry(now: now) { retryStorage(now: now) }
        if chores.scanDue(now: now) {
            catching("reading the outbox") { try scanOutbox(now: now) }
        }
        if chores.pruneDue(now: now) {
            catching("pruning") { try prune(now: now) }
        }
    }

    /// Picks up entries not seen yet: those a client waits for, then the oldest. Cost: one
    /// listing, plus one read per new entry, at most `scanBatch` of them per pass so a large burst
    /// starts sending at once. An entry that cannot be read is set aside or skipped; the pass goes
    /// on with the rest.
    func scanOutbox(now: Date) throws {
        var added = 0
        var keys: [String: String] = [:]  // rate-limit key by webhook id: one read per webhook
        let names = try store.outboxNames()
        let awaited = waiters.isEmpty ? [] : names.filter { OutboxName.deliveryId(of: $0).map(waiters.isAwaited) ?? false }
        for name in awaited + names where queue[name] == nil && inFlight[name] == nil && !outage.isHeld(name) {
            guard added < Self.scanBatch else {
                chores.scanRequested = true  // the rest on the next pass
                break
            }
            do {
                guard let delivery = try store.pendingDelivery(outboxName: name) else { continue }
                if keys[delivery.webhookId] == nil {
                    keys[delivery.webhookId] = try store.webhook(userId: delivery.userId, id: delivery.webhookId)
                        .flatMap(target)?.rateLimitKey ?? delivery.webhookId
                }
                queue.insert(name, Job(delivery, rateLimitKey: keys[delivery.webhookId]!, now: now))
                added += 1
            } catch let error as DecodingError {
                setAside(name, error)
            } catch {
                report("reading outbox entry \(name)", error)
            }
        }
    }

    func prune(now: Date) throws {
        let cutoff = now.addingTimeInterval(-Double(config.retentionDays) * 86400)
        let pruned = try store.pruneDeliveries(createdBefore: cutoff)
        let expired = try store.expireIdempotencyKeys(now: now)
        if pruned + expired > 0 {
            logger.info("pruned old records", metadata: ["deliveries": "\(pruned)", "idempotencyKeys": "\(expired)"])
        }
    }
}
