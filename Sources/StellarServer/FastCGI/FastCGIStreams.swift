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
        /// The read watchdog cut the reading short.
        case timedOut

        var isRequest: Bool {
            if case .request = self { return true }
            return false
        }
    }

    /// `cutOff`: whether the read watchdog cut the connection off, which libfcgi sees as its end.
    static func read(_ fcgi: FCGX_Request, maxBodyBytes: Int, cutOff: @autoclosure () -> Bool) -> Outcome {
        // libfcgi takes a read that failed (the watchdog's cut, a reset) for the end of the
        // params and keeps the error: what it read may be any part of them, so none is used.
        if let failure = failure(of: fcgi.in, cutOff: cutOff()) { return failure }
        let outcome = head(Params(fcgi.envp), maxBodyBytes: maxBodyBytes)
        guard case .request(var request) = outcome else { return outcome }
        let length = request.body.count
        if length > 0 {
            let got = request.body.withUnsafeMutableBytes { buffer in
                FCGX_GetStr(buffer.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(length), fcgi.in)
            }
            if got != length { return failure(of: fcgi.in, cutOff: cutOff()) ?? .unreadable("Incomplete request body") }
        }
        return .request(request)
    }

    /// Reads what is left of a stream up to its end (the empty record that closes it), dropping
    /// it; false when the stream failed first (a reset, the watchdog's cut).
    static func readToEnd(_ stream: UnsafeMutablePointer<FCGX_Stream>?) -> Bool {
        while FCGX_GetChar(stream) != EOF {}
        return FCGX_GetError(stream) == 0
    }

    private static func failure(of stream: UnsafeMutablePointer<FCGX_Stream>?, cutOff: Bool) -> Outcome? {
        if FCGX_GetError(stream) == 0 { return nil }
        return cutOff ? .timedOut : .unreadable("Incomplete request")
    }

    /// The request the params describe, with a zeroed body of the announced length to read into.
    /// Anything on the socket may send these, not only nginx: a negative or non-numeric length is
    /// a bad request, never a crash, and an oversized one is refused before it costs memory.
    static func head(_ params: Params, maxBodyBytes: Int) -> Outcome {
        var headers: [String: String] = [:]
        for (index, header) in Request.headersRead.enumerated() {
            if let value = params.values[Params.firstHeader + index] { headers[header] = value }
        }
        // nginx passes these two outside HTTP_*.
        if let contentType = params[.contentType], !contentType.isEmpty { headers["content-type"] = contentType }
        let lengthText = params[.contentLength] ?? ""
        guard let length = lengthText.isEmpty ? 0 : Int(lengthText), length >= 0 else {
            return .unreadable("Invalid Content-Length")
        }
        if length > maxBodyBytes { return .tooLarge }

        // DOCUMENT_URI is the path after nginx's rewrites (/api/webhooks → /webhooks), decoded;
        // front ends that send none (lighttpd) pass REQUEST_URI as it came, encoded.
        let path = params[.documentURI] ?? Request.decodePath(params[.requestURI]?.prefix { $0 != "?" } ?? "/")
        let query = params[.queryString] ?? ""
        return .request(
            Request(
                method: params[.requestMethod] ?? "GET", path: path,
                query: query.isEmpty ? [:] : Request.parseQuery(query), headers: headers,
                body: [UInt8](repeating: 0, count: length)))
    }

    /// The params `head` reads, in fixed slots: these, then the headers the API reads
    /// (`Request.headersRead`) as nginx passes them (`HTTP_IDEMPOTENCY_KEY`). nginx sends two
    /// dozen params in all; the rest are skipped by comparing bytes, without being copied.
    struct Params {
        enum Name: Int, CaseIterable {
            case contentType, contentLength, documentURI, requestURI, requestMethod, queryString
        }

        static let firstHeader = Name.allCases.count
        static let names: [[UInt8]] =
            (["CONTENT_TYPE", "CONTENT_LENGTH", "DOCUMENT_URI", "REQUEST_URI", "REQUEST_METHOD", "QUERY_STRING"]
            + Request.headersRead.map { "HTTP_" + $0.uppercased().replacing("-", with: "_") }).map { Array($0.utf8) }

        var values = [String?](repeating: nil, count: names.count)

        subscript(name: Name) -> String? { values[name.rawValue] }

        /// From libfcgi's `NAME=value` strings.
        init(_ envp: FCGX_ParamArray?) {
            guard var cursor = envp else { return }
            while let entry = cursor.pointee {
                cursor += 1
                guard let equals = strchr(entry, Int32(UInt8(ascii: "="))) else { continue }
                let length = equals - entry
                guard let slot = Self.names.firstIndex(where: { $0.count == length && memcmp($0, entry, length) == 0 })
                else { continue }
                values[slot] = String(cString: equals + 1)
            }
        }

        /// From names and values (tests); names it does not read are dropped, as from a socket.
        init(_ params: [String: String]) {
            for (slot, name) in Self.names.enumerated() {
                values[slot] = params[String(decoding: name, as: UTF8.self)]
            }
        }
    }
}

/// Writes a response as CGI output: nginx reads the status from the `Status:` header.
enum FastCGIResponseWriter {
    static func write(_ response: Response, to stream: UnsafeMutablePointer<FCGX_Stream>?) {
        var head = "Status: \(response.status) \(Response.reasonPhrase(response.status))\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(response.body.count)\r\n\r\n"
        // Two puts into libfcgi's buffer rather than one joined copy of the body.
        head.withUTF8 { put($0, stream) }
        response.body.withUnsafeBufferPointer { put($0, stream) }
    }

    private static func put(_ bytes: UnsafeBufferPointer<UInt8>, _ stream: UnsafeMutablePointer<FCGX_Stream>?) {
        _ = bytes.withMemoryRebound(to: CChar.self) { FCGX_PutStr($0.baseAddress, Int32($0.count), stream) }
    }
}
