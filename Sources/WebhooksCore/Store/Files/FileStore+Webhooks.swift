import FoundationEssentials
import Glibc

extension FileStore {
    /// The user's webhooks, newest first: O(the lines of the user's log), or a cached copy while the
    /// user's generation has not moved.
    public func webhooks(userId: String) throws -> [Webhook] {
        guard let cache else { return try webhooksOnDisk(userId: userId) }
        let generation = generations.current(.user(userId))  // before reading: a later write moves it
        if let kept = cache.webhooks[userId], kept.generation == generation { return kept.list }
        let list = try webhooksOnDisk(userId: userId)
        if cache.webhooks.count >= ReadCache.maxUsers { cache.webhooks.removeAll() }
        cache.webhooks[userId] = (generation, list)
        return list
    }

    /// O(that user's webhooks): each count is the size of an index.
    public func webhooksWithDeliveryCounts(userId: String) throws -> [(webhook: Webhook, deliveries: Int)] {
        try webhooks(userId: userId).map { ($0, try deliveryCount(userId: userId, webhookId: $0.id)) }
    }

    /// A user's rendered webhook list (`GET /webhooks`), rendered again only when the user's
    /// webhooks, their delivery counts or any server changed.
    public func webhookList(userId: String, render: () throws -> [UInt8]) throws -> [UInt8] {
        guard let cache else { return try render() }
        // All read before rendering: a later write moves one of them.
        let generation = generations.current(.user(userId))
        let deliveries = generations.current(.deliveries(userId))
        let servers = generations.current(.servers)
        if let kept = cache.webhookLists[userId], kept.generation == generation, kept.deliveries == deliveries,
            kept.servers == servers
        {
            return kept.body
        }
        let body = try render()
        if cache.webhookLists.count >= ReadCache.maxUsers { cache.webhookLists.removeAll() }
        cache.webhookLists[userId] = (generation, deliveries, servers, body)
        return body
    }

    private func webhooksOnDisk(userId: String) throws -> [Webhook] {
        try webhookLog(userId).read().webhooks.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
    }

    func webhookLog(_ userId: String) -> WebhookLog {
        WebhookLog(path: layout.webhookLog(userId))
    }

    /// The cached list, or O(the user's log). nil for a missing webhook and for another user's:
    /// both look the same to callers.
    public func webhook(userId: String, id: String) throws -> Webhook? {
        guard Identifier.isUUID(id) else { return nil }
        return try webhooks(userId: userId).first { $0.id == id }
    }

    /// Adds a webhook unless the user already has `limit`; returns false then. One line appended
    /// to the user's log under the user's lock (the count is in the last line), made durable by an
    /// `fdatasync` after the lock is released, so the creates of several workers share a flush.
    /// If that flush fails (a failing disk), a removal line follows: not acknowledged, not kept.
    public func createWebhook(_ webhook: Webhook, limit: Int) throws -> Bool {
        let log = webhookLog(webhook.userId)
        let appended: WebhookLog.Appender? = try withUserLock(webhook.userId) {
            let appender = try log.openForAppending()
            guard appender.live < limit else { return nil }
            try appender.append(.init(live: appender.live + 1, webhook: webhook))
            generations.bump(.user(webhook.userId))
            return appender
        }
        guard let appended else { return false }
        do {
            try appended.sync()
        } catch {
            _ = try? deleteWebhook(userId: webhook.userId, id: webhook.id)
            throw error
        }
        return true
    }

    /// Read-modify-write under the user's lock, so concurrent updates never lose one another.
    /// Returns the updated webhook, or nil when there is none.
    public func updateWebhook(userId: String, id: String, _ change: (inout Webhook) throws -> Void) throws -> Webhook? {
        try withUserLock(userId) {
            let log = webhookLog(userId)
            let (webhooks, lines) = try log.read()
            guard var webhook = webhooks.first(where: { $0.id == id }) else { return nil }
            try change(&webhook)
            defer { generations.bump(.user(userId)) }
            try appendDurably(.init(live: webhooks.count, webhook: webhook), to: log)
            try compactIfMostlyDead(log, lines: lines + 1, webhooks: webhooks.map { $0.id == id ? webhook : $0 })
            return webhook
        }
    }

    /// Deletes a webhook with its deliveries; false when there is none. The removal line is made
    /// durable first, then the webhook's folder goes: a crash in between leaves a folder of no
    /// webhook, which start-up recovery removes.
    public func deleteWebhook(userId: String, id: String) throws -> Bool {
        try withUserLock(userId) {
            let log = webhookLog(userId)
            let (webhooks, lines) = try log.read()
            guard webhooks.contains(where: { $0.id == id }) else { return false }
            defer { generations.bump(.user(userId)) }
            let rest = webhooks.filter { $0.id != id }
            try appendDurably(.init(live: rest.count, removed: id), to: log)
            try FileSystem.removeTree(layout.webhook(userId, id))
            try compactIfMostlyDead(log, lines: lines + 1, webhooks: rest)
            return true
        }
    }

    private func appendDurably(_ line: WebhookLog.Line, to log: WebhookLog) throws {
        let appender = try log.openForAppending()
        try appender.append(line)
        try appender.sync()
    }

    /// Rewrites a log whose lines are mostly changes already superseded, so reading one costs
    /// O(the user's webhooks), not O(every change ever made). Under the user's lock.
    private func compactIfMostlyDead(_ log: WebhookLog, lines: Int, webhooks: [Webhook]) throws {
        guard lines > 2 * webhooks.count + Self.deadLinesKept else { return }
        try log.rewrite(webhooks)
    }

    private static let deadLinesKept = 64
}
