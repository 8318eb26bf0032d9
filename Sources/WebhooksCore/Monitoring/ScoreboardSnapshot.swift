import FoundationEssentials

/// The scoreboard read whole at one moment, as plain values: what `MetricsText` and
/// `ServiceStatus` are made from, so both are pure functions that tests feed by hand.
public struct ScoreboardSnapshot: Sendable {
    public struct Worker: Sendable, Equatable {
        public var pid: Int32
        public var busy: Bool
        public var served: UInt64
    }

    public var masterPid: Int32
    public var startedAt: Date
    public var configuredWorkers: Int
    /// The listening socket (a path or HOST:PORT), and whether it was handed over (systemd,
    /// spawn-fcgi, mod_fcgid) rather than made by the master.
    public var socket: String
    public var socketInherited: Bool
    /// "flat files in DIR" or "PostgreSQL on HOST, database NAME": never a password.
    public var store: String
    public var workers: [Worker]
    public var helperPid: Int32?
    public var pause: Scoreboard.Pause
    public var pausedUntil: Date?
    public var sendsInFlight: Int
    public var lastDelivered: Date?
    public var lastFailed: Date?
    public var helperRestarts: UInt64
    /// By route (`Router.routes`, then "none"), by status (`Scoreboard.statusCodes`, then other).
    public var requests: [[UInt64]]
    /// By route: a count per bucket of `Scoreboard.requestBuckets` (then over the last), and the
    /// sum in microseconds.
    public var requestDurations: [(buckets: [UInt64], sumMicros: UInt64)]
    public var workerRestarts: [UInt64]
    /// By `EventCatalogue.all`.
    public var events: [UInt64]
    /// The helper's counts by provider (`Providers.all`), each as below.
    public var providers: [ProviderCounts]
    public var storageUnavailable: UInt64

    /// The pause in force at `now`: the helper's last word, unless the end it gave has passed
    /// (it writes no more while it waits). `.none` without one; a full disk's has no end.
    public func pauseInForce(at now: Date) -> Scoreboard.Pause {
        pausedUntil.map { $0 > now } ?? true ? pause : .none
    }

    /// What the helper counted of one provider's sends.
    public struct ProviderCounts: Sendable {
        public var name: String
        /// By `Scoreboard.Finish`.
        public var finished: [UInt64]
        public var sendDurations: (buckets: [UInt64], sumMicros: UInt64)
        /// By `Scoreboard.scopes`.
        public var rateLimited: [UInt64]
        public var webhooksDisabled: UInt64
    }

    public var busyWorkers: Int { workers.filter(\.busy).count }
    public var idleWorkers: Int { workers.count - busyWorkers }
    public var requestsServed: UInt64 { requests.joined().reduce(0, +) }
    public var webhooksDisabled: UInt64 { providers.map(\.webhooksDisabled).reduce(0, +) }
}

extension Scoreboard {
    public func snapshot() -> ScoreboardSnapshot {
        func date(_ word: Int) -> Date? {
            let ms = load(word)
            return ms == 0 ? nil : Date(timeIntervalSince1970: Double(ms) / 1000)
        }
        func run(_ start: Int, _ count: Int) -> [UInt64] { (0..<count).map { load(start + $0) } }
        func histogram(_ start: Int, _ bounds: Int) -> (buckets: [UInt64], sumMicros: UInt64) {
            (run(start, bounds + 1), load(start + bounds + 1))
        }

        var workers: [ScoreboardSnapshot.Worker] = []
        for slot in 0..<Self.workerSlots {
            let pid = load(slotWord(slot, 0))
            let state = WorkerState(rawValue: load(slotWord(slot, 1))) ?? .free
            guard pid != 0, state != .free else { continue }
            workers.append(
                .init(pid: Int32(truncatingIfNeeded: pid), busy: state == .busy, served: load(slotWord(slot, 2))))
        }
        let helperPid = Int32(truncatingIfNeeded: load(Self.helper + Helper.pid.rawValue))
        return ScoreboardSnapshot(
            masterPid: Int32(truncatingIfNeeded: load(Header.masterPid.rawValue)),
            startedAt: date(Header.startedAtMs.rawValue) ?? Date(timeIntervalSince1970: 0),
            configuredWorkers: Int(load(Header.configuredWorkers.rawValue)),
            socket: text(at: Self.socketText),
            socketInherited: load(Header.listenInherited.rawValue) == 1,
            store: text(at: Self.storeText),
            workers: workers,
            helperPid: helperPid == 0 ? nil : helperPid,
            pause: Pause(rawValue: load(Self.helper + Helper.pause.rawValue)) ?? .none,
            pausedUntil: date(Self.helper + Helper.pausedUntilMs.rawValue),
            sendsInFlight: Int(load(Self.helper + Helper.inFlight.rawValue)),
            lastDelivered: date(Self.helper + Helper.lastDeliveredMs.rawValue),
            lastFailed: date(Self.helper + Helper.lastFailedMs.rawValue),
            helperRestarts: load(Header.helperRestarts.rawValue),
            requests: (0..<Self.routeCount).map { run(Self.requests + $0 * Self.requestCodes, Self.requestCodes) },
            requestDurations: (0..<Self.routeCount).map {
                histogram(Self.durations + $0 * Self.durationWords, Self.requestBuckets.count)
            },
            workerRestarts: run(Self.restarts, RestartCause.allCases.count),
            events: run(Self.events, EventCatalogue.all.count),
            providers: Providers.all.enumerated().map { index, provider in
                .init(
                    name: provider.name,
                    finished: run(Self.finished + index * Finish.allCases.count, Finish.allCases.count),
                    sendDurations: histogram(Self.sends + index * Self.sendWords, Self.sendBuckets.count),
                    rateLimited: run(Self.rateLimited + index * Self.scopes.count, Self.scopes.count),
                    webhooksDisabled: load(Self.disabledWebhooks + index))
            },
            storageUnavailable: load(Self.storageUnavailable))
    }
}

/// How many deliveries are pending, and when the oldest of them was queued: read from the store
/// (the outbox) at the moment of asking, so it is true even while the helper is stopped or paused.
public struct PendingSummary: Sendable, Equatable {
    public var count: Int
    public var oldestQueuedAt: Date?

    public init(count: Int, oldestQueuedAt: Date?) {
        self.count = count
        self.oldestQueuedAt = oldestQueuedAt
    }

    public func oldestAge(now: Date) -> TimeInterval {
        oldestQueuedAt.map { max(0, now.timeIntervalSince($0)) } ?? 0
    }
}
