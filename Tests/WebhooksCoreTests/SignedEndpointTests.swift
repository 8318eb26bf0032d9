import Foundation
import XCTest

@testable import WebhooksCore

/// The `http` provider: Standard Webhooks signatures (the specification's published test vector),
/// sealed secrets, endpoint URLs, the request and the answers, and the API around them.
final class SignedEndpointTests: XCTestCase {
    let config: Config = {
        var config = Config()
        config.allowInsecureTargets = false
        return config
    }()

    // MARK: Signatures and secrets

    func testTheSpecificationsTestVector() {
        // Standard Webhooks, libraries' shared test: secret, id, timestamp, payload, signature.
        let key = SigningSecret.key(of: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        XCTAssertNotNil(key)
        let signature = SigningSecret.signature(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8),
            keys: [key ?? []])
        XCTAssertEqual(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    func testEverySecretInForceSignsSeparatedBySpaces() throws {
        let keys = [[UInt8](repeating: 1, count: 32), [UInt8](repeating: 2, count: 32)]
        let signature = SigningSecret.signature(id: "m", timestamp: 1, body: [], keys: keys)
        let parts = signature.split(separator: " ")
        XCTAssertEqual(parts.count, 2)
        XCTAssertTrue(parts.allSatisfy { $0.hasPrefix("v1,") })
        XCTAssertNotEqual(parts[0], parts[1])
    }

    func testAGeneratedSecretIsWhsecAndThirtyTwoRandomBytes() throws {
        let one = try SigningSecret.generate()
        let two = try SigningSecret.generate()
        XCTAssertTrue(one.hasPrefix("whsec_"))
        XCTAssertEqual(SigningSecret.key(of: one)?.count, 32)
        XCTAssertNotEqual(one, two)
        let tooShort = "whsec_" + Data(repeating: 7, count: 16).base64EncodedString()
        XCTAssertNil(SigningSecret.key(of: tooShort))
        XCTAssertNil(SigningSecret.key(of: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
    }

    func testASealedSecretOpensOnlyUnderItsServerSecretAndForItsWebhook() throws {
        let box = SecretBox(serverSecret: [UInt8](repeating: 9, count: 32))
        let secret = Array("whsec_abcdefghijklmnopqrstuvwxyz012345".utf8)
        let sealed = try box.seal(secret, context: "webhook-1")
        XCTAssertFalse(sealed.contains("abcdefghijklmnop"))
        XCTAssertNotEqual(sealed, try box.seal(secret, context: "webhook-1"))  // a fresh nonce each time
        XCTAssertEqual(box.open(sealed, context: "webhook-1"), secret)
        XCTAssertNil(box.open(sealed, context: "webhook-2"))
        XCTAssertNil(SecretBox(serverSecret: [UInt8](repeating: 8, count: 32)).open(sealed, context: "webhook-1"))
        var tampered = Array(sealed.utf8)
        tampered[10] = tampered[10] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        XCTAssertNil(box.open(String(decoding: tampered, as: UTF8.self), context: "webhook-1"))
        XCTAssertNil(box.open("v1.", context: "webhook-1"))
    }

    func testARotatedSecretSignsBesideTheNewOneForADay() throws {
        let box = SecretBox(serverSecret: [UInt8](repeating: 3, count: 32))
        let (first, shownFirst) = try SigningSecrets.generate(for: "w", box: box)
        XCTAssertEqual(first.currentSecret(for: "w", box: box), shownFirst)
        let (rotated, shownSecond) = try first.rotated(for: "w", box: box, now: fixedNow)
        XCTAssertNotEqual(shownFirst, shownSecond)
        XCTAssertEqual(rotated.currentSecret(for: "w", box: box), shownSecond)
        let during = rotated.keys(for: "w", box: box, now: fixedNow.addingTimeInterval(23 * 3600))
        XCTAssertEqual(during, [SigningSecret.key(of: shownSecond)!, SigningSecret.key(of: shownFirst)!])
        let after = rotated.keys(for: "w", box: box, now: fixedNow.addingTimeInterval(24 * 3600 + 1))
        XCTAssertEqual(after, [SigningSecret.key(of: shownSecond)!])
        XCTAssertNil(rotated.keys(for: "other", box: box, now: fixedNow))
    }

    // MARK: URLs

    func testEndpointURLs() {
        let accepted = [
            "https://example.com", "https://hooks.example.com:8443/in?token=abc", "HTTPS://Example.COM/Path",
            "https://[2606:4700::1111]/x", "https://8.8.8.8/hook",
        ]
        for url in accepted { XCTAssertNotNil(EndpointURL(url, allowInsecure: false), url) }
        XCTAssertEqual(
            EndpointURL("HTTPS://Example.COM/Path", allowInsecure: false)?.sendURL, "https://example.com/Path")
        XCTAssertEqual(EndpointURL("https://example.com", allowInsecure: false)?.sendURL, "https://example.com/")
        XCTAssertEqual(
            EndpointURL("https://example.com/secret/path?t=1", allowInsecure: false)?.redacted,
            "https://example.com/****")
        let refused = [
            "http://example.com/", "ftp://example.com/", "https://user:pw@example.com/", "https://example.com@evil/",
            "https://example.com/#frag", "https://exa mple.com/", "https://example.com\\@evil/", "https:///path",
            "https://127.0.0.1/", "https://10.1.2.3/", "https://[::1]/", "https://0x7f000001/",
            "https://example.com:0/",
            "https://example.com:99999/", "https://-bad.example/",
            "https://" + String(repeating: "a", count: 2040) + ".com/",
        ]
        for url in refused { XCTAssertNil(EndpointURL(url, allowInsecure: false), url) }
        XCTAssertNotNil(EndpointURL("http://127.0.0.1:8080/hook", allowInsecure: true))
    }

    // MARK: The request and the answers

    func delivery(event: String = "server.started") -> Delivery {
        Delivery(
            id: "d-1", webhookId: "w-1", userId: "u-1", event: event,
            payload: .object([
                "event": .string(event), "timestamp": .string("2026-01-15T12:00:00.000Z"),
                "server": .object(["id": .string("s1"), "name": .string("My MC"), "status": .string("RUNNING")]),
                "data": .object(["players": .int(3), "server": .string("spoofed")]),
            ]), createdAt: "2026-01-15T12:00:00.000Z")
    }

    func testARequestIsStandardWebhooksSignedForThisAttempt() throws {
        let key = [UInt8](repeating: 5, count: 32)
        let message = OutgoingMessage(delivery: delivery(), signingKeys: [key], now: fixedNow)
        let request = Providers.http.request(for: message, config: config)
        let headers = Dictionary(uniqueKeysWithValues: request.headers)
        XCTAssertEqual(headers["Content-Type"], "application/json")
        XCTAssertEqual(headers["webhook-id"], "d-1")
        XCTAssertEqual(headers["webhook-timestamp"], "1768478400")
        XCTAssertEqual(
            headers["webhook-signature"],
            SigningSecret.signature(id: "d-1", timestamp: 1_768_478_400, body: request.body, keys: [key]))
        let body = JSONValue.parse(request.body)
        XCTAssertEqual(body?["type"], .string("server.started"))
        XCTAssertEqual(body?["timestamp"], .string("2026-01-15T12:00:00.000Z"))
        XCTAssertEqual(body?["data"]?["players"], .int(3))
        XCTAssertEqual(body?["data"]?["server"]?["name"], .string("My MC"))  // the server, not the data's field
    }

    func testAResendKeepsTheMessagesIdAndSignsItsOwnTime() {
        let original = delivery()
        let again = original.resend(id: "d-2", now: "2026-01-15T13:00:00.000Z")
        let twice = again.resend(id: "d-3", now: "2026-01-15T14:00:00.000Z")
        XCTAssertEqual(again.retryOf, "d-1")
        XCTAssertEqual(twice.retryOf, "d-2")
        let later = fixedNow.addingTimeInterval(3600)
        let headers = Dictionary(
            uniqueKeysWithValues: Providers.http.request(
                for: OutgoingMessage(delivery: twice, signingKeys: [[1]], now: later), config: config
            ).headers)
        XCTAssertEqual(headers["webhook-id"], "d-1")
        XCTAssertEqual(headers["webhook-timestamp"], "1768482000")
    }

    func testTheTestMessage() {
        let payload = DiscordMessage.testPayload(timestamp: "2026-01-15T12:00:00.000Z")
        XCTAssertEqual(
            StandardWebhooksMessage.body(for: payload),
            .object([
                "type": .string("webhook.test"), "timestamp": .string("2026-01-15T12:00:00.000Z"),
                "data": .object(["message": .string("Webhook connected")]),
            ]))
    }

    func testAnswers() {
        let http = Providers.http
        XCTAssertEqual(http.verdict(status: 200, headers: [:], body: []), .delivered)
        XCTAssertEqual(http.verdict(status: 204, headers: [:], body: []), .delivered)
        guard case .gone = http.verdict(status: 410, headers: [:], body: []) else { return XCTFail("410 is gone") }
        XCTAssertEqual(
            http.verdict(status: 429, headers: ["retry-after": "7"], body: []), .rateLimited(wait: 7, scope: .webhook))
        XCTAssertEqual(
            http.verdict(status: 429, headers: ["retry-after": "99999999"], body: []),
            .rateLimited(wait: DeliveryPolicy.longestServerWait, scope: .webhook))
        XCTAssertEqual(
            http.verdict(status: 429, headers: [:], body: []),
            .rateLimited(wait: HTTPProvider.defaultRateLimitWait, scope: .webhook))
        XCTAssertEqual(
            http.verdict(status: 503, headers: ["retry-after": "30"], body: []),
            .retryable(error: "The endpoint answered 503", wait: 30))
        XCTAssertEqual(
            http.verdict(status: 502, headers: [:], body: []), .retryable(error: "The endpoint answered 502", wait: nil)
        )
        XCTAssertEqual(http.verdict(status: 500, headers: ["retry-after": "30"], body: []).isRetryableOnSchedule, true)
        XCTAssertEqual(
            http.verdict(status: 301, headers: [:], body: []),
            .failed(error: "The endpoint answered 301; redirects are not followed"))
        XCTAssertEqual(http.verdict(status: 404, headers: [:], body: []), .failed(error: "The endpoint answered 404"))
        XCTAssertEqual(http.verdict(status: 401, headers: [:], body: []), .failed(error: "The endpoint answered 401"))
    }

    func testA503sRetryAfterIsTheWaitAndUsesARetry() {
        let policy = DeliveryPolicy(retrySchedule: [60, 300])
        let answer = AttemptResult.answered(status: 503, headers: ["retry-after": "12"], body: [])
        XCTAssertEqual(
            policy.outcome(of: answer, provider: Providers.http, retriesUsed: 0, manual: false, jitter: 0),
            .retry(after: 12, error: "The endpoint answered 503"))
        XCTAssertEqual(
            policy.outcome(of: answer, provider: Providers.http, retriesUsed: 2, manual: false, jitter: 0),
            .failed(error: "The endpoint answered 503"))
        let limited = AttemptResult.answered(status: 429, headers: ["retry-after": "3"], body: [])
        XCTAssertEqual(
            policy.outcome(of: limited, provider: Providers.http, retriesUsed: 2, manual: false, jitter: 0),
            .rateLimited(wait: 3, scope: .webhook))
    }
}

/// The API of providers and secrets, through the whole request pipeline.
final class ProviderAPITests: XCTestCase {
    func create(_ harness: AppHarness, _ key: String, _ fields: String) -> Response {
        harness.send("POST", "/webhooks", key: key, json: #"{"events": ["server.started"], \#(fields)}"#)
    }

    func firstDetail(_ response: Response) -> JSONValue? {
        if case .array(let details)? = response.json?["details"] { details.first } else { nil }
    }

    func testTheProviderIsInferredFromDiscordsHostsAndHTTPMustBeNamed() throws {
        let harness = AppHarness()
        let key = harness.key(user: "alice")
        let discord = create(harness, key, #""url": "\#(validURL)""#)
        XCTAssertEqual(discord.status, 201)
        XCTAssertEqual(discord.json?["provider"], .string("discord"))
        XCTAssertNil(discord.json?["secret"])

        let unnamed = create(harness, key, #""url": "https://example.com/hook""#)
        XCTAssertEqual(unnamed.status, 400)
        let message = firstDetail(unnamed)?["message"]?.stringValue ?? ""
        XCTAssertTrue(message.contains(#""provider": "http""#), message)

        let wrong = create(harness, key, #""url": "https://example.com/hook", "provider": "discord""#)
        XCTAssertEqual(wrong.status, 400)
        let unknown = create(harness, key, #""url": "https://example.com/hook", "provider": "pigeon""#)
        XCTAssertEqual(firstDetail(unknown)?["path"], .array([.string("provider")]))
        let badType = create(harness, key, #""url": "https://example.com/hook", "provider": 3"#)
        XCTAssertEqual(badType.status, 400)
    }

    func testAnHTTPWebhookShowsItsSecretOnceThenOnRequestAndRotates() throws {
        let harness = AppHarness()
        let key = harness.key(user: "alice")
        let created = create(harness, key, #""url": "https://example.com/hook", "provider": "http""#)
        XCTAssertEqual(created.status, 201)
        XCTAssertEqual(created.json?["provider"], .string("http"))
        let secret = try XCTUnwrap(created.json?["secret"]?.stringValue)
        XCTAssertNotNil(SigningSecret.key(of: secret))
        let id = try XCTUnwrap(created.json?["id"]?.stringValue)

        // Never in the webhook's JSON, never in the clear on disk.
        XCTAssertNil(harness.send("GET", "/webhooks/\(id)", key: key).json?["secret"])
        XCTAssertFalse(
            String(decoding: harness.send("GET", "/webhooks", key: key).body, as: UTF8.self).contains("whsec_"))
        let stored = try XCTUnwrap(harness.store.webhook(userId: "alice", id: id))
        XCTAssertFalse(try RecordCoding.encodeText(stored).contains(secret.dropFirst(6)))

        let read = harness.send("GET", "/webhooks/\(id)/secret", key: key)
        XCTAssertEqual(read.status, 200)
        XCTAssertEqual(read.json, .object(["secret": .string(secret), "previousSecretExpiresAt": .null]))

        let rotated = harness.send("POST", "/webhooks/\(id)/secret/rotate", key: key)
        XCTAssertEqual(rotated.status, 200)
        let newSecret = try XCTUnwrap(rotated.json?["secret"]?.stringValue)
        XCTAssertNotEqual(newSecret, secret)
        XCTAssertEqual(rotated.json?["previousSecretExpiresAt"], .string("2026-01-16T12:00:00.000Z"))
        XCTAssertEqual(harness.send("GET", "/webhooks/\(id)/secret", key: key).json?["secret"], .string(newSecret))
        let later = harness.send("GET", "/webhooks/\(id)/secret", key: key, now: fixedNow.addingTimeInterval(86401))
        XCTAssertEqual(later.json?["previousSecretExpiresAt"], .null)

        // Another user's webhook is not found; a Discord webhook has no secret.
        let bob = harness.key(user: "bob")
        XCTAssertEqual(harness.send("GET", "/webhooks/\(id)/secret", key: bob).status, 404)
        XCTAssertEqual(harness.send("POST", "/webhooks/\(id)/secret/rotate", key: bob).status, 404)
        let discord = try XCTUnwrap(create(harness, key, #""url": "\#(validURL)""#).json?["id"]?.stringValue)
        let none = harness.send("GET", "/webhooks/\(discord)/secret", key: key)
        XCTAssertEqual(none.status, 404)
        XCTAssertEqual(none.json?["error"], WebhookHandlers.noSecret.json?["error"])
    }

    func testPatchKeepsTheProviderChangesItAndMakesOrDropsTheSecret() throws {
        let harness = AppHarness()
        let key = harness.key(user: "alice")
        let created = create(harness, key, #""url": "https://example.com/hook", "provider": "http""#)
        let id = try XCTUnwrap(created.json?["id"]?.stringValue)

        // A new URL alone: an http webhook stays one, even at a Discord URL; its secret stays.
        let moved = harness.send("PATCH", "/webhooks/\(id)", key: key, json: #"{"url": "\#(validURL)"}"#)
        XCTAssertEqual(moved.json?["provider"], .string("http"))
        XCTAssertNil(moved.json?["secret"])
        XCTAssertEqual(harness.send("GET", "/webhooks/\(id)/secret", key: key).json?["secret"], created.json?["secret"])

        // To Discord by name: no secret any more.
        let toDiscord = harness.send("PATCH", "/webhooks/\(id)", key: key, json: #"{"provider": "discord"}"#)
        XCTAssertEqual(toDiscord.json?["provider"], .string("discord"))
        XCTAssertEqual(harness.send("GET", "/webhooks/\(id)/secret", key: key).status, 404)

        // A provider the current URL is not for is refused; with a URL for it, taken, with a new secret.
        XCTAssertEqual(
            harness.send("PATCH", "/webhooks/\(id)", key: key, json: #"{"url": "https://example.com/x"}"#).status, 400)
        let back = harness.send(
            "PATCH", "/webhooks/\(id)", key: key, json: #"{"url": "https://example.com/x", "provider": "http"}"#)
        XCTAssertEqual(back.status, 200)
        let secret = try XCTUnwrap(back.json?["secret"]?.stringValue)
        XCTAssertNotEqual(.string(secret), created.json?["secret"])
    }
}

extension AnswerVerdict {
    /// Retryable with no wait of the server's: the schedule decides.
    var isRetryableOnSchedule: Bool {
        if case .retryable(_, nil) = self { true } else { false }
    }
}
