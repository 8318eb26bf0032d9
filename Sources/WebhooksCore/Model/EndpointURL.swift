/// The URL of an `http` webhook: any `https://` URL (`http://` only with allow_insecure_targets)
/// whose start passes `WebhookURLOrigin` with no host list, then any path and query. There is no
/// host list, so the only defence against a request to an address of ours is the helper's check
/// of every address it connects to (`PrivateAddress`); a literal private address is refused here
/// already.
public struct EndpointURL: Equatable, Sendable {
    /// The URL as sent: scheme and host in lower case, a default port dropped, "/" for no path.
    public let sendURL: String
    /// Path and query hidden: either may carry a token.
    public let redacted: String

    public init?(_ text: String, allowInsecure: Bool) {
        guard let origin = WebhookURLOrigin(text, allowedHosts: nil, allowInsecure: allowInsecure) else { return nil }
        let rest = origin.rest.hasPrefix("/") ? origin.rest : "/" + origin.rest
        sendURL = "\(origin.scheme)://\(origin.authority)\(rest)"
        redacted = "\(origin.scheme)://\(origin.authority)/****"
    }
}
