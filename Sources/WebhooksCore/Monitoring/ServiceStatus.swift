import FoundationEssentials

/// What `stellar-webhooks status` reports (LSB's `status`: 0 running, 3 not running), made from a
/// scoreboard snapshot and the store's pending deliveries, as text for people and JSON for scripts.
public struct ServiceStatus: Sendable {
    public var snapshot: ScoreboardSnapshot
    /// nil when the store could not be read (a database down): said as unknown.
    public var pending: PendingSummary?
    public var now: Date

    public init(snapshot: ScoreboardSnapshot, pending: PendingSummary?, now: Date) {
        self.snapshot = snapshot
        self.pending = pending
        self.now = now
    }

    /// "sending", "paused" or "not running".
    public var helperState: String {
        guard snapshot.helperPid != nil else { return "not running" }
        return pause == .none ? "sending" : "paused"
    }

    /// Why every send is paused now, if it is; `snapshot.pausedUntil` says until when (nil for a
    /// full disk: until it takes writes).
    var pause: Scoreboard.Pause { snapshot.pauseInForce(at: now) }

    public var json: JSONValue {
        var helper: [String: JSONValue] = [
            "state": .string(helperState), "sendsInFlight": .int(snapshot.sendsInFlight),
        ]
        if let pid = snapshot.helperPid { helper["pid"] = .int(Int(pid)) }
        if pause != .none {
            helper["pausedBecause"] = .string(pause.label)
            helper["pausedUntil"] = snapshot.pausedUntil.map { .string(Timestamp.format($0)) } ?? .null
        }
        return .object([
            "running": .bool(true),
            "version": .string(Product.version),
            "master": .object([
                "pid": .int(Int(snapshot.masterPid)),
                "startedAt": .string(Timestamp.format(snapshot.startedAt)),
                "uptimeSeconds": .int(Int(now.timeIntervalSince(snapshot.startedAt))),
            ]),
            "socket": .object(["address": .string(snapshot.socket), "inherited": .bool(snapshot.socketInherited)]),
            "store": .string(snapshot.store),
            "workers": .object([
                "busy": .int(snapshot.busyWorkers), "idle": .int(snapshot.idleWorkers),
                "configured": .int(snapshot.configuredWorkers),
            ]),
            "requestsServed": .int(Int(snapshot.requestsServed)),
            "helper": .object(helper),
            "deliveries": .object([
                "pending": pending.map { .int($0.count) } ?? .null,
                "oldestPendingAgeSeconds": pending.map { .int(Int($0.oldestAge(now: now))) } ?? .null,
                "lastDeliveredAt": snapshot.lastDelivered.map { .string(Timestamp.format($0)) } ?? .null,
                "lastFailedAt": snapshot.lastFailed.map { .string(Timestamp.format($0)) } ?? .null,
            ]),
            "webhooksDisabled": .int(Int(snapshot.webhooksDisabled)),
        ])
    }

    public var text: String {
        let board = snapshot
        var helper = "not running"
        if let pid = board.helperPid {
            if pause != .none {
                let until = board.pausedUntil.map { "until \(Timestamp.format($0))" } ?? "until the store takes writes"
                helper = "pid \(pid), paused (\(Self.reason(pause))) \(until)"
            } else {
                helper = "pid \(pid), sending (\(board.sendsInFlight) in flight)"
            }
        }
        var deliveries = "unknown (the store cannot be read)"
        if let pending {
            deliveries = "\(pending.count) pending"
            if pending.count > 0 { deliveries += ", the oldest waiting \(Self.duration(pending.oldestAge(now: now)))" }
        }
        let lines = [
            "stellar-webhooks \(Product.version) is running",
            "  master      pid \(board.masterPid), up \(Self.duration(now.timeIntervalSince(board.startedAt))) (since \(Timestamp.format(board.startedAt)))",
            "  socket      \(board.socket) (\(board.socketInherited ? "inherited" : "made by the master"))",
            "  store       \(board.store)",
            "  workers     \(board.busyWorkers) busy, \(board.idleWorkers) idle, \(board.configuredWorkers) configured; \(board.requestsServed) requests served",
            "  helper      \(helper)",
            "  deliveries  \(deliveries)",
            "  last        delivered \(board.lastDelivered.map(Timestamp.format) ?? "none since start"), failed \(board.lastFailed.map(Timestamp.format) ?? "none since start")",
            "  disabled    \(board.webhooksDisabled) since start (the provider answered that the webhook is gone)",
        ]
        return lines.joined(separator: "\n")
    }

    static func reason(_ pause: Scoreboard.Pause) -> String {
        switch pause {
        case .none: return "no reason"
        case .fullDisk: return "the store cannot be written"
        case .discordGlobal: return "Discord's global rate limit"
        case .cloudflareBan: return "Discord's Cloudflare ban of this address"
        }
    }

    /// "3 s", "4 min 10 s", "2 h 5 min", "3 d 4 h".
    static func duration(_ seconds: TimeInterval) -> String {
        let total = Int(max(0, seconds))
        let (days, hours, minutes, rest) = (total / 86400, total % 86400 / 3600, total % 3600 / 60, total % 60)
        if days > 0 { return "\(days) d \(hours) h" }
        if hours > 0 { return "\(hours) h \(minutes) min" }
        if minutes > 0 { return "\(minutes) min \(rest) s" }
        return "\(rest) s"
    }
}
