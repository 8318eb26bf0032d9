import XCTest

@testable import WebhooksCore

/// `statusCard` and `statusCardOnly` through the API: booleans, for Discord only, not with
/// `threadPerServer`, `statusCardOnly` only with `statusCard`; read back only when set; turning
/// the card off or moving the URL forgets the kept cards; events queue a card delivery.
final class StatusCardAPITests: UserAPITestCase {
    func carded(_ extra: String = "") -> String {
        create(#"{"url":"\#(validURL)","events":["server.crashed"],"statusCard":true\#(extra)}"#).json?["id"]?
            .stringValue ?? ""
    }

    func testReadsBackOnlyWhenSet() throws {
        let created = create(
            #"{"url":"\#(validURL)","events":["server.crashed"],"statusCard":true,"statusCardOnly":true}"#)
        XCTAssertEqual(created.status, 201)
        XCTAssertEqual(created.json?["statusCard"], .bool(true))
        XCTAssertEqual(created.json?["statusCardOnly"], .bool(true))
        XCTAssertNil(created.json?["cards"])
        let off = create(#"{"url":"\#(validURL)","events":["server.crashed"],"statusCard":false}"#)
        XCTAssertEqual(off.status, 201)
        XCTAssertNil(off.json?["statusCard"])
        XCTAssertNil(off.json?["statusCardOnly"])
        let stored = try harness.store.webhook(userId: "alice", id: off.json?["id"]?.stringValue ?? "")
        XCTAssertNil(stored?.statusCard)
    }

    func testBooleansOnly() {
        for field in ["statusCard", "statusCardOnly"] {
            for value in ["1", #""true""#, "null", "[]"] {
                XCTAssertEqual(
                    problems(create(#"{"url":"\#(validURL)","events":["server.crashed"],"\#(field)":\#(value)}"#))
                        .first?.hasPrefix("\(field): Expected boolean"), true, "\(field) \(value)")
            }
        }
    }

    func testOnlyForDiscord() {
        XCTAssertEqual(
            problems(create(#"{"url":"\#(slackURL)","events":["server.crashed"],"statusCard":true}"#)),
            ["statusCard: statusCard is for discord webhooks"])
        XCTAssertEqual(
            problems(
                create(#"{"url":"\#(httpURL)","provider":"http","events":["server.crashed"],"statusCard":true}"#)),
            ["statusCard: statusCard is for discord webhooks"])
        XCTAssertEqual(create(#"{"url":"\#(slackURL)","events":["server.crashed"],"statusCard":false}"#).status, 201)
        let id = carded()
        XCTAssertEqual(
            problems(patch(id, #"{"url":"\#(slackURL)"}"#)),
            [
                #"statusCard: The webhook has statusCard, which is for discord webhooks: with a new provider, send "statusCard": false"#
            ])
        XCTAssertEqual(patch(id, #"{"url":"\#(slackURL)","statusCard":false}"#).status, 200)
    }

    func testOnlyNeedsTheCardAndTheCardIsNotForForumsYet() {
        XCTAssertEqual(
            problems(create(#"{"url":"\#(validURL)","events":["server.crashed"],"statusCardOnly":true}"#)),
            [#"statusCardOnly: statusCardOnly needs "statusCard": true"#])
        XCTAssertEqual(
            problems(
                create(#"{"url":"\#(validURL)","events":["server.crashed"],"statusCard":true,"threadPerServer":true}"#)),
            ["statusCard: statusCard and threadPerServer cannot be combined yet"])
        let id = carded(#","statusCardOnly":true"#)
        XCTAssertEqual(
            problems(patch(id, #"{"statusCard":false}"#)),
            [
                #"statusCardOnly: The webhook has statusCardOnly, which needs statusCard: send "statusCardOnly": false too"#
            ])
        XCTAssertEqual(problems(patch(id, #"{"threadPerServer":true}"#)).map { $0.prefix(11) }, ["statusCard:"])
        let off = patch(id, #"{"statusCard":false,"statusCardOnly":false}"#)
        XCTAssertEqual(off.status, 200)
        XCTAssertNil(off.json?["statusCardOnly"])
    }

    func testOffOrAnotherURLForgetsTheCards() throws {
        let id = carded()
        let card = StatusCard(messageId: "1", status: "running", since: "2026-01-15T12:00:00.000Z", recent: [])
        let keep = { _ = try self.harness.store.updateWebhook(userId: "alice", id: id) { $0.cards = ["s1": card] } }
        try keep()
        XCTAssertEqual(patch(id, #"{"events":["server.started"]}"#).status, 200)
        XCTAssertEqual(try harness.store.webhook(userId: "alice", id: id)?.cards, ["s1": card])
        XCTAssertEqual(patch(id, #"{"url":"https://discord.com/api/webhooks/223456789012345678/other"}"#).status, 200)
        XCTAssertNil(try harness.store.webhook(userId: "alice", id: id)?.cards)
        try keep()
        XCTAssertEqual(patch(id, #"{"statusCard":false}"#).status, 200)
        XCTAssertNil(try harness.store.webhook(userId: "alice", id: id)?.cards)
    }

    /// An event queues the event message, then the card; with statusCardOnly the card alone.
    func testAnEventQueuesACardDelivery() throws {
        let both = carded()
        let only = carded(#","statusCardOnly":true"#)
        let server = Server(
            id: "s1", name: "Survival", ownerId: "alice", status: "running", createdAt: "2026-01-15T12:00:00.000Z",
            updatedAt: "2026-01-15T12:00:00.000Z")
        let emitted = try EventEmitter(store: harness.store).emit(
            "server.crashed", server: server, data: [:], now: fixedNow)
        XCTAssertEqual(emitted.deliveries, 3)
        let cards = { (id: String) in
            try self.harness.store.deliveries(userId: "alice", webhookId: id, offset: 0, limit: 10).map {
                $0.card == true
            }
        }
        XCTAssertEqual(try cards(both).sorted { !$0 && $1 }, [false, true])
        XCTAssertEqual(try cards(only), [true])
    }
}

/// The card's state, its body, the request that posts or edits it, and what Discord's answers
/// do to it.
final class StatusCardMessageTests: XCTestCase {
    var webhook: Webhook = {
        var webhook = Webhook(
            id: "w", userId: "u", url: validURL, events: ["server.crashed"], serverId: nil, enabled: true,
            createdAt: "2026-01-15T12:00:00.000Z")
        webhook.statusCard = true
        return webhook
    }()

    func delivery(
        _ event: String = "server.crashed", status: String = "crashed", at: String = "2026-01-15T12:00:00.000Z",
        id: String = "d"
    ) -> Delivery {
        var delivery = Delivery(
            id: id, webhookId: "w", userId: "u", event: event,
            payload: .object([
                "event": .string(event), "timestamp": .string(at),
                "server": .object(["id": .string("s1"), "name": .string("Survival"), "status": .string(status)]),
                "data": .object([:]),
            ]), createdAt: at)
        delivery.card = true
        return delivery
    }

    func testTheCardKeepsTheStatusSinceAndTheLastFiveEvents() throws {
        let first = try XCTUnwrap(webhook.card(for: delivery()))
        XCTAssertEqual(first.action, .post)
        XCTAssertEqual(first.card.status, "crashed")
        XCTAssertEqual(first.card.since, "2026-01-15T12:00:00.000Z")
        webhook.keep(first, messageId: "900000000000000001")
        var card = webhook.cards?["s1"]
        for minute in 1...6 {
            let at = "2026-01-15T12:0\(minute):00.000Z"
            let next = try XCTUnwrap(
                webhook.card(for: delivery("server.started", status: "running", at: at, id: "\(minute)")))
            XCTAssertEqual(next.action, .edit)
            webhook.keep(next, messageId: "900000000000000001")
            card = webhook.cards?["s1"]
        }
        XCTAssertEqual(card?.status, "running")
        XCTAssertEqual(card?.since, "2026-01-15T12:01:00.000Z")  // when it became running
        XCTAssertEqual(card?.recent.map(\.message), ["2", "3", "4", "5", "6"])
        // A retry of an event already on the card changes nothing.
        XCTAssertEqual(webhook.card(for: delivery("server.started", status: "running", id: "6"))?.card, card)
    }

    /// An event sent late (its retry waited while later ones went) takes its place by time and
    /// leaves the status as the newest event set it.
    func testALateEventNeverPutsTheCardBackOnAnOlderState() throws {
        let newer = try XCTUnwrap(
            webhook.card(for: delivery("server.started", status: "running", at: "2026-01-15T12:05:00.000Z", id: "b")))
        webhook.keep(newer, messageId: "900000000000000001")
        let late = try XCTUnwrap(webhook.card(for: delivery(at: "2026-01-15T12:01:00.000Z", id: "a")))
        XCTAssertEqual(late.card.status, "running")
        XCTAssertEqual(late.card.recent.map(\.message), ["a", "b"])
    }

    func testTheEmbed() throws {
        webhook.keep(try XCTUnwrap(webhook.card(for: delivery())), messageId: "900000000000000001")
        let sent = try XCTUnwrap(
            webhook.card(for: delivery("server.started", status: "running", at: "2026-01-15T12:03:00.000Z", id: "e")))
        let body = StatusCardMessage.body(for: sent, footer: "StellarStack")
        let embed = body["embeds"].flatMap { if case .array(let items) = $0 { items.first } else { nil } }
        XCTAssertEqual(embed?["title"], .string("Survival"))
        XCTAssertEqual(embed?["color"], .int(65280))
        XCTAssertEqual(embed?["timestamp"], .string("2026-01-15T12:03:00.000Z"))
        guard case .array(let fields)? = embed?["fields"] else { return XCTFail("fields") }
        XCTAssertEqual(fields.map { $0["name"]?.stringValue }, ["Status", "Since", "Last events"])
        XCTAssertEqual(
            fields.map { $0["value"]?.stringValue },
            [
                "running", "<t:1768478580:R>",
                "🔔 Server Started — <t:1768478580:t>\n🔔 Server Crashed — <t:1768478400:t>",
            ])
        XCTAssertEqual(body["allowed_mentions"], .object(["parse": .array([])]))
        XCTAssertNil(body["content"])
        // Clipped to Discord's limits like any embed.
        var long = sent
        long.serverName = String(repeating: "é", count: 300)
        let clipped = StatusCardMessage.body(for: long, footer: "")
        XCTAssertEqual(
            clipped["embeds"].flatMap {
                if case .array(let items) = $0 { items.first?["title"]?.stringValue } else { nil }
            }
            .map(DiscordMessage.length), 256)
    }

    func testThePostThenTheEditRequest() throws {
        let config = Config()
        let target = try XCTUnwrap(Providers.discord.target(validURL, config: config))
        let first = OutgoingMessage(delivery: delivery(), card: webhook.card(for: delivery()), now: fixedNow)
        XCTAssertEqual(Providers.discord.request(for: first, config: config).method, "POST")
        XCTAssertEqual(Providers.discord.sendURL(target, for: first), target.sendURL)
        webhook.keep(try XCTUnwrap(first.card), messageId: "900000000000000001")
        let later = delivery("server.started", status: "running", id: "e")
        let edit = OutgoingMessage(delivery: later, card: webhook.card(for: later), now: fixedNow)
        let request = Providers.discord.request(for: edit, config: config)
        XCTAssertEqual(request.method, "PATCH")
        XCTAssertEqual(
            JSONValue.parse(request.body)?["embeds"],
            StatusCardMessage.body(for: edit.card!, footer: config.discordFooter)["embeds"])
        XCTAssertEqual(
            Providers.discord.sendURL(target, for: edit),
            "https://discord.com/api/v10/webhooks/123456789012345678/abcDEF_-tok/messages/900000000000000001")
        // A URL of one thread: the edit names the thread too.
        let inThread = try XCTUnwrap(
            Providers.discord.target(validURL + "?thread_id=223456789012345678", config: config))
        XCTAssertEqual(
            Providers.discord.sendURL(inThread, for: edit),
            "https://discord.com/api/v10/webhooks/123456789012345678/abcDEF_-tok/messages/900000000000000001?thread_id=223456789012345678"
        )
        // An event message is posted as before, and a card delivery of a webhook that no longer
        // keeps cards has no card.
        XCTAssertEqual(
            Providers.discord.request(for: OutgoingMessage(delivery: later, now: fixedNow), config: config).method,
            "POST")
        webhook.statusCard = nil
        XCTAssertNil(webhook.card(for: later))
    }

    func outcome(_ body: String, editing: Bool, manual: Bool = false) -> Outcome {
        DeliveryPolicy(retrySchedule: [5, 25]).outcome(
            of: .answered(status: 404, headers: [:], body: Array(body.utf8)), provider: Providers.discord,
            retriesUsed: 0, manual: manual, editing: editing, jitter: 0)
    }

    /// Unknown Message to an edit: posted again at once as a new card, no retry used; a post
    /// that hears it fails (never a loop).
    func testUnknownMessagePostsANewCard() throws {
        let unknownMessage = #"{"message":"Unknown Message","code":10008}"#
        guard case .messageGone(let error) = outcome(unknownMessage, editing: true) else {
            return XCTFail("a deleted card is posted again")
        }
        XCTAssertTrue(error.hasPrefix("Discord answered 404 Unknown Message (code 10008)"), error)
        guard case .messageGone = outcome(unknownMessage, editing: true, manual: true) else {
            return XCTFail("a manual retry posts again too")
        }
        guard case .failed = outcome(unknownMessage, editing: false) else { return XCTFail("a post fails") }
        let recorded = DeliveryPolicy(retrySchedule: [5, 25]).record(
            outcome(unknownMessage, editing: true),
            of: .answered(status: 404, headers: [:], body: Array(unknownMessage.utf8)), on: delivery(),
            by: Providers.discord, now: fixedNow)
        XCTAssertEqual(recorded.status, .pending)
        XCTAssertEqual(recorded.retriesUsed, 0)
        XCTAssertEqual(recorded.nextAttemptAt, "2026-01-15T12:00:00.000Z")
        // Forgetting keeps the status and events, so the new card shows them.
        let sent = try XCTUnwrap(webhook.card(for: delivery()))
        webhook.keep(sent, messageId: "900000000000000001")
        let edit = try XCTUnwrap(webhook.card(for: delivery("server.started", status: "running", id: "e")))
        webhook.forgetMessage(of: edit)
        XCTAssertNil(webhook.cards?["s1"]?.messageId)
        XCTAssertEqual(webhook.cards?["s1"]?.recent.count, 1)
        XCTAssertEqual(webhook.card(for: delivery("server.started", status: "running", id: "e"))?.action, .post)
        XCTAssertEqual(
            DiscordProvider.messageId(answer: Array(#"{"id":"900000000000000002"}"#.utf8)), "900000000000000002")
    }

    func testRetriesEditAgainAndRecoveryPosts() {
        XCTAssertEqual(delivery().resend(id: "r", now: "2026-01-15T12:00:00.000Z").card, true)
        XCTAssertNil(delivery().resend(id: "r", now: "2026-01-15T12:00:00.000Z", asPost: true).card)
    }

    func testRecordsWithoutCardsStayAsTheyWere() throws {
        webhook.statusCard = nil
        XCTAssertFalse(try RecordCoding.encodeText(webhook).contains("card"))
        var plain = delivery()
        plain.card = nil
        XCTAssertFalse(try RecordCoding.encodeText(plain).lowercased().contains("card"))
        XCTAssertEqual(Rendering.delivery(plain)["action"], .string("post"))
    }
}
