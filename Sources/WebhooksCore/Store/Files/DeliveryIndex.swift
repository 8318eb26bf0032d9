import FoundationEssentials
import Glibc

/// A webhook's delivery ids in creation order, as fixed-width records (`{uuid}\n`, 37 bytes), so
/// the total is the file size / 37 (O(1)) and any page is one read of `limit` records (O(limit)),
/// however many deliveries exist.
struct DeliveryIndex {
    static let recordSize = 37
    let path: String

    /// Complete records only: a torn append from a killed writer is never counted.
    func count() throws -> Int {
        (try FileSystem.size(path) ?? 0) / Self.recordSize
    }

    /// Ids newest first, skipping `offset` of the newest, at most `limit`.
    func newestFirst(offset: Int, limit: Int) throws -> [String] {
        let total = try count()
        guard offset < total, limit > 0 else { return [] }
        let end = total - offset  // exclusive, in records from the oldest
        let start = max(0, end - limit)
        return try records(start..<end).reversed()
    }

    /// Ids oldest first, skipping `offset` of the oldest, at most `limit`.
    func oldestFirst(offset: Int, limit: Int) throws -> [String] {
        let total = try count()
        guard offset < total, limit > 0 else { return [] }
        return try records(offset..<min(total, offset + limit))
    }

    /// The records in `range` (record numbers from the oldest), in one pread.
    private func records(_ range: Range<Int>) throws -> [String] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        try FileSystem.check(fd, "open", path)
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: range.count * Self.recordSize)
        let got = bytes.withUnsafeMutableBytes {
            pread(fd, $0.baseAddress, $0.count, off_t(range.lowerBound * Self.recordSize))
        }
        try FileSystem.check(got, "pread", path)
        return (0..<(got / Self.recordSize)).map { record in
            let from = record * Self.recordSize
            return String(decoding: bytes[from..<(from + 36)], as: UTF8.self)
        }
    }

    /// Replaces the whole index atomically (pruning). Called under the user's lock.
    func replace(with ids: [String]) throws {
        try FileSystem.writeAtomically(Self.records(of: ids), to: path)
    }

    private static func records(of ids: [String]) -> [UInt8] {
        ids.flatMap { Array($0.utf8) + [UInt8(ascii: "\n")] }
    }

    /// Drops every record after the first `count` (undoing an append).
    func truncate(toCount count: Int) throws {
        try FileSystem.check(Glibc.truncate(path, off_t(count * Self.recordSize)), "truncate", path)
    }

    /// Appends ids. The caller makes them durable: `Store.queue` appends inside a batch that ends
    /// in a syncfs, which also makes a new index file's name durable. Called under the user's
    /// lock; first trims a torn record left by a writer killed mid-append (that write was never
    /// acknowledged). A failed append (a full disk) is cut off again, so the index never lists
    /// what the caller rolls back.
    func append(_ ids: [String]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        try FileSystem.check(fd, "open", path)
        defer { close(fd) }
        let size = lseek(fd, 0, SEEK_END)
        try FileSystem.check(size, "seek", path)
        let whole = off_t(Int(size) / Self.recordSize * Self.recordSize)
        if whole != size {
            try FileSystem.check(ftruncate(fd, whole), "truncate", path)
            try FileSystem.check(lseek(fd, whole, SEEK_SET), "seek", path)
        }
        do {
            try FileSystem.writeAll(fd, Self.records(of: ids), path)
        } catch {
            _ = ftruncate(fd, whole)
            throw error
        }
    }
}
