import Foundation
import Logging
@testable import WebhooksCore

/// A fresh data_dir under the system temp folder, removed by the caller's tearDown.
func makeTemporaryFolder() -> String {
    let path = NSTemporaryDirectory() + "stellar-webhooks-tests-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

let validURL = "https://discord.com/api/webhooks/123456789012345678/abcDEF_-tok"
let fixedNow = Date(timeIntervalSince1970: 1_768_478_400)  // 2026-01-15T12:00:00.000Z

/// An App over a temp store, with helpers to make keys and requests.
final class AppHarness {
    let folder = makeTemporaryFolder()
    let store: Store
    let app: App
    let verifier: KeyVerifier

    init(configure: (inout Config) -> Void = { _ in }) {
        var config = Config()
        config.dataDir = folder
        configure(&config)
        store = Store(root: folder)
        try! store.prepare()
        let secret = try! ServerSecret.loadOrCreate(in: folder)
        app = App(config: config, store: store, secret: secret, logger: Logger(label: "test"))
        verifier = KeyVerifier(secret: secret, store: store)
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    func key(user: String) -> String {
        try! verifier.issue(kind: .user, subject: user, label: nil, now: Timestamp.format(fixedNow)).text
    }

    func key(service: String) -> String {
        try! verifier.issue(kind: .service, subject: service, label: nil, now: Timestamp.format(fixedNow)).text
    }

    func send(_ method: String, _ path: String, key: String?, json: String? = nil, query: [String: String] = [:],
              headers: [String: String] = [:], now: Date = fixedNow) -> Response {
        var allHeaders = headers
        if let key { allHeaders["authorization"] = "Bearer \(key)" }
        if json != nil && allHeaders["content-type"] == nil { allHeaders["content-type"] = "application/json" }
        return app.handle(
            Request(method: method, path: path, query: query, headers: allHeaders, body: Array((json ?? "").utf8)),
            now: now)
    }
}
