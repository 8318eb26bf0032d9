/// The few text helpers the service needs, so no process has to load all of Foundation for them.
extension StringProtocol {
    /// Without leading and trailing spaces, tabs and line breaks.
    public var trimmed: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0.isNewline }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}

extension BinaryInteger {
    /// The number in decimal, padded with zeros to `width` digits.
    func zeroPadded(_ width: Int) -> String { padded(String(self), width) }

    /// The number in lower-case hex, padded with zeros to `width` digits.
    func hexPadded(_ width: Int) -> String { padded(String(self, radix: 16), width) }

    private func padded(_ digits: String, _ width: Int) -> String {
        String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// Paths as the store builds them: absolute, `/`-separated, no trailing slash.
enum Path {
    /// The folder a path is in.
    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The last component of a path.
    static func name(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}
