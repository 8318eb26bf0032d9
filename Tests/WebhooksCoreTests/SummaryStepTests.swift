import XCTest

@testable import WebhooksCore

/// Collapse windows on Slack and `http` (`SummaryStep`): the first event posts, repeats while the
/// window is open are counted once each and held until its end, then the first repeat sends one
/// summary and the rest follow it; after the window a repeat posts again; what a stop between
/// counting and recording, a replaced window, manual retries and the carrier's outcome do; the
/// summary's Slack and Standard Webhooks bodies.
final class SummaryStepTests: XCTestCase {
    var webhook: Webhook = {
        var webhook = Webhook(
            id: "w", userId: "u", url: slackURL, events: ["server.crashed"], serverId: nil, enabled: true,
            createdAt: "2026-01-15T12:00:00.000Z")
        webhook.provider = "slack"
        webhook.collapse = Collapse(events: ["server.crashed"], windowSeconds: 600)
        return webhook
    }()

    func delivery(at: String = "2026-01-15T12:00:00.000Z", id: String) -> Delivery {
        var delivery = Delivery(
            id: id, webhookId: "w", userId: "u", event: "server.crashed",
            payload: .object([
                "event": .string("server.crashed"), "timestamp": .string(at),
                "server": .object(["id": .string("s1"), "name": .string("Survival"), "status": .string("crashed")]),
                "data": .object(["exitCode": .int(137)]),
            ]), createdAt: at)
        delivery.collapsible = true
        return delivery
    }

    struct NoPost: Error {}

    func time(_ text: String) throws -> Date { try XCTUnwrap(Timestamp.parse(text)) }

    /// The step at `now`, applied as the helper does: a post or a hold keeps its window.
    @discardableResult
    func step(_ delivery: Delivery, at now: String) throws -> SummaryStep? {
        let step = webhook.summaryStep(delivery, now: try time(now))
        switch step {
        case .send(let send)? where !send.isSummary: webhook.keep(send, messageId: delivery.messageId)
        case .hold(let send, _, _)?: webhook.keep(send)
        default: break
        }
        return step
    }

    /// a posts; b and c within the window are held, carried by b, until 12:10.
    func openWindow() throws -> (b: Delivery, c: Delivery) {
        guard case .send(let first)? = try step(delivery(id: "a"), at: "2026-01-15T12:00:01.000Z") else {
            throw NoPost()
        }
        XCTAssertEqual("\(first.action) \(first.isSummary) \(first.window.count)", "post false 1")
        var (b, c) = (
            delivery(at: "2026-01-15T12:03:00.000Z", id: "b"), delivery(at: "2026-01-15T12:04:00.000Z", id: "c")
        )
        for (held, count) in [(b, 2), (c, 3)] {
            guard case .hold(let send, let carrier, let until)? = try step(held, at: "2026-01-15T12:04:01.000Z") else {
                XCTFail("\(held.id) not held")
                continue
            }
            XCTAssertEqual(
                "\(carrier) \(Timestamp.format(until)) \(send.action)", "b 2026-01-15T12:10:00.000Z collapsed")
            XCTAssertEqual(send.window.count, count)
        }
        b.carriedBy = "b"
        c.carriedBy = "b"
        return (b, c)
    }

    func testALongLoopKeepsTheCarrierAndTheLatestRepeatsOnly() throws {
        _ = try openWindow()
        for minute in 0..<200 {
            let at = Timestamp.format(try time("2026-01-15T12:05:00.000Z").addingTimeInterval(Double(minute)))
            try step(delivery(at: at, id: "r\(minute)"), at: at)
        }
        let window = try XCTUnwrap(webhook.windows?["s1"]?["server.crashed"])
        XCTAssertEqual(window.count, 203)
        XCTAssertEqual(window.held?.count, CollapseWindow.heldKept)
        XCTAssertEqual(window.held?.first, "b")
        XCTAssertEqual(window.held?.last, "r199")
        // The latest, counted before a stop that came before its record, is not counted again.
        let again = try step(delivery(at: "2026-01-15T12:08:19.000Z", id: "r199"), at: "2026-01-15T12:08:20.000Z")
        XCTAssertEqual(again, .follow(carrier: "b"))
        XCTAssertEqual(webhook.windows?["s1"]?["server.crashed"]?.count, 203)
    }

