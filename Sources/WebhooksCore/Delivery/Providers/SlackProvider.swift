import FoundationEssentials

/// Slack's incoming webhooks (docs/architecture.md: "Slack"): URLs on `slack_hosts` with Slack's
/// webhook path (`SlackWebhookURL`), Block Kit messages (`SlackMessage`), and its answers as
/// api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks and the incoming
/// webhooks page give them, each a plain-text code: 200 `ok` delivered; 400 (`invalid_payload`,
/// `no_text`, ...) failed; 403 (`invalid_token`, `action_prohibited`), 404 (`channel_not_found`,
/// `no_service`) and 410 (`channel_is_archived`) mean the webhook no longer works; 429 waits
/// `Retry-After`; redirects and other 4xx fail; 5xx is worth another try. Slack takes about one
/// message a second per webhook (api.slack.com/docs/rate-limits), so each answer empties the
/// webhook's bucket for a second.
public struct SlackProvider: DeliveryProvider {
    public let name = "slack"
    public let displayName = "Slack"
    public let signsRequests = false
    /// Incoming webhooks only post.
    public let editsMessages = false
    public let urlRule =
        "Must be a Slack incoming webhook URL (https://hooks.slack.com/services/T{team}/B{webhook}/{secret})"
    /// Roles are user groups (`<!subteam^S…>`), users are users (`<@U…>`; `W…` in Enterprise Grid).
    public let mentionIDs: MentionIDs? = MentionIDs(
        roles: .init(
            text: "Must be a Slack user group id (S, then upper-case letters and digits; at most 64)",
            matches: { SlackWebhookURL.isSlackId($0, prefix: "S") }),
        users: .init(
            text: "Must be a Slack user id (U or W, then upper-case letters and digits; at most 64)",
            matches: { SlackWebhookURL.isSlackId($0, prefix: "U") || SlackWebhookURL.isSlackId($0, prefix: "W") }))
    /// The least time between two messages to one webhook.
    public static let messageSpacing: TimeInterval = 1

    public func target(_ url: String, config: Config) -> DeliveryTarget? {
        SlackWebhookURL(url, allowedHosts: config.slackHosts, allowInsecure: config.allowInsecureTargets).map {
            DeliveryTarget(sendURL: $0.sendURL, rateLimitKey: $0.rateLimitKey, redacted: $0.redacted)
        }
    }

    public func request(for message: OutgoingMessage, config: Config) -> DeliveryRequest {
        let payload = message.delivery.payload
        let body =
            if let window = message.collapsed, window.isSummary {
                SlackMessage.summary(for: payload, window: window, footer: config.discordFooter, pings: message.pings)
            } else {
                SlackMessage.body(for: payload, footer: config.discordFooter, pings: message.pings)
            }
        return DeliveryRequest(body: body.serialized(), headers: [("Content-Type", "application/json")])
    }

    public func verdict(status: Int, headers: [String: String], body: [UInt8]) -> AnswerVerdict {
        let summary = Self.summary(status: status, body: body)
        switch status {
        case 200..<300:
            return .delivered
        case 429:
            let wait = headers["retry-after"].flatMap(Double.init).map(DeliveryPolicy.serverWait)
            return .rateLimited(wait: wait ?? Self.messageSpacing, scope: .webhook)
        case 403, 404, 410:
            return .gone(reason: "Slack answered \(summary): the webhook no longer works, so it was disabled")
        case 300..<400:
            return .failed(error: "Slack answered \(summary); redirects are not followed")
        case 400..<500:
            return .failed(error: "Slack answered \(summary)")
        default:
            return .retryable(error: "Slack answered \(summary)")
        }
    }

    /// One message a second per webhook, whatever the answer said.
    public func bucketWait(headers: [String: String]) -> TimeInterval? {
        Self.messageSpacing
    }

    /// "404 channel_not_found": the status and Slack's error code, when the body is one (the
    /// whole body is kept in the delivery's `response`).
    static func summary(status: Int, body: [UInt8]) -> String {
        let text = Substring(decoding: body, as: UTF8.self).trimmed
        let isCode =
            (1...64).contains(text.utf8.count)
            && text.utf8.allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || $0 == UInt8(ascii: "_") }
        return isCode ? "\(status) \(text)" : "\(status)"
    }
}
