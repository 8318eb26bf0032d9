import FoundationEssentials

/// One collapse window of a `collapse` webhook (README "Crash loops collapsed"): the message that
/// carries a server's repeats of one event, and what it shows. Kept on the webhook by the helper
/// after the answer, as status cards are, so whichever host sends the next repeat reads it: sends
/// to one webhook go one at a time, in queue order. On Slack and `http`, which cannot edit, the
/// repeats wait for the window's end (`held`) and one summary follows (`SummaryStep`).
public struct CollapseWindow: Codable, Equatable, Sendable {
    /// The message posted first: Discord's id (nil when it was deleted: the next send posts a new
    /// one), or on Slack and `http` the posting delivery's `messageId`.
    public var messageId: String?
    /// The first event's time: the window ends `windowSeconds` after it.
    public var first: String
    /// The latest event's time.
    public var last: String
    /// How many events the message stands for.
    public var count: Int
    /// Slack and `http`: the deliveries of the repeats counted, waiting for the window's end, in
    /// the order they were counted; the first sends the summary (its carrier). So a repeat is
    /// counted once, even when the helper stops between counting and recording it. Nil on Discord.
    /// The carrier and the latest `heldKept - 1` only (`remembering`).
    public var held: [String]?

    /// How many of `held` are kept. Sends to one webhook go one at a time, so only the latest
    /// repeat can be counted and not yet recorded; older ones are kept as a margin, and the
    /// webhook's record stays small however long a loop lasts (a crash every 10 s for a day's
    /// window would be 8,640 ids).
    static let heldKept = 64

    /// `held` with `id` counted: the carrier first, then the latest.
    static func remembering(_ id: String, after held: [String]) -> [String] {
        var held = held + [id]
        if held.count > heldKept { held.removeSubrange(1...(held.count - heldKept)) }
        return held
    }

    public init(messageId: String?, first: String, last: String, count: Int, held: [String]? = nil) {
        self.messageId = messageId
        self.first = first
        self.last = last
        self.count = count
        self.held = held
    }

    /// When the window ends: `windowSeconds` after its first event.
    func end(windowSeconds: Int) -> Date? {
        Timestamp.parse(first).map { $0.addingTimeInterval(Double(windowSeconds)) }
    }

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