    func testFirstPostsRepeatsAreHeldThenOneSummaryAndTheRestFollow() throws {
        let (b, c) = try openWindow()
        XCTAssertEqual(
            webhook.windows?["s1"]?["server.crashed"],
            CollapseWindow(
                messageId: "a", first: "2026-01-15T12:00:00.000Z", last: "2026-01-15T12:04:00.000Z", count: 3,
                held: ["b", "c"]))
        guard case .send(let summary)? = try step(b, at: "2026-01-15T12:10:00.000Z") else {
            return XCTFail("no summary")
        }
        XCTAssertTrue(summary.isSummary)
        XCTAssertEqual("\(summary.action) \(summary.window.count)", "collapsed 3")
        XCTAssertEqual(try step(c, at: "2026-01-15T12:10:00.000Z"), .follow(carrier: "b"))
        // Before the end a follower waits for the carrier; after it, a repeat opens a new window.
        XCTAssertEqual(try step(c, at: "2026-01-15T12:05:00.000Z"), .follow(carrier: "b"))
        guard
            case .send(let again)? = try step(
                delivery(at: "2026-01-15T12:10:00.000Z", id: "d"), at: "2026-01-15T12:10:01.000Z")
        else { return XCTFail("no post") }
        XCTAssertEqual("\(again.action) \(again.isSummary) \(again.window.count)", "post false 1")
    }

    /// Counted, then stopped before its record was written: held again, not counted twice.
    func testARepeatIsCountedOnce() throws {
        _ = try openWindow()
        let carrier = delivery(at: "2026-01-15T12:03:00.000Z", id: "b")
        guard case .hold(let send, "b", _)? = try step(carrier, at: "2026-01-15T12:05:00.000Z") else {
            return XCTFail("not held")
        }
        XCTAssertEqual(send.window.count, 3)
        let other = delivery(at: "2026-01-15T12:04:00.000Z", id: "c")
        XCTAssertEqual(try step(other, at: "2026-01-15T12:05:00.000Z"), .follow(carrier: "b"))
        XCTAssertEqual(webhook.windows?["s1"]?["server.crashed"]?.count, 3)
    }

    /// A repeat only posts while the window is open in real time too, and only once its first
    /// message was delivered (a window is kept then).
    func testARepeatArrivingAfterTheEndPosts() throws {
        _ = try step(delivery(id: "a"), at: "2026-01-15T12:00:01.000Z")
        guard
            case .send(let late)? = try step(
                delivery(at: "2026-01-15T12:09:00.000Z", id: "b"), at: "2026-01-15T12:10:30.000Z")
        else { return XCTFail("not sent") }
        XCTAssertEqual(late.action, .post)
    }

    func testALostWindowManualRetriesAndRecoveries() throws {
        let (b, c) = try openWindow()
        // A manual retry of the post posts alone; a recovery does not collapse.
        var retry = delivery(id: "a").resend(id: "r", now: "x")
        retry.manual = true
        XCTAssertNil(webhook.summaryStep(retry, now: fixedNow))
        XCTAssertNil(webhook.summaryStep(c.resend(id: "r", now: "x", asPost: true), now: fixedNow))
        // A follower's manual retry follows the carrier; the carrier's sends its summary again.
        XCTAssertEqual(webhook.summaryStep(c.resend(id: "r", now: "x"), now: fixedNow), .follow(carrier: "b"))
        var tried = b
        tried.summary = webhook.windows?["s1"]?["server.crashed"]
        guard case .send(let resent)? = webhook.summaryStep(tried.resend(id: "r", now: "x"), now: fixedNow) else {
            return XCTFail("no summary")
        }
        XCTAssertEqual("\(resent.isSummary) \(resent.window.count)", "true 3")
        // A window replaced before its carrier was first tried: nothing to summarize.
        webhook.windows = nil
        XCTAssertEqual(webhook.summaryStep(b, now: try time("2026-01-15T12:10:00.000Z")), .lost)
    }

