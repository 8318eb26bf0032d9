import FoundationEssentials
import Glibc

extension FileStore {
    /// The user's webhooks, newest first: O(that user's webhooks), or a cached copy while the
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
        // Both read before rendering: a later write moves one of them.
        let generation = generations.current(.user(userId)), servers = generations.current(.servers)
        if let kept = cache.webhookLists[userId], kept.generation == generation, kept.servers == servers {
            return kept.body
        }
        let body = try render()
        if cache.webhookLists.count >= ReadCache.maxUsers { cache.webhookLists.removeAll() }
        cache.webhookLists[userId] = (generation, servers, body)
        return body
    }

    private func webhooksOnDisk(userId: String) throws -> [Webhook] {
        try FileSystem.list(layout.webhooks(userId))
            .filter { Identifier.isUUID($0) }
            .compactMap { try read(Webhook.self, at: layout.webhookFile(userId, $0)) }
            .sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
    }

    /// O(1) (a file, or the cached list). nil for a missing webhook and for another user's: both
    /// look the same to callers.
    public func webhook(userId: String, id: String) throws -> Webhook? {
        guard Identifier.isUUID(id) else { return nil }
        guard cache != nil else { return try read(Webhook.self, at: layout.webhookFile(userId, id)) }
        return try webhooks(userId: userId).first { $0.id == id }
    }

    /// Adds a webhook unless the user already has `limit`; returns false then. Two commits, like
    /// any atomic write: the folder is reserved under the user's lock (a `.tmp-new-` folder,
    /// counted against the limit), built outside it, made durable (its file, then the folder),
    /// renamed into place and made durable again. A failure (a full disk) leaves no half-made
    /// webhook, only a temp folder removed here or by start-up recovery.
    public func createWebhook(_ webhook: Webhook, limit: Int) throws -> Bool {
        let parent = layout.webhooks(webhook.userId)
        let building = "\(parent)/\(Self.newWebhookPrefix)\(webhook.id)"
        try FileSystem.makeFolder(parent)
        let reserved = try withUserLock(webhook.userId) {
            guard try webhookCount(in: parent, reaching: limit) < limit else { return false }
            try FileSystem.createFolder(building)
            return true
        }
        guard reserved else { return false }
        // On the way out, whatever happened: a reader may have seen a step of it.
        defer { generations.bump(.user(webhook.userId)) }
        let folder = layout.webhook(webhook.userId, webhook.id)
        var renamed = false
        do {
            try FileSystem.createFolder(StoreLayout.deliveries(in: building))
            // The file first: on a journaling file system its sync commits the folders made
            // above as well, and the folder's own sync then finds nothing left to write.
            try FileSystem.writeNew(try encode(webhook), to: StoreLayout.webhookFile(in: building), sync: true)
            try FileSystem.syncFolder(building)
            try FileSystem.check(rename(building, folder), "rename", building)
            renamed = true
            try FileSystem.syncFolder(parent)
        } catch {
            try? FileSystem.removeTree(renamed ? folder : building)  // not acknowledged: not kept
            throw error
        }
        return true
    }

    private static let newWebhookPrefix = "\(FileSystem.tempPrefix)new-"

    /// The user's webhooks plus creates in progress, counted exactly only when it may matter:
    /// a folder's link count bounds its subfolders from above (where the file system keeps one),
    /// so under the limit by that bound needs no listing.
    private func webhookCount(in parent: String, reaching limit: Int) throws -> Int {
        if let bound = FileSystem.subfolderBound(parent), bound < limit { return bound }
        return try FileSystem.list(parent).lazy
            .filter { Identifier.isUUID($0) || $0.hasPrefix(Self.newWebhookPrefix) }
            .count
    }

    /// Read-modify-write under the user's lock, so concurrent updates never lose one another.
    /// Returns the updated webhook, or nil when there is none.
    public func updateWebhook(userId: String, id: String, _ change: (inout Webhook) throws -> Void) throws -> Webhook? {
        try withUserLock(userId) {
            guard var webhook = try webhook(userId: userId, id: id) else { return nil }
            try change(&webhook)
            defer { generations.bump(.user(userId)) }
            try write(webhook, to: layout.webhookFile(userId, id))
            return webhook
        }
    }

    /// Deletes a webhook with its deliveries; false when there is none. The folder is first renamed
    /// to a temp name (one atomic step, made durable), so a crash mid-way leaves only a stray temp
    /// folder that start-up recovery removes.
    public func deleteWebhook(userId: String, id: String) throws -> Bool {
        try withUserLock(userId) {
            guard try webhook(userId: userId, id: id) != nil else { return false }
            defer { generations.bump(.user(userId)) }
            let doomed = "\(layout.webhooks(userId))/\(FileSystem.tempPrefix)deleted-\(id)"
            try FileSystem.check(rename(layout.webhook(userId, id), doomed), "rename", doomed)
            try FileSystem.syncFolder(layout.webhooks(userId))
            try FileSystem.removeTree(doomed)
            return true
        }
    }
}
