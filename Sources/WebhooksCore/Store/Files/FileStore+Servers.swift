extension FileStore {
    /// `serverId` must already satisfy `Identifier.isExternalID`.
    public func server(id serverId: String) throws -> Server? {
        guard let cache else { return try read(Server.self, at: layout.server(serverId)) }
        let generation = generations.current(.servers)  // before reading: a later write moves it
        if cache.servers.generation != generation || cache.servers.records.count >= ReadCache.maxServers {
            cache.servers = (generation, [:])
        }
        if let known = cache.servers.records[serverId] { return known }
        let found = try read(Server.self, at: layout.server(serverId))
        cache.servers.records[serverId] = .some(found)
        return found
    }

    public func allServers() throws -> [Server] {
        try readAll(Server.self, in: layout.servers).sorted { $0.id < $1.id }
    }

    /// Creates or replaces a server, keeping its creation time.
    public func putServer(id: String, name: String, ownerId: String, status: String?, now: String) throws -> Server {
        try FileLock.withLock(layout.serversLock) {
            let existing = try server(id: id)
            let server = Server(
                id: id, name: name, ownerId: ownerId, status: status,
                createdAt: existing?.createdAt ?? now, updatedAt: now)
            defer { generations.bump(.servers) }
            try write(server, to: layout.server(id))
            return server
        }
    }

    /// Removes a server and its owner's webhooks scoped to it; false when there is no such server.
    public func removeServer(id: String) throws -> Bool {
        try FileLock.withLock(layout.serversLock) {
            guard let server = try server(id: id) else { return false }
            defer { generations.bump(.servers) }
            for webhook in try webhooks(userId: server.ownerId) where webhook.serverId == id {
                _ = try deleteWebhook(userId: server.ownerId, id: webhook.id)
            }
            try FileSystem.remove(layout.server(id))
            try FileSystem.syncFolder(layout.servers)
            return true
        }
    }
}
