/// The start every provider's webhook URL is checked by: `https://` (or `http://` with
/// `allow_insecure_targets`) + an allowed `host[:port]` (any well-formed one where no list
/// applies), no user info, no fragment, printable ASCII without backslashes, and no literal
/// private address outside tests. What follows the authority (path and query) is left to the
/// provider's own rules (`DiscordWebhookURL`, `SlackWebhookURL`, `EndpointURL`). Parsed by hand on purpose: general URL parsers accept forms
/// (`https://discord.com@evil/…`, backslashes, odd escapes) that must never pass.
struct WebhookURLOrigin: Equatable, Sendable {
    var scheme: String
    /// `host` or `host:port`, lower case, the default port dropped: as the hosts key lists it.
    var authority: String
    /// The path and query after the authority.
    var rest: Substring

    /// The longest webhook URL of any provider.
    static let maxLength = 2048

    /// `allowedHosts` nil: any host name or address literal, with an optional port.
    init?(_ text: String, allowedHosts: [String]?, allowInsecure: Bool) {
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
        guard !rest.contains("#") else { return nil }

        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        var authority = rest[..<authorityEnd].lowercased()
        if authority.hasSuffix(scheme == "https" ? ":443" : ":80") {
            authority = String(authority[..<authority.lastIndex(of: ":")!])
        }
        guard !authority.contains("@"), allowedHosts?.contains(authority) ?? Self.isHostAndPort(authority) else {
            return nil
        }
        // An operator may list an address; a private one is still refused outside tests.
        if !allowInsecure, PrivateAddress.literalIsPrivate(host: Self.host(of: authority)) == true {
            return nil
        }
        self.authority = authority
        self.rest = rest[authorityEnd...]
    }

    /// A host name (letters, digits, dots, hyphens) or a bracketed IPv6 literal, and an optional
    /// port of digits.
    static func isHostAndPort(_ authority: String) -> Bool {
        var host = Substring(authority)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            let port = host[host.index(after: close)...]
            guard port.isEmpty || (port.hasPrefix(":") && isPort(port.dropFirst())) else { return false }
            return host[host.index(after: host.startIndex)..<close].allSatisfy {
                $0.isHexDigit || $0 == ":" || $0 == "."
            }
        }
        if let colon = host.firstIndex(of: ":") {
            guard isPort(host[host.index(after: colon)...]) else { return false }
            host = host[..<colon]
        }
        return !host.isEmpty && !host.hasPrefix(".") && !host.hasPrefix("-")
            && host.allSatisfy { ("a"..."z").contains($0) || $0.isASCIIDigit || $0 == "." || $0 == "-" }
    }

    static func isPort(_ text: Substring) -> Bool {
        !text.isEmpty && text.count <= 5 && text.allSatisfy(\.isASCIIDigit) && (1...65535).contains(Int(text) ?? 0)
    }

    /// `host` of `host:port`, `[v6]` of `[v6]:port`.
    static func host(of authority: String) -> String {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            return String(authority[...close])
        }
        return String(authority.prefix { $0 != ":" })
    }
}
