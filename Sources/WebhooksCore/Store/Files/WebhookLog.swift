import FoundationEssentials
import Glibc

/// A user's webhooks as one append-only file of JSON lines, `users/{userId}/webhooks.jsonl`
/// (docs/architecture.md, "Files on disk"). Each line is one change: the whole webhook after a
/// create or an update, or the id of a removed one, with `live`, how many webhooks the user has
/// after it. A create is therefore one append and one `fdatasync`, with no new file, folder or
/// inode (inode allocation was most of a create's cost), and the limit check reads only the last
/// line. Writers append under the user's lock; readers take complete lines only, so a torn
/// append from a killed writer is never seen, and the next writer cuts it off.
struct WebhookLog {
    let path: String

    struct Line: Codable {
        var live: Int
        var webhook: Webhook?
        var removed: String?
    }

    /// The webhooks it holds, in the order they were created, and how many lines it has (the
    /// rest are changes that a rewrite would drop).
    func read() throws -> (webhooks: [Webhook], lines: Int) {
        guard let bytes = try FileSystem.read(path) else { return ([], 0) }
        var order: [String] = []
        var current: [String: Webhook] = [:]
        var lines = 0
        var start = 0
        while let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
            let line = try RecordCoding.decode(Line.self, from: Array(bytes[start..<end]))
            if let webhook = line.webhook {
                if current.updateValue(webhook, forKey: webhook.id) == nil { order.append(webhook.id) }
            } else if let removed = line.removed {
                current[removed] = nil
            }
            lines += 1
            start = end + 1
        }
        return (order.compactMap { current[$0] }, lines)
    }

    /// Opens the log for one change; call under the user's lock and keep the lock until the line
    /// is appended.
    func openForAppending() throws -> Appender {
        guard let appender = try Appender(path: path, creating: true) else {
            throw FileSystem.Failure(operation: "open", path: path, code: ENOENT)
        }
        return appender
    }

    /// Cuts off a torn last line, if there is a log (start-up recovery). Under the user's lock.
    func cutTornLine() throws {
        _ = try Appender(path: path, creating: false)
    }

    /// Replaces the whole log with one line per webhook (atomically, durably): drops what changes
    /// have made dead, or starts a log from webhooks kept another way. Under the user's lock.
    func rewrite(_ webhooks: [Webhook]) throws {
        var bytes: [UInt8] = []
        for (number, webhook) in webhooks.enumerated() {
            bytes += try RecordCoding.encodeLine(Line(live: number + 1, webhook: webhook))
        }
        try FileSystem.writeAtomically(bytes, to: path)
    }

    /// The log open for one append. Opening trims a torn last line (a writer killed mid-append:
    /// never acknowledged) and reads `live` from the last whole one.
    final class Appender {
        let path: String
        /// Webhooks the user has before this change.
        private(set) var live = 0
        private let fd: Int32
        private var size: off_t = 0
        private var created = false

        /// nil when there is no log and `creating` is false.
        fileprivate init?(path: String, creating: Bool) throws {
            self.path = path
            var fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC)
            if fd < 0 && errno == ENOENT {
                guard creating else { return nil }
                fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
                created = true
            }
            try FileSystem.check(fd, "open", path)
            self.fd = fd
            let (whole, last) = try readTail()
            if whole != size {
                try FileSystem.check(ftruncate(fd, whole), "truncate", path)
                size = whole
            }
            if let last { live = try Self.live(of: last) }
        }

        /// A line's `live`: it comes first in every line written (keys are sorted), so it is read
        /// straight from the line's start; any other line is decoded whole.
        static func live(of line: [UInt8]) throws -> Int {
            let prefix = Array(#"{"live":"#.utf8)
            if line.starts(with: prefix) {
                let digits = line[prefix.count...].prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
                if (1...9).contains(digits.count), line.count > prefix.count + digits.count,
                    line[prefix.count + digits.count] == UInt8(ascii: ",")
                {
                    return digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
                }
            }
            return try RecordCoding.decode(Line.self, from: line).live
        }

        deinit {
            close(fd)
        }

        /// Where the whole lines end, and the last whole line (nil when there is none). Reads
        /// back from the end in growing chunks: usually one pread of the last 4 KB.
        private func readTail() throws -> (whole: off_t, last: [UInt8]?) {
            var info = stat()
            try FileSystem.check(fstat(fd, &info), "stat", path)
            size = info.st_size
            var chunk = 4096
            while true {
                let from = max(0, size - off_t(chunk))
                var bytes = [UInt8](repeating: 0, count: Int(size - from))
                let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, from) }
                try FileSystem.check(got, "pread", path)
                guard got == bytes.count else { throw FileSystem.Failure(operation: "pread", path: path, code: EIO) }
                let newline = UInt8(ascii: "\n")
                guard let lastEnd = bytes.lastIndex(of: newline) else {
                    if from == 0 { return (0, nil) }  // not one whole line
                    chunk *= 4
                    continue
                }
                let whole = from + off_t(lastEnd + 1)
                if let before = bytes[..<lastEnd].lastIndex(of: newline) {
                    return (whole, Array(bytes[(before + 1)..<lastEnd]))
                }
                if from == 0 { return (whole, Array(bytes[..<lastEnd])) }
                chunk *= 4
            }
        }

        /// Appends one line; a failed write (a full disk) is cut off again, so the log is as it was.
        func append(_ line: Line) throws {
            do {
                try FileSystem.writeAll(fd, try RecordCoding.encodeLine(line), path)
            } catch {
                _ = ftruncate(fd, size)
                throw error
            }
        }

        /// Makes what was appended durable. Safe after the lock is released: the appends of writers
        /// that came meanwhile are flushed with it. A new log's name is made durable too.
        func sync() throws {
            try FileSystem.check(fdatasync(fd), "fdatasync", path)
            if created { try FileSystem.syncFolder(Path.parent(of: path)) }
        }
    }
}