    func testAFollowerFinishesAsItsCarrier() throws {
        var held = delivery(id: "c")
        held.carriedBy = "b"
        var carrier = delivery(id: "b")
        let now = try time("2026-01-15T12:10:00.000Z")
        carrier.nextAttemptAt = "2026-01-15T12:10:30.000Z"
        XCTAssertEqual(held.following(carrier, carrierId: "b", now: now).nextAttemptAt, "2026-01-15T12:10:30.000Z")
        carrier.nextAttemptAt = "2026-01-15T12:00:00.000Z"
        let waiting = held.following(carrier, carrierId: "b", now: now)
        XCTAssertEqual(waiting.status, .pending)
        XCTAssertEqual(waiting.nextAttemptAt, "2026-01-15T12:10:01.000Z")
        (carrier.status, carrier.sentMessageId) = (.delivered, "b")
        let done = held.following(carrier, carrierId: "b", now: now)
        XCTAssertEqual(
            [done.status.rawValue, done.action?.rawValue, done.sentMessageId, done.deliveredAt, done.nextAttemptAt],
            ["delivered", "collapsed", "b", "2026-01-15T12:10:00.000Z", nil])
        XCTAssertEqual(done.attempts, 0)
        (carrier.status, carrier.error) = (.failed, "Slack answered 400 invalid_payload")
        let failed = held.following(carrier, carrierId: "b", now: now)
        XCTAssertEqual(failed.status, .failed)
        XCTAssertEqual(
            failed.error, "The summary that carries it failed: retry delivery b (Slack answered 400 invalid_payload)")
        XCTAssertEqual(held.following(nil, carrierId: "b", now: now).status, .failed)
    }

    func testTheSummaryOnSlackAndOnAnEndpoint() throws {
        let (b, _) = try openWindow()
        guard case .send(let summary)? = webhook.summaryStep(b, now: try time("2026-01-15T12:10:00.000Z")) else {
            return XCTFail("no summary")
        }
        let message = OutgoingMessage(delivery: b, signingKeys: [[1, 2, 3]], collapsed: summary, now: fixedNow)
        let slack = try XCTUnwrap(JSONValue.parse(Providers.slack.request(for: message, config: Config()).body))
        guard case .array(let blocks)? = slack["blocks"] else { return XCTFail("blocks") }
        XCTAssertEqual(blocks.first?["text"]?["text"], .string("🔔 Server Crashed ×3 in 10 min"))
        XCTAssertTrue(slack["text"]?.stringValue?.contains("First: 2026-01-15T12:00:00.000Z") == true)
        XCTAssertTrue(slack["text"]?.stringValue?.contains("Last: 2026-01-15T12:04:00.000Z") == true)

        let request = Providers.http.request(for: message, config: Config())
        XCTAssertTrue(request.headers.contains { $0 == ("webhook-id", "b") })
        XCTAssertEqual(
            JSONValue.parse(request.body),
            .object([
                "type": .string("server.crashed"), "timestamp": .string("2026-01-15T12:04:00.000Z"),
                "data": .object([
                    "server": .object([
                        "id": .string("s1"), "name": .string("Survival"), "status": .string("crashed"),
                    ]),
                    "collapsed": .object([
                        "count": .int(3), "first": .string("2026-01-15T12:00:00.000Z"),
                        "last": .string("2026-01-15T12:04:00.000Z"), "windowSeconds": .int(600),
                    ]),
                ]),
            ]))
        // Not a summary: the event's own body.
        let post = OutgoingMessage(delivery: b, now: fixedNow)
        XCTAssertEqual(
            Providers.http.request(for: post, config: Config()).body,
            StandardWebhooksMessage.body(for: b.payload).serialized())
    }
}
