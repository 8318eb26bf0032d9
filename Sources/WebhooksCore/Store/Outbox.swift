import FoundationEssentials

/// The delivery helper's side of a store (docs/architecture.md: "A delivery"): the pending
/// deliveries in queue order, claiming one just before it is sent, and recording what came back.
public protocol Outbox: AnyObject, Sendable {
    /// Names (`OutboxName`) of the pending entries this helper may send, oldest first.
    func outboxNames() throws -> [String]
    /// The pending delivery an entry points to, claimed for this helper; nil when there is none
    /// any more (finished, its webhook deleted, or claimed by another host's helper).
    func pendingDelivery(outboxName name: String) throws -> Delivery?
    /// The pending delivery an entry points to, for scheduling only: read without waiting on
    /// writers, so it may belong to a fan-out still being written (one that may yet be undone).
    /// `claimDelivery` before the send is the check. nil when there is none any more.
    func peekDelivery(outboxName name: String) throws -> Delivery?
    /// Claims the pending delivery for this helper just before it is sent to the Discord webhook
    /// `sendKey` names (its rate-limit key): nil when there is none any more, or another helper
    /// holds it, is sending to that Discord webhook, or waits on it for Discord.
    func claimDelivery(outboxName name: String, sendKey: String) throws -> Delivery?
    /// Moves an entry that cannot be read out of the way, kept for the admin.
    func rejectOutboxEntry(_ name: String) throws
    /// Throws while nothing can be written (a full disk, a database down).
    func checkWritable() throws
    /// Records an attempt; a finished delivery leaves the outbox. False when its webhook is gone.
    @discardableResult
    func record(_ delivery: Delivery, outboxName name: String) throws -> Bool
}
