import ArgumentParser
import FoundationEssentials
import Glibc
import Logging
import WebhooksCore

/// `--config FILE`, shared by every command.
struct ConfigOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: ArgumentHelp("Configuration file.", valueName: "file"))
    var path: String?

    func loadAll() -> (Config, [ConfigProblem]) {
        Config.load(path: path, environment: ProcessInfo.processInfo.environment)
    }

    /// The configuration, or a clean exit naming every bad key.
    func load() throws -> Config {
        let (config, problems) = loadAll()
        guard problems.isEmpty else {
            for problem in problems { printError("configuration: \(problem)") }
            throw ExitCode(1)
        }
        return config
    }

    /// The store, made ready for use by any process.
    func openStore(_ config: Config) throws -> Store {
        let store = try FileStore(root: config.dataDir, clock: systemClock)
        try store.prepare()
        return store
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
