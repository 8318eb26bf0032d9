/// The records the store keeps, as JSON on either backend (`RecordCoding`): a file each on flat
/// files, but a user's webhooks, which are lines of one log (`WebhookLog`); a JSON column in the
/// database. Field names are the API's.

public struct Webhook: Codable, Equatable, Sendable {
    public var id: String
    public var userId: String
    public var url: String
    public var events: [String]
    public var serverId: String?
    public var enabled: Bool
    public var provider: String
    /// Why the service disabled this webhook (its provider said it no longer exists); nil otherwise.
    public var disabledReason: String?
    /// An `http` webhook's signing secrets, sealed; nil for other providers. Never shown in the
    /// webhook's JSON (`GET /webhooks/{id}/secret` opens it for its owner).
    public var signing: SigningSecrets?
    /// Whom its messages ping, by event (`Mention`); nil when it pings no one (never empty), so
    /// the records of webhooks that set none, older ones included, are as they were.
    public var mentions: [Mention]?
    /// Whether each server's messages go to a forum thread of their own (`ServerThread`); nil
    /// when not (never false), so records of webhooks that never set it are as they were.
    public var threadPerServer: Bool?
    /// The kept forum threads of a `threadPerServer` webhook: thread id by `ServerThread.key`.
    /// Written by the helper from Discord's answers; cleared when the option goes off or the URL
    /// changes (the ids are the old forum's). Never shown in the webhook's JSON.
    public var threads: [String: String]?
    /// Whether it keeps a status card per server (`StatusCard`); nil when not (never false).
    public var statusCard: Bool?
    /// Whether the cards are all it sends about servers (no event messages); nil when not.
    public var statusCardOnly: Bool?
    /// The kept cards of a `statusCard` webhook, by server id. Written by the helper from
    /// Discord's answers; cleared when the option goes off or the URL changes (the messages are
    /// the old channel's). Never shown in the webhook's JSON.
    public var cards: [String: StatusCard]?
    /// Which events' repeats about a server collapse into one message (`Collapse`); nil when none.
    public var collapse: Collapse?
    /// The open windows of a `collapse` webhook, by server id, then event. Written by the helper
    /// from Discord's answers; cleared when the option goes off or changes, or the URL changes.
    /// Never shown in the webhook's JSON.
    public var windows: [String: [String: CollapseWindow]]?
    public var createdAt: String
    public var updatedAt: String

    public init(
        id: String, userId: String, url: String, events: [String], serverId: String?,
        enabled: Bool, createdAt: String
    ) {
        self.id = id
        self.userId = userId
        self.url = url
        self.events = events
        self.serverId = serverId
        self.enabled = enabled
        self.provider = "discord"
        self.disabledReason = nil
        self.createdAt = createdAt
        self.updatedAt = createdAt
    }

    /// The routing rule (docs/architecture.md, "A delivery"), for an event about `serverId` already
    /// known to be the owner's: enabled, subscribed, and unscoped or scoped to that server.
    public func receives(_ event: String, fromServer serverId: String) -> Bool {
        enabled && events.contains(event) && (self.serverId == nil || self.serverId == serverId)
    }

    /// Whom a message of `event` pings.
    public func pings(for event: String) -> Pings {
        mentions.map { Pings(for: event, in: $0) } ?? .none
    }
}

public enum DeliveryStatus: String, Codable, Sendable {
    case pending, delivered, failed
}

public struct Delivery: Codable, Equatable, Sendable {
    public var id: String
    public var webhookId: String
    public var userId: String
    public var event: String
    public var payload: JSONValue
    public var status: DeliveryStatus
    public var statusCode: Int?
    public var response: String?
    public var error: String?
    public var attempts: Int
    public var nextAttemptAt: String?
    public var deliveredAt: String?
    public var retryOf: String?
    public var createdAt: String
    /// Retries from `retry_schedule` spent so far (429s spend none). Not shown in the API.
    public var retriesUsed: Int
    /// A test or manual retry: sent at once, never retried automatically. Not shown in the API.
    public var manual: Bool
    /// The first delivery of the message this one sends again (a manual retry, a recovery); nil
    /// for a first send. Not shown in the API.
    public var firstSendId: String?
    /// The forum thread the message went to (Discord's `channel_id`), for a `threadPerServer`
    /// webhook; nil otherwise.
    public var threadId: String?
    /// Whether it keeps its server's status card (`StatusCard`) rather than posting the event;
    /// nil for an event message.
    public var card: Bool?
    /// Whether it is an event message a `collapse` webhook may collapse into its window's
    /// message; nil otherwise.
    public var collapsible: Bool?
    /// What its last attempt did: posted a message, edited the card, or edited its collapse
    /// window's message; nil until a card or collapsible delivery is sent (else always a post).
    public var action: DeliveryAction?
    /// The Discord message it posted or edited (the `id` of the `wait=true` answer); for a
    /// collapsible delivery to Slack or `http`, the `messageId` of the delivery whose message
    /// carried it (its own, or its window's summary's); nil otherwise. Shown as `messageId`.
    public var sentMessageId: String?
    /// Slack and `http`: a repeat held for its collapse window's summary, by the delivery that
    /// sends that summary (its carrier: this one's own id for the carrier). Not shown in the API.
    public var carriedBy: String?
    /// The window a carrier's summary shows, as it first sent it: its later attempts and its
    /// manual retries send the same summary, whatever the webhook keeps by then. Not shown in the API.
    public var summary: CollapseWindow?

    public init(
        id: String, webhookId: String, userId: String, event: String, payload: JSONValue,
        createdAt: String
    ) {
        self.id = id
        self.webhookId = webhookId
        self.userId = userId
        self.event = event
        self.payload = payload
        self.status = .pending
        self.attempts = 0
        self.nextAttemptAt = createdAt
        self.createdAt = createdAt
        self.retriesUsed = 0
        self.manual = false
    }

    /// The message this delivery sends: the same for every attempt and every resend of it, so a
    /// receiver can tell a resend from a new message (Standard Webhooks' `webhook-id`).
    public var messageId: String { firstSendId ?? id }

    /// A new pending delivery of this one's message, created `now` (a manual retry, a recovery).
    /// A manual retry of a card or collapsible delivery keeps that (it edits again); a recovery
    /// (`asPost`) posts the event instead, for an old event must never put a card back on an
    /// older state. A manual retry of a collapse summary sends that summary again.
    public func resend(id: String, now: String, asPost: Bool = false) -> Delivery {
        var again = Delivery(
            id: id, webhookId: webhookId, userId: userId, event: event, payload: payload, createdAt: now)
        again.retryOf = self.id
        again.firstSendId = messageId
        if !asPost {
            (again.card, again.collapsible) = (card, collapsible)
            (again.carriedBy, again.summary) = (carriedBy, summary)
        }
        return again
    }
}

public struct Server: Codable, Equatable, Sendable {
    public var id: String
    public var name: String
    public var ownerId: String
    public var status: String?
    public var createdAt: String
    public var updatedAt: String

    public init(id: String, name: String, ownerId: String, status: String?, createdAt: String, updatedAt: String) {
        self.id = id
        self.name = name
        self.ownerId = ownerId
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

public enum APIKeyKind: String, Codable, Sendable {
    case user, service
}

/// An API key as stored: never the secret, only its HMAC.
public struct APIKeyRecord: Codable, Equatable, Sendable {
    public var id: String
    public var kind: APIKeyKind
    /// The user a user key acts as, or the name of a service key's service.
    public var subject: String
    public var label: String?
    /// Hex HMAC-SHA256(server secret, key secret).
    public var digest: String
    public var createdAt: String
    public var revokedAt: String?
}
