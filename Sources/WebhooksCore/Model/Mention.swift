/// One entry of a webhook's `mentions` (README "Mentions"): the roles and users a message of
/// these events pings. Ids as the webhook's provider writes them (Discord snowflakes; Slack
/// user-group and user ids), checked on input (`MentionsInput`); events canonical.
public struct Mention: Codable, Equatable, Sendable {
    public var events: [String]
    public var roles: [String]
    public var users: [String]

    public init(events: [String], roles: [String], users: [String]) {
        self.events = events
        self.roles = roles
        self.users = users
    }
}
