import FoundationEssentials
import Glibc

/// The flat-file store under `data_dir` (docs/architecture.md, "Files on disk"); its paths are in
/// `StoreLayout`. Every write is atomic and durable (FileSystem.writeAtomically) and made under a
/// flock, so the workers, the delivery helper and the CLI can all write at once.
public final class FileStore: StoreBackend, @unchecked Sendable {
    public let layout: StoreLayout
    /// The time outbox entries are named by. Passed in, so the store reads no clock of its own.
    let clock: @Sendable () -> Date

    /// Bumped by every write, read by caches.
    let generations: Generations
    /// Kept by the workers, which answer the same reads again and again, and by the delivery
    /// helper, which looks up a delivery's webhook (a read of the user's log) for every send.
    let cache: ReadCache?

    public var root: String { layout.root }

    /// Opens (and creates) `root` and its shared change counters. `caching`: keep copies of what
    /// is read most, checked against those counters on every read.
    public init(root: String, clock: @escaping @Sendable () -> Date, caching: Bool = false) throws {
        self.layout = StoreLayout(root: root)
        self.clock = clock
        try FileSystem.makeFolder(root)
        self.generations = try Generations(path: layout.generations)
        self.cache = caching ? ReadCache() : nil
    }

    /// Creates the top-level folders. Safe to call from every process at every start.
    public func prepare() throws {
        for folder in layout.folders {
            try FileSystem.makeFolder(folder)
        }
        try prepareKeyDecoy()
    }

    /// Runs `body` holding the user's lock: every change to a user's webhooks and deliveries.
    /// The user's folder is made by the first one (not checked each time: a `mkdir` per write).
    func withUserLock<T>(_ userId: String, _ body: () throws -> T) throws -> T {
        let lock: FileLock
        do {
            lock = try FileLock(layout.userLock(userId))
        } catch let failure as FileSystem.Failure where failure.code == ENOENT {
            try FileSystem.makeFolder(layout.user(userId))
            lock = try FileLock(layout.userLock(userId))
        }
        defer { lock.unlock() }
        return try body()
    }

    // MARK: Records as JSON files

    /// A record as its file holds it (RecordCoding).
    func encode<T: Encodable>(_ record: T) throws -> [UInt8] {
        try RecordCoding.encode(record)
    }

    func write<T: Encodable>(_ record: T, to path: String) throws {
        try FileSystem.writeAtomically(try encode(record), to: path)
    }

    /// Every record in a folder of `{id}.json` files.
    func readAll<T: Decodable>(_ type: T.Type, in folder: String) throws -> [T] {
        try FileSystem.list(folder)
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
            .compactMap { try read(T.self, at: "\(folder)/\($0)") }
    }

    /// The record at `path`, or nil when there is none.
    func read<T: Decodable>(_ type: T.Type, at path: String) throws -> T? {
        guard let bytes = try FileSystem.read(path) else { return nil }
        return try RecordCoding.decode(T.self, from: bytes)
    }
}
