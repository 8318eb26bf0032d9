import XCTest

@testable import WebhooksCore

/// `POST /webhooks/{id}/recover` through the pipeline, with a stand-in for the helper
/// (RecordingDispatch); what the stores select is StoreContractTests'.
final class RecoveryEndpointTests: XCTestCase {
    let harness = AppHarness()
    lazy var alice = harness.key(user: "alice")
    lazy var webhookId: String = harness.send(
        "POST", "/webhooks", key: alice, json: #"{"url":"\#(validURL)","events":["server.started"]}"#
    ).json!["id"]!.stringValue!
    let anHourAgo = Timestamp.format(fixedNow.addingTimeInterval(-3600))

    /// `count` deliveries of alice's webhook that failed, created an hour before `fixedNow`.
    @discardableResult
    func failed(_ count: Int) throws -> [Delivery] {
        let made = (0..<count).map { number in
            var delivery = Delivery(
                id: Identifier.newUUID(), webhookId: webhookId, userId: "alice", event: "server.started",
                payload: .object(["n": .int(number)]), createdAt: anHourAgo)
            delivery.status = .failed
            return delivery
        }
        return try harness.store.queue(made, userId: "alice")
    }

    func recover(_ json: String, key: String? = nil, id: String? = nil) -> Response {
        harness.send("POST", "/webhooks/\(id ?? webhookId)/recover", key: key ?? alice, json: json)
    }

    func testQueuesTheFailedDeliveriesAgainOnceAndWakesTheHelper() throws {
        let originals = try failed(3)
        let since = Timestamp.format(fixedNow.addingTimeInterval(-7200))
        let response = recover(#"{"since":"\#(since)"}"#)
        XCTAssertEqual(response.status, 202)
        XCTAssertEqual(response.json, .object(["queued": .int(3), "remaining": .int(0)]))
        XCTAssertEqual(harness.dispatch.wakes, 1)
        XCTAssertEqual(harness.dispatch.sent, [], "not a send now: the helper sends them in turn")
        let newest = try harness.store.deliveries(userId: "alice", webhookId: webhookId, offset: 0, limit: 3)
        XCTAssertEqual(newest.reversed().map(\.retryOf), originals.map(\.id))
        XCTAssertEqual(newest.map(\.status), [.pending, .pending, .pending])

        let again = recover(#"{"since":"\#(since)"}"#)
        XCTAssertEqual(again.json, .object(["queued": .int(0), "remaining": .int(0)]))
        XCTAssertEqual(harness.dispatch.wakes, 1, "nothing queued, nothing to wake for")
    }

    func testAtMostAThousandPerCallAndTheRestRemain() throws {
        try failed(BulkRecovery.limit + 2)
        let body = #"{"since":"\#(anHourAgo)","until":"\#(Timestamp.format(fixedNow))"}"#
        XCTAssertEqual(recover(body).json, .object(["queued": .int(1000), "remaining": .int(2)]))
        XCTAssertEqual(recover(body).json, .object(["queued": .int(2), "remaining": .int(0)]))
    }

    func testTheRangeIsChecked() throws {
        let tooOld = Timestamp.format(fixedNow.addingTimeInterval(-31 * 86400))
        let later = Timestamp.format(fixedNow.addingTimeInterval(60))
        let cases: [(body: String, field: String, code: String)] = [
            ("{}", "since", "invalid_type"),
            (#"{"since":null}"#, "since", "invalid_type"),
            (#"{"since":17}"#, "since", "invalid_type"),
            (#"{"since":"2026-01-15"}"#, "since", "invalid_string"),
            (#"{"since":"2026-02-30T00:00:00.000Z"}"#, "since", "invalid_string"),
            (#"{"since":"\#(anHourAgo)","until":"yesterday"}"#, "until", "invalid_string"),
            (#"{"since":"\#(anHourAgo)","until":null}"#, "until", "invalid_type"),
            (#"{"since":"\#(Timestamp.format(fixedNow))","until":"\#(anHourAgo)"}"#, "until", "too_small"),
            (#"{"since":"\#(tooOld)"}"#, "since", "too_small"),
            (#"{"since":"\#(later)"}"#, "since", "too_small"),
        ]
        for (body, field, code) in cases {
            let response = recover(body)
            XCTAssertEqual(response.status, 400, body)
            XCTAssertEqual(response.json?["error"], .string("Validation failed"), body)
            guard case .array(let details)? = response.json?["details"] else { return XCTFail(body) }
            XCTAssertEqual(details.count, 1, body)
            XCTAssertEqual(details.first?["path"], .array([.string(field)]), body)
            XCTAssertEqual(details.first?["code"], .string(code), body)
        }
        XCTAssertEqual(recover("[]").json, .object(["error": .string("Invalid JSON body")]))
        XCTAssertEqual(harness.dispatch.wakes, 0)
    }

    func testAnUnknownOrAnotherUsersWebhookIsNotFoundAndADisabledOneAConflict() throws {
        try failed(1)
        let body = #"{"since":"\#(anHourAgo)"}"#
        XCTAssertEqual(
            recover(body, key: harness.key(user: "bob")).json, .object(["error": .string("Webhook not found")]))
        XCTAssertEqual(recover(body, id: Identifier.newUUID()).status, 404)
        XCTAssertEqual(
            harness.send("PATCH", "/webhooks/\(webhookId)", key: alice, json: #"{"enabled":false}"#).status, 200)
        let disabled = recover(body)
        XCTAssertEqual(disabled.status, 409)
        XCTAssertEqual(disabled.json?["error"], .string("Webhook is disabled"))
        XCTAssertEqual(
            harness.send("PATCH", "/webhooks/\(webhookId)", key: alice, json: #"{"enabled":true}"#).status, 200)
        XCTAssertEqual(recover(body).json, .object(["queued": .int(1), "remaining": .int(0)]))
    }
}
