import Foundation
import XCTest

@testable import WebhooksCore

/// The scoreboard, and the metrics text and status made from it: counts land where they are
/// read back, histograms are cumulative, a dead worker's slot is freed, and a reused file starts
/// from zero.
final class MonitoringTests: XCTestCase {
    var folder = ""
    let started = Date(timeIntervalSince1970: 1_796_000_000)

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "swh-monitoring-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: folder)
    }

    func board() throws -> Scoreboard {
        try Scoreboard.create(
            at: folder + "/scoreboard", masterPid: 4123, startedAt: started, workers: 3,
            socket: "/run/stellar-webhooks/fcgi.sock", inherited: true, store: "flat files in /var/lib/x")
    }

    /// `wanted` when the text has that very line, else nil.
    func line(_ text: String, _ wanted: String) -> String? {
        text.split(separator: "\n").map(String.init).first { $0 == wanted }
    }

    func testRequestsAndDurationsAreCountedByRouteAndRenderedCumulatively() throws {
        let board = try board()
        let list = try XCTUnwrap(Router.routes.firstIndex { $0.method == "GET" && $0.path == "/webhooks" })
        board.requestAnswered(route: list, status: 200, seconds: 0.0004)
        board.requestAnswered(route: list, status: 200, seconds: 0.003)
        board.requestAnswered(route: nil, status: 404, seconds: 0.0001)
        board.requestAnswered(route: list, status: 503, seconds: 0.02)
        let text = MetricsText.render(
            board.snapshot(), pending: PendingSummary(count: 0, oldestQueuedAt: nil), now: started)

        XCTAssertNotNil(line(text, #"stellar_webhooks_requests_total{code="200",method="GET",route="/webhooks"} 2"#))
        XCTAssertNotNil(line(text, #"stellar_webhooks_requests_total{code="503",method="GET",route="/webhooks"} 1"#))
        XCTAssertNotNil(line(text, #"stellar_webhooks_requests_total{code="404",route="none"} 1"#))
        let bucket = #"stellar_webhooks_request_duration_seconds_bucket{le="%@",method="GET",route="/webhooks"}"#
        XCTAssertNotNil(line(text, String(bucket.replacingOccurrences(of: "%@", with: "0.0005")) + " 1"))
        XCTAssertNotNil(line(text, String(bucket.replacingOccurrences(of: "%@", with: "0.005")) + " 2"))
        XCTAssertNotNil(line(text, String(bucket.replacingOccurrences(of: "%@", with: "+Inf")) + " 3"))
        XCTAssertNotNil(
            line(text, #"stellar_webhooks_request_duration_seconds_count{method="GET",route="/webhooks"} 3"#))
        XCTAssertNotNil(line(text, #"stellar_webhooks_storage_unavailable_total 1"#))
        XCTAssertNotNil(line(text, #"stellar_webhooks_start_time_seconds 1796000000"#))
        XCTAssertNotNil(line(text, #"stellar_webhooks_build_info{version="\#(Product.version)"} 1"#))
    }

    func testWorkerSlotsAreFreedWhenTheirProcessEnds() throws {
        let board = try board()
        let one = try XCTUnwrap(board.claimWorkerSlot(pid: 101))
        let two = try XCTUnwrap(board.claimWorkerSlot(pid: 102))
        one.busy()
        two.busy()
        two.idle()
        XCTAssertEqual(board.snapshot().busyWorkers, 1)
        XCTAssertEqual(board.snapshot().idleWorkers, 1)
        board.childEnded(pid: 101)  // died busy
        XCTAssertEqual(board.snapshot().workers.map(\.pid), [102])
        XCTAssertEqual(board.snapshot().workers.first?.served, 1)
        XCTAssertNotNil(board.claimWorkerSlot(pid: 103), "the freed slot is taken again")
    }

    func testTheHelpersStateAndSendsShowInMetricsAndStatus() throws {
        let board = try board()
        board.helperStarted(pid: 4131)
        board.sent(by: "discord", seconds: 0.2)
        board.deliveryFinished(.delivered, by: "discord", at: started.addingTimeInterval(5))
        board.deliveryFinished(.failed, by: "http", at: started.addingTimeInterval(5))
        board.rateLimited(.global, by: "discord")
        board.rateLimited(.webhook, by: "slack")
        board.webhookDisabled(by: "slack")
        board.helperState(pause: .discordGlobal, until: started.addingTimeInterval(60), inFlight: 2)
        let now = started.addingTimeInterval(10)
        let pending = PendingSummary(count: 3, oldestQueuedAt: started.addingTimeInterval(4))
        let text = MetricsText.render(board.snapshot(), pending: pending, now: now)
        XCTAssertNotNil(line(text, #"stellar_webhooks_sends_paused{reason="discord_global"} 1"#))
        XCTAssertNotNil(line(text, #"stellar_webhooks_sends_paused{reason="full_disk"} 0"#))
        XCTAssertNotNil(line(text, #"stellar_webhooks_rate_limited_total{provider="discord",scope="global"} 1"#))
        XCTAssertNotNil(line(text, #"stellar_webhooks_rate_limited_total{provider="slack",scope="webhook"} 1"#))
        XCTAssertNotNil(line(text, #"stellar_webhooks_rate_limited_total{provider="discord",scope="webhook"} 0"#))
        XCTAssertNotNil(line(text, #"stellar_webhooks_webhooks_disabled_total{provider="slack"} 1"#))
        XCTAssertNotNil(line(text, #"stellar_webhooks_webhooks_disabled_total{provider="http"} 0"#))
        XCTAssertNotNil(line(text, #"stellar_webhooks_send_duration_seconds_bucket{le="0.25",provider="discord"} 1"#))
        XCTAssertNotNil(line(text, #"stellar_webhooks_send_duration_seconds_bucket{le="0.25",provider="http"} 0"#))
        XCTAssertNotNil(line(text, #"stellar_webhooks_deliveries_pending 3"#))
        XCTAssertNotNil(line(text, #"stellar_webhooks_oldest_pending_delivery_age_seconds 6"#))
        XCTAssertNotNil(
            line(text, #"stellar_webhooks_deliveries_finished_total{outcome="delivered",provider="discord"} 1"#))
        XCTAssertNotNil(line(text, #"stellar_webhooks_deliveries_finished_total{outcome="failed",provider="http"} 1"#))
        XCTAssertNotNil(
            line(text, #"stellar_webhooks_deliveries_finished_total{outcome="failed",provider="discord"} 0"#))

        let status = ServiceStatus(snapshot: board.snapshot(), pending: pending, now: now)
        XCTAssertEqual(status.helperState, "paused")
        XCTAssertTrue(
            status.text.contains("helper      pid 4131, paused (Discord's global rate limit) until 2026-"), status.text)
        XCTAssertTrue(status.text.contains("socket      /run/stellar-webhooks/fcgi.sock (inherited)"), status.text)
        XCTAssertTrue(status.text.contains("deliveries  3 pending, the oldest waiting 6 s"), status.text)
        XCTAssertEqual(status.json["helper"]?["pausedBecause"], .string("discord_global"))
        XCTAssertEqual(status.json["master"]?["uptimeSeconds"], .int(10))

        // Once the pause is over the helper is sending again, whatever it last wrote.
        let later = ServiceStatus(snapshot: board.snapshot(), pending: nil, now: started.addingTimeInterval(61))
        XCTAssertEqual(later.helperState, "sending")
        XCTAssertTrue(later.text.contains("deliveries  unknown"), later.text)
    }

    func testAStartReusesTheFileFromZero() throws {
        let first = try board()
        first.requestAnswered(route: 0, status: 200, seconds: 0.001)
        first.workerRestarted(.crashed)
        XCTAssertNotNil(first.claimWorkerSlot(pid: 7))
        let second = try board()
        let snapshot = second.snapshot()
        XCTAssertEqual(snapshot.requestsServed, 0)
        XCTAssertEqual(snapshot.workerRestarts, [0, 0, 0])
        XCTAssertEqual(snapshot.workers.count, 0)
        XCTAssertEqual(snapshot.masterPid, 4123)
        XCTAssertEqual(
            try Scoreboard.open(at: folder + "/scoreboard", writable: false)?.snapshot().configuredWorkers, 3)
        XCTAssertNil(try Scoreboard.open(at: folder + "/none", writable: false))
    }
}
