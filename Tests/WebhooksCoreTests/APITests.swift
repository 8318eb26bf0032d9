import XCTest

@testable import WebhooksCore

final class RouterTests: XCTestCase {
    func testRoutesMethodsAndUnknownPaths() {
        func found(_ method: String, _ path: String) -> (String, [String: String])? {
            guard case .found(let route, _, let parameters) = Router.match(method: method, path: path) else {
                return nil
            }
            return (route.path, parameters)
        }
        func allowed(_ method: String, _ path: String) -> [String]? {
            guard case .methodNotAllowed(let allowed) = Router.match(method: method, path: path) else { return nil }
            return allowed
        }
        XCTAssertEqual(found("GET", "/webhooks/events")?.0, "/webhooks/events")
        XCTAssertEqual(found("PATCH", "/webhooks/abc")?.1, ["id": "abc"])
        XCTAssertEqual(found("GET", "/webhooks/a/deliveries/b")?.1, ["id": "a", "deliveryId": "b"])
        XCTAssertEqual(allowed("PUT", "/webhooks"), ["GET", "POST"])
        XCTAssertEqual(allowed("GET", "/events"), ["POST"])
        XCTAssertEqual(allowed("PATCH", "/webhooks/events"), ["GET"], "a literal segment beats a parameter")
        guard case .notFound = Router.match(method: "GET", path: "/nope"),
            case .notFound = Router.match(method: "GET", path: "/webhooks/a/b/c/d/e")
        else { return XCTFail("unknown paths are 404") }
    }

    func testPaginationEdges() {
        func parse(_ query: [String: String]) -> Pagination? {
            if case .valid(let page) = Pagination.parse(query) { return page }
            return nil
        }
        XCTAssertEqual(parse([:]), Pagination(limit: 50, offset: 0))
        XCTAssertEqual(parse(["limit": "101", "offset": "7"]), Pagination(limit: 100, offset: 7))
        XCTAssertNil(parse(["limit": "0"]))
        XCTAssertNil(parse(["limit": "abc"]))
        XCTAssertNil(parse(["limit": "-1"]))
        XCTAssertNil(parse(["offset": "-1"]))
        XCTAssertNil(parse(["offset": "1.5"]))
    }
}

final class AppTests: XCTestCase {
    let harness = AppHarness()
    lazy var alice = harness.key(user: "alice")
    lazy var bob = harness.key(user: "bob")
    lazy var panel = harness.key(service: "panel")

    func create(_ json: String, key: String? = nil) -> Response {
        harness.send("POST", "/webhooks", key: key ?? alice, json: json)
    }

    func createdId(_ response: Response) -> String {
        response.json?["id"]?.stringValue ?? "missing"
    }

    /// Every handler runs once with a path its pattern matches: one that read a parameter its
    /// pattern lacks would stop the test (RouteCall's subscript), not answer 404 in production.
    func testEveryRouteReadsOnlyItsPatternsParameters() {
        for route in Router.routes {
            let path = route.path.split(separator: "/").map { $0.hasPrefix(":") ? "p-\($0.dropFirst())" : String($0) }
            let key: String? =
                switch route.keyKind {
                case .user: alice
                case .service: panel
                case .none: nil
                }
            let answer = harness.send(
                route.method, "/" + path.joined(separator: "/"), key: key, json: route.takesBody ? "{}" : nil)
            XCTAssertNotEqual(answer.status, 500, "\(route.method) \(route.path)")
        }
    }

    func testAuthErrors() {
        let missing = harness.send("GET", "/webhooks", key: nil)
        XCTAssertEqual(missing.status, 401)
        XCTAssertEqual(missing.json, .object(["error": .string("Unauthorized")]))
        XCTAssertTrue(missing.headers.contains { $0 == ("WWW-Authenticate", "Bearer") })
        XCTAssertEqual(harness.send("GET", "/webhooks", key: "swh_nope").status, 401)
        XCTAssertEqual(harness.send("GET", "/webhooks", key: panel).status, 403)
        XCTAssertEqual(harness.send("POST", "/events", key: alice, json: "{}").status, 403)
        XCTAssertEqual(harness.send("DELETE", "/servers/s1", key: alice).status, 403)
        // The kind of key is checked before the body is read.
        XCTAssertEqual(harness.send("POST", "/webhooks", key: panel, json: "{oops").status, 403)
        XCTAssertEqual(harness.send("POST", "/events", key: alice, json: "{oops").status, 403)
    }

