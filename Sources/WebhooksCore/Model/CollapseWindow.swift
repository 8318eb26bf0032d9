import FoundationEssentials

/// One collapse window of a `collapse` webhook (README "Crash loops collapsed"): the message that
/// carries a server's repeats of one event, and what it shows. Kept on the webhook by the helper
/// after Discord's answer, as status cards are, so whichever host sends the next repeat reads it:
/// sends to one webhook go one at a time, in queue order.
public struct CollapseWindow: Codable, Equatable, Sendable {
    /// The Discord message; nil when it was deleted (the next send posts a new one).
    public var messageId: String?
    /// The first event's time: the window ends `windowSeconds` after it.
    public var first: String
    /// The latest event's time.
    public var last: String
    /// How many events the message stands for.
    public var count: Int

    /// The window after `delivery`'s event at `at`, or nil when `at` is past its end (a new window
    /// starts). A resend (manual retry) edits the message again without counting its event twice.
    func after(_ delivery: Delivery, at: String, windowSeconds: Int) -> CollapseWindow? {
        guard let first = Timestamp.parse(first), let time = Timestamp.parse(at),
            time.timeIntervalSince(first) < Double(windowSeconds)
        else { return nil }
        guard delivery.firstSendId == nil else { return self }
        var next = self
        next.count += 1
        if StatusCard.isBefore(at, next.first) { next.first = at }
        if StatusCard.isBefore(next.last, at) { next.last = at }
        return next
    }
}
