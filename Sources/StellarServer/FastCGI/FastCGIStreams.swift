import CFastCGI
import Glibc
import WebhooksCore

/// Copies a request out of libfcgi at once: its params and buffers are freed at the next accept.
enum FastCGIRequestReader {
    enum Outcome: Equatable {
        case request(Request)
        case tooLarge
        /// A bad request before any handler: the reason, for a 400.
        case unreadable(String)
    }

    static func read(_ fcgi: FCGX_Request, maxBodyBytes: Int) -> Outcome {
        let outcome = head(parameters(fcgi.envp), maxBodyBytes: maxBodyBytes)
        guard case .request(var request) = outcome else { return outcome }
        let length = request.body.count
        if length > 0 {
            let got = request.body.withUnsafeMutableBytes { buffer in
                FCGX_GetStr(buffer.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(length), fcgi.in)
            }
            if got != length { return .unreadable("Incomplete request body") }
        }
        return .request(request)
    }

    /// The request the params describe, with a zeroed body of the announced length to read into.
    /// Anything on the socket may send these, not only nginx: a negative or non-numeric length is
    /// a bad request, never a crash, and an oversized one is refused before it costs memory.
    static func head(_ params: [String: String], maxBodyBytes: Int) -> Outcome {
        var headers: [String: String] = [:]
        for (name, value) in params where name.hasPrefix("HTTP_") { headers[headerName(name)] = value }
        // nginx passes these two outside HTTP_*.
        if let contentType = params["CONTENT_TYPE"], !contentType.isEmpty { headers["content-type"] = contentType }
        let lengthText = params["CONTENT_LENGTH"] ?? ""
        guard let length = lengthText.isEmpty ? 0 : Int(lengthText), length >= 0 else {
            return .unreadable("Invalid Content-Length")
        }
        if length > maxBodyBytes { return .tooLarge }

        // DOCUMENT_URI is the path after nginx's rewrites (/api/webhooks → /webhooks).
        let path = params["DOCUMENT_URI"] ?? String(params["REQUEST_URI"]?.prefix { $0 != "?" } ?? "/")
        return .request(Request(
            method: params["REQUEST_METHOD"] ?? "GET", path: path,
            query: Request.parseQuery(params["QUERY_STRING"] ?? ""), headers: headers,
            body: [UInt8](repeating: 0, count: length)))
    }

    /// HTTP_IDEMPOTENCY_KEY → idempotency-key, byte by byte (every request has a dozen).
    static func headerName(_ param: String) -> String {
        String(decoding: param.utf8.dropFirst(5).map { byte in
            switch byte {
            case UInt8(ascii: "_"): UInt8(ascii: "-")
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte + 32
            default: byte
            }
        }, as: UTF8.self)
    }

    /// The params `head` reads: these, and the headers the API reads (`Request.headersRead`) as
    /// nginx passes them (`HTTP_IDEMPOTENCY_KEY`). nginx sends two dozen params in all; the rest
    /// are skipped by comparing bytes, without being copied.
    static let usedParams: [(name: String, bytes: [UInt8])] = (
        ["CONTENT_TYPE", "CONTENT_LENGTH", "DOCUMENT_URI", "REQUEST_URI", "REQUEST_METHOD", "QUERY_STRING"]
            + Request.headersRead.map { "HTTP_" + $0.uppercased().replacing("-", with: "_") }
    ).map { ($0, Array($0.utf8)) }

    static func parameters(_ envp: FCGX_ParamArray?) -> [String: String] {
        var result: [String: String] = [:]
        guard var cursor = envp else { return result }
        while let entry = cursor.pointee {
            cursor += 1
            guard let equals = strchr(entry, Int32(UInt8(ascii: "="))) else { continue }
            let length = equals - entry
            guard let used = usedParams.first(where: { $0.bytes.count == length && memcmp($0.bytes, entry, length) == 0 })
            else { continue }
            result[used.name] = String(cString: equals + 1)
        }
        return result
    }
}

/// Writes a response as CGI output: nginx reads the status from the `Status:` header.
enum FastCGIResponseWriter {
    static func write(_ response: Response, to stream: UnsafeMutablePointer<FCGX_Stream>?) {
        var head = "Status: \(response.status) \(Response.reasonPhrase(response.status))\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(response.body.count)\r\n\r\n"
        var bytes = Array(head.utf8)
        bytes += response.body
        bytes.withUnsafeBytes { buffer in
            _ = FCGX_PutStr(buffer.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(buffer.count), stream)
        }
    }
}
