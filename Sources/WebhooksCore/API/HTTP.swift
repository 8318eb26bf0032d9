/// An HTTP request as a plain value: what the FastCGI worker copies out of libfcgi, and what the
/// tests build by hand.
public struct Request: Sendable, Equatable {
    public var method: String
    public var path: String
    public var query: [String: String]
    /// Header names in lower case. From a worker, only those in `headersRead`.
    public var headers: [String: String]
    /// The headers the API reads: a worker copies these and no others out of each request.
    public static let headersRead = ["authorization", "content-type", "idempotency-key"]
    public var body: [UInt8]

    public init(
        method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:], body: [UInt8] = []
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// Parses `a=1&b=two` (percent-decoding, `+` as space); the first of repeated names wins.
    public static func parseQuery(_ text: String) -> [String: String] {
        var query: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = decodeQueryPart(parts[0])
            if query[name] == nil { query[name] = parts.count > 1 ? decodeQueryPart(parts[1]) : "" }
        }
        return query
    }

    /// A request path as sent (`REQUEST_URI`, which front ends other than nginx pass undecoded):
    /// `%XX` as a byte, `+` kept, as nginx decodes `DOCUMENT_URI`.
    public static func decodePath(_ path: Substring) -> String {
        percentDecoded(Array(path.utf8))
    }

    /// `+` as space and `%XX` as a byte.
    static func decodeQueryPart(_ part: Substring) -> String {
        percentDecoded(Array(part.utf8).map { $0 == UInt8(ascii: "+") ? UInt8(ascii: " ") : $0 })
    }

    /// `%XX` as a byte; text that is not valid that way (a stray `%`, bytes that are not UTF-8) is
    /// kept as it came.
    private static func percentDecoded(_ spaced: [UInt8]) -> String {
        var bytes: [UInt8] = []
        var index = 0
        while index < spaced.count {
            if spaced[index] == UInt8(ascii: "%") {
                let digits = spaced.dropFirst(index + 1).prefix(2)
                guard digits.count == 2, digits.allSatisfy({ Character(Unicode.Scalar($0)).isHexDigit }),
                    let byte = UInt8(String(decoding: digits, as: UTF8.self), radix: 16)
                else { return String(decoding: spaced, as: UTF8.self) }
                bytes.append(byte)
                index += 3
            } else {
                bytes.append(spaced[index])
                index += 1
            }
        }
        return String(validating: bytes, as: UTF8.self) ?? String(decoding: spaced, as: UTF8.self)
    }
}

/// An HTTP response as a plain value.
public struct Response: Sendable, Equatable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func == (lhs: Response, rhs: Response) -> Bool {
        lhs.status == rhs.status && lhs.body == rhs.body
            && lhs.headers.map { "\($0.0): \($0.1)" } == rhs.headers.map { "\($0.0): \($0.1)" }
    }

    public static let jsonContentType = "application/json; charset=utf-8"

    public static func json(_ status: Int, _ value: JSONValue, headers: [(String, String)] = []) -> Response {
        Response(status: status, headers: [("Content-Type", jsonContentType)] + headers, body: value.serialized())
    }

    /// `{"error": message}` plus any documented extras.
    public static func error(
        _ status: Int, _ message: String, extras: [String: JSONValue] = [:], headers: [(String, String)] = []
    ) -> Response {
        json(status, .object(extras.merging(["error": .string(message)]) { _, new in new }), headers: headers)
    }

    /// The body parsed back, for tests and logs.
    public var json: JSONValue? { JSONValue.parse(body) }

    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 413: return "Payload Too Large"
        case 415: return "Unsupported Media Type"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 503: return "Service Unavailable"
        default: return "Status"
        }
    }
}
