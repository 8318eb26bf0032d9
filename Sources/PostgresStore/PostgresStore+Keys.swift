import WebhooksCore

/// Keys and servers: one row each, the record as JSON.
extension PostgresStore {
    public func saveKey(_ key: APIKeyRecord) throws {
        try db.execute(
            "INSERT INTO api_keys (id, record) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET record = excluded.record",
            [key.id, try text(key)])
    }

    /// For `GET /webhooks`, the key and its user's list fingerprint in one statement
    /// (`webhookList` takes it): one round trip, not two.
    public func key(id keyId: String, readAhead: ReadAhead) throws -> APIKeyRecord? {
        listCache.readAhead = nil  // read for an earlier request: never used for this one
        guard case .webhookList = readAhead else {
            return try firstRecord(APIKeyRecord.self, "SELECT record FROM api_keys WHERE id = $1", [keyId])
        }
        guard let row = try db.execute(Self.keyWithListFingerprint, [keyId]).first,
            let key = try record(APIKeyRecord.self, row[0])
        else { return nil }
        listCache.readAhead = (key.subject, row[1])
        return key
    }

    static let keyWithListFingerprint =
        "SELECT k.record, (\(listFingerprint(of: "k.subject"))) FROM api_keys k WHERE k.id = $1"

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
            guard
                var key = try firstRecord(
                    APIKeyRecord.self, "SELECT record FROM api_keys WHERE id = $1 FOR UPDATE", [keyId])
            else {
                return false
            }
            if key.revokedAt == nil {
                key.revokedAt = now
                try saveKey(key)
            }
            return true
        }
    }

    public func server(id serverId: String) throws -> Server? {
        try firstRecord(Server.self, "SELECT record FROM servers WHERE id = $1", [serverId])
    }

    public func allServers() throws -> [Server] {
        try db.execute("SELECT record FROM servers ORDER BY id").values.compactMap { try record(Server.self, $0[0]) }
    }

    public func putServer(id: String, name: String, ownerId: String, status: String?, now: String) throws -> Server {
        try db.transaction {
            let fresh = Server(id: id, name: name, ownerId: ownerId, status: status, createdAt: now, updatedAt: now)
            // A new server is one insert; concurrent puts of one server queue on its key here.
            let inserted = try db.execute(
                "INSERT INTO servers (id, owner_id, record) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
                [id, ownerId, try text(fresh)]
            ).affected
            guard inserted == 0 else { return fresh }
            let existing = try firstRecord(Server.self, "SELECT record FROM servers WHERE id = $1 FOR UPDATE", [id])
            var server = fresh
            server.createdAt = existing?.createdAt ?? now
            try db.execute(
                "UPDATE servers SET owner_id = $2, record = $3 WHERE id = $1", [id, ownerId, try text(server)])
            return server
        }
    }

    /// Removes a server and its owner's webhooks scoped to it.
    public func removeServer(id: String) throws -> Bool {
        try db.transaction {
            guard let server = try firstRecord(Server.self, "SELECT record FROM servers WHERE id = $1 FOR UPDATE", [id])
            else {
                return false
            }
            try lockUser(server.ownerId)
            for webhook in try webhooks(userId: server.ownerId) where webhook.serverId == id {
                try db.execute("DELETE FROM webhooks WHERE id = $1", [webhook.id])
            }
            try db.execute("DELETE FROM servers WHERE id = $1", [id])
            return true
        }
    }
}
