/// Who we are, for `--version` and the User-Agent Discord asks bots to send.
public enum Product {
    public static let version = "0.4.0"
    public static let url = "https://github.com/stellar-webhooks/stellar-webhooks"
    /// `DiscordBot (url, version)`, the form Discord's API documentation asks for.
    public static let userAgent = "DiscordBot (\(url), \(version))"
}
