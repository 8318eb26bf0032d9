import XCTest

@testable import WebhooksCore

/// A webhook's `mentions` through the API: accepted, read back, replaced and cleared by PATCH,
/// and every problem refused with its path.
final class MentionsAPITests: UserAPITestCase {
    /// The paths of a `Validation failed` answer's details, written `mentions[0].roles[1]`: an
    /// index is a JSON number.
    func paths(_ response: Response) -> [String] {
        XCTAssertEqual(response.status, 400)
        XCTAssertEqual(response.json?["error"], .string("Validation failed"))
        guard case .array(let details)? = response.json?["details"] else { return [] }
        return details.map { detail in
            guard case .array(let steps)? = detail["path"] else { return "?" }
            return String(
                steps.map { step in
                    switch step {
                    case .int(let index): "[\(index)]"
                    case .string(let name): ".\(name)"
                    default: "?"
                    }
                }.joined().dropFirst())
        }
    }

    func mention(_ events: [String], roles: [String] = [], users: [String] = []) -> JSONValue {
        .object([
            "events": .array(events.map { .string($0) }), "roles": .array(roles.map { .string($0) }),
            "users": .array(users.map { .string($0) }),
        ])
    }

    func testCreateStoresThemCanonicalAndReadsThemBack() {
        let created = create(
            #"{"url":"\#(validURL)","events":["server.crashed","server.started"],"mentions":[{"events":["SERVER_CRASHED","server.crashed"],"roles":["123456789012345678","123456789012345678"],"users":["876543210987654321"]}]}"#
        )
        XCTAssertEqual(created.status, 201)
        let expected = JSONValue.array([
            mention(["server.crashed"], roles: ["123456789012345678"], users: ["876543210987654321"])
        ])
        XCTAssertEqual(created.json?["mentions"], expected)
        let id = created.json?["id"]?.stringValue ?? ""
        XCTAssertEqual(harness.send("GET", "/webhooks/\(id)", key: alice).json?["mentions"], expected)
        XCTAssertEqual(
            try harness.store.webhook(userId: "alice", id: id)?.pings(for: "server.crashed").roles,
            ["123456789012345678"])
    }

    func testAWebhookWithoutMentionsReadsAsBefore() {
        for body in [
            #"{"url":"\#(validURL)","events":["server.crashed"]}"#,
            #"{"url":"\#(validURL)","events":["server.crashed"],"mentions":[]}"#,
            #"{"url":"\#(validURL)","events":["server.crashed"],"mentions":null}"#,
        ] {
            let created = create(body)
            XCTAssertEqual(created.status, 201, body)
            XCTAssertNil(created.json?["mentions"], body)
        }
    }

