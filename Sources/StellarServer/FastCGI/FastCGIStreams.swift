import CFastCGI
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
        for (name, value) in params where name.hasPrefix("HTTP_") {
            headers[name.dropFirst(5).lowercased().replacing("_", with: "-")] = value
        }
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

    static func parameters(_ envp: FCGX_ParamArray?) -> [String: String] {
        var result: [String: String] = [:]
        guard var cursor = envp else { return result }
        while let entry = cursor.pointee {
            let pair = String(cString: entry)
            if let equals = pair.firstIndex(of: "=") {
                result[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            cursor += 1
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
