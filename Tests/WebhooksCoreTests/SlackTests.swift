import XCTest

@testable import WebhooksCore

let slackURL = "https://hooks.slack.com/services/T024BE7LD/B01ABCDEF12/abcDEF123xyz789"

/// Which URLs are Slack's incoming webhooks: parsed as strictly as Discord's.
final class SlackWebhookURLTests: XCTestCase {
    func parse(_ text: String, insecure: Bool = false, hosts: [String] = Config().slackHosts) -> SlackWebhookURL? {
        SlackWebhookURL(text, allowedHosts: hosts, allowInsecure: insecure)
    }

    func testAcceptsSlacksForm() {
        let url = parse(slackURL)
        XCTAssertEqual(url?.teamId, "T024BE7LD")
        XCTAssertEqual(url?.webhookId, "B01ABCDEF12")
        XCTAssertEqual(url?.secret, "abcDEF123xyz789")
        XCTAssertEqual(parse("https://HOOKS.slack.com:443/services/T1/B2/s")?.authority, "hooks.slack.com")
    }

    func testRefusesLookalikesAndTricks() {
        for text in [
            "http://hooks.slack.com/services/T024BE7LD/B01ABCDEF12/abc",
            "https://hooks.slack.com@evil.example/services/T024BE7LD/B01ABCDEF12/abc",
            "https://user:pw@hooks.slack.com/services/T024BE7LD/B01ABCDEF12/abc",
            "https://hooks.slack.com.evil.example/services/T024BE7LD/B01ABCDEF12/abc",
            "https://evil.example/services/T024BE7LD/B01ABCDEF12/abc",
            "https://hooks.slack.com:8443/services/T024BE7LD/B01ABCDEF12/abc",
            "https://hooks.slack.com/services/T024BE7LD/B01ABCDEF12/abc#frag",
            "https://hooks.slack.com/services/T024BE7LD/B01ABCDEF12/abc?x=1",
            "https://hooks.slack.com/services/T024BE7LD/B01ABCDEF12/abc/",
            "https://hooks.slack.com/services/T024BE7LD/B01ABCDEF12/abc/extra",
            "https://hooks.slack.com/services/T024BE7LD/B01ABCDEF12/",
            "https://hooks.slack.com/services/T024BE7LD/B01ABCDEF12",
            "https://hooks.slack.com/services/t024be7ld/B01ABCDEF12/abc",
            "https://hooks.slack.com/services/T024BE7LD/b01abcdef12/abc",
            "https://hooks.slack.com/services/B01ABCDEF12/T024BE7LD/abc",
            "https://hooks.slack.com/services/T/B01ABCDEF12/abc",
            "https://hooks.slack.com/services/T024BE7LD/B01ABCDEF12/ab-c",
            "https://hooks.slack.com/services/T024BE7LD/B01ABCDEF12/abc%2e",
            "https://hooks.slack.com/services/T024BE7LD/B01ABCDEF12/" + String(repeating: "a", count: 65),
            "https://hooks.slack.com/Services/T024BE7LD/B01ABCDEF12/abc",
            "https://hooks.slack.com//services/T024BE7LD/B01ABCDEF12/abc",
            "https://hooks.slack.com\\@evil.example/services/T024BE7LD/B01ABCDEF12/abc",
            " https://hooks.slack.com/services/T024BE7LD/B01ABCDEF12/abc",
            "https://discord.com/api/webhooks/123456789012345678/tok",
        ] {
            XCTAssertNil(parse(text), text)
        }
    }

    func testInsecureTargetsAdmitHTTPAndPrivateAddressesOnlyWhenAllowed() {
        let local = "http://127.0.0.1:9000/services/T1/B2/s"
        XCTAssertNil(parse(local, hosts: ["127.0.0.1:9000"]))
        XCTAssertEqual(parse(local, insecure: true, hosts: ["127.0.0.1:9000"])?.authority, "127.0.0.1:9000")
        XCTAssertNil(parse(local, insecure: true))
        XCTAssertNil(parse("https://10.0.0.1/services/T1/B2/s", hosts: ["10.0.0.1"]), "a listed private address")
    }

    func testSendURLRedactionAndRateLimitKey() {
        let url = parse("https://hooks.slack.com:443/services/T024BE7LD/B01ABCDEF12/topSecret1")!
        XCTAssertEqual(url.sendURL, "https://hooks.slack.com/services/T024BE7LD/B01ABCDEF12/topSecret1")
        XCTAssertEqual(url.redacted, "https://hooks.slack.com/services/T024BE7LD/B01ABCDEF12/****")
        XCTAssertEqual(url.rateLimitKey, "hooks.slack.com/T024BE7LD/B01ABCDEF12")
    }
}

