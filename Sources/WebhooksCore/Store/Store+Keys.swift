extension Store {
    public func saveKey(_ key: APIKeyRecord) throws {
        try write(key, to: layout.key(key.id))
    }

    /// O(1): the key id is the file name. `keyId` must already be checked to be hex.
    public func key(id keyId: String) throws -> APIKeyRecord? {
        try read(APIKeyRecord.self, at: layout.key(keyId))
    }

    /// A record read in place of a missing one, so an unknown key id costs the same file read and
    /// decode as a known one with a wrong secret: answer times tell nothing about which ids exist.
    /// Hidden (a dot name), so listings skip it.
    public func keyDecoy() throws -> APIKeyRecord? {
        try read(APIKeyRecord.self, at: layout.keyDecoy)
    }

    /// Writes the decoy once; every process calls this at start.
    func prepareKeyDecoy() throws {
        guard try FileSystem.size(layout.keyDecoy) == nil else { return }
        let id = try Random.bytes(8).hexString
        try write(APIKeyRecord(
            id: id, kind: .user, subject: "decoy-\(id)", label: "never matches",
            digest: try Random.bytes(32).hexString, createdAt: "1970-01-01T00:00:00.000Z",
            revokedAt: "1970-01-01T00:00:00.000Z"), to: layout.keyDecoy)
    }

    public func allKeys() throws -> [APIKeyRecord] {
        try readAll(APIKeyRecord.self, in: layout.keys).sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    /// Marks a key revoked; false when there is no such key. The next request sees it.
    public func revokeKey(id keyId: String, at now: String) throws -> Bool {
        try FileLock.withLock(layout.keysLock) {
            guard var key = try key(id: keyId) else { return false }
            if key.revokedAt == nil {
                key.revokedAt = now
                try saveKey(key)
            }
            return true
        }
    }
}
