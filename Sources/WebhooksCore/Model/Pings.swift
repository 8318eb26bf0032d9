/// Whom one message pings: the roles and users of every `mentions` entry of its webhook that
/// lists its event, each once, in the order listed. Only these are ever pinged: a provider's
/// message names them in its own syntax and nothing from the event's data can ping.
public struct Pings: Equatable, Sendable {
    public var roles: [String]
    public var users: [String]

    public init(roles: [String] = [], users: [String] = []) {
        self.roles = roles
        self.users = users
    }

    public static let none = Pings()

    public var isEmpty: Bool { roles.isEmpty && users.isEmpty }

    /// The pings of `event` under `mentions`.
    public init(for event: String, in mentions: [Mention]) {
        self.init()
        for mention in mentions where mention.events.contains(event) {
            for role in mention.roles where !roles.contains(role) { roles.append(role) }
            for user in mention.users where !users.contains(user) { users.append(user) }
        }
    }
}
