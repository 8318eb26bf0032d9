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
