import XCTest

@testable import WebhooksCore

final class DiscordMessageTests: XCTestCase {
    let payload: JSONValue = .object([
        "event": .string("backup.created"),
        "timestamp": .string("2026-01-15T12:00:00.000Z"),
        "server": .object(["id": .string("s1"), "name": .string("My MC @everyone"), "status": .string("RUNNING")]),
        "data": .object([
            "backupId": .string("b1"), "sizeBytes": .int(1234), "ok": .bool(true), "nested": .object([:]),
            "note": .string(""),
        ]),
    ])

    func testBodyIsTheEmbedOfTheDesign() {
        let body = DiscordMessage.body(for: payload, footer: "StellarStack")
        let field = { (name: String, value: String) -> JSONValue in
            .object(["name": .string(name), "value": .string(value), "inline": .bool(true)])
        }
        XCTAssertEqual(
            body,
            .object([
                "embeds": .array([
                    .object([
                        "title": .string("🔔 Backup Created"),
                        "color": .int(65280),
                        "fields": .array([
                            field("Server", "My MC @everyone"), field("Status", "RUNNING"), field("Backup Id", "b1"),
                            field("Note", "—"), field("Ok", "true"), field("Size Bytes", "1234"),
                        ]),
                        "timestamp": .string("2026-01-15T12:00:00.000Z"),
                        "footer": .object(["text": .string("StellarStack")]),
                    ])
                ]),
                "allowed_mentions": .object(["parse": .array([])]),
            ]))
    }

    func testAFieldOfOnlyWhiteSpaceIsSentAsADash() {
        let spaced = JSONValue.object([
            "event": .string("backup.created"), "timestamp": .string("2026-01-15T12:00:00.000Z"),
            "server": .object(["id": .string("s"), "name": .string(" \t\n"), "status": .string("\u{00A0}")]),
            "data": .object(["note": .string("  ")]),
        ])
        guard case .array(let embeds)? = DiscordMessage.body(for: spaced, footer: "f")["embeds"],
            case .array(let fields)? = embeds.first?["fields"]
        else { return XCTFail("no fields") }
        XCTAssertEqual(fields.map { $0["value"] }, [.string("—"), .string("—"), .string("—")])
    }

    func testTitlesAndColoursByMeaning() {
        XCTAssertEqual(DiscordMessage.words("server.auto_shutdown"), "Server Auto Shutdown")
        XCTAssertEqual(DiscordMessage.words("backupId"), "Backup Id")
        let expected: [String: Int64] = [
            "server.started": 65280, "server.unsuspended": 65280, "transfer.completed": 65280,
            "server.crashed": 16_711_680, "server.suspended": 16_711_680, "resource.critical": 16_711_680,
            "resource.warning": 16_776_960, "server.auto_shutdown": 16_776_960,
            "server.restarted": 39423, "file.modified": 39423,
        ]
        for (event, colour) in expected {
            XCTAssertEqual(DiscordMessage.colour(for: event), colour, event)
        }
    }

    func testEverythingIsClippedToDiscordsLimits() {
        var data: [String: JSONValue] = [:]
        for index in 0..<40 { data["key\(index)"] = .string(String(repeating: "é", count: 3000)) }
        let big: JSONValue = .object([
            "event": .string("server.started"), "timestamp": .string("2026-01-15T12:00:00.000Z"),
            "server": .object(["name": .string(String(repeating: "n", count: 2000)), "status": .null]),
            "data": .object(data),
        ])
        guard case .array(let embeds)? = DiscordMessage.body(for: big, footer: "StellarStack")["embeds"],
            case .array(let fields)? = embeds[0]["fields"]
        else { return XCTFail("no fields") }
        XCTAssertLessThanOrEqual(fields.count, 25)
        var total = DiscordMessage.length("🔔 Server Started") + DiscordMessage.length("StellarStack")
        for field in fields {
            let value = field["value"]!.stringValue!
            XCTAssertLessThanOrEqual(DiscordMessage.length(value), 1024)
            total += DiscordMessage.length(field["name"]!.stringValue!) + DiscordMessage.length(value)
        }
        XCTAssertLessThanOrEqual(total, 6000)
        XCTAssertEqual(fields[0]["value"]?.stringValue?.last, "…")
        XCTAssertEqual(fields[1]["value"], .string("—"))  // a null status
    }

