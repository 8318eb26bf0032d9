/// Every provider the service delivers to, by the name a webhook's `provider` field holds.
public enum Providers {
    public static let discord = DiscordProvider()
    public static let slack = SlackProvider()
    public static let http = HTTPProvider()
    public static let all: [DeliveryProvider] = [discord, slack, http]
    /// The providers a webhook's URL alone names: their hosts are theirs.
    public static let inferable: [DeliveryProvider] = [discord, slack]

    /// The provider of that name; nil for one this version does not know.
    public static func named(_ name: String) -> DeliveryProvider? {
        all.first { $0.name == name }
    }
}
