import Foundation
import XCTest

@testable import WebhooksCore

final class HelperCommandTests: XCTestCase {
    func testEveryCommandParsesBackFromItsLine() {
        let id = Identifier.newUUID()
        for command in [HelperCommand.wake, .send(deliveryId: id)] {
            XCTAssertEqual(HelperCommand(line: command.line), command)
        }
        XCTAssertEqual(HelperCommand.send(deliveryId: id).line, "send \(id)")
    }

    func testAnythingElseIsNoCommand() {
        for line in ["", "wake ", "WAKE", "send", "send not-a-uuid", "send \(Identifier.newUUID()) x", "done"] {
            XCTAssertNil(HelperCommand(line: line), line)
        }
    }

    func testOutboxNamesSortInQueueOrderAndGiveBackTheirDelivery() {
        let ids = (0..<3).map { _ in Identifier.newUUID() }
        let at = Date(timeIntervalSince1970: 1_768_478_400)
        let names = ids.enumerated().map { OutboxName.make(deliveryId: $1, queuedAt: at, sequence: $0) }
        XCTAssertEqual(names.sorted(), names)
        XCTAssertEqual(names.compactMap(OutboxName.deliveryId), ids)
        let later = OutboxName.make(deliveryId: ids[0], queuedAt: at.addingTimeInterval(0.001), sequence: 0)
        XCTAssertGreaterThan(later, names[2])
        XCTAssertNil(OutboxName.deliveryId(of: "notes.json"))
        XCTAssertNil(OutboxName.deliveryId(of: "123-\(ids[0]).json"))
    }
}
