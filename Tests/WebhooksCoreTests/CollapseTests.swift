import XCTest

@testable import WebhooksCore

/// `collapse` through the API: an object of catalogue events and a window of 60 to 86,400
/// seconds, with each problem at its path; for every provider but not with statusCardOnly; read
/// back only when set; PATCH replaces it and null clears it; turning it off, changing it or
/// moving the URL forgets the open windows; events queue collapsible messages.
final class CollapseAPITests: UserAPITestCase {
    func collapsing(_ collapse: String = #"{"events":["server.crashed"],"windowSeconds":600}"#) -> String {
        create(#"{"url":"\#(validURL)","events":["server.crashed","server.started"],"collapse":\#(collapse)}"#)
            .json?["id"]?.stringValue ?? ""
    }

    func testReadsBackOnlyWhenSetCanonicalAndOnce() throws {
        let created = create(
            #"{"url":"\#(validURL)","events":["server.crashed"],"collapse":{"events":["SERVER_CRASHED","server.crashed","server.stopped"],"windowSeconds":60}}"#
        )
        XCTAssertEqual(created.status, 201)
        XCTAssertEqual(
            created.json?["collapse"],
            .object([
                "events": .array([.string("server.crashed"), .string("server.stopped")]), "windowSeconds": .int(60),
            ]))
        XCTAssertNil(created.json?["windows"])
        let whole = create(
            #"{"url":"\#(validURL)","events":["server.crashed"],"collapse":{"events":["server.crashed"],"windowSeconds":600.0,"note":1}}"#
        )
        XCTAssertEqual(whole.json?["collapse"]?["windowSeconds"], .int(600))  // unknown fields ignored
        let plain = create(#"{"url":"\#(validURL)","events":["server.crashed"],"collapse":null}"#)
        XCTAssertEqual(plain.status, 201)
        XCTAssertNil(plain.json?["collapse"])
    }

    func testProblemsAtTheirPaths() {
        let cases: [(String, [String])] = [
            ("true", ["collapse: Expected object, received boolean"]),
            ("{}", ["collapse.events: Required", "collapse.windowSeconds: Required"]),
            (
                #"{"events":[],"windowSeconds":59}"#,
                [
                    "collapse.events: Array must contain at least 1 element(s)",
                    "collapse.windowSeconds: Must be from 60 to 86400 seconds",
                ]
            ),
            (
                #"{"events":["server.nope",1],"windowSeconds":86401}"#,
                [
                    "collapse.events.0: Unknown event: server.nope",
                    "collapse.events.1: Expected string, received number",
                    "collapse.windowSeconds: Must be from 60 to 86400 seconds",
                ]
            ),
            (
                #"{"events":["server.crashed"],"windowSeconds":"600"}"#,
                ["collapse.windowSeconds: Expected integer, received string"]
            ),
            (
                #"{"events":["server.crashed"],"windowSeconds":600.5}"#,
                ["collapse.windowSeconds: Expected integer, received number"]
            ),
        ]
        for (collapse, expected) in cases {
            XCTAssertEqual(
                problems(create(#"{"url":"\#(validURL)","events":["server.crashed"],"collapse":\#(collapse)}"#)),
                expected, collapse)
        }
    }

    func testEveryProviderButNotWithStatusCardOnly() throws {
        let collapse = #""collapse":{"events":["server.crashed"],"windowSeconds":600}"#
        XCTAssertEqual(create(#"{"url":"\#(slackURL)","events":["server.crashed"],\#(collapse)}"#).status, 201)
        XCTAssertEqual(
            create(#"{"url":"\#(httpURL)","provider":"http","events":["server.crashed"],\#(collapse)}"#).status, 201)
        XCTAssertEqual(
            problems(
                create(
                    #"{"url":"\#(validURL)","events":["server.crashed"],"statusCard":true,"statusCardOnly":true,\#(collapse)}"#
                )),
            ["collapse: collapse needs event messages to collapse: statusCardOnly sends none"])
        XCTAssertEqual(
            create(#"{"url":"\#(validURL)","events":["server.crashed"],"threadPerServer":true,\#(collapse)}"#).status,
            201)
        XCTAssertEqual(
            create(#"{"url":"\#(validURL)","events":["server.crashed"],"statusCard":true,\#(collapse)}"#).status, 201)
        let id = collapsing()
        let moved = patch(id, #"{"url":"\#(slackURL)"}"#)
        XCTAssertEqual(moved.status, 200)
        XCTAssertEqual(
            try XCTUnwrap(JSONValue.parse(moved.body))["collapse"]?["windowSeconds"], .int(600), "kept with Slack")
    }

    func testPatchReplacesNullClearsAndWindowsAreForgotten() throws {
        let id = collapsing()
        let window = CollapseWindow(
            messageId: "1", first: "2026-01-15T12:00:00.000Z", last: "2026-01-15T12:00:00.000Z", count: 1)
        let keep = {
            _ = try self.harness.store.updateWebhook(userId: "alice", id: id) {
                $0.windows = ["s1": ["server.crashed": window]]
            }
        }
        let stored = { try self.harness.store.webhook(userId: "alice", id: id) }
        try keep()
        XCTAssertEqual(patch(id, #"{"events":["server.crashed"]}"#).status, 200)
        XCTAssertEqual(try stored()?.windows?["s1"]?["server.crashed"], window)
        XCTAssertEqual(
            patch(id, #"{"collapse":{"events":["server.crashed"],"windowSeconds":600}}"#).status, 200)  // the same
        XCTAssertNotNil(try stored()?.windows)
        let replaced = patch(id, #"{"collapse":{"events":["server.stopped"],"windowSeconds":120}}"#)
        XCTAssertEqual(replaced.json?["collapse"]?["windowSeconds"], .int(120))
        XCTAssertNil(try stored()?.windows)
        try keep()
        XCTAssertEqual(patch(id, #"{"url":"https://discord.com/api/webhooks/223456789012345678/other"}"#).status, 200)
        XCTAssertNil(try stored()?.windows)
        try keep()
        let cleared = patch(id, #"{"collapse":null}"#)
        XCTAssertNil(cleared.json?["collapse"])
        XCTAssertNil(try stored()?.collapse)
        XCTAssertNil(try stored()?.windows)
    }

    /// A collapsed event's message is marked collapsible when queued; other events' are not.
    func testAnEventQueuesACollapsibleMessage() throws {
        let id = collapsing()
        let server = Server(
            id: "s1", name: "Survival", ownerId: "alice", status: "crashed", createdAt: "2026-01-15T12:00:00.000Z",
            updatedAt: "2026-01-15T12:00:00.000Z")
        let emitter = EventEmitter(store: harness.store)
        _ = try emitter.emit("server.crashed", server: server, data: [:], now: fixedNow)
        _ = try emitter.emit("server.started", server: server, data: [:], now: fixedNow)
        let marks = try harness.store.deliveries(userId: "alice", webhookId: id, offset: 0, limit: 10).map {
            "\($0.event) \($0.collapsible == true)"
        }
        XCTAssertEqual(marks.sorted(), ["server.crashed true", "server.started false"])
    }
}

/// The windows: the first event posts, repeats within the window edit its message and count,
/// after the window a new one posts; per server and per event; the edit's body and request; what
/// Discord's Unknown Message, retries and recovery do.
final class CollapseWindowTests: XCTestCase {
    var webhook: Webhook = {
        var webhook = Webhook(
            id: "w", userId: "u", url: validURL, events: ["server.crashed"], serverId: nil, enabled: true,
            createdAt: "2026-01-15T12:00:00.000Z")
        webhook.collapse = Collapse(events: ["server.crashed"], windowSeconds: 600)
        return webhook
    }()

    func delivery(
        _ event: String = "server.crashed", server: String = "s1", at: String = "2026-01-15T12:00:00.000Z",
        id: String = "d"
    ) -> Delivery {
        var delivery = Delivery(
            id: id, webhookId: "w", userId: "u", event: event,
            payload: .object([
                "event": .string(event), "timestamp": .string(at),
                "server": .object(["id": .string(server), "name": .string("Survival"), "status": .string("crashed")]),
                "data": .object(["exitCode": .int(137)]),
            ]), createdAt: at)
        delivery.collapsible = true
        return delivery
    }

    /// Sends `delivery` as the helper does: reads its window, keeps it as Discord's answer `id`.
    @discardableResult
    func send(_ delivery: Delivery, answer id: String) throws -> CollapsedSend {
        let sent = try XCTUnwrap(webhook.collapsed(delivery))
        webhook.keep(sent, messageId: id)
        return sent
    }

    func testFirstPostsRepeatsEditAndAfterTheWindowPostsAgain() throws {
        let first = try send(delivery(id: "a"), answer: "900000000000000001")
        XCTAssertEqual(first.action, .post)
        XCTAssertEqual(first.window.count, 1)
        let second = try send(delivery(at: "2026-01-15T12:03:00.000Z", id: "b"), answer: "900000000000000001")
        XCTAssertEqual(second.action, .collapsed)
        XCTAssertEqual(second.window.messageId, "900000000000000001")
        let third = try send(delivery(at: "2026-01-15T12:09:59.000Z", id: "c"), answer: "900000000000000001")
        XCTAssertEqual(
            third.window,
            CollapseWindow(
                messageId: "900000000000000001", first: "2026-01-15T12:00:00.000Z", last: "2026-01-15T12:09:59.000Z",
                count: 3))
        // The window is measured from the first: ten minutes after it, a new message.
        let later = try send(delivery(at: "2026-01-15T12:10:00.000Z", id: "d"), answer: "900000000000000002")
        XCTAssertEqual(later.action, .post)
        XCTAssertEqual(later.window.count, 1)
        XCTAssertEqual(webhook.windows?["s1"]?["server.crashed"]?.messageId, "900000000000000002")
    }

    func testPerServerAndPerEvent() throws {
        webhook.collapse?.events.append("server.stopped")
        try send(delivery(id: "a"), answer: "900000000000000001")
        XCTAssertEqual(webhook.collapsed(delivery(server: "s2", id: "b"))?.action, .post)
        XCTAssertEqual(webhook.collapsed(delivery("server.stopped", id: "c"))?.action, .post)
        XCTAssertEqual(webhook.collapsed(delivery(id: "e"))?.action, .collapsed)
        // Not collapsed: an event the webhook does not collapse, a recovery (not collapsible).
        XCTAssertNil(webhook.collapsed(delivery("server.started", id: "f")))
        XCTAssertNil(
            webhook.collapsed(delivery(id: "g").resend(id: "h", now: "2026-01-15T12:01:00.000Z", asPost: true)))
    }

    /// An answer that comes after the option changed keeps no window for it.
    func testNoWindowIsKeptForAnEventNoLongerCollapsedOrAnotherURL() throws {
        let sent = try XCTUnwrap(webhook.collapsed(delivery()))
        webhook.collapse?.events = ["server.stopped"]
        webhook.keep(sent, messageId: "900000000000000001")
        XCTAssertNil(webhook.windows)
        webhook.collapse?.events = ["server.crashed"]
        webhook.url = "https://discord.com/api/webhooks/223456789012345678/other"
        webhook.keep(sent, messageId: "900000000000000001")
        XCTAssertNil(webhook.windows)
    }

    func testAManualRetryEditsAgainWithoutCountingTwice() throws {
        try send(delivery(id: "a"), answer: "900000000000000001")
        let repeatOnce = try send(delivery(at: "2026-01-15T12:01:00.000Z", id: "b"), answer: "900000000000000001")
        let retry = delivery(at: "2026-01-15T12:01:00.000Z", id: "b").resend(id: "r", now: "2026-01-15T12:02:00.000Z")
        XCTAssertEqual(retry.collapsible, true)
        let again = try XCTUnwrap(webhook.collapsed(retry))
        XCTAssertEqual(again.action, .collapsed)
        XCTAssertEqual(again.window, repeatOnce.window)
    }

    func testUnknownMessagePostsANewOneWithTheCountSoFar() throws {
        try send(delivery(id: "a"), answer: "900000000000000001")
        let edit = try XCTUnwrap(webhook.collapsed(delivery(at: "2026-01-15T12:01:00.000Z", id: "b")))
        webhook.forgetMessage(of: edit)
        let repost = try XCTUnwrap(webhook.collapsed(delivery(at: "2026-01-15T12:01:00.000Z", id: "b")))
        XCTAssertEqual(repost.action, .post)
        XCTAssertEqual(repost.window.count, 2)
        let request = Providers.discord.request(
            for: OutgoingMessage(delivery: delivery(id: "b"), collapsed: repost, now: fixedNow), config: Config())
        XCTAssertEqual(request.method, "POST")
        XCTAssertEqual(
            JSONValue.parse(request.body)?["embeds"].flatMap {
                if case .array(let items) = $0 { items.first?["title"] } else { nil }
            }, .string("🔔 Server Crashed ×2 in 10 min"))
    }

    func testTheFirstPostAndTheEditRequest() throws {
        let config = Config()
        let target = try XCTUnwrap(Providers.discord.target(validURL, config: config))
        let firstDelivery = delivery(id: "a")
        let first = OutgoingMessage(delivery: firstDelivery, collapsed: webhook.collapsed(firstDelivery), now: fixedNow)
        let post = Providers.discord.request(for: first, config: config)
        XCTAssertEqual(post.method, "POST")
        XCTAssertEqual(
            post.body, DiscordMessage.body(for: firstDelivery.payload, footer: config.discordFooter).serialized())
        XCTAssertEqual(Providers.discord.sendURL(target, for: first), target.sendURL)
        webhook.keep(try XCTUnwrap(first.collapsed), messageId: "900000000000000001")
        try send(delivery(at: "2026-01-15T12:01:00.000Z", id: "b"), answer: "900000000000000001")
        let third = delivery(at: "2026-01-15T12:04:00.000Z", id: "c")
        let edit = OutgoingMessage(delivery: third, collapsed: webhook.collapsed(third), now: fixedNow)
        let request = Providers.discord.request(for: edit, config: config)
        XCTAssertEqual(request.method, "PATCH")
        XCTAssertEqual(
            Providers.discord.sendURL(target, for: edit),
            "https://discord.com/api/v10/webhooks/123456789012345678/abcDEF_-tok/messages/900000000000000001")
        let body = try XCTUnwrap(JSONValue.parse(request.body))
        let embed = body["embeds"].flatMap { if case .array(let items) = $0 { items.first } else { nil } }
        XCTAssertEqual(embed?["title"], .string("🔔 Server Crashed ×3 in 10 min"))
        XCTAssertEqual(embed?["color"], .int(16_711_680))
        XCTAssertEqual(embed?["timestamp"], .string("2026-01-15T12:04:00.000Z"))
        guard case .array(let fields)? = embed?["fields"] else { return XCTFail("fields") }
        XCTAssertEqual(
            fields.map { "\($0["name"]?.stringValue ?? ""): \($0["value"]?.stringValue ?? "")" },
            [
                "First: <t:1768478400:f>", "Last: <t:1768478640:f>", "Server: Survival", "Status: crashed",
                "Exit Code: 137",
            ])
        XCTAssertEqual(body["allowed_mentions"], .object(["parse": .array([])]))
        // In a forum (threadPerServer) the edit names the message's thread.
        webhook.threadPerServer = true
        webhook.threads = ["s1": "223456789012345678"]
        let inForum = OutgoingMessage(
            delivery: third, thread: webhook.thread(for: third), collapsed: webhook.collapsed(third), now: fixedNow)
        XCTAssertEqual(
            Providers.discord.sendURL(target, for: inForum),
            "https://discord.com/api/v10/webhooks/123456789012345678/abcDEF_-tok/messages/900000000000000001?thread_id=223456789012345678"
        )
        XCTAssertNil(JSONValue.parse(Providers.discord.request(for: inForum, config: config).body)?["thread_name"])
    }

    func testWindowsNamesAndRecordsWithoutCollapseStayAsTheyWere() throws {
        XCTAssertEqual(CollapsedMessage.duration(600), "10 min")
        XCTAssertEqual(CollapsedMessage.duration(7200), "2 h")
        XCTAssertEqual(CollapsedMessage.duration(90), "90 s")
        webhook.collapse = nil
        XCTAssertFalse(try RecordCoding.encodeText(webhook).contains("collapse"))
        var plain = delivery()
        plain.collapsible = nil
        XCTAssertFalse(try RecordCoding.encodeText(plain).contains("collapsible"))
        var edited = plain
        (edited.action, edited.sentMessageId) = (.collapsed, "900000000000000001")
        XCTAssertEqual(Rendering.delivery(edited)["action"], .string("collapsed"))
        XCTAssertEqual(Rendering.delivery(edited)["messageId"], .string("900000000000000001"))
    }
}
