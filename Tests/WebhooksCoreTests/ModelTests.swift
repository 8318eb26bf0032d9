import XCTest

@testable import WebhooksCore

final class EventCatalogueTests: XCTestCase {
    func testCatalogueHasTheTwentyTwoEventsInFiveCategories() {
        XCTAssertEqual(EventCatalogue.all.count, 22)
        XCTAssertEqual(Set(EventCatalogue.categorized.keys), Set(EventCatalogue.categories))
        XCTAssertEqual(EventCatalogue.categorized["resource"], ["resource.warning", "resource.critical"])
    }

    func testUpperCaseAliasesMapToCanonicalNames() {
        XCTAssertEqual(EventCatalogue.canonical("SERVER_STARTED"), "server.started")
        XCTAssertEqual(EventCatalogue.canonical("SERVER_AUTO_SHUTDOWN"), "server.auto_shutdown")
        XCTAssertEqual(EventCatalogue.canonical("backup.created"), "backup.created")
        XCTAssertNil(EventCatalogue.canonical("Server_Started"))
        XCTAssertNil(EventCatalogue.canonical("server.exploded"))
        XCTAssertNil(EventCatalogue.canonical("SERVER"))
    }

    func testSelectionCollapsesDuplicatesAndReportsUnknownNamesAsSent() {
        XCTAssertEqual(
            EventSelection(["SERVER_STARTED", "server.started", "backup.created"]),
            .valid(["server.started", "backup.created"]))
        XCTAssertEqual(EventSelection(["server.started", "nope", "NOPE_NOPE"]), .invalid(["nope", "NOPE_NOPE"]))
    }

    func testRoutingRuleNeedsEnabledSubscribedAndMatchingScope() {
        var webhook = Webhook(
            id: "w", userId: "u", url: validURL, events: ["server.started"], serverId: nil, enabled: true,
            createdAt: "t")
        XCTAssertTrue(webhook.receives("server.started", fromServer: "s1"))
        XCTAssertFalse(webhook.receives("server.stopped", fromServer: "s1"))
        webhook.serverId = "s2"
        XCTAssertFalse(webhook.receives("server.started", fromServer: "s1"))
        XCTAssertTrue(webhook.receives("server.started", fromServer: "s2"))
        webhook.enabled = false
        XCTAssertFalse(webhook.receives("server.started", fromServer: "s2"))
    }
}

final class DiscordWebhookURLTests: XCTestCase {
    let hosts = Config().discordHosts

    func parse(_ text: String, insecure: Bool = false, hosts: [String]? = nil) -> DiscordWebhookURL? {
        DiscordWebhookURL(text, allowedHosts: hosts ?? self.hosts, allowInsecure: insecure)
    }

    func testAcceptsDiscordForms() {
        XCTAssertEqual(parse(validURL)?.webhookId, "123456789012345678")
        XCTAssertEqual(parse("https://discordapp.com/api/v10/webhooks/12345678901234567/t")?.token, "t")
        XCTAssertEqual(
            parse("https://canary.discord.com/api/webhooks/12345678901234567890/t?thread_id=42")?.threadId, "42")
        XCTAssertNotNil(parse("https://DISCORD.com:443/api/webhooks/12345678901234567/t"))
        XCTAssertNotNil(parse("https://discord.com/api/webhooks/18446744073709551615/t"), "2^64 - 1")
    }

    func testRefusesLookalikesAndTricks() {
        for text in [
            "http://discord.com/api/webhooks/123456789012345678/t",
            "https://discord.com@evil.example/api/webhooks/123456789012345678/t",
            "https://user:pw@discord.com/api/webhooks/123456789012345678/t",
            "https://discord.com.evil.example/api/webhooks/123456789012345678/t",
            "https://evil.example/api/webhooks/123456789012345678/t",
            "https://discord.com/api/webhooks/1234/t",
            "https://discord.com/api/webhooks/123456789012345678901/t",
            "https://discord.com/api/webhooks/123456789012345678/t#frag",
            "https://discord.com/api/webhooks/123456789012345678/t?wait=true",
            "https://discord.com/api/webhooks/123456789012345678/t/extra",
            "https://discord.com/api/webhooks/123456789012345678/t%2e",
            "https://discord.com\\@evil.example/api/webhooks/123456789012345678/t",
            "https://discord.com:8443/api/webhooks/123456789012345678/t",
            "https://discord.com/webhooks/123456789012345678/t",
            " https://discord.com/api/webhooks/123456789012345678/t",
            "https://discord.com/api/webhooks/123456789012345678/" + String(repeating: "a", count: 2048),
            // Snowflakes as Discord's OpenAPI document has them: no leading zero, at most 2^64 - 1.
            "https://discord.com/api/webhooks/0123456789012345678/t",
            "https://discord.com/api/webhooks/18446744073709551616/t",
            "https://discord.com/api/webhooks/123456789012345678/t?thread_id=042",
            "https://discord.com/api/webhooks/123456789012345678/t?thread_id=99999999999999999999",
        ] {
            XCTAssertNil(parse(text), text)
        }
    }

