/// A Slack incoming-webhook URL (docs/architecture.md: "Slack"): an allowed start
/// (`WebhookURLOrigin`: `https://` + a host in `slack_hosts`) + `/services/T…/B…/{secret}`, where
/// the team id starts with T and the webhook's own id with B (upper-case letters and digits, as
/// Slack makes them) and the secret is letters and digits; no query, no fragment, no user info.
public struct SlackWebhookURL: Equatable, Sendable {
    public var scheme: String
    /// `host` or `host:port`, lower case, as listed in `slack_hosts`.
    public var authority: String
    public var teamId: String
    public var webhookId: String
    public var secret: String

    public init?(_ text: String, allowedHosts: [String], allowInsecure: Bool) {
        guard let origin = WebhookURLOrigin(text, allowedHosts: allowedHosts, allowInsecure: allowInsecure),
            !origin.rest.contains("?")
        else { return nil }
        let parts = Array(origin.rest.split(separator: "/", omittingEmptySubsequences: false).dropFirst())
        guard parts.count == 4, parts[0] == "services", Self.isSlackId(parts[1], prefix: "T"),
            Self.isSlackId(parts[2], prefix: "B"), (1...Self.longestPart).contains(parts[3].count),
            parts[3].allSatisfy(\.isASCIIAlphanumeric)
        else { return nil }
        let (team, webhook, secret) = (parts[1], parts[2], parts[3])
        scheme = origin.scheme
        authority = origin.authority
        teamId = String(team)
        webhookId = String(webhook)
        self.secret = String(secret)
    }

    /// Slack's default host.
    public static let slackOwnHosts = ["hooks.slack.com"]

    /// Where the helper sends: the URL as registered, its default port dropped.
    public var sendURL: String { "\(scheme)://\(authority)/services/\(teamId)/\(webhookId)/\(secret)" }

    /// The URL with its secret hidden, for logs and error messages.
    public var redacted: String { "\(scheme)://\(authority)/services/\(teamId)/\(webhookId)/****" }

    /// Slack allows about one message a second per webhook: the key for one request in flight
    /// and the wait after each answer.
    public var rateLimitKey: String { "\(authority)/\(teamId)/\(webhookId)" }

    /// Slack's ids are about 11 characters and its secrets 24: far more is not Slack's.
    static let longestPart = 64

    /// `T024BE7LD`: the prefix, then upper-case letters and digits.
    static func isSlackId(_ text: Substring, prefix: Character) -> Bool {
        (2...longestPart).contains(text.count) && text.first == prefix && text.allSatisfy(\.isASCIIUpperOrDigit)
    }
}
