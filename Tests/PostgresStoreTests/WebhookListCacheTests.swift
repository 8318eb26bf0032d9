import XCTest

@testable import PostgresStore

final class WebhookListCacheTests: XCTestCase {
    func testAnAnswerIsUsedOnlyWithTheFingerprintItWasRenderedFrom() {
        let cache = WebhookListCache()
        cache.keep([1], userId: "alice", fingerprint: "f1")
        XCTAssertEqual(cache.answer(userId: "alice", fingerprint: "f1"), [1])
        XCTAssertNil(cache.answer(userId: "alice", fingerprint: "f2"))
        XCTAssertNil(cache.answer(userId: "bob", fingerprint: "f1"))
    }

    func testAReadAheadFingerprintServesItsOwnUserOnce() {
        let cache = WebhookListCache()
        cache.readAhead = ("alice", "f1")
        XCTAssertEqual(cache.takeReadAhead(userId: "bob"), .none)
        XCTAssertEqual(cache.takeReadAhead(userId: "alice"), .none, "a look for another user used it up")
        cache.readAhead = ("alice", "f1")
        XCTAssertEqual(cache.takeReadAhead(userId: "alice"), .some("f1"))
        XCTAssertEqual(cache.takeReadAhead(userId: "alice"), .none)
        cache.readAhead = ("carol", nil)  // no webhooks: read, and nothing to compare
        XCTAssertEqual(cache.takeReadAhead(userId: "carol"), .some(nil))
    }

    func testUsersPastTheLimitStartTheCacheOver() {
        let cache = WebhookListCache()
        for user in 0..<WebhookListCache.maxUsers { cache.keep([1], userId: "u\(user)", fingerprint: "f") }
        cache.keep([2], userId: "u0", fingerprint: "g")  // a user already kept: nothing dropped
        XCTAssertNotNil(cache.answer(userId: "u1", fingerprint: "f"))
        cache.keep([3], userId: "new", fingerprint: "f")
        XCTAssertNil(cache.answer(userId: "u1", fingerprint: "f"))
        XCTAssertEqual(cache.answer(userId: "new", fingerprint: "f"), [3])
    }
}
