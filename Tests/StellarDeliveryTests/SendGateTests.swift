import Foundation
import XCTest

@testable import StellarDelivery

final class SendGateTests: XCTestCase {
    let start = Date(timeIntervalSince1970: 1_000_000)

    func testOneInFlightPerWebhookAndBucketWaits() {
        var gate = SendGate(concurrency: 10, ratePerSecond: 100)
        XCTAssertTrue(gate.mayStart("a", now: start))
        gate.started("a", now: start)
        XCTAssertFalse(gate.mayStart("a", now: start.addingTimeInterval(0.02)))
        XCTAssertTrue(gate.mayStart("b", now: start.addingTimeInterval(0.02)))
        gate.finished("a", wait: 2, now: start)
        XCTAssertFalse(gate.mayStart("a", now: start.addingTimeInterval(1.9)))
        XCTAssertTrue(gate.mayStart("a", now: start.addingTimeInterval(2.1)))
        XCTAssertEqual(gate.nextChange(now: start.addingTimeInterval(1)), start.addingTimeInterval(2))
    }

    func testConcurrencyRateAndGlobalPause() {
        var gate = SendGate(concurrency: 2, ratePerSecond: 3)  // one start per 0.343 s
        gate.started("a", now: start)
        XCTAssertFalse(gate.mayStart("b", now: start.addingTimeInterval(0.3)))  // too soon after a
        gate.started("b", now: start.addingTimeInterval(0.35))
        XCTAssertFalse(gate.mayStart("c", now: start.addingTimeInterval(0.7)))  // two in flight
        gate.finished("a", wait: nil, now: start.addingTimeInterval(0.7))
        gate.finished("b", wait: nil, now: start.addingTimeInterval(0.7))
        gate.started("c", now: start.addingTimeInterval(0.7))
        gate.finished("c", wait: nil, now: start.addingTimeInterval(0.7))
        XCTAssertFalse(gate.mayStart("d", now: start.addingTimeInterval(1.02)))  // three in the window
        // a leaves the window
        XCTAssertEqual(
            gate.nextChange(now: start.addingTimeInterval(1.02))?.timeIntervalSince(start) ?? 0, 1.03, accuracy: 1e-6)
        XCTAssertTrue(gate.mayStart("d", now: start.addingTimeInterval(1.05)))
        gate.pauseAll(until: start.addingTimeInterval(60), because: .discordGlobal)
        XCTAssertFalse(gate.mayStart("d", now: start.addingTimeInterval(30)))
        XCTAssertTrue(gate.mayStart("d", now: start.addingTimeInterval(61)))
    }

    /// When the next send may go, for the claim made ahead of it: the spacing's or the window's
    /// end, and never while every slot is taken or a pause holds every send.
    func testTheRateOpensAtTheSpacingOrTheWindowsEnd() {
        var gate = SendGate(concurrency: 2, ratePerSecond: 2)  // one start per 0.515 s
        XCTAssertEqual(gate.rateOpens(now: start), start)
        gate.started("a", now: start)
        XCTAssertEqual(gate.rateOpens(now: start.addingTimeInterval(0.1)), start.addingTimeInterval(0.515))
        XCTAssertFalse(gate.isFree("a", at: start.addingTimeInterval(0.515)), "a is in flight")
        gate.finished("a", wait: 1, now: start.addingTimeInterval(0.1))
        XCTAssertFalse(gate.isFree("a", at: start.addingTimeInterval(1)), "a's bucket wait")
        XCTAssertTrue(gate.isFree("a", at: start.addingTimeInterval(1.1)))
        gate.started("b", now: start.addingTimeInterval(0.6))
        gate.started("c", now: start.addingTimeInterval(0.7))  // closer than the gate lets: the window binds
        XCTAssertNil(gate.rateOpens(now: start.addingTimeInterval(0.8)), "both slots taken")
        gate.finished("c", wait: nil, now: start.addingTimeInterval(0.8))
        // b and c in the window: the next start waits for b to leave it, past c's spacing.
        XCTAssertEqual(gate.rateOpens(now: start.addingTimeInterval(0.8)), start.addingTimeInterval(1.63))
        gate.pauseAll(until: start.addingTimeInterval(10), because: .discordGlobal)
        XCTAssertNil(gate.rateOpens(now: start.addingTimeInterval(2)))
    }

    /// Sending as fast as the gate lets, for 10 s at 50/s: the rate within 3 % of the setting,
    /// and no 0.95 s (Discord's second, less some slack for the trip) with more than 50 starts.
    func testStartsAreSpreadEvenlyAtTheConfiguredRate() {
        var gate = SendGate(concurrency: 1000, ratePerSecond: 50)
        var starts: [Date] = []
        var now = start
        while now < start.addingTimeInterval(10) {
            if gate.mayStart("w\(starts.count)", now: now) {
                gate.started("w\(starts.count)", now: now)
                starts.append(now)
            }
            now = gate.nextChange(now: now) ?? now.addingTimeInterval(0.001)
        }
        XCTAssertEqual(Double(starts.count) / 10, 50, accuracy: 1.5)
        for (index, first) in starts.enumerated() {
            XCTAssertLessThanOrEqual(starts[index...].prefix { $0 < first.addingTimeInterval(0.95) }.count, 47)
        }
    }
}
