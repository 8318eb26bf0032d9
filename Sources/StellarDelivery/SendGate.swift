import FoundationEssentials
import Glibc
import WebhooksCore

/// Who may send now (docs/architecture.md: "A delivery"): at most `concurrency` requests in flight,
/// one per Discord webhook, none to a webhook whose bucket is empty, none at all during a global
/// pause, and at most `ratePerSecond` started in any one second (a sliding window, counted a little
/// wide because Discord counts arrivals, not starts), spread evenly over it: starts that bunch up
/// also bunch up on arrival, by however much their trips differ. Time is passed in; no clock here.
struct SendGate: Sendable {
    let concurrency: Int
    let ratePerSecond: Double
    /// One second plus a margin for the trip to Discord: 30 ms keeps the rate within 3 % of the
    /// configured one.
    static let rateWindow: TimeInterval = 1.03
    /// The least time between two starts: the window shared out evenly.
    let spacing: TimeInterval

    private var inFlight: Set<String> = []
    private var blockedUntil: [String: Date] = [:]
    private var pausedUntil: Date?
    /// Why every send is paused (Discord's global limit, Cloudflare's ban), while it is.
    private var pauseReason = Scoreboard.Pause.none
    /// When the sends of the last second started, oldest first.
    private var recentStarts: [Date] = []

    init(concurrency: Int, ratePerSecond: Int) {
        self.concurrency = concurrency
        self.ratePerSecond = Double(ratePerSecond)
        self.spacing = Self.rateWindow / Double(max(1, ratePerSecond))
    }

    /// Whether anything may start at all: a free slot, no pause, room in the last second.
    mutating func isOpen(now: Date) -> Bool {
        forgetStarts(before: now.addingTimeInterval(-Self.rateWindow))
        return inFlight.count < concurrency && !isPaused(now: now) && Double(recentStarts.count) < ratePerSecond
            && (recentStarts.last.map { now >= $0.addingTimeInterval(spacing) } ?? true)
    }

    /// Whether a send to the webhook with this rate-limit key may start now.
    mutating func mayStart(_ key: String, now: Date) -> Bool {
        isOpen(now: now) && isFree(key, at: now)
    }

    /// Whether the webhook with this rate-limit key takes a send at `at` as far as it alone goes:
    /// none in flight to it, no bucket wait running then.
    func isFree(_ key: String, at: Date) -> Bool {
        !inFlight.contains(key) && (blockedUntil[key].map { $0 <= at } ?? true)
    }

    /// When the rate lets the next send start (`now`, or the end of the spacing after the last
    /// start, or of the window), provided a slot is free and no pause holds every send; nil
    /// otherwise. The helper claims the send that goes then a little before (`claimAhead`).
    func rateOpens(now: Date) -> Date? {
        guard inFlight.count < concurrency, !isPaused(now: now) else { return nil }
        let counted = recentStarts.filter { $0 > now.addingTimeInterval(-Self.rateWindow) }
        var opens = max(now, counted.last.map { $0.addingTimeInterval(spacing) } ?? now)
        let over = counted.count - Int(ratePerSecond)  // the start that must leave the window first
        if over >= 0 { opens = max(opens, counted[over].addingTimeInterval(Self.rateWindow)) }
        return opens
    }

    mutating func started(_ key: String, now: Date) {
        recentStarts.append(now)
        inFlight.insert(key)
    }

    /// The send to `key` is over; `wait` is how long its bucket stays empty, if it said so.
    mutating func finished(_ key: String, wait: TimeInterval?, now: Date) {
        inFlight.remove(key)
        if let wait, wait > 0 {
            blockedUntil[key] = now.addingTimeInterval(wait)
        } else {
            blockedUntil.removeValue(forKey: key)
        }
    }

    /// Stops every send until `until` (a global 429, Cloudflare's ban).
    mutating func pauseAll(until: Date, because reason: Scoreboard.Pause) {
        if until >= (pausedUntil ?? .distantPast) { pauseReason = reason }
        pausedUntil = max(pausedUntil ?? until, until)
    }

    func isPaused(now: Date) -> Bool {
        (pausedUntil ?? .distantPast) > now
    }

    /// The pause in force at `now`, and its end; `.none` without one.
    func pause(now: Date) -> (reason: Scoreboard.Pause, until: Date?) {
        isPaused(now: now) ? (pauseReason, pausedUntil) : (.none, nil)
    }

    /// The earliest time something now blocked may be able to go: the end of the pause, of a
    /// bucket wait, or of the rate window. nil when nothing is waiting on time.
    func nextChange(now: Date) -> Date? {
        var times = blockedUntil.values.filter { $0 > now }
        if let pausedUntil, pausedUntil > now { times.append(pausedUntil) }
        if Double(recentStarts.count) >= ratePerSecond, let oldest = recentStarts.first {
            times.append(oldest.addingTimeInterval(Self.rateWindow))
        }
        if let last = recentStarts.last, last.addingTimeInterval(spacing) > now {
            times.append(last.addingTimeInterval(spacing))
        }
        return times.min()
    }

    private mutating func forgetStarts(before cutoff: Date) {
        if let firstKept = recentStarts.firstIndex(where: { $0 > cutoff }) {
            recentStarts.removeFirst(firstKept)
        } else {
            recentStarts.removeAll()
        }
    }
}
