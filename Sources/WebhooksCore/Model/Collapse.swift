/// A webhook's `collapse` option (README "Crash loops collapsed"): the events whose repeats about
/// one server within `windowSeconds` of the first edit that first message instead of posting
/// again. Discord only, whose webhooks can edit their messages.
public struct Collapse: Codable, Equatable, Sendable {
    /// Canonical catalogue names, each once, never empty.
    public var events: [String]
    public var windowSeconds: Int

    public static let windowRange = 60...86_400

    public init(events: [String], windowSeconds: Int) {
        self.events = events
        self.windowSeconds = windowSeconds
    }
}
