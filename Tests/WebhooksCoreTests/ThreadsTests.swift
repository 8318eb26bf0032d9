import XCTest

@testable import WebhooksCore

/// `threadPerServer` through the API: a boolean, for Discord only, never with a URL that names
/// one thread; read back only when set; a PATCH that turns it off or moves the URL forgets the
/// kept threads.
final class ThreadsAPITests: UserAPITestCase {
    func forum() -> String {
        create(#"{"url":"\#(validURL)","events":["server.crashed"],"threadPerServer":true}"#).json?["id"]?
            .stringValue ?? ""
    }

    /// The kept threads, as the helper would have kept them.
    func keepThread(_ id: String, server: String = "s1", thread: String = "1") throws {
        _ = try harness.store.updateWebhook(userId: "alice", id: id) { $0.threads = [server: thread] }
    }

    func testCreateReadsBackOnlyWhenSet() throws {
        let created = create(#"{"url":"\#(validURL)","events":["server.crashed"],"threadPerServer":true}"#)
        XCTAssertEqual(created.status, 201)
        XCTAssertEqual(created.json?["threadPerServer"], .bool(true))
        XCTAssertNil(created.json?["threads"])
        let id = created.json?["id"]?.stringValue ?? ""
        XCTAssertEqual(harness.send("GET", "/webhooks/\(id)", key: alice).json?["threadPerServer"], .bool(true))
        let off = create(#"{"url":"\#(validURL)","events":["server.crashed"],"threadPerServer":false}"#)
        XCTAssertEqual(off.status, 201)
        XCTAssertNil(off.json?["threadPerServer"])
        let stored = try harness.store.webhook(userId: "alice", id: off.json?["id"]?.stringValue ?? "")
        XCTAssertNil(stored?.threadPerServer)
    }

    func testABooleanOnly() {
        for value in ["1", #""true""#, "null", "[]"] {
            XCTAssertEqual(
                problems(create(#"{"url":"\#(validURL)","events":["server.crashed"],"threadPerServer":\#(value)}"#))
                    .first?.hasPrefix("threadPerServer: Expected boolean"), true, value)
        }
    }

    func testOnlyForDiscord() {
        XCTAssertEqual(
            problems(create(#"{"url":"\#(slackURL)","events":["server.crashed"],"threadPerServer":true}"#)),
            ["threadPerServer: threadPerServer is for discord webhooks (of a forum channel)"])
        XCTAssertEqual(
            problems(
                create(
                    #"{"url":"\#(httpURL)","provider":"http","events":["server.crashed"],"threadPerServer":true}"#)),
            ["threadPerServer: threadPerServer is for discord webhooks (of a forum channel)"])
        XCTAssertEqual(
            create(#"{"url":"\#(slackURL)","events":["server.crashed"],"threadPerServer":false}"#).status, 201)
    }

    func testNotWithAURLOfOneThread() {
        let oneThread = validURL + "?thread_id=223456789012345678"
        XCTAssertEqual(
            problems(create(#"{"url":"\#(oneThread)","events":["server.crashed"],"threadPerServer":true}"#)).map {
                $0.prefix(16)
            }, ["threadPerServer:"])
        let id = forum()
        XCTAssertEqual(
            problems(patch(id, #"{"url":"\#(oneThread)"}"#)).map { $0.prefix(16) }, ["threadPerServer:"])
        XCTAssertEqual(patch(id, #"{"url":"\#(oneThread)","threadPerServer":false}"#).status, 200)
        XCTAssertEqual(problems(patch(id, #"{"threadPerServer":true}"#)).map { $0.prefix(16) }, ["threadPerServer:"])
    }

    /// As with mentions: a new provider must say what becomes of the option.
    func testAChangeOfProviderTurnsItOffExplicitly() {
        let id = forum()
        XCTAssertEqual(
            problems(patch(id, #"{"url":"\#(slackURL)"}"#)),
            [
                #"threadPerServer: The webhook has threadPerServer, which is for discord webhooks: with a new provider, send "threadPerServer": false"#
            ])
        let slack = patch(id, #"{"url":"\#(slackURL)","threadPerServer":false}"#)
        XCTAssertEqual(slack.status, 200)
        XCTAssertNil(slack.json?["threadPerServer"])
    }

    func testOffOrAnotherURLForgetsTheThreadsAndOtherChangesKeepThem() throws {
        let id = forum()
        try keepThread(id)
        XCTAssertEqual(patch(id, #"{"events":["server.started"]}"#).status, 200)
        XCTAssertEqual(try harness.store.webhook(userId: "alice", id: id)?.threads, ["s1": "1"])
        XCTAssertEqual(patch(id, #"{"threadPerServer":false}"#).status, 200)
        XCTAssertNil(try harness.store.webhook(userId: "alice", id: id)?.threads)
        XCTAssertEqual(patch(id, #"{"threadPerServer":true}"#).status, 200)
        try keepThread(id)
        XCTAssertEqual(
            patch(id, #"{"url":"https://discord.com/api/webhooks/223456789012345678/other"}"#).json?[
                "threadPerServer"], .bool(true))
        XCTAssertNil(try harness.store.webhook(userId: "alice", id: id)?.threads)
    }
}

/// Which thread a message goes to, the request that makes or posts to it, and what Discord's
/// answers do to it.
final class ThreadMessageTests: XCTestCase {
    var webhook: Webhook = {
        var webhook = Webhook(
            id: "w", userId: "u", url: validURL, events: ["server.crashed"], serverId: nil, enabled: true,
            createdAt: "2026-01-15T12:00:00.000Z")
        webhook.threadPerServer = true
        return webhook
    }()

    func delivery(server: JSONValue? = .object(["id": .string("s1"), "name": .string("Survival")])) -> Delivery {
        var payload: [String: JSONValue] = [
            "event": .string("server.crashed"), "timestamp": .string("2026-01-15T12:00:00.000Z"),
            "data": .object([:]),
        ]
        payload["server"] = server
        return Delivery(
            id: "d", webhookId: "w", userId: "u", event: "server.crashed", payload: .object(payload),
            createdAt: "2026-01-15T12:00:00.000Z")
    }

    func testTheThreadIsTheServersAndTheTestMessageHasItsOwn() {
        XCTAssertEqual(
            webhook.thread(for: delivery()), ServerThread(key: "s1", name: "Survival", id: nil, url: validURL))
        let test = Delivery(
            id: "d", webhookId: "w", userId: "u", event: DiscordMessage.testEvent,
            payload: DiscordMessage.testPayload(timestamp: "2026-01-15T12:00:00.000Z"),
            createdAt: "2026-01-15T12:00:00.000Z")
        XCTAssertEqual(webhook.thread(for: test)?.key, ServerThread.noServerKey)
        XCTAssertEqual(webhook.thread(for: test)?.name, "StellarStack")
        webhook.threads = ["s1": "223456789012345678"]
        XCTAssertEqual(webhook.thread(for: delivery())?.id, "223456789012345678")
        XCTAssertNil(webhook.thread(for: test)?.id)
        webhook.threadPerServer = nil
        XCTAssertNil(webhook.thread(for: delivery()))
    }

    func testTheFirstMessageNamesTheThreadAndLaterOnesPostToIt() throws {
        let config = Config()
        let target = try XCTUnwrap(Providers.discord.target(validURL, config: config))
        let first = OutgoingMessage(delivery: delivery(), thread: webhook.thread(for: delivery()), now: fixedNow)
        XCTAssertEqual(
            JSONValue.parse(Providers.discord.request(for: first, config: config).body)?["thread_name"],
            .string("Survival"))
        XCTAssertEqual(
            Providers.discord.sendURL(target, for: first),
            "https://discord.com/api/v10/webhooks/123456789012345678/abcDEF_-tok?wait=true")
        webhook.threads = ["s1": "223456789012345678"]
        let later = OutgoingMessage(delivery: delivery(), thread: webhook.thread(for: delivery()), now: fixedNow)
        XCTAssertNil(JSONValue.parse(Providers.discord.request(for: later, config: config).body)?["thread_name"])
        XCTAssertEqual(
            Providers.discord.sendURL(target, for: later),
            "https://discord.com/api/v10/webhooks/123456789012345678/abcDEF_-tok?wait=true&thread_id=223456789012345678"
        )
        // Without the option: as before.
        let plain = OutgoingMessage(delivery: delivery(), now: fixedNow)
        XCTAssertNil(JSONValue.parse(Providers.discord.request(for: plain, config: config).body)?["thread_name"])
        XCTAssertEqual(Providers.discord.sendURL(target, for: plain), target.sendURL)
    }

    func testAThreadNameIsClippedToDiscordsLimit() {
        let long = String(repeating: "é", count: 150)
        let thread = ServerThread(key: "s1", name: long, id: nil, url: validURL)
        let body = JSONValue.parse(
            Providers.discord.request(
                for: OutgoingMessage(delivery: delivery(), thread: thread, now: fixedNow), config: Config()
            ).body)
        XCTAssertEqual(body?["thread_name"]?.stringValue.map(DiscordMessage.length), 100)
    }

    func outcome(_ status: Int, _ body: String, toThread: Bool, manual: Bool = false) -> Outcome {
        DeliveryPolicy(retrySchedule: [5, 25]).outcome(
            of: .answered(status: status, headers: [:], body: Array(body.utf8)), provider: Providers.discord,
            retriesUsed: 0, manual: manual, toThread: toThread, jitter: 0)
    }

    /// Unknown Channel to a kept thread: posted again at once, no retry used, a manual send too;
    /// without a thread it fails (never a loop), and Unknown Webhook still disables.
    func testUnknownChannelRemakesTheThreadOnce() throws {
        let unknownChannel = #"{"message":"Unknown Channel","code":10003}"#
        guard case .threadGone(let error) = outcome(404, unknownChannel, toThread: true) else {
            return XCTFail("a gone thread is made again")
        }
        XCTAssertTrue(error.hasPrefix("Discord answered 404 Unknown Channel (code 10003)"), error)
        guard case .threadGone = outcome(404, unknownChannel, toThread: true, manual: true) else {
            return XCTFail("a test message is posted again too")
        }
        guard case .failed = outcome(404, unknownChannel, toThread: false) else {
            return XCTFail("no kept thread: nothing to make again")
        }
        guard case .webhookGone = outcome(404, #"{"message":"Unknown Webhook","code":10015}"#, toThread: true) else {
            return XCTFail("Unknown Webhook disables")
        }
        let policy = DeliveryPolicy(retrySchedule: [5, 25])
        let result = AttemptResult.answered(status: 404, headers: [:], body: Array(unknownChannel.utf8))
        let recorded = policy.record(
            outcome(404, unknownChannel, toThread: true), of: result, on: delivery(), by: Providers.discord,
            now: fixedNow)
        XCTAssertEqual(recorded.status, .pending)
        XCTAssertEqual(recorded.retriesUsed, 0)
        XCTAssertEqual(recorded.attempts, 1)
        XCTAssertEqual(recorded.nextAttemptAt, "2026-01-15T12:00:00.000Z")
    }

    func testKeepingAndForgetting() {
        let made = webhook.thread(for: delivery())!
        webhook.keep(threadId: "5", for: made)
        XCTAssertEqual(webhook.threads, ["s1": "5"])
        // Kept for another URL, or after the option went off: not this forum's thread.
        var moved = webhook
        moved.threads = nil
        moved.url = "https://discord.com/api/webhooks/223456789012345678/other"
        moved.keep(threadId: "6", for: made)
        XCTAssertNil(moved.threads)
        // Forgotten only while it is still the kept one.
        let posted = webhook.thread(for: delivery())!
        webhook.threads = ["s1": "7"]
        webhook.forget(posted)
        XCTAssertEqual(webhook.threads, ["s1": "7"])
        webhook.forget(webhook.thread(for: delivery())!)
        XCTAssertNil(webhook.threads)
        XCTAssertEqual(DiscordProvider.threadId(answer: Array(#"{"id":"9","channel_id":"123"}"#.utf8)), "123")
        XCTAssertNil(DiscordProvider.threadId(answer: Array(#"{"channel_id":"x"}"#.utf8)))
    }

    func testRecordsWithoutThreadsDecodeAndStayAsTheyWere() throws {
        webhook.threadPerServer = nil
        let text = try RecordCoding.encodeText(webhook)
        XCTAssertFalse(text.contains("thread"))
        XCTAssertEqual(try RecordCoding.decode(Webhook.self, from: text), webhook)
        XCTAssertFalse(try RecordCoding.encodeText(delivery()).contains("thread"))
    }
}
