import Glibc

/// Where the FastCGI listener is: a unix socket (nginx on the same machine, the default) or a
/// TCP address (nginx on another machine; then only `allowed_clients` may connect).
public enum ListenAddress: Equatable, Sendable {
    case unix(path: String)
    /// `host` empty or `*` is every interface.
    case tcp(host: String, port: UInt16)

    /// `/path` or `HOST:PORT`; nil for anything else.
    public init?(_ text: String) {
        if text.hasPrefix("/") {
            self = .unix(path: text)
            return
        }
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0 else {
            return nil
        }
        let host = String(text[..<colon])
        guard host.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ":") && $0 != UInt8(ascii: "/") }) else {
            return nil
        }
        self = .tcp(host: host, port: port)
    }

    static func isIPv4(_ text: String) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, text, &address) == 1
    }
}
