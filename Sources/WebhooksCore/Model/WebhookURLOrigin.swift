/// The start every provider's webhook URL is checked by: `https://` (or `http://` with
/// `allow_insecure_targets`) + an allowed `host[:port]`, no user info, no fragment, printable
/// ASCII without backslashes, and no literal private address outside tests. What follows the
/// authority (path and query) is left to the provider's own rules (`DiscordWebhookURL`,
/// `SlackWebhookURL`). Parsed by hand on purpose: general URL parsers accept forms
/// (`https://discord.com@evil/…`, backslashes, odd escapes) that must never pass.
struct WebhookURLOrigin: Equatable, Sendable {
    var scheme: String
    /// `host` or `host:port`, lower case, the default port dropped: as the hosts key lists it.
    var authority: String
    /// The path and query after the authority.
    var rest: Substring

    /// The longest webhook URL of any provider.
    static let maxLength = 2048

    init?(_ text: String, allowedHosts: [String], allowInsecure: Bool) {
        guard text.utf8.count <= Self.maxLength,
            text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "\\") })
        else { return nil }
        var rest = Substring(text)
        if rest.lowercased().hasPrefix("https://") {
            scheme = "https"
        } else if allowInsecure, rest.lowercased().hasPrefix("http://") {
            scheme = "http"
        } else {
            return nil
        }
        rest = rest.dropFirst(scheme.count + 3)
        guard !rest.contains("#"), !rest.contains("@") else { return nil }

        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        var authority = rest[..<authorityEnd].lowercased()
        if authority.hasSuffix(scheme == "https" ? ":443" : ":80") {
            authority = String(authority[..<authority.lastIndex(of: ":")!])
        }
        guard allowedHosts.contains(authority) else { return nil }
        // An operator may list an address; a private one is still refused outside tests.
        if !allowInsecure, PrivateAddress.literalIsPrivate(host: Self.host(of: authority)) == true {
            return nil
        }
        self.authority = authority
        self.rest = rest[authorityEnd...]
    }

    /// `host` of `host:port`, `[v6]` of `[v6]:port`.
    static func host(of authority: String) -> String {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            return String(authority[...close])
        }
        return String(authority.prefix { $0 != ":" })
    }
}
