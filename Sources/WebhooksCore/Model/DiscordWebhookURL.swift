/// A Discord webhook URL checked against the rules of README "The API": `https://` + an allowed host +
/// `/api[/v{N}]/webhooks/{id}/{token}`, no user info, no fragment, only `thread_id` as query.
/// Parsed by hand on purpose, like every webhook URL (`WebhookURLOrigin` checks the start).
public struct DiscordWebhookURL: Equatable, Sendable {
    public var scheme: String
    /// `host` or `host:port`, lower case, as listed in `discord_hosts`.
    public var authority: String
    public var webhookId: String
    public var token: String
    public var threadId: String?

    public init?(_ text: String, allowedHosts: [String], allowInsecure: Bool) {
        guard let origin = WebhookURLOrigin(text, allowedHosts: allowedHosts, allowInsecure: allowInsecure) else {
            return nil
        }
        scheme = origin.scheme
        authority = origin.authority
        let rest = origin.rest

        let pathEnd = rest.firstIndex(of: "?") ?? rest.endIndex
        let segments = rest[..<pathEnd].split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        var parts = Array(segments)
        guard parts.first == "api" else { return nil }
        parts.removeFirst()
        if let version = parts.first, version.hasPrefix("v"), version.count > 1,
            version.dropFirst().allSatisfy(\.isASCIIDigit)
        {
            parts.removeFirst()
        }
        guard parts.count == 3, parts[0] == "webhooks",
            (17...20).contains(parts[1].count), Self.isSnowflake(parts[1]),
            !parts[2].isEmpty, parts[2].allSatisfy(\.isTokenCharacter)
        else { return nil }
        webhookId = String(parts[1])
        token = String(parts[2])

        threadId = nil
        if pathEnd < rest.endIndex {
            let query = rest[rest.index(after: pathEnd)...]
            guard query.hasPrefix("thread_id=") else { return nil }
            let thread = query.dropFirst("thread_id=".count)
            guard Self.isSnowflake(thread) else { return nil }
            threadId = String(thread)
        }
    }
}

extension DiscordWebhookURL {
    /// An id as Discord's OpenAPI document defines a snowflake: decimal digits, no leading zero,
    /// at most 2^64 - 1.
    static func isSnowflake(_ text: Substring) -> Bool {
        !text.isEmpty && text.allSatisfy(\.isASCIIDigit) && (text == "0" || text.first != "0") && UInt64(text) != nil
    }

    /// Discord's own hosts: sends to any of them go to discord.com.
    public static let discordOwnHosts = ["discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com"]

    /// Where the helper sends (docs/architecture.md: "A request"): API v10, `wait=true` so Discord
    /// answers with the message, `thread_id` kept.
    public var sendURL: String {
        var url = "\(scheme)://\(sendAuthority)/api/v10/webhooks/\(webhookId)/\(token)?wait=true"
        if let threadId { url += "&thread_id=\(threadId)" }
        return url
    }

    /// The URL with its token hidden, for logs and error messages.
    public var redacted: String {
        "\(scheme)://\(sendAuthority)/api/webhooks/\(webhookId)/****"
    }

    /// Discord rate-limits per webhook: the key for one-request-in-flight and bucket waits.
    public var rateLimitKey: String { "\(sendAuthority)/\(webhookId)" }

    private var sendAuthority: String {
        Self.discordOwnHosts.contains(authority) ? "discord.com" : authority
    }
}