/// The Block Kit message: Discord's words, Slack's limits, and no user text that can ping or link.
final class SlackMessageTests: XCTestCase {
    let payload: JSONValue = .object([
        "event": .string("backup.created"),
        "timestamp": .string("2026-01-15T12:00:00.000Z"),
        "server": .object(["id": .string("s1"), "name": .string("My MC"), "status": .string("RUNNING")]),
        "data": .object([
            "backupId": .string("b1"), "sizeBytes": .int(1234), "nested": .object([:]), "note": .string(" "),
        ]),
    ])

    func field(_ text: String) -> JSONValue {
        .object(["type": .string("mrkdwn"), "text": .string(text), "verbatim": .bool(true)])
    }

    func plain(_ text: String) -> JSONValue {
        .object(["type": .string("plain_text"), "text": .string(text), "emoji": .bool(true)])
    }

    func testBodyIsTheEmbedsWordsAsBlocks() {
        XCTAssertEqual(
            SlackMessage.body(for: payload, footer: "StellarStack"),
            .object([
                "text": .string(
                    "🔔 Backup Created\nServer: My MC\nStatus: RUNNING\nBackup Id: b1\nNote: —\nSize Bytes: 1234"),
                "blocks": .array([
                    .object(["type": .string("header"), "text": plain("🔔 Backup Created")]),
                    .object([
                        "type": .string("section"),
                        "fields": .array([
                            field("*Server*\nMy MC"), field("*Status*\nRUNNING"), field("*Backup Id*\nb1"),
                            field("*Note*\n—"), field("*Size Bytes*\n1234"),
                        ]),
                    ]),
                    .object([
                        "type": .string("context"),
                        "elements": .array([
                            plain("StellarStack"),
                            field("<!date^1768478400^{date_short_pretty} {time_secs}|2026-01-15T12:00:00.000Z>"),
                        ]),
                    ]),
                ]),
            ]))
    }

    func testTheTestMessage() {
        let body = SlackMessage.body(
            for: DiscordMessage.testPayload(timestamp: "2026-01-15T12:00:00.000Z"), footer: "F")
        guard case .array(let blocks)? = body["blocks"] else { return XCTFail("no blocks") }
        XCTAssertEqual(blocks.count, 3)
        XCTAssertEqual(blocks[0]["text"], plain("🔔 Test"))
        XCTAssertEqual(blocks[1], .object(["type": .string("section"), "text": plain("Webhook connected")]))
        guard case .array(let context)? = blocks[2]["elements"] else { return XCTFail("no context") }
        XCTAssertEqual(context.first, plain("F"))
        XCTAssertEqual(body["text"], .string("🔔 Test\nWebhook connected"))
    }

