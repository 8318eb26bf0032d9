import WebhooksCore

/// Keys and servers: one row each, the record as JSON.
extension PostgresStore {
    public func saveKey(_ key: APIKeyRecord) throws {
        try db.execute("INSERT INTO api_keys (id, record) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET record = excluded.record",
                       [key.id, try text(key)])
    }

    public func key(id keyId: String) throws -> APIKeyRecord? {
        try record(APIKeyRecord.self, try db.execute("SELECT record FROM api_keys WHERE id = $1", [keyId]).first?[0] ?? nil)
    }

    /// The same lookup for an id no key has: an unknown id costs what a known one does.
    public func keyDecoy() throws -> APIKeyRecord? {
        try key(id: "decoy")
    }

    public func allKeys() throws -> [APIKeyRecord] {
        try db.execute("SELECT record FROM api_keys").values.compactMap { try record(APIKeyRecord.self, $0[0]) }
            .sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    public func revokeKey(id keyId: String, at now: String) throws -> Bool {
        try db.transaction {
            let row = try db.execute("SELECT record FROM api_keys WHERE id = $1 FOR UPDATE", [keyId]).first
            guard var key = try record(APIKeyRecord.self, row?[0] ?? nil) else { return false }
            if key.revokedAt == nil {
                key.revokedAt = now
                try saveKey(key)
            }
            return true
        }
    }

    public func server(id serverId: String) throws -> Server? {
        try record(Server.self, try db.execute("SELECT record FROM servers WHERE id = $1", [serverId]).first?[0] ?? nil)
    }

    public func allServers() throws -> [Server] {
        try db.execute("SELECT record FROM servers ORDER BY id").values.compactMap { try record(Server.self, $0[0]) }
    }

    public func putServer(id: String, name: String, ownerId: String, status: String?, now: String) throws -> Server {
        try db.transaction {
            // A new row takes a key lock on conflict, so concurrent puts of one server queue here.
            try db.execute("INSERT INTO servers (id, owner_id, record) VALUES ($1, '', '') ON CONFLICT (id) DO NOTHING", [id])
            let existing = try record(Server.self, try db.execute("SELECT nullif(record, '') FROM servers WHERE id = $1 FOR UPDATE", [id]).first?[0] ?? nil)
            let server = Server(id: id, name: name, ownerId: ownerId, status: status,
                                createdAt: existing?.createdAt ?? now, updatedAt: now)
            try db.execute("UPDATE servers SET owner_id = $2, record = $3 WHERE id = $1", [id, ownerId, try text(server)])
            return server
        }
    }

    /// Removes a server and its owner's webhooks scoped to it.
    public func removeServer(id: String) throws -> Bool {
        try db.transaction {
            guard let server = try record(Server.self, try db.execute("SELECT record FROM servers WHERE id = $1 FOR UPDATE", [id]).first?[0] ?? nil) else {
                return false
            }
            try lockUser(server.ownerId)
            for webhook in try webhooksInTransaction(userId: server.ownerId) where webhook.serverId == id {
                try db.execute("DELETE FROM webhooks WHERE id = $1", [webhook.id])
            }
            try db.execute("DELETE FROM servers WHERE id = $1", [id])
            return true
        }
    }
}
