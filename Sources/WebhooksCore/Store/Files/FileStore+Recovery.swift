import FoundationEssentials
import Glibc

/// Start-up (docs/architecture.md: "Files on disk"): a process killed mid-write leaves only
/// `.tmp-*` files or folders behind, since records are replaced by rename, and torn last lines of
/// webhook logs. Remove those; touch nothing else.
extension FileStore {
    /// What `serve` runs before any worker: stray temp files, then the webhook logs.
    public func recoverAtStart() throws -> [(what: String, count: Int)] {
        let removed = try removeStrayTempFiles()
        let webhooks = try recoverWebhooks()
        return [
            ("removed stray temp files", removed.count),
            ("moved webhooks into webhooks.jsonl", webhooks.moved),
            ("removed folders of deleted webhooks", webhooks.removed),
        ].filter { $0.1 > 0 }
    }

    /// This host's secret, made on first use: the files are this host's alone.
    public func openSecret(at path: String) throws -> [UInt8] {
        try ServerSecret.loadOrCreate(at: path)
    }

    public func summary() -> String { "flat files in \(root)" }

    /// One host: its helper keeps the waits itself (SendGate), and every queueing wakes it
    /// through its socket.
    public var coordination: HostCoordination? { nil }

    /// Returns the paths removed.
    @discardableResult
    public func removeStrayTempFiles() throws -> [String] {
        var removed: [String] = []
        func sweep(_ folder: String) throws {
            for name in try FileSystem.list(folder) {
                let path = "\(folder)/\(name)"
                if name.hasPrefix(FileSystem.tempPrefix) {
                    try FileSystem.removeTree(path)
                    removed.append(path)
                } else if isFolder(path) {
                    try sweep(path)
                }
            }
        }
        try sweep(root)
        return removed
    }

    /// Brings every user's webhooks into shape at start: a torn last line of a log is cut off
    /// (it was never acknowledged); webhooks still kept as
    /// `webhooks/{id}/webhook.json` (before `webhooks.jsonl`) move into the log, which is written
    /// whole before any of those files goes, so a crash mid-way only repeats the move; and the
    /// folder of a webhook the log no longer has (a delete killed after its removal line) goes.
    /// Returns how many webhooks moved and how many folders were removed.
    @discardableResult
    public func recoverWebhooks() throws -> (moved: Int, removed: Int) {
        var moved = 0
        var removed = 0
        for userId in try FileSystem.list(layout.users) where Identifier.isExternalID(userId) {
            try withUserLock(userId) {
                let log = webhookLog(userId)
                try log.cutTornLine()
                let logged = try log.read().webhooks
                var webhooks = logged
                let folders = try FileSystem.list(layout.webhooks(userId)).filter { Identifier.isUUID($0) }
                var legacyFiles: [String] = []
                var known = Set(logged.map(\.id))
                for id in folders {
                    let file = layout.legacyWebhookFile(userId, id)
                    guard let webhook = try read(Webhook.self, at: file) else { continue }
                    legacyFiles.append(file)
                    if known.insert(webhook.id).inserted { webhooks.append(webhook) }
                }
                if !legacyFiles.isEmpty {
                    defer { generations.bump(.user(userId)) }
                    try log.rewrite(webhooks.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) })
                    moved += webhooks.count - logged.count
                    for file in legacyFiles { try FileSystem.remove(file) }
                }
                for id in folders where !known.contains(id) {
                    try FileSystem.removeTree(layout.webhook(userId, id))
                    removed += 1
                }
            }
        }
        return (moved, removed)
    }

    private func isFolder(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}
