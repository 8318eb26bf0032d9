/// A worker's copies of its users' `GET /webhooks` answers on PostgreSQL, each kept with the
/// fingerprint of the rows it was rendered from (`PostgresStore.webhookList`). Any host's write to
/// a webhook or a server gives that row a new version, and so the list a new fingerprint: a copy is
/// used only while the database still reports the same one.
final class WebhookListCache {
    /// Users whose answers are kept; past this the cache starts over (workers stay small).
    static let maxUsers = 128

    private var answers: [String: (fingerprint: String, body: [UInt8])] = [:]
    /// The fingerprint read with this request's key (`ReadAhead.webhookList`), for its user; every
    /// key lookup replaces it, so it never outlives the request that read it.
    var readAhead: (userId: String, fingerprint: String?)?

    /// The read-ahead fingerprint if it is `userId`'s (the outer optional: whether there was one),
    /// used once.
    func takeReadAhead(userId: String) -> String?? {
        defer { readAhead = nil }
        guard let readAhead, readAhead.userId == userId else { return nil }
        return .some(readAhead.fingerprint)
    }

    func answer(userId: String, fingerprint: String) -> [UInt8]? {
        guard let kept = answers[userId], kept.fingerprint == fingerprint else { return nil }
        return kept.body
    }

    func keep(_ body: [UInt8], userId: String, fingerprint: String) {
        if answers[userId] == nil, answers.count >= Self.maxUsers { answers.removeAll() }
        answers[userId] = (fingerprint, body)
    }
}
