import Foundation
import Logging
import XCTest

@testable import WebhooksCore

/// A fresh data_dir under the system temp folder, removed by the caller's tearDown.
func makeTemporaryFolder() -> String {
    let path = NSTemporaryDirectory() + "stellar-webhooks-tests-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A fresh, prepared store in a temp folder for each test.
class StoreTestCase: XCTestCase {
    var folder: String!
    var store: FileStore!

    override func setUp() {
        folder = makeTemporaryFolder()
        store = try! FileStore(root: folder, clock: { Date() })
        try! store.prepare()
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: folder)
    }
}

let validURL = "https://discord.com/api/webhooks/123456789012345678/abcDEF_-tok"
let fixedNow = Date(timeIntervalSince1970: 1_768_478_400)  // 2026-01-15T12:00:00.000Z

/// An App over a temp store, with helpers to make keys and requests.
final class AppHarness {
    let folder = makeTemporaryFolder()
    let store: FileStore
    let app: App
    let verifier: KeyVerifier
    let dispatch = RecordingDispatch()

    /// `caching`: the store as a worker has it.
    init(caching: Bool = false, configure: (inout Config) -> Void = { _ in }) {
        var config = Config()
        config.dataDir = folder
        configure(&config)
        store = try! FileStore(root: folder, clock: { Date() }, caching: caching)
        try! store.prepare()
        let secret = try! ServerSecret.loadOrCreate(at: "\(folder)/secret.key")
        app = App(config: config, store: store, secret: secret, dispatch: dispatch, logger: Logger(label: "test"))
        verifier = KeyVerifier(secret: secret, store: store)
        dispatch.store = store
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    func key(user: String) -> String {
        try! verifier.issue(kind: .user, subject: user, label: nil, now: Timestamp.format(fixedNow)).text
    }

    func key(service: String) -> String {
        try! verifier.issue(kind: .service, subject: service, label: nil, now: Timestamp.format(fixedNow)).text
    }

    func send(
        _ method: String, _ path: String, key: String?, json: String? = nil, query: [String: String] = [:],
        headers: [String: String] = [:], now: Date = fixedNow
    ) -> Response {
        var allHeaders = headers
        if let key { allHeaders["authorization"] = "Bearer \(key)" }
        if json != nil && allHeaders["content-type"] == nil { allHeaders["content-type"] = "application/json" }
        return app.handle(
            Request(method: method, path: path, query: query, headers: allHeaders, body: Array((json ?? "").utf8)),
            now: now
        ).response
    }
}

/// Stands in for the delivery helper: records what handlers ask of it and, for `sendNow`,
/// applies `outcome` to the queued delivery the way the helper would record an attempt.
final class RecordingDispatch: DeliveryDispatch, @unchecked Sendable {
    var wakes = 0
    var sent: [String] = []
    /// What the pretend send ends as; nil: the helper never answers.
    var outcome: (result: AttemptResult, outcome: Outcome)? = (
        .answered(status: 200, headers: [:], body: Array("{}".utf8)), .delivered
    )
    var store: FileStore?

    func wake() { wakes += 1 }

    func sendNow(deliveryId: String, timeout: TimeInterval) -> Bool {
        sent.append(deliveryId)
        guard let outcome, let store else { return false }
        for name in try! store.outboxNames() where OutboxName.deliveryId(of: name) == deliveryId {
            let delivery = try! store.pendingDelivery(outboxName: name)!
            let recorded = DeliveryPolicy(retrySchedule: []).record(
                outcome.outcome, of: outcome.result, on: delivery, by: Providers.discord, now: fixedNow)
            try! store.record(recorded, outboxName: name)
        }
        return true
    }
}

/// A test case of one user's webhook API through the whole pipeline: alice's key, and the create,
/// update and 400 helpers the webhook options' tests share.
class UserAPITestCase: XCTestCase {
    let harness = AppHarness()
    lazy var alice = harness.key(user: "alice")
    let httpURL = "https://panel.example.com/hook"

    func create(_ json: String) -> Response {
        harness.send("POST", "/webhooks", key: alice, json: json)
    }

    func patch(_ id: String, _ json: String) -> Response {
        harness.send("PATCH", "/webhooks/\(id)", key: alice, json: json)
    }

    /// The 400's details as "path: message", the path's steps joined by dots ("mentions.0.roles").
    func problems(_ response: Response) -> [String] {
        XCTAssertEqual(response.status, 400)
        guard case .array(let details)? = response.json?["details"] else { return [] }
        return details.map { detail in
            guard case .array(let path)? = detail["path"] else { return "?" }
            let steps = path.map { step in
                if case .int(let index) = step { String(index) } else { step.stringValue ?? "?" }
            }
            return "\(steps.joined(separator: ".")): \(detail["message"]?.stringValue ?? "")"
        }
    }
}
