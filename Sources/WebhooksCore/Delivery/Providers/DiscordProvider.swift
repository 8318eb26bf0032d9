import FoundationEssentials

/// Discord's webhooks (docs/architecture.md: "Discord"): URLs on `discord_hosts` with Discord's
/// webhook path (`DiscordWebhookURL`), one embed per message (`DiscordMessage`), and its answers
/// as its documentation gives them: 2xx delivered; 429 waits `retry_after` (a global one pauses
/// every send, one without rate-limit headers is Cloudflare's ban of the address, an hour); 404
/// Unknown Webhook and 401 Invalid Webhook Token mean it is gone; other 4xx and redirects fail;
/// 5xx is worth another try. Buckets empty at `X-RateLimit-Remaining: 0`. A message to a forum
/// thread (`threadPerServer`) names a new thread (`thread_name`) or posts to a kept one
/// (`thread_id`), whose 404 Unknown Channel means the thread is gone, not the webhook. A status
/// card (`statusCard`) is posted, then edited in place (`PATCH …/messages/{id}`), and so is a
/// collapse window's message by each repeat (`collapse`); a 404 Unknown Message there means the
/// message was deleted.
public struct DiscordProvider: DeliveryProvider {
    public let name = "discord"
    public let displayName = "Discord"
    public let signsRequests = false
    public let editsMessages = true
    public let urlRule = "Must be a Discord webhook URL (https://discord.com/api/webhooks/{id}/{token})"
    /// Roles and users are both snowflakes (`<@&id>`, `<@id>` in the message's content).
    public let mentionIDs: MentionIDs? = MentionIDs(
        roles: .init(
            text: "Must be a Discord role id (a snowflake: decimal digits, no leading zero, at most 2^64 - 1)",
            matches: { DiscordWebhookURL.isSnowflake($0) }),
        users: .init(
            text: "Must be a Discord user id (a snowflake: decimal digits, no leading zero, at most 2^64 - 1)",
            matches: { DiscordWebhookURL.isSnowflake($0) }))
    /// Cloudflare's ban of an address lasts about an hour.
    public static let cloudflareBanPause: TimeInterval = 3600

    public func target(_ url: String, config: Config) -> DeliveryTarget? {
        DiscordWebhookURL(url, allowedHosts: config.discordHosts, allowInsecure: config.allowInsecureTargets).map {
            DeliveryTarget(sendURL: $0.sendURL, rateLimitKey: $0.rateLimitKey, redacted: $0.redacted)
        }
    }

    /// Discord's limit on a channel's name, a thread's included.
    static let threadNameLimit = 100
    /// Discord's Unknown Channel: the `thread_id` posted to is no longer there.
    static let unknownChannel: Int64 = 10003
    /// Discord's Unknown Message: the message edited is no longer there.
    static let unknownMessage: Int64 = 10008

    public func request(for message: OutgoingMessage, config: Config) -> DeliveryRequest {
        let method = message.editedMessageId == nil ? "POST" : "PATCH"
        if let card = message.card {
            return DeliveryRequest(
                method: method, body: StatusCardMessage.body(for: card, footer: config.discordFooter).serialized(),
                headers: [("Content-Type", "application/json")])
        }
        let payload = message.delivery.payload
        var body =
            if let window = message.collapsed, window.window.count > 1 {
                CollapsedMessage.body(for: payload, window: window, footer: config.discordFooter, pings: message.pings)
            } else {
                DiscordMessage.body(for: payload, footer: config.discordFooter, pings: message.pings)
            }
        if method == "POST", let thread = message.thread, thread.id == nil, case .object(var fields) = body {
            fields["thread_name"] = .string(DiscordMessage.clip(thread.name, Self.threadNameLimit))
            body = .object(fields)
        }
        return DeliveryRequest(method: method, body: body.serialized(), headers: [("Content-Type", "application/json")])
    }

    /// The webhook's URL (which has `?wait=true`), with `thread_id` for a kept thread. An edit
    /// goes to its message (`/messages/{id}`), without `wait` (an edit always answers with the
    /// message) but with the thread the message is in: the URL's own `thread_id`, or the kept
    /// thread of a collapse window's message in a forum (`threadPerServer`).
    public func sendURL(_ target: DeliveryTarget, for message: OutgoingMessage) -> String {
        if let id = message.editedMessageId {
            let parts = target.sendURL.split(separator: "?", maxSplits: 1)
            var query = parts.dropFirst().first?.split(separator: "&").filter { $0 != "wait=true" } ?? []
            if let thread = message.thread?.id { query.append("thread_id=\(thread)") }
            return parts[0] + "/messages/\(id)" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        }
        guard let id = message.thread?.id else { return target.sendURL }
        return target.sendURL + "&thread_id=\(id)"
    }

    /// The message posted or edited, from the answer (`id`).
    public static func messageId(answer body: [UInt8]) -> String? {
        JSONValue.parse(body)?["id"]?.stringValue.flatMap { DiscordWebhookURL.isSnowflake($0[...]) ? $0 : nil }
    }

    /// The thread a message went to, from the `wait=true` answer (`channel_id`).
    public static func threadId(answer body: [UInt8]) -> String? {
        DiscordAnswer(status: 200, headers: [:], body: body).channelId.flatMap {
            DiscordWebhookURL.isSnowflake($0[...]) ? $0 : nil
        }
    }

    public func verdict(status: Int, headers: [String: String], body: [UInt8]) -> AnswerVerdict {
        let answer = DiscordAnswer(status: status, headers: headers, body: body)
        switch status {
        case 200..<300:
            return .delivered
        case 429:
            let scope = answer.rateLimitScope
            return .rateLimited(
                wait: scope == .cloudflareBan ? Self.cloudflareBanPause : answer.retryAfter, scope: scope)
        case 404 where answer.code == Self.unknownChannel:
            return .threadGone(
                error:
                    "Discord answered \(answer.summary): the thread is gone, so the message is posted again in a new one"
            )
        case 404 where answer.code == Self.unknownMessage:
            return .messageGone(
                error:
                    "Discord answered \(answer.summary): the message edited was deleted, so a new one is posted"
            )
        case 404, 401:
            return .gone(reason: "Discord answered \(answer.summary): the webhook no longer exists, so it was disabled")
        case 300..<400:
            return .failed(error: "Discord answered \(answer.summary); redirects are not followed")
        case 400..<500:
            return .failed(error: "Discord answered \(answer.summary)")
        default:
            return .retryable(error: "Discord answered \(answer.summary)")
        }
    }

    /// How long the webhook's bucket is empty for, from the answer's rate-limit headers: the
    /// wait before the next send to it, or nil when it may go at once.
    public func bucketWait(headers: [String: String]) -> TimeInterval? {
        guard headers["x-ratelimit-remaining"].flatMap(Int.init) == 0,
            let resetAfter = headers["x-ratelimit-reset-after"].flatMap(Double.init), resetAfter > 0
        else { return nil }
        return DeliveryPolicy.serverWait(resetAfter)
    }
}