    func testCreateReturnsTheWebhookObject() {
        let response = create(
            #"{"url":"\#(validURL)","events":["SERVER_STARTED","server.started","backup.created"],"extra":1}"#)
        XCTAssertEqual(response.status, 201)
        let body = response.json!
        XCTAssertTrue(Identifier.isUUID(createdId(response)))
        XCTAssertEqual(body["userId"], .string("alice"))
        XCTAssertEqual(body["events"], .array([.string("server.started"), .string("backup.created")]))
        XCTAssertEqual(body["serverId"], .null)
        XCTAssertEqual(body["server"], .null)
        XCTAssertEqual(body["enabled"], .bool(true))
        XCTAssertEqual(body["provider"], .string("discord"))
        XCTAssertEqual(body["_count"], .object(["deliveries": .int(0)]))
        XCTAssertEqual(body["createdAt"], .string("2026-01-15T12:00:00.000Z"))
        XCTAssertNil(body["extra"])
    }

    func testValidationReportsEveryProblemAtOnce() {
        let response = create(#"{"url":5,"events":[],"serverId":7,"enabled":"yes"}"#)
        XCTAssertEqual(response.status, 400)
        XCTAssertEqual(response.json?["error"], .string("Validation failed"))
        guard case .array(let details)? = response.json?["details"] else { return XCTFail("no details") }
        XCTAssertEqual(
            details.compactMap { $0["path"] },
            [["url"], ["events"], ["serverId"], ["enabled"]].map { .array($0.map { .string($0) }) })
        XCTAssertTrue(details.allSatisfy { $0["code"]?.stringValue != nil && $0["message"]?.stringValue != nil })

        let missing = create("{}")
        guard case .array(let both)? = missing.json?["details"] else { return XCTFail("no details") }
        XCTAssertEqual(both.count, 2)
        XCTAssertEqual(
            create(#"{"url":"https://evil.example/api/webhooks/123456789012345678/t","events":["server.started"]}"#)
                .status, 400)
    }

    func testInvalidEventsAreListedAsSent() {
        let response = create(#"{"url":"\#(validURL)","events":["server.started","NOT_AN_EVENT","oops"]}"#)
        XCTAssertEqual(response.status, 400)
        XCTAssertEqual(
            response.json,
            .object([
                "error": .string("Invalid events"),
                "invalidEvents": .array([.string("NOT_AN_EVENT"), .string("oops")]),
            ]))
    }

    func testABadURLAndUnknownEventsAreReportedInOneAnswer() {
        let response = create(#"{"url":"http://discord.com/api/webhooks/1/t","events":["nope.x"]}"#)
        XCTAssertEqual(response.status, 400)
        XCTAssertEqual(response.json?["error"], .string("Validation failed"))
        XCTAssertEqual(response.json?["invalidEvents"], .array([.string("nope.x")]))
        guard case .array(let details)? = response.json?["details"] else { return XCTFail("no details") }
        XCTAssertEqual(details.compactMap { $0["path"] }, [.array([.string("url")]), .array([.string("events")])])
    }

    func testBodyErrors() {
        XCTAssertEqual(create("{not json").json, .object(["error": .string("Invalid JSON body")]))
        XCTAssertEqual(create("[1,2]").status, 400)
        let wrongType = harness.send(
            "POST", "/webhooks", key: alice, json: "{}", headers: ["content-type": "text/plain"])
        XCTAssertEqual(wrongType.status, 415)
        let small = AppHarness { $0.maxBodyBytes = 10 }
        XCTAssertEqual(
            small.send("POST", "/webhooks", key: small.key(user: "u"), json: String(repeating: " ", count: 11) + "{}")
                .status, 413)
        let wrongMethod = harness.send("PUT", "/webhooks", key: alice)
        XCTAssertEqual(wrongMethod.status, 405)
        XCTAssertTrue(wrongMethod.headers.contains { $0 == ("Allow", "GET, POST") })
        XCTAssertEqual(harness.send("GET", "/nope", key: alice).json, .object(["error": .string("Not found")]))
    }

    func testAnotherUsersWebhookIsNotFound() {
        let id = createdId(create(#"{"url":"\#(validURL)","events":["server.started"]}"#))
        let notFound = JSONValue.object(["error": .string("Webhook not found")])
        XCTAssertEqual(harness.send("GET", "/webhooks/\(id)", key: bob).json, notFound)
        XCTAssertEqual(harness.send("PATCH", "/webhooks/\(id)", key: bob, json: #"{"enabled":false}"#).status, 404)
        XCTAssertEqual(harness.send("DELETE", "/webhooks/\(id)", key: bob).status, 404)
        XCTAssertEqual(harness.send("GET", "/webhooks/\(id)/deliveries", key: bob).status, 404)
        XCTAssertEqual(harness.send("GET", "/webhooks", key: bob).json, .array([]))
        XCTAssertEqual(harness.send("GET", "/webhooks/\(id)", key: alice).status, 200)
    }

    func testUpdateAndDelete() {
        let id = createdId(create(#"{"url":"\#(validURL)","events":["server.started"]}"#))
        let later = fixedNow.addingTimeInterval(5)
        let updated = harness.send(
            "PATCH", "/webhooks/\(id)", key: alice, json: #"{"enabled":false,"events":["BACKUP_FAILED"]}"#, now: later)
        XCTAssertEqual(updated.status, 200)
        XCTAssertEqual(updated.json?["enabled"], .bool(false))
        XCTAssertEqual(updated.json?["events"], .array([.string("backup.failed")]))
        XCTAssertEqual(updated.json?["updatedAt"], .string(Timestamp.format(later)))
        XCTAssertEqual(harness.send("PATCH", "/webhooks/\(id)", key: alice, json: #"{"enabled":1}"#).status, 400)
        XCTAssertEqual(harness.send("DELETE", "/webhooks/\(id)", key: alice).json, .object(["success": .bool(true)]))
        XCTAssertEqual(harness.send("GET", "/webhooks/\(id)", key: alice).status, 404)
    }

    func testServerScopeNeedsAServerTheUserOwns() {
        XCTAssertEqual(
            harness.send(
                "PUT", "/servers/s1", key: panel, json: #"{"name":"My MC","ownerId":"alice","status":"RUNNING"}"#
            ).status, 200)
        XCTAssertEqual(
            harness.send("PUT", "/servers/s2", key: panel, json: #"{"name":"Bob's","ownerId":"bob"}"#).status, 200)
        let scoped = create(#"{"url":"\#(validURL)","events":["server.started"],"serverId":"s1"}"#)
        XCTAssertEqual(scoped.json?["server"], .object(["id": .string("s1"), "name": .string("My MC")]))
        let foreign = create(#"{"url":"\#(validURL)","events":["server.started"],"serverId":"s2"}"#)
        XCTAssertEqual(foreign.json, .object(["error": .string("Server not found or not owned by you")]))
        XCTAssertEqual(create(#"{"url":"\#(validURL)","events":["server.started"],"serverId":"../x"}"#).status, 404)
    }

    func testEventsQueueOnePendingDeliveryPerMatchingWebhookOfTheOwnerOnly() {
        _ = harness.send(
            "PUT", "/servers/s1", key: panel, json: #"{"name":"My MC","ownerId":"alice","status":"RUNNING"}"#)
        _ = harness.send("PUT", "/servers/s2", key: panel, json: #"{"name":"Other","ownerId":"alice"}"#)
        let all = createdId(create(#"{"url":"\#(validURL)","events":["backup.created"]}"#))
        let scoped = createdId(create(#"{"url":"\#(validURL)","events":["backup.created"],"serverId":"s1"}"#))
        let otherServer = createdId(create(#"{"url":"\#(validURL)","events":["backup.created"],"serverId":"s2"}"#))
        let disabled = createdId(create(#"{"url":"\#(validURL)","events":["backup.created"],"enabled":false}"#))
        let otherEvent = createdId(create(#"{"url":"\#(validURL)","events":["server.started"]}"#))
        let bobs = createdId(create(#"{"url":"\#(validURL)","events":["backup.created"]}"#, key: bob))

        let response = harness.send(
            "POST", "/events", key: panel, json: #"{"event":"BACKUP_CREATED","serverId":"s1","data":{"backupId":"b1"}}"#
        )
        XCTAssertEqual(response.status, 202)
        XCTAssertEqual(response.json?["deliveries"], .int(2))
        XCTAssertEqual(response.json?["event"], .string("backup.created"))

        for (id, expected) in [(all, 1), (scoped, 1), (otherServer, 0), (disabled, 0), (otherEvent, 0)] {
            XCTAssertEqual(
                harness.send("GET", "/webhooks/\(id)/deliveries", key: alice).json?["total"], .int(Int64(expected)), id)
        }
        XCTAssertEqual(harness.send("GET", "/webhooks/\(bobs)/deliveries", key: bob).json?["total"], .int(0))

        let page = harness.send("GET", "/webhooks/\(all)/deliveries", key: alice).json
        guard case .array(let deliveries)? = page?["deliveries"], let delivery = deliveries.first else {
            return XCTFail("no delivery")
        }
        XCTAssertEqual(delivery["status"], .string("pending"))
        XCTAssertEqual(delivery["statusCode"], .null)
        XCTAssertEqual(delivery["attempts"], .int(0))
        XCTAssertEqual(
            delivery["payload"],
            .object([
                "event": .string("backup.created"), "timestamp": .string("2026-01-15T12:00:00.000Z"),
                "server": .object(["id": .string("s1"), "name": .string("My MC"), "status": .string("RUNNING")]),
                "data": .object(["backupId": .string("b1")]),
            ]))
        let deliveryId = delivery["id"]!.stringValue!
        XCTAssertEqual(
            harness.send("GET", "/webhooks/\(all)/deliveries/\(deliveryId)", key: alice).json?["id"],
            .string(deliveryId))
        XCTAssertEqual(
            harness.send("GET", "/webhooks/\(scoped)/deliveries/\(deliveryId)", key: alice).json,
            .object(["error": .string("Delivery not found")]))
        guard case .array(let summaries)? = harness.send("GET", "/webhooks/\(all)", key: alice).json?["deliveries"]
        else { return XCTFail("no summaries") }
        guard case .object(let summary)? = summaries.first else { return XCTFail("no summary") }
        XCTAssertEqual(
            Set(summary.keys), ["id", "event", "status", "statusCode", "attempts", "deliveredAt", "createdAt"])
    }

    func testIdempotencyKeyReplaysTheFirstAnswer() {
        _ = harness.send("PUT", "/servers/s1", key: panel, json: #"{"name":"My MC","ownerId":"alice"}"#)
        let id = createdId(create(#"{"url":"\#(validURL)","events":["server.started"]}"#))
        let event = #"{"event":"server.started","serverId":"s1"}"#
        let first = harness.send("POST", "/events", key: panel, json: event, headers: ["idempotency-key": "k1"])
        let again = harness.send("POST", "/events", key: panel, json: event, headers: ["idempotency-key": "k1"])
        XCTAssertEqual(first.body, again.body)
        XCTAssertEqual(first.status, again.status)
        // Only the replay says it is one.
        XCTAssertFalse(first.headers.contains { $0.0 == "Idempotent-Replayed" })
        XCTAssertTrue(again.headers.contains { $0 == ("Idempotent-Replayed", "true") })
        XCTAssertEqual(
            harness.send("GET", "/webhooks/\(id)", key: alice).json?["_count"], .object(["deliveries": .int(1)]))
        XCTAssertEqual(
            harness.send("POST", "/events", key: panel, json: #"{"event":"server.started","serverId":"nope"}"#).status,
            404)
        XCTAssertEqual(
            harness.send("POST", "/events", key: panel, json: #"{"event":"server.boom","serverId":"s1"}"#).json?[
                "invalidEvents"], .array([.string("server.boom")]))
    }
}
