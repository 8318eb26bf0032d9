import CCurl
import XCTest

@testable import StellarDelivery

/// What a finished transfer is recorded as when the private-address check refused some of the
/// addresses a host name resolved to, or the answer went past what is read of it.
final class TransferEndingTests: XCTestCase {
    func testARefusalCountsOnlyWhenNoAddressWasConnected() {
        XCTAssertEqual(
            CurlTransport.ending(code: CURLE_COULDNT_CONNECT, refusedAddress: "10.0.0.1", openedSockets: 0),
            .refused(address: "10.0.0.1"))
    }

    func testARefusedAddressThenAnAnsweredOneIsTheAnswer() {
        XCTAssertEqual(CurlTransport.ending(code: CURLE_OK, refusedAddress: "10.0.0.1", openedSockets: 1), .completed)
    }

    func testARefusedAddressThenAFailedRequestIsThatFailure() {
        XCTAssertEqual(
            CurlTransport.ending(code: CURLE_OPERATION_TIMEDOUT, refusedAddress: "10.0.0.1", openedSockets: 1), .failed)
        XCTAssertEqual(
            CurlTransport.ending(code: CURLE_COULDNT_CONNECT, refusedAddress: nil, openedSockets: 0), .failed)
    }

    func testAnAnswerCutShortAtTheCapIsTheAnswerAndAWriteErrorOtherwiseIsNot() {
        XCTAssertEqual(
            CurlTransport.ending(code: CURLE_WRITE_ERROR, refusedAddress: nil, openedSockets: 1, cutShort: true),
            .completed)
        XCTAssertEqual(
            CurlTransport.ending(code: CURLE_WRITE_ERROR, refusedAddress: nil, openedSockets: 1, cutShort: false),
            .failed)
        XCTAssertEqual(
            CurlTransport.ending(code: CURLE_OPERATION_TIMEDOUT, refusedAddress: nil, openedSockets: 1, cutShort: true),
            .failed)
    }
}
