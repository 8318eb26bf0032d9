import Foundation
import XCTest

@testable import WebhooksCore

/// The text helpers that stand in for Foundation's: timestamps, query strings, hex, trimming, paths.
final class TextTests: XCTestCase {
    func testTimestampsRoundTripWithMilliseconds() {
        for seconds in [0, 1_768_478_400.123, 951_782_400.999, 4_102_444_799.5] {
            let date = Date(timeIntervalSince1970: seconds)
            let text = Timestamp.format(date)
            XCTAssertEqual(
                Timestamp.parse(text).map { ($0.timeIntervalSince1970 * 1000).rounded() },
                (seconds * 1000).rounded(.down), text)
        }
        XCTAssertEqual(Timestamp.format(Date(timeIntervalSince1970: 1_768_478_400.0456)), "2026-01-15T12:00:00.045Z")
    }

    func testOnlyOurTimestampFormatParses() {
        for text in [
            "", "2026-01-15T12:00:00Z", "2026-01-15 12:00:00.000Z", "2026-02-31T00:00:00.000Z",
            "2026-13-01T00:00:00.000Z", "2026-01-15T24:00:00.000Z", "2026-01-15T12:00:00.000+01:00",
            "+026-01-15T12:00:00.000Z",
        ] {
            XCTAssertNil(Timestamp.parse(text), text)
        }
        XCTAssertNotNil(Timestamp.parse("2024-02-29T23:59:59.999Z"))
    }

    func testClientsTimestampsAreAnyRFC3339Form() {
        let noon = fixedNow  // 2026-01-15T12:00:00.000Z
        let same = [
            "2026-01-15T12:00:00.000Z", "2026-01-15T12:00:00Z", "2026-01-15t12:00:00z", "2026-01-15 12:00:00Z",
            "2026-01-15T14:00:00+02:00", "2026-01-15T07:30:00.000000-04:30", "2026-01-15T12:00:00+00:00",
        ]
        for text in same { XCTAssertEqual(Timestamp.parseRFC3339(text), noon, text) }
        XCTAssertEqual(
            Timestamp.parseRFC3339("2026-01-15T12:00:00.123456Z")?.timeIntervalSince1970 ?? 0,
            noon.timeIntervalSince1970 + 0.123456, accuracy: 1e-6)
        // What the API wrote reads back as the very same Date: a range's edge includes it.
        for seconds in [1_768_478_400.123, 1_796_444_126.416, 951_782_400.999, 1_796_444_126.001] {
            let written = Timestamp.format(Date(timeIntervalSince1970: seconds))
            XCTAssertEqual(Timestamp.parseRFC3339(written), Timestamp.parse(written), written)
            let offset = written.replacingOccurrences(of: "Z", with: "+00:00")
            XCTAssertEqual(Timestamp.parseRFC3339(offset), Timestamp.parse(written), offset)
        }
        for text in [
            "", "2026-01-15", "2026-01-15T12:00:00", "2026-01-15T12:00:00.Z", "2026-01-15T12:00:00+0200",
            "2026-01-15T12:00:00+24:00", "2026-02-31T00:00:00Z", "2026-01-15T12:00:00ZZ", "2026-01-15X12:00:00Z",
        ] {
            XCTAssertNil(Timestamp.parseRFC3339(text), text)
        }
    }

    func testQueryStringsArePercentDecodedAndBadEscapesKeptAsTheyCame() {
        XCTAssertEqual(
            Request.parseQuery("a=1&b=two+words&c=%C3%A9t%C3%A9&a=2"), ["a": "1", "b": "two words", "c": "été"])
        XCTAssertEqual(
            Request.parseQuery("x=100%&y=%zz&z=%+1&w=%ff"), ["x": "100%", "y": "%zz", "z": "% 1", "w": "%ff"])
        XCTAssertEqual(Request.parseQuery("flag&=v"), ["flag": "", "": "v"])
    }

    func testNewIdsAreDistinctLowercaseVersion4UUIDs() {
        let ids = (0..<1000).map { _ in Identifier.newUUID() }
        XCTAssertEqual(Set(ids).count, ids.count)
        for id in ids {
            XCTAssertTrue(Identifier.isUUID(id), id)
            let digits = Array(id.utf8)
            XCTAssertEqual(digits[14], UInt8(ascii: "4"), id)  // the version
            XCTAssertTrue("89ab".utf8.contains(digits[19]), id)  // the variant
        }
    }

    func testHexRoundTripsAndRejectsAnythingElse() {
        let bytes: [UInt8] = [0, 1, 0x7f, 0x80, 0xab, 0xff]
        XCTAssertEqual(bytes.hexString, "00017f80abff")
        XCTAssertEqual([UInt8](hex: "00017f80abff"), bytes)
        XCTAssertEqual([UInt8](hex: "00017F80ABFF"), bytes)
        XCTAssertEqual([UInt8](hex: ""), [])
        for bad in ["0", "abc", "0g", "+f", " f", "ff\n"] {
            XCTAssertNil([UInt8](hex: bad), bad)
        }
    }

    func testTrimmingAndPaths() {
        XCTAssertEqual("  a b\t\n".trimmed, "a b")
        XCTAssertEqual(" \n".trimmed, "")
        XCTAssertEqual(Path.parent(of: "/var/lib/x.json"), "/var/lib")
        XCTAssertEqual(Path.parent(of: "/x"), "/")
        XCTAssertEqual(Path.name(of: "/var/lib/x.json"), "x.json")
        XCTAssertEqual(255.hexPadded(4), "00ff")
        XCTAssertEqual(7.zeroPadded(3), "007")
    }
}
