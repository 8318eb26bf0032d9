import XCTest

@testable import WebhooksCore

/// The test and manual-retry endpoints, with a stand-in for the helper (RecordingDispatch).
final class SendEndpointTests: XCTestCase {
    let harness = AppHarness()
    lazy var alice = harness.key(user: "alice")
    lazy var bob = harness.key(user: "bob")
    lazy var webhookId: String = harness.send(
        "POST", "/webhooks", key: alice, json: #"{"url":"\#(validURL)","events":["server.started"]}"#
    ).json!["id"]!.stringValue!

    func testTestSendsAWebhookTestDeliveryAndAnswersItsResult() {
        let response = harness.send("POST", "/webhooks/\(webhookId)/test", key: alice)
        XCTAssertEqual(response.status, 200)
        let deliveryId = response.json?["deliveryId"]?.stringValue ?? "none"
        XCTAssertEqual(
            response.json,
            .object(["success": .bool(true), "deliveryId": .string(deliveryId), "statusCode": .int(200)]))
        XCTAssertEqual(harness.dispatch.sent, [deliveryId])
        let recorded = harness.send("GET", "/webhooks/\(webhookId)/deliveries/\(deliveryId)", key: alice).json
        XCTAssertEqual(recorded?["event"], .string("webhook.test"))
        XCTAssertEqual(recorded?["status"], .string("delivered"))
        XCTAssertEqual(harness.send("POST", "/webhooks/\(webhookId)/test", key: bob).status, 404)
        XCTAssertEqual(harness.send("GET", "/webhooks/\(webhookId)/test", key: alice).status, 405)
    }

    func testAFailedSendIsA500WithTheError() {
        harness.dispatch.outcome = (
            .answered(status: 500, headers: [:], body: []), .failed(error: "Discord answered 500")
        )
        let response = harness.send("POST", "/webhooks/\(webhookId)/test", key: alice)
        XCTAssertEqual(response.status, 500)
        XCTAssertEqual(response.json?["success"], .bool(false))
        XCTAssertEqual(response.json?["statusCode"], .int(500))
        XCTAssertEqual(response.json?["error"], .string("Discord answered 500"))
    }

    func testAHelperThatNeverAnswersLeavesTheDeliveryQueued() {
        harness.dispatch.outcome = nil
        let response = harness.send("POST", "/webhooks/\(webhookId)/test", key: alice)
        XCTAssertEqual(response.status, 500)
        XCTAssertEqual(response.json?["statusCode"], .null)
        XCTAssertEqual(try harness.store.outboxNames().count, 1)
    }

    func testRetryIsANewDeliveryOfTheSamePayload() throws {
        _ = harness.send(
            "PUT", "/servers/s1", key: harness.key(service: "panel"), json: #"{"name":"My MC","ownerId":"alice"}"#)
        _ = webhookId
        _ = harness.send(
            "POST", "/events", key: harness.key(service: "panel"), json: #"{"event":"server.started","serverId":"s1"}"#)
        let original = try harness.store.deliveries(userId: "alice", webhookId: webhookId, offset: 0, limit: 1)[0]
        let response = harness.send("POST", "/webhooks/\(webhookId)/deliveries/\(original.id)/retry", key: alice)
        XCTAssertEqual(response.status, 200)
        let retryId = response.json?["deliveryId"]?.stringValue ?? "none"
        XCTAssertNotEqual(retryId, original.id)
        let retry = try XCTUnwrap(try harness.store.delivery(userId: "alice", webhookId: webhookId, id: retryId))
        XCTAssertEqual(retry.retryOf, original.id)
        XCTAssertEqual(retry.payload, original.payload)
        XCTAssertEqual(retry.event, "server.started")
        XCTAssertTrue(retry.manual)
        XCTAssertEqual(try harness.store.delivery(userId: "alice", webhookId: webhookId, id: original.id), original)
        XCTAssertEqual(
            harness.send(
                "POST", "/webhooks/\(webhookId)/deliveries/\(UUID().uuidString.lowercased())/retry", key: alice
            ).json,
            .object(["error": .string("Delivery not found")]))
        XCTAssertEqual(
            harness.send("POST", "/webhooks/\(webhookId)/deliveries/\(original.id)/retry", key: bob).json,
            .object(["error": .string("Webhook not found")]))
        XCTAssertEqual(harness.dispatch.wakes, 1)  // the event woke the helper; manual sends ask directly
    }
}

final class RetentionTests: XCTestCase {
    let harness = AppHarness()

    func testFinishedDeliveriesOlderThanTheCutoffArePrunedWithTheirIndexRecords() throws {
        let store = harness.store
        let webhook = Webhook(
            id: Identifier.newUUID(), userId: "u1", url: validURL, events: ["server.started"], serverId: nil,
            enabled: true, createdAt: "2026-01-01T00:00:00.000Z")
        XCTAssertTrue(try store.createWebhook(webhook, limit: 100))
        let days = ["2026-01-01", "2026-01-02", "2026-01-03", "2026-02-01"]
        let deliveries = days.map {
            Delivery(
                id: Identifier.newUUID(), webhookId: webhook.id, userId: "u1", event: "server.started", payload: .null,
                createdAt: "\($0)T00:00:00.000Z")
        }
        try store.queue(deliveries, userId: "u1")
        let names = try store.outboxNames()
        for (index, name) in names.enumerated() where index != 1 {  // the second stays pending
            var delivery = try XCTUnwrap(try store.pendingDelivery(outboxName: name))
            delivery.status = index == 0 ? .delivered : .failed
            try store.record(delivery, outboxName: name)
        }
        let pruned = try store.pruneDeliveries(createdBefore: Timestamp.parse("2026-01-15T00:00:00.000Z")!)
        XCTAssertEqual(pruned, 2)
        XCTAssertEqual(try store.deliveryCount(userId: "u1", webhookId: webhook.id), 2)
        XCTAssertEqual(
            try store.deliveries(userId: "u1", webhookId: webhook.id, offset: 0, limit: 10).map(\.id),
            [deliveries[3].id, deliveries[1].id])
        XCTAssertEqual(try store.outboxNames().count, 1)
        XCTAssertEqual(try store.pruneDeliveries(createdBefore: Timestamp.parse("2026-01-15T00:00:00.000Z")!), 0)
    }

    func testIdempotencyAnswersExpireAfterADay() throws {
        let store = harness.store
        let day = Date(timeIntervalSince1970: 1_768_478_400)
        _ = try store.idempotent(scope: "panel", key: "k", now: day) {
            StoredAnswer(status: 202, body: .null, createdAt: Timestamp.format(day))
        }
        XCTAssertEqual(try store.expireIdempotencyKeys(now: day.addingTimeInterval(3600)), 0)
        XCTAssertEqual(try store.expireIdempotencyKeys(now: day.addingTimeInterval(25 * 3600)), 1)
        XCTAssertEqual(
            try FileSystem.list(store.layout.idempotency), ["locks"],
            "the answer is gone; only the shared lock folder stays")
    }
}