    func testInsecureTargetsAdmitHTTPOnlyWhenAllowedAndHostStillListed() {
        let local = "http://127.0.0.1:9000/api/webhooks/123456789012345678/t"
        XCTAssertNil(parse(local, hosts: ["127.0.0.1:9000"]))
        XCTAssertEqual(parse(local, insecure: true, hosts: ["127.0.0.1:9000"])?.authority, "127.0.0.1:9000")
        XCTAssertNil(parse(local, insecure: true))
    }
}

final class JSONValueTests: XCTestCase {
    func testTellsBooleansFromNumbersAndRejectsTrailingGarbage() {
        XCTAssertEqual(
            JSONValue.parse(Array(#"{"a":true,"b":1,"c":1.5}"#.utf8)),
            .object(["a": .bool(true), "b": .int(1), "c": .double(1.5)]))
        XCTAssertNil(JSONValue.parse(Array(#"{"a":1} x"#.utf8)))
        XCTAssertNil(JSONValue.parse(Array("{".utf8)))
    }

    func testSerialisesNullsAndUnicode() {
        let value = JSONValue.object(["n": .null, "s": .string("🔔 a/b")])
        XCTAssertEqual(String(decoding: value.serialized(), as: UTF8.self), #"{"n":null,"s":"🔔 a/b"}"#)
    }

    func testSerialisationEscapesAndRoundTrips() {
        let tricky = JSONValue.object([
            "s": .string("quote \" backslash \\ newline \n tab \t bell \u{07} 🔔"),
            "n": .array([.int(-3), .double(1.5), .double(1e20), .bool(false), .null]),
        ])
        XCTAssertEqual(JSONValue.parse(tricky.serialized()), tricky)
        XCTAssertTrue(String(decoding: tricky.serialized(), as: UTF8.self).contains(#"bell \u0007"#))
    }

    func testTimestampsHaveMillisecondsAndRoundTrip() {
        XCTAssertEqual(Timestamp.format(fixedNow.addingTimeInterval(0.25)), "2026-01-15T12:00:00.250Z")
        XCTAssertEqual(Timestamp.parse("2026-01-15T12:00:00.250Z"), fixedNow.addingTimeInterval(0.25))
    }
}

/// `RecordCoding.encode(fanOut:)`: every record is byte for byte what encoding it alone writes.
final class FanOutCodingTests: XCTestCase {
    let payload = JSONValue.object([
        "event": .string("server.started"),
        "server": .object(["id": .string("s1"), "name": .string("My \"MC\" / ✓"), "status": .string("RUNNING")]),
        "data": .object(["players": .int(3), "ratio": .double(0.5), "note": .string("line\nbreak")]),
    ])

    func delivery(webhook: String = Identifier.newUUID()) -> Delivery {
        Delivery(
            id: Identifier.newUUID(), webhookId: webhook, userId: "u1", event: "server.started", payload: payload,
            createdAt: "2026-12-05T08:00:00.000Z")
    }

    func testEachRecordIsWhatEncodingItAloneWrites() throws {
        var deliveries = (0..<50).map { _ in delivery() }
        deliveries[7].card = true  // a status card's delivery differs in more than its ids
        deliveries[9].collapsible = true
        deliveries[11].payload = .object(["event": .string("server.stopped")])
        deliveries[13].id = "not-a-uuid"
        let records = try RecordCoding.encode(fanOut: deliveries)
        XCTAssertEqual(records.count, deliveries.count)
        for (record, delivery) in zip(records, deliveries) {
            XCTAssertEqual(record, try RecordCoding.encode(delivery), delivery.id)
        }
    }

    func testATemplateWhoseIdsAlsoAppearElsewhereIsNotPatched() throws {
        // The first delivery's webhook id is also in its payload: swapping it in the bytes would
        // change the payload too, so every record is encoded on its own.
        let webhook = Identifier.newUUID()
        var first = delivery(webhook: webhook)
        first.payload = .object(["data": .object(["webhook": .string(webhook)])])
        var second = delivery()
        second.payload = first.payload
        let records = try RecordCoding.encode(fanOut: [first, second])
        XCTAssertEqual(records, [try RecordCoding.encode(first), try RecordCoding.encode(second)])
    }
}
