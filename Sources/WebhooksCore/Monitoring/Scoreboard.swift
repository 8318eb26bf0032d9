import CStore
import FoundationEssentials
import Glibc

/// The service's shared state, for monitoring (docs/architecture.md: "Monitoring"): one mapped
/// file, `data_dir/scoreboard`, made anew by the master at each start, in which every process of
/// the host keeps its counters and its state with atomic operations: a worker its slot and the
/// requests it answered, the delivery helper its state and its sends, the master the restarts.
/// `GET /metrics`, `metrics` and `status` read it (`ScoreboardSnapshot`), so counters cover the
/// whole host and neither reset nor go back when a worker is recycled or killed; only a new master
/// starts them again, with a new start time, as Prometheus expects of a restarted process.
/// Writing one is a relaxed atomic add on a mapped page: nothing a request waits for.
public final class Scoreboard: @unchecked Sendable {
    /// "swhb" and the layout's version: a reader of another layout says so instead of misreading.
    static let magic: UInt64 = 0x7377_6862_0000_0002

    /// What a worker's slot says it is doing.
    public enum WorkerState: UInt64, Sendable {
        case free = 0
        case idle, busy
    }

    /// Why the delivery helper is not sending, if it is not.
    public enum Pause: UInt64, Sendable, CaseIterable {
        case none = 0
        case fullDisk, discordGlobal, cloudflareBan

        /// The metrics label and the word `status` prints.
        public var label: String {
            switch self {
            case .none: return "none"
            case .fullDisk: return "full_disk"
            case .discordGlobal: return "discord_global"
            case .cloudflareBan: return "cloudflare_ban"
            }
        }
    }

    /// Why the master started a worker again.
    public enum RestartCause: Int, CaseIterable, Sendable {
        case maxRequests = 0
        case crashed, reload

        public var label: String { ["max_requests", "crashed", "reload"][rawValue] }
    }

    /// How a delivery ended.
    public enum Finish: Int, CaseIterable, Sendable {
        case delivered = 0
        case failed

        public var label: String { ["delivered", "failed"][rawValue] }
    }

    // MARK: Layout, in 64-bit words

