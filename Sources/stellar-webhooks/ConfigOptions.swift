import ArgumentParser
import FoundationEssentials
import Glibc
import Logging
import PostgresStore
import WebhooksCore

/// `--config FILE`, shared by every command.
struct ConfigOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: ArgumentHelp("Configuration file.", valueName: "file"))
    var path: String?

    func loadAll() -> (Config, [ConfigProblem]) {
        Self.loadAll(path: path)
    }

    /// The configuration, or a clean exit (status `failing`) naming every bad key.
    func load(failing: Int32 = 1) throws -> Config {
        try Self.load(path: path, failing: failing)
    }

    /// The same two for a path ArgumentParser did not parse (main.swift's worker).
    static func loadAll(path: String?) -> (Config, [ConfigProblem]) {
        Config.load(path: path, environment: ProcessInfo.processInfo.environment)
    }

    static func load(path: String?, failing: Int32 = 1) throws -> Config {
        let (config, problems) = loadAll(path: path)
        guard problems.isEmpty else {
            for problem in problems { printError("configuration: \(problem)") }
            throw ExitCode(failing)
        }
        return config
    }

    /// The store `database_url` names (flat files in data_dir when empty), made ready for use by
    /// any process. `caching`: the read caches of workers and the helper (flat files only; a database is shared).
    /// `prepared`: false for the processes `serve` starts after preparing it itself; they must
    /// start even while a database is down, and answer 503 until it is back. `creating`: only
    /// `serve` makes a new flat-file store; any other command run against the wrong data_dir says
    /// so instead of making an empty store beside the service's.
    static func openStore(_ config: Config, caching: Bool = false, prepared: Bool = true, creating: Bool = false) throws
        -> StoreBackend
    {
        let store: StoreBackend
        if config.databaseURL.isEmpty {
            if !creating { try requireStore(in: config.dataDir) }
            store = try FileStore(root: config.dataDir, clock: systemClock, caching: caching)
        } else {
            try FileSystem.makeFolder(config.dataDir)
            // A lease outlives one attempt (its timeout and a margin), within the minute.
            store = try PostgresStore(
                url: config.databaseURL, dataDir: config.dataDir,
                leaseSeconds: min(60, config.deliveryTimeout + 5), clock: systemClock)
        }
        if prepared { try store.prepare() }
        return store
    }

    /// Exits, saying why and what to do, when `dataDir` does not exist or cannot be used. Run as
    /// root on a data_dir another user owns (the service's), becomes that user first, so what the
    /// command writes stays the service's to read.
    static func requireStore(in dataDir: String) throws {
        var info = stat()
        guard stat(dataDir, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            printError(
                "no store in \(dataDir) (data_dir): `stellar-webhooks serve` makes it on its first start. If the service keeps its data elsewhere, name the configuration it runs with: --config FILE or STELLAR_WEBHOOKS_CONFIG (`make run` prints its own)."
            )
            throw ExitCode(1)
        }
        if geteuid() == 0 && info.st_uid != 0 {
            guard setgroups(0, nil) == 0, setgid(info.st_gid) == 0, setuid(info.st_uid) == 0 else {
                printError(
                    "cannot act as the owner of \(dataDir) (uid \(info.st_uid)): \(String(cString: strerror(errno)))")
                throw ExitCode(1)
            }
        }
        guard access(dataDir, R_OK | W_OK | X_OK) == 0 else {
            printError(
                "cannot use the store in \(dataDir) (data_dir): permission denied; run this as root or as the user the service runs as (e.g. sudo -u stellar-webhooks)"
            )
            throw ExitCode(1)
        }
    }
}

/// The one clock of every process; the core is handed it (or `now`), never reads one itself.
let systemClock: @Sendable () -> Date = { Date() }

func printError(_ message: String) {
    fputs(message + "\n", stderr)
}

/// One log line per event on stderr (docs/architecture.md: "Processes"), at the configured level,
/// labelled by process.
func bootstrapLogging(_ config: Config, label: String) -> Logger {
    LoggingSystem.bootstrap { name in
        var handler = StreamLogHandler.standardError(label: name)
        handler.logLevel = config.logLevel
        return handler
    }
    var logger = Logger(label: "stellar-webhooks.\(label)")
    logger[metadataKey: "pid"] = "\(getpid())"
    return logger
}
