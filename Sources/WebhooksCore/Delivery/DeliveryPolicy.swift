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
}

public struct DeliveryPolicy: Sendable {
    public var retrySchedule: [Int]

    public static let jitterFraction = 0.2
    public static let cloudflareBanPause: TimeInterval = 3600
    /// The longest wait an answer can ask for. A broken or hostile endpoint could send any
    /// number (or `inf`); capped, no wait can stall sends for long or overflow a timestamp.
    public static let longestServerWait: TimeInterval = 3600

    /// A wait the server asked for, as a sane number of seconds.
    static func serverWait(_ seconds: Double) -> TimeInterval {
        guard !seconds.isNaN else { return 1 }
        return min(max(0, seconds), longestServerWait)
    }
    public static let responseLimit = 5000

    public init(retrySchedule: [Int]) {
        self.retrySchedule = retrySchedule
    }

    /// `retriesUsed`: scheduled retries already spent. `jitter` in -1...1 picks where in ±20 % the
    /// next wait lands. A manual send (test, manual retry) is never retried automatically.
    public func outcome(of result: AttemptResult, retriesUsed: Int, manual: Bool, jitter: Double) -> Outcome {
        let error: String
        switch result {
        case .refused(let reason):
            return .failed(error: reason)
        case .transportError(let reason):
            error = reason
        case .answered(let status, let headers, let body):
            let answer = DiscordAnswer(status: status, headers: headers, body: body)
            switch status {
            case 200..<300:
                return .delivered
            case 429:
                let scope = answer.rateLimitScope
                let wait = scope == .cloudflareBan ? Self.cloudflareBanPause : answer.retryAfter
                return .rateLimited(wait: wait, scope: scope)
            case 404, 401:
                return .webhookGone(
                    reason: "Discord answered \(answer.summary): the webhook no longer exists, so it was disabled")
            case 300..<400:
                return .failed(error: "Discord answered \(answer.summary); redirects are not followed")
            case 400..<500:
                return .failed(error: "Discord answered \(answer.summary)")
            default:
                error = "Discord answered \(answer.summary)"
            }
        }
        guard !manual, retriesUsed < retrySchedule.count else {
            return .failed(error: error)
        }
        let step = Double(retrySchedule[retriesUsed])
        let jitter = max(-1, min(1, jitter)) * Self.jitterFraction
        return .retry(after: step * (1 + jitter), error: error)
    }

    /// The delivery as recorded after an attempt with this result and outcome, at `now`.
    public func record(_ outcome: Outcome, of result: AttemptResult, on delivery: Delivery, now: Date) -> Delivery {
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
                "Rate limited by Discord; sending again in \(Int((wait * 10).rounded()) / 10).\(Int((wait * 10).rounded()) % 10) s"
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

    /// How long the webhook's bucket is empty for, from the answer's rate-limit headers: the
    /// wait before the next send to it, or nil when it may go at once.
    public static func bucketWait(headers: [String: String]) -> TimeInterval? {
        guard headers["x-ratelimit-remaining"].flatMap(Int.init) == 0,
            let resetAfter = headers["x-ratelimit-reset-after"].flatMap(Double.init), resetAfter > 0
        else { return nil }
        return serverWait(resetAfter)
    }
}

/// An HTTP answer from Discord, read for what the policy needs.
struct DiscordAnswer {
    var status: Int
    var headers: [String: String]
    var json: JSONValue?

    init(status: Int, headers: [String: String], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.json = JSONValue.parse(body)
    }

    /// "404 Unknown Webhook (code 10015)", or just the status.
    var summary: String {
        var text = "\(status)"
        if let message = json?["message"]?.stringValue { text += " \(message)" }
        if case .int(let code)? = json?["code"] { text += " (code \(code))" }
        return text
    }

    /// `retry_after` from the body (seconds, a float), else the `Retry-After` header, else 1 s;
    /// never more than an hour.
    var retryAfter: TimeInterval {
        switch json?["retry_after"] {
        case .double(let seconds)?: return DeliveryPolicy.serverWait(seconds)
        case .int(let seconds)?: return DeliveryPolicy.serverWait(TimeInterval(seconds))
        default: return headers["retry-after"].flatMap(Double.init).map(DeliveryPolicy.serverWait) ?? 1
        }
    }

    var rateLimitScope: RateLimitScope {
        if json?["global"] == .bool(true) || headers["x-ratelimit-global"]?.lowercased() == "true" {
            return .global
        }
        let hasRateLimitHeaders = headers.keys.contains { $0.hasPrefix("x-ratelimit-") }
        let code: Int64? = if case .int(let code)? = json?["code"] { code } else { nil }
        if !hasRateLimitHeaders && (code ?? 0) == 0 {
            return .cloudflareBan
        }
        return .webhook
    }
}
