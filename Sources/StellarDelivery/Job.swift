import FoundationEssentials
import WebhooksCore

/// A pending delivery the helper knows of, by its outbox entry's name: only what scheduling
/// needs. The delivery itself is read again when it is sent, so a long backlog stays small in
/// memory and a send always starts from what is on disk.
struct Job {
    var deliveryId: String
    var webhookId: String
    var manual: Bool
    /// The Discord webhook it goes to, for one-at-a-time and bucket waits.
    var rateLimitKey: String
    var dueAt: Date

    init(_ delivery: Delivery, rateLimitKey: String, now: Date) {
        deliveryId = delivery.id
        webhookId = delivery.webhookId
        manual = delivery.manual
        self.rateLimitKey = rateLimitKey
        dueAt = delivery.nextAttemptAt.flatMap(Timestamp.parse) ?? now
    }
}
