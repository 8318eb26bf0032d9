import FoundationEssentials
import Glibc
import WebhooksCore

/// The store cannot be written (a full or failing disk). While that lasts, no send starts, since
/// its outcome could not be recorded. Outcomes already in hand are held here: never sent again,
/// written as soon as the store takes them (tried every `retryInterval`), and then sends resume.
struct StorageOutage {
    static let retryInterval: TimeInterval = 5
    /// The critical log line comes once, then at most this often while the outage lasts.
    static let logInterval: TimeInterval = 60

    struct Held {
        var delivery: Delivery
        var rateLimitKey: String
    }

    /// Outcomes to record, by outbox name.
    private(set) var held: [String: Held] = [:]
    private(set) var since: Date?
    private var nextTry = Date.distantPast
    private var lastLogged: Date?

    var isActive: Bool { since != nil }

    func isHeld(_ name: String) -> Bool { held[name] != nil }

    /// Keeps an outcome that could not be written.
    mutating func hold(_ name: String, _ delivery: Delivery, rateLimitKey: String) {
        held[name] = Held(delivery: delivery, rateLimitKey: rateLimitKey)
    }

    mutating func written(_ name: String) {
        held.removeValue(forKey: name)
    }

    /// A write failed at `now`. Returns whether to log it (the first time, then once a minute).
    mutating func failed(now: Date) -> Bool {
        if since == nil { since = now }
        nextTry = now.addingTimeInterval(Self.retryInterval)
        guard let lastLogged, now.timeIntervalSince(lastLogged) < Self.logInterval else {
            lastLogged = now
            return true
        }
        return false
    }

    /// Whether it is time to try the store again.
    func shouldRetry(now: Date) -> Bool { isActive && now >= nextTry }

    /// Every held outcome is written and the store takes writes again. Returns how long the
    /// outage lasted.
    mutating func ended(now: Date) -> TimeInterval {
        defer {
            since = nil
            lastLogged = nil
        }
        return now.timeIntervalSince(since ?? now)
    }

    /// When the loop must wake to try again.
    var nextChange: Date? { isActive ? nextTry : nil }
}
