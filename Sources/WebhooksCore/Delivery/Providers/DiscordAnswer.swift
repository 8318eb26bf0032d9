import FoundationEssentials

/// An HTTP answer from Discord, read for what `DiscordProvider` needs.
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
        if let code { text += " (code \(code))" }
        return text
    }

    /// Discord's JSON error code (10015 Unknown Webhook, 10003 Unknown Channel), if any.
    var code: Int64? {
        if case .int(let code)? = json?["code"] { code } else { nil }
    }

    /// The channel the message went to (`channel_id` of a `wait=true` answer): in a forum, its
    /// thread.
    var channelId: String? { json?["channel_id"]?.stringValue }

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
        if !hasRateLimitHeaders && (code ?? 0) == 0 {
            return .cloudflareBan
        }
        return .webhook
    }
}
