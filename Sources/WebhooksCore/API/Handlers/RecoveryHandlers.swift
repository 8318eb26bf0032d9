/// `POST /webhooks/{id}/recover` (docs/architecture.md: "Recovery"): queues the webhook's failed
/// deliveries of a range again, through the normal queue, and answers 202 with how many were
/// queued and how many remain for a next call. Not a send now: the helper sends them in turn.
extension WebhookHandlers {
    func recover(_ id: String, _ body: JSONValue) throws -> Response {
        let outcome = try BulkRecovery(store: store).recover(
            userId: userId, webhookId: id, body: body, now: context.now,
            retentionDays: context.config.retentionDays)
        switch outcome {
        case .webhookNotFound:
            return Self.notFound
        case .invalid(let validation):
            return validation.response(extras: [:])
        case .webhookDisabled:
            return .error(
                409, "Webhook is disabled",
                extras: ["detail": .string("Enable it first (PATCH with {\"enabled\": true}), then recover")])
        case .queued(let queued, let remaining):
            if queued > 0 { context.dispatch.wake() }
            return .json(202, .object(["queued": .int(queued), "remaining": .int(remaining)]))
        }
    }
}
