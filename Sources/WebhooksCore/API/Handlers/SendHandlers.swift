import FoundationEssentials
import Glibc

/// The two endpoints that send at once (docs/architecture.md: "A request", "A delivery"): a test
/// message and a manual retry. Each is a new delivery, queued like any other and marked manual, so
/// the helper sends it ahead of the queue and never retries it automatically. The answer is the
/// result of that one send.
extension WebhookHandlers {
    func test(_ id: String) throws -> Response {
        guard try store.webhook(userId: userId, id: id) != nil else { return Self.notFound }
        var delivery = Delivery(
            id: Identifier.newUUID(), webhookId: id, userId: userId, event: DiscordMessage.testEvent,
            payload: DiscordMessage.testPayload(timestamp: context.timestamp), createdAt: context.timestamp)
        delivery.manual = true
        return try sendNow(delivery)
    }

    /// Sends the stored payload again, rendered as the first time; the original is left as it was.
    func retry(_ id: String, _ deliveryId: String) throws -> Response {
        guard try store.webhook(userId: userId, id: id) != nil else { return Self.notFound }
        guard let original = try store.delivery(userId: userId, webhookId: id, id: deliveryId) else {
            return .error(404, "Delivery not found")
        }
        var delivery = original.resend(id: Identifier.newUUID(), now: context.timestamp)
        delivery.manual = true
        return try sendNow(delivery)
    }

    /// Seconds to wait for the helper beyond one attempt's own timeout.
    static let helperGrace: TimeInterval = 5
    /// Never longer than this: nginx gives up on an answer after 60 s (fastcgi_read_timeout).
    static let longestWait: TimeInterval = 55

    /// Sends that may hold a worker at once: all workers but one, which stays free for other
    /// requests (with a single worker, that one).
    var sendSlots: Int { max(1, context.config.workers - 1) }

    private func sendNow(_ delivery: Delivery) throws -> Response {
        let lease: SendLease
        switch try store.admitManualSend(userId: userId, slots: sendSlots) {
        case .admitted(let admitted): lease = admitted
        case .userBusy: return .error(429, "A send is already in progress", headers: [("Retry-After", "1")])
        case .workersBusy: return .error(429, "Too many sends in progress", headers: [("Retry-After", "1")])
        }
        defer { lease.release() }
        guard !(try store.queue([delivery], userId: userId).isEmpty) else { return Self.notFound }
        let timeout = min(TimeInterval(context.config.deliveryTimeout) + Self.helperGrace, Self.longestWait)
        let answered = context.dispatch.sendNow(deliveryId: delivery.id, timeout: timeout)
        let recorded = try store.delivery(userId: userId, webhookId: delivery.webhookId, id: delivery.id) ?? delivery
        let fields: [String: JSONValue] = ["deliveryId": .string(recorded.id), "statusCode": .int(recorded.statusCode)]
        if recorded.status == .delivered {
            return .json(200, .object(fields.merging(["success": .bool(true)]) { $1 }))
        }
        let error =
            recorded.error
            ?? (answered ? "Delivery failed" : "The delivery helper did not answer in time; the delivery stays queued")
        return .json(500, .object(fields.merging(["success": .bool(false), "error": .string(error)]) { $1 }))
    }
}
