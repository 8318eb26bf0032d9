import FoundationEssentials
import Glibc
import WebhooksCore

/// The PostgreSQL store (docs/architecture.md: "Storage"): what several hosts behind one nginx
/// share. The same records as the flat-file store, as JSON documents in rows; every method is one
/// transaction, and the rows it changes are locked in a fixed order (user, then webhook), so
/// workers, helpers and commands on any host write at once. A write through one host is read
/// through every other on the next request: the one copy kept, a user's `GET /webhooks` answer, is
/// used only after the database confirmed its rows unchanged (`webhookList`).
public final class PostgresStore: StoreBackend, HostCoordination, @unchecked Sendable {
    let db: PostgresConnection
    /// This host's `data_dir`: its helper's lock and socket, and its manual-send places.
    let dataDir: String
    /// Who holds an outbox lease: this host's helper, the same name after a restart.
    let leaseHolder: String
    /// How long a claimed delivery stays with the helper that claimed it: one attempt's timeout
    /// and a margin. A helper killed mid-send lets it pass, and another host sends it.
    let leaseSeconds: Int
    let clock: @Sendable () -> Date
    /// This process's `GET /webhooks` answers, each used only while its rows are unchanged.
    let listCache = WebhookListCache()

    public init(url: String, dataDir: String, leaseSeconds: Int = 60, clock: @escaping @Sendable () -> Date) throws {
        self.db = try PostgresConnection(url: url)
        self.dataDir = dataDir
        self.leaseSeconds = leaseSeconds
        self.clock = clock
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        self.leaseHolder = "\(String(cString: host)):\(dataDir)"
    }

    /// Applies the schema; the send places are this host's files.
    public func prepare() throws {
        _ = try migrate()
        try FileSystem.makeFolder(StoreLayout(root: dataDir).sendSlots)
    }

    /// Applies the migrations not yet applied, under an advisory lock (hosts starting at once take
    /// turns); returns how many were applied.
    @discardableResult
    public func migrate() throws -> Int {
        try db.transaction {
            try db.execute("SELECT pg_advisory_xact_lock(\(Schema.migrationLock))")
            try db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            let applied = try schemaVersion()
            guard applied <= Schema.migrations.count else {
                throw PostgresConnection.Failure(
                    message:
                        "the database's schema (version \(applied)) is newer than this stellar-webhooks knows (\(Schema.migrations.count)): upgrade this host",
                    state: nil, isStorageUnavailable: false)
            }
            for (index, sql) in Schema.migrations.enumerated().dropFirst(applied) {
                try db.executeScript(sql)
                try db.execute("INSERT INTO schema_migrations (version) VALUES ($1)", [String(index + 1)])
            }
            return Schema.migrations.count - applied
        }
    }

    /// The schema version the database is at.
    public func schemaVersion() throws -> Int {
        let exists = try db.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")[0, 0] == "t"
        guard exists else { return 0 }
        return Int(try db.execute("SELECT coalesce(max(version), 0) FROM schema_migrations")[0, 0] ?? "0") ?? 0
    }

    // MARK: The server secret

    /// The HMAC secret from `path`, checked against the fingerprint the database keeps. A fresh
    /// database adopts this host's secret (made now if there is none); after that a host with a
    /// different secret, or none, is refused: its keys would not verify anywhere else.
    public func adoptSecret(at path: String) throws -> [UInt8] {
        let kept = try db.execute("SELECT value FROM settings WHERE name = 'secret_fingerprint'").first?[0] ?? nil
        if let kept {
            guard let secret = try ServerSecret.load(path) else {
                throw SecretMismatch(
                    description:
                        "secret_file \(path) does not exist, but this database's keys were made under a secret: copy secret_file from a host that already uses this database"
                )
            }
            guard ServerSecret.fingerprint(of: secret) == kept else {
                throw SecretMismatch(
                    description:
                        "secret_file \(path) is not the secret this database's keys were made under: copy secret_file from a host that already uses this database"
                )
            }
            return secret
        }
        let secret = try ServerSecret.loadOrCreate(at: path)
        try db.execute(
            "INSERT INTO settings (name, value) VALUES ('secret_fingerprint', $1) ON CONFLICT (name) DO NOTHING",
            [ServerSecret.fingerprint(of: secret)])
        return try adoptSecret(at: path)  // another host may have been first
    }

    public struct SecretMismatch: Error, CustomStringConvertible {
        public var description: String
    }

    // MARK: Helpers for the extensions

    /// The record in the first column of the query's first row, or nil when there is no row.
    func firstRecord<T: Decodable>(_ type: T.Type, _ sql: String, _ parameters: [String?]) throws -> T? {
        try record(T.self, try db.execute(sql, parameters).first?[0] ?? nil)
    }

    func record<T: Decodable>(_ type: T.Type, _ text: String?) throws -> T? {
        guard let text else { return nil }
        return try RecordCoding.decode(T.self, from: text)
    }

    func text<T: Encodable>(_ record: T) throws -> String {
        try RecordCoding.encodeText(record)
    }
}
