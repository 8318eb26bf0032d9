import CStore
import FoundationEssentials
import Glibc

/// Change counters shared by every process through one mapped file, `data_dir/generations`: one
/// for the keys, one for the servers, and two per user, its webhooks and its deliveries (hashed
/// into a fixed table, so two may share one: that only costs a needless reload). A fan-out moves
/// only the deliveries' counter, so a burst of them does not make every reader of the user's
/// webhooks (each fan-out, each send of the helper) parse the user's log again. Every write
/// bumps its counter after the data is written and before its lock is released; a cache is good
/// while its counter has not moved. Reading one is a memory load, so every request can check.
final class Generations: @unchecked Sendable {
    enum Slot {
        case keys, servers
        /// The user's webhooks.
        case user(String)
        /// The user's deliveries (their counts, in `GET /webhooks`).
        case deliveries(String)
    }

    static let userSlots = 4096
    private static let count = 2 + userSlots
    private let counters: UnsafeMutablePointer<UInt64>

    /// Maps the file, creating it (zeros) when missing.
    init(path: String) throws {
        let size = Self.count * MemoryLayout<UInt64>.size
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        try FileSystem.check(fd, "open", path)
        defer { close(fd) }
        counters = try FileSystem.mapShared(fd, size: size, writable: true, path: path).bindMemory(
            to: UInt64.self, capacity: Self.count)
    }

    func current(_ slot: Slot) -> UInt64 {
        stellar_counter_load(counters + index(slot))
    }

    func bump(_ slot: Slot) {
        stellar_counter_bump(counters + index(slot))
    }

    private func index(_ slot: Slot) -> Int {
        switch slot {
        case .keys: return 0
        case .servers: return 1
        case .user(let userId): return 2 + Self.slot(of: userId.utf8)
        case .deliveries(let userId): return 2 + Self.slot(of: [0] + userId.utf8)  // a NUL: no user id's bytes
        }
    }

    /// FNV-1a: stable across processes (Swift's Hasher is seeded per process).
    private static func slot<Bytes: Sequence<UInt8>>(of bytes: Bytes) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return Int(hash % UInt64(userSlots))
    }
}

/// A worker's copies of what it reads on almost every request: the key table, servers, and each
/// user's webhooks. Each is kept with the generation it was read at and used only while that
/// generation is still current, so a change made by any process is seen on the next request.
final class ReadCache: @unchecked Sendable {
    /// Users whose webhooks are kept; past this the cache starts over (workers stay small).
    static let maxUsers = 128
    static let maxServers = 4096

    var keys: (generation: UInt64, records: [String: APIKeyRecord])?
    var servers: (generation: UInt64, records: [String: Server?]) = (0, [:])
    var webhooks: [String: (generation: UInt64, list: [Webhook])] = [:]
    /// Each user's `GET /webhooks` answer as sent: it depends on the user's webhooks, their
    /// delivery counts and server names (three generations).
    var webhookLists: [String: (generation: UInt64, deliveries: UInt64, servers: UInt64, body: [UInt8])] = [:]
}
