extension FileStore {
    public func saveKey(_ key: APIKeyRecord) throws {
        defer { generations.bump(.keys) }
        try write(key, to: layout.key(key.id))
    }

    /// O(1): the key id is the file name (or, with a cache, the table). `keyId` must already be
    /// checked to be hex. Nothing is read ahead: what follows costs no round trip here.
    public func key(id keyId: String, readAhead: ReadAhead) throws -> APIKeyRecord? {
        guard let cache else { return try read(APIKeyRecord.self, at: layout.key(keyId)) }
        return try keyTable(cache)[keyId]
    }

    /// A record read in place of a missing one, so an unknown key id costs the same file read and
    /// decode (or, with a cache, the same table lookup) as a known one with a wrong secret: answer
    /// times tell nothing about which ids exist. Hidden (a dot name), so listings skip it.
    public func keyDecoy() throws -> APIKeyRecord? {
        guard let cache else { return try read(APIKeyRecord.self, at: layout.keyDecoy) }
        return try keyTable(cache)[Self.decoyName]
    }

    private static let decoyName = ".decoy"

    /// Every key (and the decoy), read again when the keys' generation has moved.
    private func keyTable(_ cache: ReadCache) throws -> [String: APIKeyRecord] {
        let generation = generations.current(.keys)  // before reading: a later write moves it
        if let keys = cache.keys, keys.generation == generation { return keys.records }
        var records = Dictionary(try allKeys().map { ($0.id, $0) }) { first, _ in first }
        records[Self.decoyName] = try read(APIKeyRecord.self, at: layout.keyDecoy)
        cache.keys = (generation, records)
        return records
    }

    /// Writes the decoy once; every process calls this at start.
    func prepareKeyDecoy() throws {
        guard try FileSystem.size(layout.keyDecoy) == nil else { return }
        let id = try Random.bytes(8).hexString
        try write(
            APIKeyRecord(
                id: id, kind: .user, subject: "decoy-\(id)", label: "never matches",
                digest: try Random.bytes(32).hexString, createdAt: "1970-01-01T00:00:00.000Z",
                revokedAt: "1970-01-01T00:00:00.000Z"), to: layout.keyDecoy)
    }

    /// From disk, whatever the cache holds.
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
