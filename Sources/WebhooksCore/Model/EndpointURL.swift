/// The URL of an `http` webhook: any `https://` URL (`http://` only with allow_insecure_targets),
/// with no credentials and no fragment, at most `WebhookInput.maxURLLength` bytes of printable
/// ASCII. There is no host list, so the only defence against a request to an address of ours is
/// the helper's check of every address it connects to (`PrivateAddress`); a literal private
/// address is refused here already. Parsed by hand for the reason `DiscordWebhookURL` gives.
public struct EndpointURL: Equatable, Sendable {
    public var scheme: String
    /// `host` or `host:port`, lower case.
    public var authority: String
    /// The path and query, as given ("/" when there was none).
    public var rest: String

    public init?(_ text: String, allowInsecure: Bool) {
        guard text.utf8.count <= WebhookInput.maxURLLength,
            text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "\\") }), !text.contains("#")
        else { return nil }
        let lower = text.lowercased()
        if lower.hasPrefix("https://") {
            scheme = "https"
        } else if allowInsecure, lower.hasPrefix("http://") {
            scheme = "http"
        } else {
            return nil
        }
        let afterScheme = text.dropFirst(scheme.count + 3)
        let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" } ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd].lowercased()
        guard !authority.contains("@"), Self.isAuthority(authority) else { return nil }
        if !allowInsecure, PrivateAddress.literalIsPrivate(host: DiscordWebhookURL.host(of: authority)) == true {
            return nil
        }
        self.authority = authority
        let rest = afterScheme[authorityEnd...]
        self.rest = rest.hasPrefix("/") ? String(rest) : "/" + rest
    }

    /// The URL as sent: scheme and host in lower case.
    public var sendURL: String { "\(scheme)://\(authority)\(rest)" }

    /// Path and query hidden: either may carry a token.
    public var redacted: String { "\(scheme)://\(authority)/****" }

    /// A host name (letters, digits, dots, hyphens) or a bracketed IPv6 literal, and an optional
    /// port of digits.
    static func isAuthority(_ authority: String) -> Bool {
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
}