    func testTheTestMessageAndItsStoredPayload() {
        let body = DiscordMessage.body(
            for: DiscordMessage.testPayload(timestamp: "2026-01-15T12:00:00.000Z"), footer: "F")
        guard case .array(let embeds)? = body["embeds"] else { return XCTFail("no embeds") }
        XCTAssertEqual(embeds[0]["title"], .string("🔔 Test"))
        XCTAssertEqual(embeds[0]["description"], .string("Webhook connected"))
        XCTAssertEqual(embeds[0]["color"], .int(39423))
        XCTAssertEqual(embeds[0]["footer"], .object(["text": .string("F")]))
        XCTAssertEqual(body["allowed_mentions"], .object(["parse": .array([])]))
    }
}

final class DeliveryPolicyTests: XCTestCase {
    let policy = DeliveryPolicy(retrySchedule: [10, 60])

    func answer(_ status: Int, _ body: String = "", headers: [String: String] = [:]) -> AttemptResult {
        .answered(status: status, headers: headers, body: Array(body.utf8))
    }

    func outcome(_ result: AttemptResult, retriesUsed: Int = 0, manual: Bool = false, jitter: Double = 0) -> Outcome {
        policy.outcome(
            of: result, provider: Providers.discord, retriesUsed: retriesUsed, manual: manual, jitter: jitter)
    }