    /// Status codes counted one by one; any other lands in the last place ("other").
    public static let statusCodes = [200, 201, 202, 400, 401, 403, 404, 405, 408, 413, 415, 429, 500, 503]
    /// Every route of `Router.routes`, then requests that matched none.
    public static let routeCount = Router.routes.count + 1
    /// Upper bounds of the request duration histogram, in seconds (a manual send waits up to
    /// `delivery_timeout` + 5 s).
    public static let requestBuckets: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
    ]
    /// The same for one send to a provider.
    public static let sendBuckets: [Double] = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
    public static let workerSlots = 256
    static let textWords = 32  // 256 bytes: the socket and the store, as `status` prints them

    enum Header: Int {
        case magic = 0
        case masterPid, startedAtMs, configuredWorkers, listenInherited, helperRestarts
    }

    enum Helper: Int {
        case pid = 0
        case pause, pausedUntilMs, lastDeliveredMs, lastFailedMs, inFlight
    }

    static let headerWords = 16
    static let socketText = headerWords
    static let storeText = socketText + textWords
    static let slots = storeText + textWords
    static let slotWords = 3  // pid, state, requests served
    static let helper = slots + workerSlots * slotWords
    static let requests = helper + 8
    static let requestCodes = statusCodes.count + 1
    static let durations = requests + routeCount * requestCodes
    /// Per route: one count per bucket (the last for over the largest bound), then the sum in µs.
    static let durationWords = requestBuckets.count + 2
    static let restarts = durations + routeCount * durationWords
    static let events = restarts + RestartCause.allCases.count
    /// The helper's counts are per provider (`Providers.all`), each a run of this many words.
    static let providerCount = Providers.all.count
    static let finished = events + EventCatalogue.all.count
    static let sends = finished + providerCount * Finish.allCases.count
    static let sendWords = sendBuckets.count + 2
    static let rateLimited = sends + providerCount * sendWords
    static let disabledWebhooks = rateLimited + providerCount * scopes.count
    static let storageUnavailable = disabledWebhooks + providerCount
    static let words = storageUnavailable + 1

    let words: UnsafeMutablePointer<UInt64>
    private let size: Int

    public let path: String

    /// The master's: a zeroed scoreboard at `path`. The last run's file is reused in place, so a
    /// start on a full disk needs no new block; the first is made whole under a temp name and
    /// renamed in, so no reader sees half of one.
    public static func create(
        at path: String, masterPid: Int32, startedAt: Date, workers: Int,
        socket: String, inherited: Bool, store: String
    ) throws -> Scoreboard {
        let board: Scoreboard
        if let earlier = try open(at: path, writable: true) {
            board = earlier
            board.set(Header.magic.rawValue, 0)  // readers ignore it until it is whole again
            UnsafeMutableRawPointer(board.words + 1).initializeMemory(
                as: UInt8.self, repeating: 0, count: board.size - 8)
        } else {
            // A temp name start-up recovery removes, should this master die before the rename.
            let temp = "\(Path.parent(of: path))/\(FileSystem.tempPrefix)\(Path.name(of: path)).\(masterPid)"
            let fd = Glibc.open(temp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            try FileSystem.check(fd, "open", temp)
            defer { close(fd) }
            board = try Scoreboard(fd: fd, path: path, writable: true)
            try FileSystem.check(rename(temp, path), "rename", temp)
        }
        board.set(Header.startedAtMs.rawValue, Self.milliseconds(startedAt))
        board.set(Header.masterPid.rawValue, UInt64(masterPid))
        board.set(Header.configuredWorkers.rawValue, UInt64(workers))
        board.set(Header.listenInherited.rawValue, inherited ? 1 : 0)
        board.write(text: socket, at: socketText)
        board.write(text: store, at: storeText)
        board.set(Header.magic.rawValue, magic)
        return board
    }

    /// Every other process's: the scoreboard the master made, or nil when there is none (no
    /// service has run on this data_dir). Throws when it cannot be read (permissions).
    public static func open(at path: String, writable: Bool) throws -> Scoreboard? {
        let fd = Glibc.open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC)
        if fd < 0 && errno == ENOENT { return nil }
        try FileSystem.check(fd, "open", path)
        defer { close(fd) }
        var info = stat()
        try FileSystem.check(fstat(fd, &info), "stat", path)
        guard Int(info.st_size) == words * 8 else { return nil }  // another layout, or half made
        let board = try Scoreboard(fd: fd, path: path, writable: writable)
        return board.load(Header.magic.rawValue) == magic ? board : nil
    }

    private init(fd: Int32, path: String, writable: Bool) throws {
        size = Self.words * 8
        self.path = path
        words = try FileSystem.mapShared(fd, size: size, writable: writable, path: path).bindMemory(
            to: UInt64.self, capacity: Self.words)
    }

    deinit { munmap(words, size) }

    // MARK: Words

    func load(_ index: Int) -> UInt64 { stellar_counter_load(words + index) }
    func set(_ index: Int, _ value: UInt64) { stellar_counter_store(words + index, value) }
    func add(_ index: Int, _ amount: UInt64 = 1) { stellar_counter_add(words + index, amount) }

    private func write(text: String, at index: Int) {
        let bytes = Array(text.utf8.prefix(Self.textWords * 8 - 1))
        let raw = UnsafeMutableRawPointer(words + index)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: Self.textWords * 8)
        raw.copyMemory(from: bytes, byteCount: bytes.count)
    }

    func text(at index: Int) -> String {
        let raw = UnsafeRawPointer(words + index).assumingMemoryBound(to: UInt8.self)
        let bytes = UnsafeBufferPointer(start: raw, count: Self.textWords * 8)
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    static func milliseconds(_ date: Date) -> UInt64 {
        UInt64(max(0, date.timeIntervalSince1970 * 1000))
    }

    // MARK: The master

    public func workerRestarted(_ cause: RestartCause) { add(Self.restarts + cause.rawValue) }
    public func helperRestarted() { add(Header.helperRestarts.rawValue) }
    /// A reload started a new generation of `workers` workers.
    public func reloaded(workers: Int) {
        set(Header.configuredWorkers.rawValue, UInt64(workers))
        add(Self.restarts + RestartCause.reload.rawValue, UInt64(workers))
    }

    /// Frees the slot of a child that has ended, whatever state it died in.
    public func childEnded(pid: Int32) {
        for slot in 0..<Self.workerSlots where load(slotWord(slot, 0)) == UInt64(pid) {
            set(slotWord(slot, 1), WorkerState.free.rawValue)
            _ = stellar_counter_exchange(words + slotWord(slot, 0), UInt64(pid), 0)
        }
        if load(Self.helper + Helper.pid.rawValue) == UInt64(pid) {
            set(Self.helper + Helper.pid.rawValue, 0)
            set(Self.helper + Helper.inFlight.rawValue, 0)
        }
    }

    // MARK: Workers

    func slotWord(_ slot: Int, _ word: Int) -> Int { Self.slots + slot * Self.slotWords + word }

    /// A worker takes a free slot for its pid; nil when all are taken (it then counts requests
    /// but shows in no slot).
    public func claimWorkerSlot(pid: Int32) -> WorkerSlot? {
        for slot in 0..<Self.workerSlots where load(slotWord(slot, 0)) == 0 {
            if stellar_counter_exchange(words + slotWord(slot, 0), 0, UInt64(pid)) != 0 {
                set(slotWord(slot, 2), 0)
                set(slotWord(slot, 1), WorkerState.idle.rawValue)
                return WorkerSlot(board: self, slot: slot)
            }
        }
        return nil
    }

    /// Counts one answered request: its route (an index into `Router.routes`, nil for none), its
    /// status and how long it took.
    public func requestAnswered(route: Int?, status: Int, seconds: Double) {
        let routeIndex = route ?? Router.routes.count
        let code = Self.statusCodes.firstIndex(of: status) ?? Self.statusCodes.count
        add(Self.requests + routeIndex * Self.requestCodes + code)
        let base = Self.durations + routeIndex * Self.durationWords
        let bucket = Self.requestBuckets.firstIndex { seconds <= $0 } ?? Self.requestBuckets.count
        add(base + bucket)
        add(base + Self.requestBuckets.count + 1, UInt64(max(0, seconds) * 1_000_000))
        if status == 503 { add(Self.storageUnavailable) }
    }

    // MARK: The delivery helper

    public func helperStarted(pid: Int32) { set(Self.helper + Helper.pid.rawValue, UInt64(pid)) }

    /// The helper's state, set on every turn of its loop.
    public func helperState(pause: Pause, until: Date?, inFlight: Int) {
        set(Self.helper + Helper.pause.rawValue, pause.rawValue)
        set(Self.helper + Helper.pausedUntilMs.rawValue, until.map(Self.milliseconds) ?? 0)
        set(Self.helper + Helper.inFlight.rawValue, UInt64(inFlight))
    }

    public func eventReceived(_ event: String) {
        if let index = EventCatalogue.all.firstIndex(of: event) { add(Self.events + index) }
    }

    /// One HTTP request to `provider` answered (or failed to be), in `seconds`.
    public func sent(by provider: String, seconds: Double) {
        let base = Self.sends + Self.providerIndex(provider) * Self.sendWords
        let bucket = Self.sendBuckets.firstIndex { seconds <= $0 } ?? Self.sendBuckets.count
        add(base + bucket)
        add(base + Self.sendBuckets.count + 1, UInt64(max(0, seconds) * 1_000_000))
    }

    public func deliveryFinished(_ finish: Finish, by provider: String, at date: Date) {
        add(Self.finished + Self.providerIndex(provider) * Finish.allCases.count + finish.rawValue)
        let word = finish == .delivered ? Helper.lastDeliveredMs : Helper.lastFailedMs
        set(Self.helper + word.rawValue, Self.milliseconds(date))
    }

    /// A 429 from `provider`.
    public func rateLimited(_ scope: RateLimitScope, by provider: String) {
        add(Self.rateLimited + Self.providerIndex(provider) * Self.scopes.count + Self.scopeIndex(scope))
    }

    static let scopes: [RateLimitScope] = [.webhook, .global, .cloudflareBan]
    static func scopeIndex(_ scope: RateLimitScope) -> Int { scopes.firstIndex(of: scope) ?? 0 }
    /// A webhook disabled because `provider` answered that it is gone.
    public func webhookDisabled(by provider: String) { add(Self.disabledWebhooks + Self.providerIndex(provider)) }

    /// A provider's place in `Providers.all` (a name this version does not know counts as the first).
    static func providerIndex(_ name: String) -> Int { Providers.all.firstIndex { $0.name == name } ?? 0 }
}

/// A worker's slot on the scoreboard: idle or busy, and how many requests it has served.
public struct WorkerSlot: Sendable {
    let board: Scoreboard
    let slot: Int

    public func busy() {
        board.set(board.slotWord(slot, 1), Scoreboard.WorkerState.busy.rawValue)
    }

    public func idle() {
        board.add(board.slotWord(slot, 2))
        board.set(board.slotWord(slot, 1), Scoreboard.WorkerState.idle.rawValue)
    }
}
