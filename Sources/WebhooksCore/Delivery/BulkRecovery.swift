import FoundationEssentials

/// Bulk recovery (docs/architecture.md: "Recovery"), for `POST /webhooks/{id}/recover` and the
/// `recover` command alike, so both check the same things: the webhook is the user's, the range is
/// valid, the webhook is enabled; then `Store.recoverFailed` queues at most `limit`. The caller
/// wakes its delivery helper when anything was queued.
public struct BulkRecovery {
    /// Queued at most per call, so one call's work stays bounded; the next call queues the next
    /// ones (the answer says how many remain).
    public static let limit = 1000

    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    public enum Outcome {
        /// No such webhook of this user.
        case webhookNotFound
        /// The range is not valid; every problem is recorded.
        case invalid(Validation)
        /// A disabled webhook receives nothing, recoveries included, until it is enabled again.
        case webhookDisabled
        case queued(Int, remaining: Int)
    }

    /// `body`: `{"since": ..., "until": ...}` as the API takes it.
    public func recover(userId: String, webhookId: String, body: JSONValue, now: Date, retentionDays: Int) throws
        -> Outcome
    {
        guard let webhook = try store.webhook(userId: userId, id: webhookId) else { return .webhookNotFound }
        var validation = Validation()
        guard let range = RecoveryInput.parse(body, now: now, retentionDays: retentionDays, &validation) else {
            return .invalid(validation)
        }
        guard webhook.enabled else { return .webhookDisabled }
        let recovered = try store.recoverFailed(
            userId: userId, webhookId: webhookId, since: range.since, until: range.until, limit: Self.limit,
            now: Timestamp.format(now), makeId: Identifier.newUUID)
        return .queued(recovered.queued.count, remaining: recovered.remaining)
    }
}
