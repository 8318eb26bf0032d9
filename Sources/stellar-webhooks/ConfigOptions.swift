import ArgumentParser
import Foundation
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
        let store = Store(root: config.dataDir)
        try store.prepare()
        return store
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// One log line per event on stderr (design §9), at the configured level, labelled by process.
func bootstrapLogging(_ config: Config, label: String) -> Logger {
    LoggingSystem.bootstrap { name in
        var handler = StreamLogHandler.standardError(label: name)
        handler.logLevel = Logger.Level(rawValue: config.logLevel) ?? .info
        return handler
    }
    var logger = Logger(label: "stellar-webhooks.\(label)")
    logger[metadataKey: "pid"] = "\(getpid())"
    return logger
}
