import FoundationEssentials

/// One service deliveries go to (docs/architecture.md: "A delivery"), in one place: which webhook
/// URLs are its and where a send to one goes, the request a delivery becomes, and what an answer
/// means. Pure: no socket, no clock. `DeliveryPolicy` keeps what every provider shares (retries on
/// the schedule, capped waits, the record of an attempt); `Providers` finds one by name.
public protocol DeliveryProvider: Sendable {
    /// The webhook's `provider` field.
    var name: String { get }
    /// How people call the service, in messages ("Rate limited by Discord").
    var displayName: String { get }
    /// What its webhook URLs look like, for a 400.
    var urlRule: String { get }
    /// Whether its messages can be edited: a `collapse` window's repeats then edit its message
    /// (`CollapsedSend`), else one summary follows at the window's end (`SummaryStep`).
    var editsMessages: Bool { get }
    /// Whether its requests are signed: its webhooks then have signing secrets (`SigningSecrets`).
    var signsRequests: Bool { get }
    /// The ids its messages ping roles and users by; nil when they ping no one (its webhooks
    /// take no `mentions`).
    var mentionIDs: MentionIDs? { get }
    /// Where a send to `url` goes, under this configuration; nil when the URL is not an allowed one.
    func target(_ url: String, config: Config) -> DeliveryTarget?
    /// The HTTP request one attempt of a delivery becomes.
    func request(for message: OutgoingMessage, config: Config) -> DeliveryRequest
    /// The URL that attempt is sent to: the target's, unless the message says otherwise (a
    /// Discord forum thread, a status card's message).
    func sendURL(_ target: DeliveryTarget, for message: OutgoingMessage) -> String
    /// What an HTTP answer means, before retries are counted.
    func verdict(status: Int, headers: [String: String], body: [UInt8]) -> AnswerVerdict
    /// How long the webhook's rate-limit bucket stays empty after an answer: the wait before the
    /// next send to it, or nil when it may go at once. Header names in lower case.
    func bucketWait(headers: [String: String]) -> TimeInterval?
}

extension DeliveryProvider {
    public func sendURL(_ target: DeliveryTarget, for message: OutgoingMessage) -> String { target.sendURL }
}

/// Where one send goes.
public struct DeliveryTarget: Equatable, Sendable {
    /// The URL posted to.
    public var sendURL: String
    /// What the service rate-limits by: one request in flight and bucket waits per key.
    public var rateLimitKey: String
    /// The URL with its secret part hidden, for logs.
    public var redacted: String

    public init(sendURL: String, rateLimitKey: String, redacted: String) {
        self.sendURL = sendURL
        self.rateLimitKey = rateLimitKey
        self.redacted = redacted
    }
}

/// One attempt of a delivery, as a provider builds its request from it.
public struct OutgoingMessage: Sendable {
    public var delivery: Delivery
    /// The webhook's signing keys, the current one first (`SigningSecret`); empty for a provider
    /// that does not sign.
    public var signingKeys: [[UInt8]]
    /// Whom the message pings: the webhook's `mentions` for the delivery's event, as they are
    /// when it is sent.
    public var pings: Pings
    /// The forum thread it goes to, made when it has no id yet (`threadPerServer`); nil for a
    /// message to the webhook's own channel.
    public var thread: ServerThread?
    /// The status card it posts or edits (`statusCard`); nil for an event message.
    public var card: ServerCard?
    /// The collapse window it counts in (`collapse`); nil for a message that does not collapse.
    public var collapsed: CollapsedSend?
    /// When this attempt starts.
    public var now: Date

    public init(
        delivery: Delivery, signingKeys: [[UInt8]] = [], pings: Pings = .none, thread: ServerThread? = nil,
        card: ServerCard? = nil, collapsed: CollapsedSend? = nil, now: Date
    ) {
        self.delivery = delivery
        self.signingKeys = signingKeys
        self.pings = pings
        self.thread = thread
        self.card = card
        self.collapsed = collapsed
        self.now = now
    }

    /// The message this send edits in place: the status card's, or the collapse window's for a
    /// repeat within it; nil for a post.
    public var editedMessageId: String? {
        card?.card.messageId ?? (collapsed?.action == .collapsed ? collapsed?.window.messageId : nil)
    }
}

/// The method, body and the provider's own headers of one send (the transport adds its
/// User-Agent). A POST, but for an edit of a message (`PATCH`).
public struct DeliveryRequest: Equatable, Sendable {
    public var method: String
    public var body: [UInt8]
    public var headers: [(String, String)]

    public init(method: String = "POST", body: [UInt8], headers: [(String, String)]) {
        self.method = method
        self.body = body
        self.headers = headers
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.method == rhs.method && lhs.body == rhs.body
            && lhs.headers.map { "\($0.0): \($0.1)" } == rhs.headers.map { "\($0.0): \($0.1)" }
    }
}

/// What a provider makes of one answer; `DeliveryPolicy` turns it into an `Outcome`.
public enum AnswerVerdict: Equatable, Sendable {
    case delivered
    /// Send again after `wait`, using up no retry.
    case rateLimited(wait: TimeInterval, scope: RateLimitScope)
    /// Worth another try: after the server's `wait` when it gave one (Retry-After on a 503),
    /// else on the retry schedule. Either way it uses up a retry.
    case retryable(error: String, wait: TimeInterval? = nil)
    case failed(error: String)
    /// The webhook is gone for good: it is disabled and never used again.
    case gone(reason: String)
    /// The thread the message was posted to is gone: post it again at once in a new thread,
    /// using up no retry.
    case threadGone(error: String)
    /// The message it edited is gone (a deleted status card): post it again at once as a new
    /// message, using up no retry.
    case messageGone(error: String)
}
