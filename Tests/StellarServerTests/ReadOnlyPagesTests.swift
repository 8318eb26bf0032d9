import CPages
import Glibc
import XCTest

/// `stellar_drop_read_only_pages` (CPages), which the worker, the master and the
/// delivery helper call after start-up: the process's file-backed resident memory shrinks, what
/// it wrote is kept, and it drops again only once a library has been loaded since or its period
/// has passed.
final class ReadOnlyPagesTests: XCTestCase {
    /// Written before the drop: a writable page, which must keep its contents.
    static var written = [UInt8](repeating: 0, count: 3 * 4096)

    func residentFileKB() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        let line = status.split(separator: "\n").first { $0.hasPrefix("RssFile:") }
        return line.flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true)[1]) }
    }

    func testDropsOnceThenOnlyAfterALoad() throws {
        for index in Self.written.indices { Self.written[index] = UInt8(index % 251) }
        let before = try XCTUnwrap(residentFileKB())
        var drops = stellar_page_drops()
        XCTAssertEqual(stellar_drop_read_only_pages(&drops, 60), 1)
        let after = try XCTUnwrap(residentFileKB())
        XCTAssertLessThan(after, before, "file-backed VmRSS \(before) kB before the drop, \(after) kB after")
        XCTAssertTrue(Self.written.indices.allSatisfy { Self.written[$0] == UInt8($0 % 251) })
        XCTAssertEqual(stellar_drop_read_only_pages(&drops, 60), 0, "nothing loaded since, and within the minute")

        let library = try XCTUnwrap(dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL), "zlib, which curl needs")
        defer { dlclose(library) }
        XCTAssertEqual(stellar_drop_read_only_pages(&drops, 60), 1, "a library was loaded since")
    }

    func testDropsAgainOnceItsPeriodHasPassed() {
        var drops = stellar_page_drops()
        XCTAssertEqual(stellar_drop_read_only_pages(&drops, 60), 1)
        drops.at -= 59
        XCTAssertEqual(stellar_drop_read_only_pages(&drops, 60), 0, "59 s since the last drop")
        drops.at -= 1
        XCTAssertEqual(stellar_drop_read_only_pages(&drops, 60), 1, "60 s since the last drop")
        drops.at -= 3600
        XCTAssertEqual(stellar_drop_read_only_pages(&drops, 0), 0, "no period: only loads count")
    }
}
