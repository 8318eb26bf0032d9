/// The ids a provider's messages ping roles and users by (README "Mentions"), so `mentions` are
/// checked on input against the webhook's provider and a message never carries one it would
/// misread.
public struct MentionIDs: Sendable {
    public var roles: Rule
    public var users: Rule

    /// What one kind of id looks like.
    public struct Rule: Sendable {
        /// The rule in words, for a 400.
        public var text: String
        let matches: @Sendable (Substring) -> Bool
    }
}
