import FoundationEssentials
import Glibc

extension FileStore {
    /// Returns the answer stored for (`scope`, `key`) within the last 24 h; otherwise runs `produce`
    /// and stores its answer when it is a success. Two concurrent requests with the same key
    /// queue once: they take the same lock, one of a fixed set (`StoreLayout.idempotencyLock`),
    /// so no lock file is left behind for an answer that was not stored, and none is ever removed
    /// while another process may be waiting on it.
    public func idempotent(
        scope: String, key: String, now: Date, produce: () throws -> StoredAnswer
    ) throws -> StoredAnswer {
        let name = StoredAnswer.name(scope: scope, key: key)
        let path = layout.idempotencyAnswer(name)
        return try FileLock.withLock(layout.idempotencyLock(name)) {
            if let stored = try read(StoredAnswer.self, at: path),
                let created = Timestamp.parse(stored.createdAt),
                now.timeIntervalSince(created) < StoredAnswer.replayWindow
            {
                return stored
            }
            let answer = try produce()
            if (200..<300).contains(answer.status) {
                try write(answer, to: path)
            }
            return answer
        }
    }
}
