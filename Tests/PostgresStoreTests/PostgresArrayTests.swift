import XCTest

@testable import PostgresStore

final class PostgresArrayTests: XCTestCase {
    func testElementsAreQuotedWithQuotesAndBackslashesEscaped() {
        XCTAssertEqual(PostgresArray.literal([]), "{}")
        XCTAssertEqual(
            PostgresArray.literal(["a", "b c", "{\"x\": \"y\\\\n\"}\n"]),
            "{\"a\",\"b c\",\"{\\\"x\\\": \\\"y\\\\\\\\n\\\"}\n\"}")
    }
}
