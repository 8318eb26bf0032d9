import FoundationEssentials
import Logging
import WebhooksCore

/// Collapse windows on Slack and `http` (README "Crash loops collapsed", `SummaryStep`): the steps
/// of a repeat that send nothing. Each is written before the next step, so a helper stopped
/// between them loses nothing: the delivery stays pending, and its window counts it once.
extension DeliveryHelper {
    /// A repeat within its open window: the webhook keeps the window with it counted, then the
    /// delivery is recorded pending until the window ends, carried by `carrier`. No attempt.
    func hold(
        _ name: String, _ delivery: Delivery, _ send: CollapsedSend, carrier: String, until: Date, key: String,
        now: Date
    ) throws {
        _ = try store.updateWebhook(userId: delivery.userId, id: delivery.webhookId) { $0.keep(send) }
        var held = delivery
        held.action = .collapsed
        held.carriedBy = carrier
        held.nextAttemptAt = Timestamp.format(until)
        queue.remove(name)
        if try store.record(held, outboxName: name) {
            keep(name, Job(held, rateLimitKey: key, now: now), now: now)
        }
        logger.debug(
            "repeat held for its collapse window's summary",
            metadata: ["delivery": "\(delivery.id)", "carrier": "\(carrier)", "until": "\(held.nextAttemptAt ?? "-")"])
    }

    /// A held repeat at its window's end: finished as its carrier's summary was, or due again
    /// when the carrier is. No attempt.
    func follow(_ name: String, _ delivery: Delivery, carrier: String, of provider: String, key: String, now: Date)
        throws
    {
        let carried = try store.delivery(userId: delivery.userId, webhookId: delivery.webhookId, id: carrier)
        let done = delivery.following(carried, carrierId: carrier, now: now)
        if done.status != .pending {
            board?.deliveryFinished(done.status == .delivered ? .delivered : .failed, by: provider, at: now)
        }
        queue.remove(name)
        if try store.record(done, outboxName: name), done.status == .pending {
            keep(name, Job(done, rateLimitKey: key, now: now), now: now)
        }
        logger.info(
            "collapsed delivery \(done.status.rawValue)",
            metadata: [
                "delivery": "\(delivery.id)", "carrier": "\(carrier)", "message": "\(done.sentMessageId ?? "-")",
            ])
    }
}
