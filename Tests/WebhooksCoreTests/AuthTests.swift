import XCTest

@testable import WebhooksCore

final class AuthTests: XCTestCase {
    func testKeysArePrefixedWithAHexIdAndAtLeast256BitsOfSecret() throws {
        let key = try APIKey.generate()
        XCTAssertTrue(key.text.hasPrefix("swh_"))
        XCTAssertEqual(key.id.count, 16)
        XCTAssertEqual(
            Data(
                base64Encoded: key.secret.replacingOccurrences(of: "-", with: "+").replacingOccurrences(
                    of: "_", with: "/") + "=")?.count, 32)
        XCTAssertEqual(APIKey(parsing: key.text), key)
        XCTAssertNotEqual(try APIKey.generate(), key)
    }

    func testMalformedKeysDoNotParse() {
        for text in [
            "", "swh_", "Bearer x", "swh_0123456789abcdeg_" + String(repeating: "a", count: 43),
            "swh_0123456789abcdef_" + String(repeating: "a", count: 42),
            "swh_0123456789abcdef_" + String(repeating: "+", count: 43),
        ] {
            XCTAssertNil(APIKey(parsing: text), text)
        }
    }

    /// RFC 4231's test cases 2 and 6 (a key longer than the block): the prepared context gives
    /// HMAC-SHA256 itself, again and again (each digest starts from the keyed state); SHA-256 of
    /// "abc" (FIPS 180-2); the constant-time comparison.
    func testCryptoMatchesKnownAnswers() {
        let jefe = HMACSHA256(key: Array("Jefe".utf8))
        for _ in 0..<2 {
            XCTAssertEqual(
                jefe.digest(Array("what do ya want for nothing?".utf8)).hexString,
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        }
        XCTAssertEqual(
            Crypto.sha256(Array("abc".utf8)).hexString,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertTrue(Crypto.equal([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(Crypto.equal([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(Crypto.equal([1, 2, 3], [1, 2]))
        let long = HMACSHA256(key: [UInt8](repeating: 0xaa, count: 131))
        XCTAssertEqual(
            long.digest(Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)).hexString,
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    func testOnlyTheDigestIsStoredAndVerificationFollowsRevocation() throws {
        let harness = AppHarness()
        let text = harness.key(user: "alice")
        let key = APIKey(parsing: text)!
        let stored = try String(contentsOfFile: "\(harness.folder)/keys/\(key.id).json", encoding: .utf8)
        XCTAssertFalse(stored.contains(key.secret))
        XCTAssertTrue(stored.contains(harness.verifier.digest(of: key).hexString))

        XCTAssertEqual(try harness.verifier.principal(forAuthorization: "Bearer \(text)"), .user(id: "alice"))
        XCTAssertEqual(try harness.verifier.principal(forAuthorization: "bearer \(text)"), .user(id: "alice"))
        XCTAssertEqual(try harness.verifier.principal(forAuthorization: "BeArEr  \(text)\t "), .user(id: "alice"))
        XCTAssertNil(try harness.verifier.principal(forAuthorization: "Bearer\(text)"))
        XCTAssertNil(try harness.verifier.principal(forAuthorization: "Bearer \(text)x"))
        XCTAssertNil(try harness.verifier.principal(forAuthorization: "Bearer "))
        XCTAssertNil(try harness.verifier.principal(forAuthorization: text))
        XCTAssertNil(try harness.verifier.principal(forAuthorization: "Basic \(text)"))
        let forged = APIKey(parsing: "swh_\(key.id)_" + String(repeating: "A", count: 43))!
        XCTAssertNil(try harness.verifier.principal(forAuthorization: "Bearer \(forged.text)"))
        XCTAssertTrue(try harness.store.revokeKey(id: key.id, at: "t"))
        XCTAssertNil(try harness.verifier.principal(forAuthorization: "Bearer \(text)"))
    }

    /// No timing oracle for key ids: an unknown id must cost what a known id with a wrong secret
    /// costs (a file read and a decode, or a worker's table lookup), or answer times would reveal
    /// which ids exist. Measured interleaved, by medians; without the decoy read the unknown id is
    /// several times faster.
    func testAnUnknownKeyIdCostsWhatAKnownOneWithAWrongSecretCosts() throws {
        for caching in [false, true] {
            let harness = AppHarness(caching: caching)
            let known = APIKey(parsing: harness.key(user: "alice"))!
            let wrongSecret = "Bearer swh_\(known.id)_" + String(repeating: "A", count: 43)
            let unknownId = "Bearer swh_0123456789abcdef_" + String(repeating: "A", count: 43)
            func nanoseconds(_ header: String) throws -> UInt64 {
                let start = DispatchTime.now().uptimeNanoseconds
                XCTAssertNil(try harness.verifier.principal(forAuthorization: header))
                return DispatchTime.now().uptimeNanoseconds - start
            }
            var knownTimes: [UInt64] = []
            var unknownTimes: [UInt64] = []
            for _ in 0..<1500 {
                knownTimes.append(try nanoseconds(wrongSecret))
                unknownTimes.append(try nanoseconds(unknownId))
            }
            let knownMedian = Double(knownTimes.sorted()[750])
            let unknownMedian = Double(unknownTimes.sorted()[750])
            let ratio = knownMedian / unknownMedian
            XCTAssert(
                (0.67...1.5).contains(ratio),
                "caching \(caching): known id \(knownMedian) ns, unknown id \(unknownMedian) ns: ratio \(ratio)")
        }
    }

    func testServerSecretIsMadeOnceAndPrivate() throws {
        let folder = makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let first = try ServerSecret.loadOrCreate(at: "\(folder)/secret.key")
        XCTAssertEqual(first.count, 32)
        XCTAssertEqual(try ServerSecret.loadOrCreate(at: "\(folder)/secret.key"), first)
        let mode =
            try FileManager.default.attributesOfItem(atPath: "\(folder)/secret.key")[.posixPermissions] as! NSNumber
        XCTAssertEqual(mode.intValue, 0o600)
    }
}
