import FoundationEssentials
import Glibc

/// What one HTTP request to Discord came back with.
public enum AttemptResult: Equatable, Sendable {
    /// An HTTP answer; header names in lower case.
    case answered(status: Int, headers: [String: String], body: [UInt8])
    /// Timeout, connection or TLS failure: worth another try later.
    case transportError(String)
    /// Not attempted, and pointless to try again (a private address, a URL no longer allowed).
    case refused(String)
}

/// How Discord's rate limiting asks us to wait.
public enum RateLimitScope: Equatable, Sendable {
    case webhook
    /// `global: true`: every send pauses.
    case global
    /// A 429 without rate-limit headers and with code 0: Cloudflare's temporary ban of our
    /// address. Every send pauses for an hour.
    case cloudflareBan
}

/// What to do after an attempt (docs/architecture.md: "A delivery"), decided in this one place.
public enum Outcome: Equatable, Sendable {
    case delivered
    /// Send again after `wait`; uses up no retry from the schedule.
    case rateLimited(wait: TimeInterval, scope: RateLimitScope)
    /// Retry after `after` seconds (the schedule's next step with jitter).
    case retry(after: TimeInterval, error: String)
    case failed(error: String)
    /// 404 or 401: the webhook is gone on Discord's side and must never be used again.
    case webhookGone(reason: String)
    /// The forum thread it was posted to is gone: send it again now, in a new thread; uses up no
    /// retry, and a manual send goes again too (it has not been delivered).
    case threadGone(error: String)
    /// The status card it edited was deleted: send it again now, as a new card; like
    /// `threadGone`, it uses up no retry.
    case messageGone(error: String)
}

public struct DeliveryPolicy: Sendable {
    public var retrySchedule: [Int]

    public static let jitterFraction = 0.2
    /// The longest wait an answer can ask for. A broken or hostile endpoint could send any
    /// number (or `inf`); capped, no wait can stall sends for long or overflow a timestamp.
    public static let longestServerWait: TimeInterval = 3600

    /// A wait the server asked for, as a sane number of seconds.
    public static func serverWait(_ seconds: Double) -> TimeInterval {
        guard !seconds.isNaN else { return 1 }
        return min(max(0, seconds), longestServerWait)
    }
    public static let responseLimit = 5000

    public init(retrySchedule: [Int]) {
        self.retrySchedule = retrySchedule
    }

    /// `provider` reads the answer; `retriesUsed`: scheduled retries already spent. `jitter` in
    /// -1...1 picks where in ±20 % the next wait lands. A manual send (test, manual retry) is
    /// never retried automatically. A thread is gone only for a message posted to a kept one
    /// (`toThread`), a message only for an edit (`editing`): otherwise the answer fails it, so a
    /// new thread or card is made at most once.
    public func outcome(
        of result: AttemptResult, provider: DeliveryProvider, retriesUsed: Int, manual: Bool, toThread: Bool = false,
        editing: Bool = false, jitter: Double
    )
        -> Outcome
    {
        let error: String
        var serverWait: TimeInterval?
        switch result {
        case .refused(let reason):
            return .failed(error: reason)
        case .transportError(let reason):
            error = reason
        case .answered(let status, let headers, let body):
            switch provider.verdict(status: status, headers: headers, body: body) {
            case .delivered: return .delivered
            case .rateLimited(let wait, let scope): return .rateLimited(wait: wait, scope: scope)
            case .gone(let reason): return .webhookGone(reason: reason)
            case .failed(let reason): return .failed(error: reason)
            case .threadGone(let reason): return toThread ? .threadGone(error: reason) : .failed(error: reason)
            case .messageGone(let reason): return editing ? .messageGone(error: reason) : .failed(error: reason)
            case .retryable(let reason, let wait): (error, serverWait) = (reason, wait)
            }
        }
        guard !manual, retriesUsed < retrySchedule.count else {
            return .failed(error: error)
        }
        if let serverWait { return .retry(after: serverWait, error: error) }
        let step = Double(retrySchedule[retriesUsed])
        let jitter = max(-1, min(1, jitter)) * Self.jitterFraction
        return .retry(after: step * (1 + jitter), error: error)
    }

    /// The delivery as recorded after an attempt to `provider` with this result and outcome, at `now`.
    public func record(
        _ outcome: Outcome, of result: AttemptResult, on delivery: Delivery, by provider: DeliveryProvider, now: Date
    )
        -> Delivery
    {
        recorded(outcome, of: result, on: delivery, rateLimitedBy: provider.displayName, now: now)
    }

    /// The delivery as recorded when it cannot be sent at all, without an attempt (a disabled
    /// webhook, a URL no longer allowed): failed.
    public func refused(_ delivery: Delivery, error: String, now: Date) -> Delivery {
        recorded(.failed(error: error), of: .refused(error), on: delivery, rateLimitedBy: "", now: now)
    }

    private func recorded(
        _ outcome: Outcome, of result: AttemptResult, on delivery: Delivery, rateLimitedBy: String, now: Date
    )
        -> Delivery
    {
        var updated = delivery
        if case .refused = result {} else { updated.attempts += 1 }  // attempts count HTTP requests
        if case .answered(let status, _, let body) = result {
            updated.statusCode = status
            updated.response = String(String(decoding: body, as: UTF8.self).prefix(Self.responseLimit))
        }
        switch outcome {
        case .delivered:
            updated.status = .delivered
            updated.deliveredAt = Timestamp.format(now)
            updated.nextAttemptAt = nil
            updated.error = nil
        case .rateLimited(let wait, _):
            updated.nextAttemptAt = Timestamp.format(now.addingTimeInterval(wait))
            updated.error =
                "Rate limited by \(rateLimitedBy); sending again in \(Int((wait * 10).rounded()) / 10).\(Int((wait * 10).rounded()) % 10) s"
        case .threadGone(let error), .messageGone(let error):
            updated.nextAttemptAt = Timestamp.format(now)
            updated.error = error
        case .retry(let after, let error):
            updated.retriesUsed += 1
            updated.nextAttemptAt = Timestamp.format(now.addingTimeInterval(after))
            updated.error = error
        case .failed(let error), .webhookGone(let error):
            updated.status = .failed
            updated.nextAttemptAt = nil
            updated.error = error
        }
        return updated
    }
}