    func testEveryOutcomeOfTheDesign() {
        XCTAssertEqual(outcome(answer(204)), .delivered)
        XCTAssertEqual(
            outcome(answer(429, #"{"retry_after":1.5,"global":false}"#, headers: ["x-ratelimit-limit": "5"])),
            .rateLimited(wait: 1.5, scope: .webhook))
        XCTAssertEqual(
            outcome(answer(429, #"{"message":"x"}"#, headers: ["retry-after": "3", "x-ratelimit-limit": "5"])),
            .rateLimited(wait: 3, scope: .webhook))
        XCTAssertEqual(outcome(answer(429, #"{"retry_after":2,"global":true}"#)), .rateLimited(wait: 2, scope: .global))
        XCTAssertEqual(
            outcome(answer(429, #"{"message":"blocked","code":0}"#, headers: ["retry-after": "3600"])),
            .rateLimited(wait: 3600, scope: .cloudflareBan))
        guard case .webhookGone(let reason) = outcome(answer(404, #"{"message":"Unknown Webhook","code":10015}"#))
        else {
            return XCTFail("404 must disable the webhook")
        }
        XCTAssertTrue(reason.contains("404 Unknown Webhook (code 10015)"), reason)
        guard case .webhookGone = outcome(answer(401)) else { return XCTFail("401 must disable the webhook") }
        guard case .failed = outcome(answer(400)), case .failed = outcome(answer(403)),
            case .failed = outcome(answer(413)),
            case .failed = outcome(answer(302)), case .failed = outcome(.refused("private"))
        else { return XCTFail("other 4xx, 3xx and refusals fail at once") }
    }

    func testServerErrorsFollowTheScheduleWithJitterThenFail() {
        XCTAssertEqual(
            outcome(answer(500), retriesUsed: 0, jitter: 0), .retry(after: 10, error: "Discord answered 500"))
        XCTAssertEqual(
            outcome(.transportError("Timed out"), retriesUsed: 1, jitter: 1), .retry(after: 72, error: "Timed out"))
        XCTAssertEqual(
            outcome(answer(503), retriesUsed: 1, jitter: -1), .retry(after: 48, error: "Discord answered 503"))
        XCTAssertEqual(outcome(answer(500), retriesUsed: 2), .failed(error: "Discord answered 500"))
        XCTAssertEqual(outcome(answer(500), manual: true), .failed(error: "Discord answered 500"))
    }

    func testRecordCountsAttemptsAndOnlyScheduledRetries() {
        let now = Date(timeIntervalSince1970: 1_768_478_400)
        let queued = Delivery(
            id: "d", webhookId: "w", userId: "u", event: "server.started", payload: .null,
            createdAt: "2026-01-15T12:00:00.000Z")
        let limited = policy.record(
            .rateLimited(wait: 2, scope: .webhook), of: answer(429), on: queued, by: Providers.discord, now: now)
        XCTAssertEqual([limited.attempts, limited.retriesUsed], [1, 0])
        XCTAssertEqual(limited.nextAttemptAt, "2026-01-15T12:00:02.000Z")
        XCTAssertEqual(limited.status, .pending)
        let retried = policy.record(
            .retry(after: 10, error: "e"), of: answer(500, "oops"), on: limited, by: Providers.discord, now: now)
        XCTAssertEqual([retried.attempts, retried.retriesUsed, retried.statusCode], [2, 1, 500])
        XCTAssertEqual(retried.response, "oops")
        let long = String(repeating: "é", count: 6000)
        let delivered = policy.record(.delivered, of: answer(200, long), on: retried, by: Providers.discord, now: now)
        XCTAssertEqual(delivered.status, .delivered)
        XCTAssertEqual(delivered.deliveredAt, "2026-01-15T12:00:00.000Z")
        XCTAssertEqual(delivered.response?.count, 5000)
        XCTAssertNil(delivered.nextAttemptAt)
    }

    func testEmptyBucketHeadersAskForAWait() {
        XCTAssertEqual(
            Providers.discord.bucketWait(headers: ["x-ratelimit-remaining": "0", "x-ratelimit-reset-after": "1.25"]),
            1.25)
        XCTAssertNil(
            Providers.discord.bucketWait(headers: ["x-ratelimit-remaining": "3", "x-ratelimit-reset-after": "1.25"]))
    }

    /// A hostile endpoint may ask for any wait: none is longer than an hour, and recording it
    /// never overflows a timestamp.
    func testServerGivenWaitsAreCappedAtAnHour() {
        for huge in ["1e300", "inf", "9223372036854775807"] {
            XCTAssertEqual(
                Providers.discord.bucketWait(headers: ["x-ratelimit-remaining": "0", "x-ratelimit-reset-after": huge]),
                3600, huge)
            let limited = answer(
                429, #"{"retry_after": 1, "global": false}"#, headers: ["retry-after": huge, "x-ratelimit-limit": "5"])
            XCTAssertEqual(outcome(limited), .rateLimited(wait: 1, scope: .webhook))
            let headerOnly = answer(
                429, #"{"global": false}"#, headers: ["retry-after": huge, "x-ratelimit-limit": "5"])
            XCTAssertEqual(outcome(headerOnly), .rateLimited(wait: 3600, scope: .webhook), huge)
        }
        for body in [
            #"{"retry_after": 1e300, "global": true}"#, #"{"retry_after": 9223372036854775807, "global": true}"#,
        ] {
            let result = answer(429, body, headers: ["x-ratelimit-global": "true"])
            XCTAssertEqual(outcome(result), .rateLimited(wait: 3600, scope: .global), body)
            let recorded = policy.record(
                outcome(result), of: result,
                on: Delivery(
                    id: "d", webhookId: "w", userId: "u", event: "server.started", payload: .null, createdAt: "t"),
                by: Providers.discord, now: Date(timeIntervalSince1970: 1_768_478_400))
            XCTAssertEqual(recorded.nextAttemptAt, "2026-01-15T13:00:00.000Z")
        }
        XCTAssertEqual(
            outcome(answer(429, #"{"global": false}"#, headers: ["retry-after": "nan", "x-ratelimit-limit": "5"])),
            .rateLimited(wait: 1, scope: .webhook))
    }
}

final class PrivateAddressTests: XCTestCase {
    func testLiteralFormsOfPrivateAddresses() {
        for host in [
            "127.0.0.1", "2130706433", "0x7f000001", "0177.0.0.1", "127.1", "10.1.2.3", "172.16.0.1",
            "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1",
            "[::1]", "[::]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[fe80::1]", "[fc00::1]",
            "[64:ff9b::a00:1]", "[2002:7f00:1::]", "[ff02::1]",
        ] {
            XCTAssertEqual(PrivateAddress.literalIsPrivate(host: host), true, host)
        }
        for host in ["162.159.128.233", "[2606:4700::6810:1]", "[64:ff9b::a29f:80e9]", "[::ffff:162.159.128.233]"] {
            XCTAssertEqual(PrivateAddress.literalIsPrivate(host: host), false, host)
        }
        XCTAssertNil(PrivateAddress.literalIsPrivate(host: "discord.com"))
    }

    func testPrivateLiteralHostsAreRefusedInWebhookURLsOutsideTests() {
        let hosts = ["2130706433", "0x7f000001", "[::ffff:127.0.0.1]", "discord.com"]
        let url = { (host: String) in "https://\(host)/api/webhooks/123456789012345678/tok" }
        for host in hosts.dropLast() {
            XCTAssertNil(DiscordWebhookURL(url(host), allowedHosts: hosts, allowInsecure: false), host)
            XCTAssertNotNil(DiscordWebhookURL(url(host), allowedHosts: hosts, allowInsecure: true), host)
        }
        XCTAssertNil(
            DiscordWebhookURL(
                "https://discord.com@evil.example/api/webhooks/123456789012345678/tok", allowedHosts: hosts,
                allowInsecure: false))
        XCTAssertNil(
            DiscordWebhookURL(
                "https://discord.com.evil.example/api/webhooks/123456789012345678/tok", allowedHosts: hosts,
                allowInsecure: false))
    }

    func testSendURLAndRedaction() {
        let own = DiscordWebhookURL(
            "https://discordapp.com/api/v9/webhooks/123456789012345678/secret-tok?thread_id=42",
            allowedHosts: Config().discordHosts, allowInsecure: false)!
        XCTAssertEqual(
            own.sendURL, "https://discord.com/api/v10/webhooks/123456789012345678/secret-tok?wait=true&thread_id=42")
        XCTAssertEqual(own.redacted, "https://discord.com/api/webhooks/123456789012345678/****")
        let local = DiscordWebhookURL(
            "http://127.0.0.1:8999/api/webhooks/123456789012345678/tok", allowedHosts: ["127.0.0.1:8999"],
            allowInsecure: true)!
        XCTAssertEqual(local.sendURL, "http://127.0.0.1:8999/api/v10/webhooks/123456789012345678/tok?wait=true")
    }
}

/// Discord as a provider: which URLs are its, what a send carries, what an answer means.
final class DiscordProviderTests: XCTestCase {
    let config = Config()

    func testItsURLsBecomeTargetsAndOthersDoNot() {
        let target = Providers.discord.target(
            "https://discordapp.com/api/webhooks/123456789012345678/tok", config: config)
        XCTAssertEqual(target?.sendURL, "https://discord.com/api/v10/webhooks/123456789012345678/tok?wait=true")
        XCTAssertEqual(target?.rateLimitKey, "discord.com/123456789012345678")
        XCTAssertEqual(target?.redacted, "https://discord.com/api/webhooks/123456789012345678/****")
        XCTAssertNil(
            Providers.discord.target("https://example.com/api/webhooks/123456789012345678/tok", config: config))
        XCTAssertNil(Providers.named("carrier-pigeon"))
        XCTAssertEqual(Providers.named("discord")?.displayName, "Discord")
    }

    func testARequestIsTheEmbedAsJSON() {
        let payload = JSONValue.object(["event": .string("server.started"), "data": .object([:])])
        let delivery = Delivery(
            id: "d1", webhookId: "w1", userId: "u1", event: "server.started", payload: payload,
            createdAt: "2026-12-05T00:00:00.000Z")
        let request = Providers.discord.request(for: OutgoingMessage(delivery: delivery, now: Date()), config: config)
        XCTAssertEqual(request.headers.map(\.0), ["Content-Type"])
        XCTAssertEqual(request.headers.map(\.1), ["application/json"])
        XCTAssertEqual(request.body, DiscordMessage.body(for: payload, footer: config.discordFooter).serialized())
    }

    func testAnswersBecomeVerdicts() {
        let discord = Providers.discord
        XCTAssertEqual(discord.verdict(status: 204, headers: [:], body: []), .delivered)
        XCTAssertEqual(
            discord.verdict(status: 502, headers: [:], body: []), .retryable(error: "Discord answered 502"))
        guard case .gone = discord.verdict(status: 404, headers: [:], body: Array(#"{"code":10015}"#.utf8)) else {
            return XCTFail("404 is gone")
        }
        XCTAssertEqual(
            discord.verdict(status: 429, headers: [:], body: Array(#"{"code":0}"#.utf8)),
            .rateLimited(wait: DiscordProvider.cloudflareBanPause, scope: .cloudflareBan))
    }
}
