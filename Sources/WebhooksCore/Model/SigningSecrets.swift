import FoundationEssentials

/// An `http` webhook's signing secrets as stored: sealed (`SecretBox`, bound to the webhook's id),
/// never in the clear. After a rotation the replaced secret signs too, until `previousExpiresAt`,
/// so a receiver has a day to switch.
public struct SigningSecrets: Codable, Equatable, Sendable {
    public var current: String
    public var previous: String?
    public var previousExpiresAt: String?

    /// How long a replaced secret still signs.
    public static let overlap: TimeInterval = 24 * 3600

    public init(current: String) {
        self.current = current
    }
}
