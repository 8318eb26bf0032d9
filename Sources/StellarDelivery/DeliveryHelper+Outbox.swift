import FoundationEssentials
import Glibc
import WebhooksCore

/// The helper's view of the outbox: picking up new entries, and the hourly pruning pass.
extension DeliveryHelper {
    func maintain(now: Date) {
        if outage.shouldRetry(now: now) { retryStorage(now: now) }
        if wantsScan(now: now) && chores.scanDue(now: now) {
            catching("reading the outbox") { try scanOutbox(now: now) }
        }
        if chores.pruneDue(now: now) {
            catching("pruning") { try prune(now: now) }
        }
    }

    /// Whether reading the outbox could bring anything in: the window has room (below half, so a
    /// long backlog is read in large steps, not once per send), a client waits, or a parked
    /// delivery is due. A full window with nothing waiting reads nothing at all.
    func wantsScan(now: Date) -> Bool {
        let parkedDue = parked.earliest.map { $0 <= now } ?? false
        return queue.count < Self.window / 2 || !waiters.isEmpty || (parkedDue && queue.count < Self.window)
    }

    /// Picks up entries not seen yet: those a client waits for, then the oldest, until the window
    /// is full. Cost: one listing, plus one read per new entry, at most `scanBatch` of them per
    /// pass so a large burst starts sending at once. An entry that cannot be read is set aside or
    /// skipped; the pass goes on with the rest.
    func scanOutbox(now: Date) throws {
        var added = 0
        var keys: [String: String] = [:]  // rate-limit key by webhook id: one read per webhook
        let names = try store.outboxNames()
        parked.keepOnly(listed: names)
        let awaited =
            waiters.isEmpty ? [] : names.filter { OutboxName.deliveryId(of: $0).map(waiters.isAwaited) ?? false }
        for (position, name) in (awaited + names).enumerated()
        where queue[name] == nil && inFlight[name] == nil && !outage.isHeld(name) && !parked.isWaiting(name, now: now) {
            guard added < Self.scanBatch, queue.count < Self.window || position < awaited.count else {
                chores.scanRequested = true  // the rest on a later pass
                break
            }
            do {
                guard let delivery = try store.peekDelivery(outboxName: name) else { continue }
                let key =
                    try keys[delivery.webhookId] ?? store.webhook(userId: delivery.userId, id: delivery.webhookId)
                    .flatMap(target)?.target.rateLimitKey ?? delivery.webhookId
                keys[delivery.webhookId] = key
                parked.unpark(name)
                keep(name, Job(delivery, rateLimitKey: key, now: now), now: now)
                added += 1
            } catch let error as DecodingError {
                setAside(name, error)
            } catch {
                report("reading outbox entry \(name)", error)
            }
        }
    }

    /// Keeps a pending delivery where it belongs: in the window, or parked when it is not due for
    /// a while (manual sends are always due).
    func keep(_ name: String, _ job: Job, now: Date) {
        if !job.manual && job.dueAt > now.addingTimeInterval(Self.parkBeyond) {
            queue.remove(name)
            parked.park(name, until: job.dueAt)
        } else {
            queue.insert(name, job)
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
