/// The forum thread a `threadPerServer` webhook's message goes to (README "A thread per
/// server"): the thread of the event's server, kept by the server's id and named after the
/// server when it is made; events about no server (the test message) share one thread of their
/// own. Read from the webhook when the message is sent, so a message queued before its thread
/// was made still goes to it.
public struct ServerThread: Equatable, Sendable {
    /// The key of the webhook's `threads`: the server's id, or `noServerKey`.
    public var key: String
    /// The name a new thread gets.
    public var name: String
    /// The kept thread's id; nil when the thread is to be made.
    public var id: String?
    /// The webhook URL it is read for: thread ids belong to the forum that URL posts to.
    public var url: String

    /// Server ids are never empty.
    public static let noServerKey = ""
    public static let noServerName = "StellarStack"
}

extension Webhook {
    /// The thread a message of `delivery` goes to; nil without `threadPerServer`.
    public func thread(for delivery: Delivery) -> ServerThread? {
        guard threadPerServer == true else { return nil }
        var key = ServerThread.noServerKey
        var name = ServerThread.noServerName
        if case .object(let server)? = delivery.payload["server"], let id = server["id"]?.stringValue, !id.isEmpty {
            key = id
            name = server["name"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? id
        }
        return ServerThread(key: key, name: name, id: threads?[key], url: url)
    }

    /// Keeps `id` as the thread of `thread`'s key, unless the webhook no longer has
    /// `threadPerServer` or posts to another URL (the thread is not in its forum).
    public mutating func keep(threadId id: String, for thread: ServerThread) {
        guard threadPerServer == true, url == thread.url else { return }
        threads = (threads ?? [:]).merging([thread.key: id]) { $1 }
    }

    /// Forgets `thread` (Discord says it is gone), unless another id was kept for its key since.
    public mutating func forget(_ thread: ServerThread) {
        guard let id = thread.id, threads?[thread.key] == id else { return }
        threads?[thread.key] = nil
        if threads?.isEmpty == true { threads = nil }
    }
}
