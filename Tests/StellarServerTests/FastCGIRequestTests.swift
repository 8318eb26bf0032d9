import XCTest

@testable import StellarServer
@testable import WebhooksCore

/// What a worker makes of the params on its socket, before any handler: anything may send them.
final class FastCGIRequestTests: XCTestCase {
    func head(_ params: [String: String]) -> FastCGIRequestReader.Outcome {
        FastCGIRequestReader.head(.init(params), maxBodyBytes: 100)
    }

    func testABadContentLengthIsA400NeverACrash() {
        for length in ["-5", "abc", "1e3", " 12", "99999999999999999999999"] {
            XCTAssertEqual(head(["CONTENT_LENGTH": length]), .unreadable("Invalid Content-Length"), length)
        }
        XCTAssertEqual(head(["CONTENT_LENGTH": "101"]), .tooLarge)
    }

    func testHeadersPathAndBodyLength() {
        guard
            case .request(let request) = head([
                "REQUEST_METHOD": "PATCH", "DOCUMENT_URI": "/webhooks/x", "REQUEST_URI": "/api/webhooks/x?a=1",
                "QUERY_STRING": "limit=5&offset=%31", "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "7",
                "HTTP_AUTHORIZATION": "Bearer k", "HTTP_IDEMPOTENCY_KEY": "abc",
            ])
        else { return XCTFail("a request") }
        XCTAssertEqual(request.method, "PATCH")
        XCTAssertEqual(request.path, "/webhooks/x")
        XCTAssertEqual(request.query, ["limit": "5", "offset": "1"])
        XCTAssertEqual(
            request.headers,
            ["authorization": "Bearer k", "idempotency-key": "abc", "content-type": "application/json"])
        XCTAssertEqual(request.body.count, 7)
    }

    func testMissingParamsHaveDefaults() {
        guard case .request(let request) = head(["REQUEST_URI": "/events?x=1"]) else { return XCTFail("a request") }
        XCTAssertEqual(request.method, "GET")
        XCTAssertEqual(request.path, "/events")
        XCTAssertEqual(request.body, [])
        guard case .request(let bare) = head([:]) else { return XCTFail("a request") }
        XCTAssertEqual(bare.path, "/")
    }

    /// lighttpd sends no DOCUMENT_URI: its REQUEST_URI is decoded as nginx decodes DOCUMENT_URI.
    func testAnEncodedRequestURIIsDecodedLikeNginxsDocumentURI() {
        guard case .request(let request) = head(["REQUEST_URI": "/servers/mc%2E1+x?y=%41"]) else {
            return XCTFail("a request")
        }
        XCTAssertEqual(request.path, "/servers/mc.1+x")
        guard case .request(let stray) = head(["REQUEST_URI": "/servers/100%"]) else { return XCTFail("a request") }
        XCTAssertEqual(stray.path, "/servers/100%", "a stray % is kept as it came")
    }
}