    /// Slack reads `<!channel>`, `<@U…>` and `<url|text>` only between `<` and `>`: escaped, user
    /// text is shown as typed and does nothing.
    func testHostileTextIsEscapedEverywhere() {
        let hostile = "<!channel> <@U123> <https://evil|click> & @here"
        let escaped = "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil|click&gt; &amp; @here"
        let body = SlackMessage.body(
            for: .object([
                "event": .string("server.started"), "timestamp": .string("2026-01-15T12:00:00.000Z"),
                "server": .object(["name": .string(hostile), "status": .string("RUNNING")]),
                "data": .object(["reason": .string(hostile), "<!here>": .string("x")]),
            ]), footer: "StellarStack")
        guard case .array(let blocks)? = body["blocks"], case .array(let fields)? = blocks[1]["fields"] else {
            return XCTFail("no fields")
        }
        XCTAssertEqual(
            fields.map { $0["text"] },
            [
                .string("*Server*\n\(escaped)"), .string("*Status*\nRUNNING"), .string("*&lt;!here&gt;*\nx"),
                .string("*Reason*\n\(escaped)"),
            ])
        XCTAssertEqual(body["text"]?.stringValue?.contains("Server: \(escaped)"), true)
        // Nowhere in the whole body is there a `<` Slack would read, but the time it is given.
        let text = String(decoding: body.serialized(), as: UTF8.self)
        XCTAssertEqual(text.components(separatedBy: "<").count, 2, text)
        XCTAssertTrue(text.contains("<!date^"))
        XCTAssertFalse(text.contains("link_names"))
        XCTAssertFalse(text.contains(#""verbatim":false"#))
    }

    func testEverythingIsClippedToSlacksLimits() {
        var data: [String: JSONValue] = [:]
        for index in 0..<40 { data["key\(index)"] = .string(String(repeating: "é&", count: 1500)) }
        let big: JSONValue = .object([
            "event": .string(String(repeating: "long_event_name.", count: 20)),
            "timestamp": .string("2026-01-15T12:00:00.000Z"),
            "server": .object(["name": .string(String(repeating: "n", count: 3000)), "status": .string("RUNNING")]),
            "data": .object(data),
        ])
        let body = SlackMessage.body(for: big, footer: String(repeating: "f", count: 4000))
        guard case .array(let blocks)? = body["blocks"] else { return XCTFail("no blocks") }
        XCTAssertLessThanOrEqual(blocks.count, 50)
        let header = blocks[0]["text"]?["text"]?.stringValue ?? ""
        XCTAssertEqual(DiscordMessage.length(header), 150)
        XCTAssertEqual(header.last, "…")
        let sections = blocks.filter { $0["type"] == .string("section") }
        let counts = sections.map { section -> Int in
            guard case .array(let fields)? = section["fields"] else { return 0 }
            for field in fields {
                let text = field["text"]?.stringValue ?? ""
                XCTAssertLessThanOrEqual(DiscordMessage.length(text), 2000)
                XCTAssertTrue(text.hasSuffix("…") || text == "*Status*\nRUNNING", "a long value is clipped")
                // Never half an entity: only whole `&amp;` before the ellipsis.
                XCTAssertFalse(text.dropLast().hasSuffix("&") || text.dropLast().hasSuffix("&amp"), text)
            }
            return fields.count
        }
        XCTAssertEqual(counts, [10, 10, 5], "Discord's 25 fields, at most 10 a section")
        guard case .array(let context)? = blocks.last?["elements"] else { return XCTFail("no context") }
        XCTAssertLessThanOrEqual(context.count, 10)
        XCTAssertEqual(DiscordMessage.length(context[0]["text"]?.stringValue ?? ""), 3000)
        XCTAssertEqual(DiscordMessage.length(body["text"]?.stringValue ?? ""), 3000)
    }

    func testEscapingCountsScalarsAndKeepsEntitiesWhole() {
        XCTAssertEqual(SlackMessage.escaped("a<b", limit: 6), "a&lt;b")
        XCTAssertEqual(SlackMessage.escaped("a<b", limit: 5), "a…")
        XCTAssertEqual(SlackMessage.escaped("🔔🔔🔔", limit: 3), "🔔🔔🔔")
        XCTAssertEqual(SlackMessage.escaped("🔔🔔🔔🔔", limit: 3), "🔔🔔…")
    }
}

/// Slack as a provider: its URLs, its request, and the answer table of its documentation.
final class SlackProviderTests: XCTestCase {
    let slack = Providers.slack
    let policy = DeliveryPolicy(retrySchedule: [10, 60])

    func verdict(_ status: Int, _ body: String = "", headers: [String: String] = [:]) -> AnswerVerdict {
        slack.verdict(status: status, headers: headers, body: Array(body.utf8))
    }

    func testItsURLsBecomeTargetsAndItIsNamedAndInferable() {
        let target = slack.target(slackURL, config: Config())
        XCTAssertEqual(target?.sendURL, slackURL)
        XCTAssertEqual(target?.rateLimitKey, "hooks.slack.com/T024BE7LD/B01ABCDEF12")
        XCTAssertEqual(target?.redacted, "https://hooks.slack.com/services/T024BE7LD/B01ABCDEF12/****")
        XCTAssertNil(slack.target(validURL, config: Config()))
        XCTAssertNil(Providers.discord.target(slackURL, config: Config()))
        XCTAssertEqual(Providers.named("slack")?.displayName, "Slack")
        XCTAssertEqual(Providers.all.filter { $0.name == "slack" }.count, 1)
        XCTAssertEqual(Providers.inferable.map(\.name), ["discord", "slack"])
        var config = Config()
        config.slackHosts = ["slack.internal.example"]
        XCTAssertNil(slack.target(slackURL, config: config), "only the configured hosts")
    }

    func testARequestIsTheBlockKitMessageAsJSON() {
        let payload = JSONValue.object(["event": .string("server.started"), "data": .object([:])])
        let delivery = Delivery(
            id: "d1", webhookId: "w1", userId: "u1", event: "server.started", payload: payload,
            createdAt: "2026-12-05T00:00:00.000Z")
        var config = Config()
        config.discordFooter = "Panel"
        let request = slack.request(for: OutgoingMessage(delivery: delivery, now: Date()), config: config)
        XCTAssertEqual(request.headers.map(\.0), ["Content-Type"])
        XCTAssertEqual(request.headers.map(\.1), ["application/json"])
        XCTAssertEqual(request.body, SlackMessage.body(for: payload, footer: "Panel").serialized())
    }

    func testEveryRowOfTheAnswerTable() {
        XCTAssertEqual(verdict(200, "ok"), .delivered)
        XCTAssertEqual(verdict(400, "invalid_payload"), .failed(error: "Slack answered 400 invalid_payload"))
        XCTAssertEqual(verdict(400, "no_text\n"), .failed(error: "Slack answered 400 no_text"))
        XCTAssertEqual(verdict(400, "too_many_attachments"), .failed(error: "Slack answered 400 too_many_attachments"))
        for (status, code) in [
            (403, "invalid_token"), (403, "action_prohibited"), (404, "channel_not_found"), (404, "no_service"),
            (410, "channel_is_archived"),
        ] {
            XCTAssertEqual(
                verdict(status, code),
                .gone(reason: "Slack answered \(status) \(code): the webhook no longer works, so it was disabled"))
        }
        XCTAssertEqual(verdict(429, "", headers: ["retry-after": "3"]), .rateLimited(wait: 3, scope: .webhook))
        XCTAssertEqual(verdict(429, "rate_limited"), .rateLimited(wait: 1, scope: .webhook), "1 s without a header")
        XCTAssertEqual(verdict(429, "", headers: ["retry-after": "1e300"]), .rateLimited(wait: 3600, scope: .webhook))
        XCTAssertEqual(verdict(429, "", headers: ["retry-after": "nan"]), .rateLimited(wait: 1, scope: .webhook))
        XCTAssertEqual(verdict(500, "rollup_error"), .retryable(error: "Slack answered 500 rollup_error"))
        XCTAssertEqual(verdict(503, "<html>busy</html>"), .retryable(error: "Slack answered 503"), "not a code")
        XCTAssertEqual(
            verdict(302, "", headers: ["location": "https://evil.example/"]),
            .failed(error: "Slack answered 302; redirects are not followed"))
        XCTAssertEqual(verdict(418, "teapot"), .failed(error: "Slack answered 418 teapot"))
    }

    func testThePolicyRetriesServerErrorsOnlyAndWaitsOutA429ForFree() {
        func outcome(_ status: Int, _ body: String, headers: [String: String] = [:], retriesUsed: Int = 0) -> Outcome {
            policy.outcome(
                of: .answered(status: status, headers: headers, body: Array(body.utf8)), provider: slack,
                retriesUsed: retriesUsed, manual: false, jitter: 0)
        }
        XCTAssertEqual(outcome(500, "rollup_error"), .retry(after: 10, error: "Slack answered 500 rollup_error"))
        XCTAssertEqual(outcome(500, "", retriesUsed: 2), .failed(error: "Slack answered 500"))
        guard case .webhookGone = outcome(404, "channel_not_found") else { return XCTFail("404 disables") }
        let limited = outcome(429, "", headers: ["retry-after": "2"])
        XCTAssertEqual(limited, .rateLimited(wait: 2, scope: .webhook))
        let queued = Delivery(
            id: "d", webhookId: "w", userId: "u", event: "server.started", payload: .null,
            createdAt: "2026-01-15T12:00:00.000Z")
        let recorded = policy.record(
            limited, of: .answered(status: 429, headers: [:], body: []), on: queued, by: slack, now: fixedNow)
        XCTAssertEqual([recorded.attempts, recorded.retriesUsed], [1, 0])
        XCTAssertEqual(recorded.error, "Rate limited by Slack; sending again in 2.0 s")
    }

    func testOneMessageASecondWhateverTheAnswer() {
        XCTAssertEqual(slack.bucketWait(headers: [:]), 1)
        XCTAssertEqual(slack.bucketWait(headers: ["x-ratelimit-remaining": "5"]), 1)
    }
}

/// The API infers Slack from a Slack URL and holds a named provider to its own URLs.
final class SlackWebhookAPITests: XCTestCase {
    let harness = AppHarness()
    lazy var alice = harness.key(user: "alice")

    func create(_ fields: String) -> Response {
        harness.send("POST", "/webhooks", key: alice, json: #"{"events":["server.started"],\#(fields)}"#)
    }

    func firstDetail(_ response: Response) -> String? {
        guard case .array(let details)? = response.json?["details"] else { return nil }
        return details.first?["message"]?.stringValue
    }

    func testASlackURLAloneNamesSlack() {
        let response = create(#""url":"\#(slackURL)""#)
        XCTAssertEqual(response.status, 201)
        XCTAssertEqual(response.json?["provider"], .string("slack"))
        XCTAssertEqual(create(#""url":"\#(slackURL)","provider":"slack""#).json?["provider"], .string("slack"))
    }

    func testANamedProviderTakesOnlyItsOwnURLs() {
        let discordAsSlack = create(#""url":"\#(validURL)","provider":"slack""#)
        XCTAssertEqual(discordAsSlack.status, 400)
        XCTAssertEqual(firstDetail(discordAsSlack), Providers.slack.urlRule)
        XCTAssertEqual(create(#""url":"\#(slackURL)","provider":"discord""#).status, 400)
    }

    func testAnUnknownURLNamesBothProvidersRules() {
        let response = create(#""url":"https://example.com/hook""#)
        XCTAssertEqual(response.status, 400)
        let message = firstDetail(response) ?? ""
        XCTAssertTrue(message.contains(Providers.slack.urlRule) && message.contains(Providers.discord.urlRule), message)
    }
}
