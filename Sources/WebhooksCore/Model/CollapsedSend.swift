/// What a collapsible delivery of a `collapse` webhook sends (README "Crash loops collapsed"): its
/// server's window for its event, with this event counted. On Discord a repeat within the window
/// edits the window's message (`collapsed`); the first event, and a repeat whose message was
/// deleted, posts. On Slack and `http` the first posts and, when the window ends, one summary
/// follows (`isSummary`, `SummaryStep`). Read from the webhook when the delivery is sent, so a
/// repeat queued before the first was answered counts in the window that first one opened.
public struct CollapsedSend: Equatable, Sendable {
    /// The keys of the webhook's `windows`.
    public var serverId: String
    public var event: String
    /// The window as this send shows it.
    public var window: CollapseWindow
    public var windowSeconds: Int
    /// The webhook URL it is read for: the message belongs to the channel that URL posts to.
    public var url: String
    /// Slack and `http`: the summary sent when the window ends, not the event on its own.
    public var isSummary = false

    public var action: DeliveryAction { window.messageId == nil ? .post : .collapsed }
}

extension Webhook {
    /// The window a delivery counts in; nil for a delivery that does not collapse (not marked
    /// when queued, a recovery, an event the webhook no longer collapses, or about no server).
    public func collapsed(_ delivery: Delivery) -> CollapsedSend? {
        guard let (serverId, at, collapse) = collapseKey(of: delivery) else { return nil }
        let window =
            windows?[serverId]?[delivery.event]?.after(delivery, at: at, windowSeconds: collapse.windowSeconds)
            ?? CollapseWindow(messageId: nil, first: at, last: at, count: 1)
        return CollapsedSend(
            serverId: serverId, event: delivery.event, window: window, windowSeconds: collapse.windowSeconds, url: url)
    }

    /// The server a collapsible delivery's window is kept under, its event's time, and the
    /// option; nil for a delivery that does not collapse.
    func collapseKey(of delivery: Delivery) -> (serverId: String, at: String, collapse: Collapse)? {
        guard delivery.collapsible == true, let collapse, collapse.events.contains(delivery.event),
            case .object(let server)? = delivery.payload["server"], let id = server["id"]?.stringValue, !id.isEmpty
        else { return nil }
        return (id, delivery.payload["timestamp"]?.stringValue ?? delivery.createdAt, collapse)
    }

    /// Keeps `sent`'s window, posted or edited as message `messageId` (the one it has when nil),
    /// unless the webhook no longer collapses its event or posts to another URL.
    public mutating func keep(_ sent: CollapsedSend, messageId: String? = nil) {
        guard collapse?.events.contains(sent.event) == true, url == sent.url else { return }
        var window = sent.window
        window.messageId = messageId ?? window.messageId
        windows = (windows ?? [:]).merging([sent.serverId: [sent.event: window]]) { $0.merging($1) { $1 } }
    }

    /// Forgets the message of `sent`'s window (Discord says it was deleted), so the next send posts
    /// a new one with the count so far. Unless another message was kept for it since.
    public mutating func forgetMessage(of sent: CollapsedSend) {
        guard let id = sent.window.messageId, windows?[sent.serverId]?[sent.event]?.messageId == id else { return }
        windows?[sent.serverId]?[sent.event]?.messageId = nil
    }
}
