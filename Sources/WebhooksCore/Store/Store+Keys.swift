extension Store {
    func keyPath(_ keyId: String) -> String { "\(keysFolder)/\(keyId).json" }

    public func saveKey(_ key: APIKeyRecord) throws {
        try write(key, to: keyPath(key.id))
    }

    /// O(1): the key id is the file name. `keyId` must already be checked to be hex.
    public func key(id keyId: String) throws -> APIKeyRecord? {
        try read(APIKeyRecord.self, at: keyPath(keyId))
    }

    public func allKeys() throws -> [APIKeyRecord] {
        try readAll(APIKeyRecord.self, in: keysFolder).sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    /// Marks a key revoked; false when there is no such key. The next request sees it.
    public func revokeKey(id keyId: String, at now: String) throws -> Bool {
        try FileLock.withLock("\(keysFolder)/lock") {
            guard var key = try key(id: keyId) else { return false }
            if key.revokedAt == nil {
                key.revokedAt = now
                try saveKey(key)
            }
            return true
        }
    }
}