    func testPatchReplacesTheListAndEmptyOrNullClearsIt() {
        let id =
            create(
                #"{"url":"\#(validURL)","events":["server.crashed"],"mentions":[{"events":["server.crashed"],"roles":["1"]}]}"#
            )
            .json?["id"]?.stringValue ?? ""
        let replaced = patch(id, #"{"mentions":[{"events":["backup.failed"],"users":["2"]}]}"#)
        XCTAssertEqual(replaced.status, 200)
        XCTAssertEqual(replaced.json?["mentions"], .array([mention(["backup.failed"], users: ["2"])]))
        XCTAssertEqual(patch(id, #"{"enabled":false}"#).json?["mentions"], replaced.json?["mentions"], "left as is")
        XCTAssertNil(patch(id, #"{"mentions":[]}"#).json?["mentions"])
        XCTAssertEqual(patch(id, #"{"mentions":[{"events":["server.crashed"],"roles":["1"]}]}"#).status, 200)
        XCTAssertNil(patch(id, #"{"mentions":null}"#).json?["mentions"])
        XCTAssertNil(try harness.store.webhook(userId: "alice", id: id)?.mentions, "nothing stored")
    }

    func testEveryProblemHasItsPath() {
        let response = create(
            #"{"url":"\#(validURL)","events":["server.crashed"],"mentions":[{"events":["server.crashed","nope",3],"roles":["1","01","x",4],"users":["18446744073709551616"]},"x",{"events":[]},{"events":["server.started"]},{"roles":"1"}]}"#
        )
        XCTAssertEqual(
            paths(response),
            [
                "mentions[0].events[1]", "mentions[0].events[2]", "mentions[0].roles[1]",
                "mentions[0].roles[2]", "mentions[0].roles[3]", "mentions[0].users[0]",
                "mentions[1]", "mentions[2].events", "mentions[3]", "mentions[4].events",
                "mentions[4].roles",
            ])
        guard case .array(let details)? = response.json?["details"] else { return XCTFail("no details") }
        XCTAssertEqual(
            details[2]["message"],
            .string("Must be a Discord role id (a snowflake: decimal digits, no leading zero, at most 2^64 - 1)"))
        XCTAssertEqual(details[8]["message"], .string("An entry pings at least one role or user"))
        XCTAssertEqual(
            paths(create(#"{"url":"\#(validURL)","events":["server.crashed"],"mentions":{}}"#)), ["mentions"])
    }

    func testLimits() {
        let ids = (1...11).map { "\(100 + $0)" }
        let eleven = JSONValue.array((1...11).map { _ in mention(["server.crashed"], roles: ["1"]) })
        XCTAssertEqual(paths(withMentions(eleven)), ["mentions"])
        let tooMany = JSONValue.array([mention(["server.crashed"], roles: ids)])
        XCTAssertEqual(paths(withMentions(tooMany)), ["mentions[0].roles"])
        // Ten and ten pass; two entries giving one event eleven users do not.
        XCTAssertEqual(
            withMentions(
                .array([mention(["server.crashed"], roles: Array(ids.prefix(10)), users: Array(ids.prefix(10)))])
            )
            .status, 201)
        let split = JSONValue.array([
            mention(["server.crashed", "server.started"], users: Array(ids.prefix(6))),
            mention(["server.crashed"], users: Array(ids.suffix(5))),
        ])
        let answer = withMentions(split)
        XCTAssertEqual(paths(answer), ["mentions"])
        guard case .array(let details)? = answer.json?["details"] else { return XCTFail("no details") }
        XCTAssertEqual(
            details[0]["message"],
            .string("server.crashed would ping 0 roles and 11 users: one event pings at most 10 of each"))
    }

    func withMentions(_ mentions: JSONValue, url: String = validURL, provider: String? = nil) -> Response {
        var body: [String: JSONValue] = [
            "url": .string(url), "events": .array([.string("server.crashed")]), "mentions": mentions,
        ]
        if let provider { body["provider"] = .string(provider) }
        return create(String(decoding: JSONValue.object(body).serialized(), as: UTF8.self))
    }

    func testSlackIdsAreSlacks() {
        let good = JSONValue.array([
            mention(["server.crashed"], roles: ["S0614TZR7"], users: ["U024BE7LH", "W0A1B2C3D"])
        ])
        let created = withMentions(good, url: slackURL)
        XCTAssertEqual(created.status, 201)
        XCTAssertEqual(created.json?["mentions"], good)
        let bad = JSONValue.array([
            mention(["server.crashed"], roles: ["U024BE7LH", "123456789012345678"], users: ["S0614TZR7", "u024be7lh"])
        ])
        XCTAssertEqual(
            paths(withMentions(bad, url: slackURL)),
            ["mentions[0].roles[0]", "mentions[0].roles[1]", "mentions[0].users[0]", "mentions[0].users[1]"])
        // Discord's ids are not Slack's: a Slack id is refused for Discord.
        XCTAssertEqual(
            paths(withMentions(.array([mention(["server.crashed"], users: ["U024BE7LH"])]))),
            ["mentions[0].users[0]"])
    }

    /// ASCII only: a digit with a combining mark sorts among the digits, and is still no id.
    func testIdsAreASCII() {
        let cases: [(DeliveryProvider, String)] = [
            (Providers.slack, "U1\u{301}"), (Providers.slack, "U\u{FF11}"), (Providers.discord, "1\u{301}"),
        ]
        for (provider, id) in cases {
            XCTAssertEqual(provider.mentionIDs?.users.matches(id[...]), false, id)
        }
        XCTAssertEqual(Providers.slack.mentionIDs?.users.matches("U024BE7LH"), true)
    }

    func testHTTPWebhooksTakeNone() {
        let refused = withMentions(
            .array([mention(["server.crashed"], roles: ["1"])]), url: "https://panel.example.com/hook", provider: "http"
        )
        XCTAssertEqual(paths(refused), ["mentions"])
        guard case .array(let details)? = refused.json?["details"] else { return XCTFail("no details") }
        XCTAssertEqual(details[0]["message"], .string("mentions are for discord and slack webhooks"))
        XCTAssertEqual(withMentions(.array([]), url: "https://panel.example.com/hook", provider: "http").status, 201)
    }

    /// Mentions are ids of one provider: a PATCH that changes the provider of a webhook with
    /// mentions must say what they become, never keep ids the new provider would misread.
    func testAChangeOfProviderSaysWhatMentionsBecome() {
        let id =
            withMentions(.array([mention(["server.crashed"], roles: ["1"])])).json?["id"]?.stringValue ?? ""
        let toHTTP = #"{"url":"https://panel.example.com/hook","provider":"http"}"#
        XCTAssertEqual(paths(patch(id, toHTTP)), ["mentions"])
        XCTAssertEqual(paths(patch(id, #"{"url":"\#(slackURL)"}"#)), ["mentions"])
        // Another Discord URL keeps them.
        let moved = patch(id, #"{"url":"https://discord.com/api/webhooks/223456789012345678/other"}"#)
        XCTAssertEqual(moved.status, 200)
        XCTAssertNotNil(moved.json?["mentions"])
        let slack = patch(
            id, #"{"url":"\#(slackURL)","mentions":[{"events":["server.crashed"],"roles":["S0614TZR7"]}]}"#)
        XCTAssertEqual(slack.status, 200)
        XCTAssertEqual(slack.json?["provider"], .string("slack"))
        let http = patch(id, #"{"url":"https://panel.example.com/hook","provider":"http","mentions":[]}"#)
        XCTAssertEqual(http.status, 200)
        XCTAssertNil(http.json?["mentions"])
        XCTAssertEqual(
            paths(patch(id, #"{"mentions":[{"events":["server.crashed"],"roles":["S0614TZR7"]}]}"#)), ["mentions"])
    }

    func testRecordsWithoutMentionsDecodeAndStayAsTheyWere() throws {
        let webhook = Webhook(
            id: "w", userId: "u", url: validURL, events: ["server.crashed"], serverId: nil, enabled: true,
            createdAt: "2026-01-15T12:00:00.000Z")
        let text = try RecordCoding.encodeText(webhook)
        XCTAssertFalse(text.contains("mentions"))
        XCTAssertEqual(try RecordCoding.decode(Webhook.self, from: text), webhook)
        XCTAssertEqual(webhook.pings(for: "server.crashed"), .none)
    }
}

/// What a message with mentions pings: exactly the webhook's roles and users for its event, in
/// each provider's syntax, and no one the event's data names.
final class MentionMessageTests: XCTestCase {
    let hostile = "@everyone @here <@123456789012345678> <@&223456789012345678> <!here> <!channel> <!subteam^S1>"
    lazy var payload = JSONValue.object([
        "event": .string("server.crashed"), "timestamp": .string("2026-01-15T12:00:00.000Z"),
        "server": .object(["id": .string("s1"), "name": .string(hostile), "status": .string("CRASHED")]),
        "data": .object(["reason": .string(hostile)]),
    ])
    let mentions = [
        Mention(events: ["server.crashed", "backup.failed"], roles: ["111111111111111111"], users: []),
        Mention(
            events: ["server.crashed"], roles: ["111111111111111111", "222222222222222222"],
            users: ["333333333333333333"]),
    ]

    func testPingsAreTheEntriesOfTheEventEachOnce() {
        XCTAssertEqual(
            Pings(for: "server.crashed", in: mentions),
            Pings(roles: ["111111111111111111", "222222222222222222"], users: ["333333333333333333"]))
        XCTAssertEqual(Pings(for: "backup.failed", in: mentions), Pings(roles: ["111111111111111111"]))
        XCTAssertEqual(Pings(for: "server.started", in: mentions), .none)
        XCTAssertEqual(Pings(for: DiscordMessage.testEvent, in: mentions), .none)
    }

    func testDiscordPingsExactlyThemWhateverTheDataSays() {
        let body = DiscordMessage.body(
            for: payload, footer: "StellarStack", pings: Pings(for: "server.crashed", in: mentions))
        XCTAssertEqual(body["content"], .string("<@&111111111111111111> <@&222222222222222222> <@333333333333333333>"))
        XCTAssertEqual(
            body["allowed_mentions"],
            .object([
                "parse": .array([]),
                "roles": .array([.string("111111111111111111"), .string("222222222222222222")]),
                "users": .array([.string("333333333333333333")]),
            ]))
        // The data stays in the embed, as it was, where Discord pings no one.
        guard case .array(let embeds)? = body["embeds"], case .array(let fields)? = embeds.first?["fields"] else {
            return XCTFail("no embed")
        }
        XCTAssertEqual(fields.first?["value"], .string(hostile))
        XCTAssertEqual(body, withoutPings(body, plus: DiscordMessage.body(for: payload, footer: "StellarStack")))
    }

    /// The pings are all that differ from the message without them.
    func withoutPings(_ body: JSONValue, plus plain: JSONValue) -> JSONValue {
        guard case .object(var members) = plain else { return plain }
        members["content"] = body["content"]
        members["allowed_mentions"] = body["allowed_mentions"]
        return .object(members)
    }

    func testDiscordWithoutPingsIsAsBefore() {
        let body = DiscordMessage.body(for: payload, footer: "StellarStack", pings: .none)
        XCTAssertNil(body["content"])
        XCTAssertEqual(body["allowed_mentions"], .object(["parse": .array([])]))
    }

    func testSlackPingsExactlyThemAndEscapesTheData() {
        let pings = Pings(roles: ["S0614TZR7"], users: ["U024BE7LH", "W0A1B2C3D"])
        let body = SlackMessage.body(for: payload, footer: "StellarStack", pings: pings)
        let line = "<!subteam^S0614TZR7> <@U024BE7LH> <@W0A1B2C3D>"
        let escaped =
            "@everyone @here &lt;@123456789012345678&gt; &lt;@&amp;223456789012345678&gt; &lt;!here&gt; &lt;!channel&gt; &lt;!subteam^S1&gt;"
        XCTAssertEqual(
            body["text"],
            .string("\(line)\n🔔 Server Crashed\nServer: \(escaped)\nStatus: CRASHED\nReason: \(escaped)"))
        guard case .array(let blocks)? = body["blocks"] else { return XCTFail("no blocks") }
        XCTAssertEqual(
            blocks[1],
            .object([
                "type": .string("section"),
                "text": .object(["type": .string("mrkdwn"), "text": .string(line), "verbatim": .bool(true)]),
            ]))
        // Every other block is as without pings.
        let plain = SlackMessage.body(for: payload, footer: "StellarStack")
        guard case .array(var others) = body["blocks"] else { return XCTFail("no blocks") }
        others.remove(at: 1)
        XCTAssertEqual(.array(others), plain["blocks"])
        XCTAssertFalse(String(decoding: body.serialized(), as: UTF8.self).contains("<!here>"))
    }

    /// Ten roles and ten users of the longest ids each provider takes fit its limits.
    func testTheMostAnEventCanPingFitsTheLimits() {
        let snowflake = String(UInt64.max)
        let discord = Pings(
            roles: Array(repeating: snowflake, count: MentionsInput.maxPerEvent),
            users: Array(repeating: snowflake, count: MentionsInput.maxPerEvent))
        XCTAssertLessThanOrEqual(DiscordMessage.length(DiscordMessage.content(pinging: discord)), 2000)
        let longest = String(repeating: "A", count: SlackWebhookURL.longestPart - 1)
        let slack = Pings(
            roles: Array(repeating: "S" + longest, count: MentionsInput.maxPerEvent),
            users: Array(repeating: "U" + longest, count: MentionsInput.maxPerEvent))
        XCTAssertLessThanOrEqual(DiscordMessage.length(SlackMessage.mentions(pinging: slack)), SlackMessage.Limit.text)
        let body = SlackMessage.body(for: payload, footer: "F", pings: slack)
        XCTAssertLessThanOrEqual(DiscordMessage.length(body["text"]?.stringValue ?? ""), SlackMessage.Limit.text)
    }

    /// The helper hands the provider the webhook's pings for the event; `http` has none to give.
    func testProvidersBuildTheirRequestsWithThePings() {
        let delivery = Delivery(
            id: "d", webhookId: "w", userId: "u", event: "server.crashed", payload: payload,
            createdAt: "2026-01-15T12:00:00.000Z")
        let config = Config()
        let pings = Pings(for: "server.crashed", in: mentions)
        let request = Providers.discord.request(
            for: OutgoingMessage(delivery: delivery, pings: pings, now: fixedNow), config: config)
        XCTAssertEqual(
            JSONValue.parse(request.body)?["content"],
            .string("<@&111111111111111111> <@&222222222222222222> <@333333333333333333>"))
        XCTAssertNil(Providers.http.mentionIDs)
    }
}
