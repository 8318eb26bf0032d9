import ArgumentParser
import FoundationEssentials
import PostgresStore
import WebhooksCore

/// `migrate` and `import`: the PostgreSQL store's schema, and moving a flat-file store into it.
struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract:
            "Apply the database schema (database_url). `serve` does it too at start; safe on several hosts at once.")

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let config = try options.load()
        let store = try database(config)
        let applied = try store.migrate()
        print("schema at version \(try store.schemaVersion()): \(applied) migration(s) applied")
    }
}

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract:
            "Copy a flat-file store (keys, servers, webhooks, deliveries, idempotent answers) into the empty database of database_url.",
        discussion:
            "Stop the service that uses DIR first. Nothing in the database is overwritten: a database that already holds keys, servers or webhooks is refused. The HMAC secret stays a file: use the store's secret.key as secret_file on every host."
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .customLong("data-dir"), help: ArgumentHelp("The flat-file store to copy.", valueName: "dir"))
    var dataDir: String

    func run() throws {
        let config = try options.load()
        let store = try database(config)
        try store.prepare()
        guard try FileSystem.size("\(dataDir)/keys") != nil else {
            printError("\(dataDir) holds no flat-file store (no keys/ folder)")
            throw ExitCode(1)
        }
        let source = try FileStore(root: dataDir, clock: systemClock).contents()
        try store.importRecords(source)
        print(
            "imported from \(dataDir): \(source.keys.count) keys, \(source.servers.count) servers, \(source.webhooks.count) webhooks, \(source.deliveryCount) deliveries (\(source.outbox.count) pending), \(source.answers.count) idempotent answers"
        )
    }
}

/// The PostgreSQL store of `database_url`, or a clean exit when there is none.
private func database(_ config: Config) throws -> PostgresStore {
    guard !config.databaseURL.isEmpty else {
        printError("database_url is empty: the flat-file store in data_dir needs no database")
        throw ExitCode(1)
    }
    return try PostgresStore(url: config.databaseURL, dataDir: config.dataDir, clock: systemClock)
}
