import FoundationEssentials

/// Any HTTPS endpoint, signed as Standard Webhooks specifies (docs/architecture.md: "Signed HTTPS
/// endpoints"): the body is `StandardWebhooksMessage`, and each attempt carries `webhook-id` (the
/// message's, the same for every attempt and resend, so a receiver can deduplicate),
/// `webhook-timestamp` (this attempt, Unix seconds) and `webhook-signature` (one `v1,` signature
/// per secret in force). Answers as the specification asks: 2xx delivered; 410 Gone disables the
/// webhook; 429 waits `Retry-After` without using a retry; 502, 503 and 504 wait `Retry-After`
/// when given and retry; other 5xx retry on the schedule; redirects and other 4xx fail.
public struct HTTPProvider: DeliveryProvider {
    public let name = "http"
    public let displayName = "the endpoint"
    public let urlRule = "Must be an https:// URL with no credentials (user:password@) and no fragment"
    public let signsRequests = true
    /// A message sent cannot be taken back.
    public let editsMessages = false
    /// A program reads the message: there is no one to ping.
    public let mentionIDs: MentionIDs? = nil
    /// A 429 without a usable `Retry-After`: a receiver that gives none is not hammered.
    static let defaultRateLimitWait: TimeInterval = 10

    public func target(_ url: String, config: Config) -> DeliveryTarget? {
        EndpointURL(url, allowInsecure: config.allowInsecureTargets).map {
            DeliveryTarget(sendURL: $0.sendURL, rateLimitKey: $0.sendURL, redacted: $0.redacted)
        }
    }

    public func request(for message: OutgoingMessage, config: Config) -> DeliveryRequest {
        let payload = message.delivery.payload
        let body =
            if let window = message.collapsed, window.isSummary {
                StandardWebhooksMessage.summary(for: payload, window: window).serialized()
            } else {
                StandardWebhooksMessage.body(for: payload).serialized()
            }
        let id = message.delivery.messageId
        let timestamp = Int(message.now.timeIntervalSince1970)
        return DeliveryRequest(
            body: body,
            headers: [
                ("Content-Type", "application/json"),
                ("webhook-id", id),
                ("webhook-timestamp", String(timestamp)),
                (
                    "webhook-signature",
                    SigningSecret.signature(id: id, timestamp: timestamp, body: body, keys: message.signingKeys)
                ),
            ])
    }

    public func verdict(status: Int, headers: [String: String], body: [UInt8]) -> AnswerVerdict {
        let answered = "The endpoint answered \(status)"
        // Seconds only: an HTTP-date would need a clock here, and counts as none given.
        let retryAfter = headers["retry-after"].flatMap(Double.init).map(DeliveryPolicy.serverWait)
        switch status {
        case 200..<300:
            return .delivered
        case 410:
            return .gone(reason: "\(answered) Gone: the endpoint no longer exists, so the webhook was disabled")
        case 429:
            return .rateLimited(wait: retryAfter ?? Self.defaultRateLimitWait, scope: .webhook)
        case 502, 503, 504:
            return .retryable(error: answered, wait: retryAfter)
        case 300..<400:
            return .failed(error: "\(answered); redirects are not followed")
        case 400..<500:
            return .failed(error: answered)
        default:
            return .retryable(error: answered)
        }
    }

    public func bucketWait(headers: [String: String]) -> TimeInterval? { nil }
}
