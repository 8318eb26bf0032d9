import FoundationEssentials

/// What the delivery helpers of several hosts sharing one database need besides the outbox
/// (docs/architecture.md: "Storage"): the waits Discord asked for, kept for every host, and a
/// signal when another host queued deliveries. A helper alone on its flat files needs neither:
/// its `SendGate` keeps the waits, and every queueing wakes it through its own socket.
public protocol HostCoordination: AnyObject, Sendable {
    /// Keeps a rate-limit wait Discord asked for, for every helper that may send to that webhook.
    func holdSends(sendKey: String, until: Date) throws
    /// A descriptor that turns readable when another host queued deliveries, for the helper to
    /// wait on; nil while it cannot listen (the database is down).
    func queuedSignal() -> Int32?
    /// Takes what arrived on that descriptor; true when something was queued.
    func takeQueuedSignal() -> Bool
}
