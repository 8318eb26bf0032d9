import ArgumentParser
import StellarDelivery
import StellarServer
import WebhooksCore

/// The worker process `serve` spawns; not for direct use.
struct Worker: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Internal: one FastCGI worker, on the listening socket passed as fd 0.",
        shouldDisplay: false)

    @OptionGroup var options: ConfigOptions

    func run() throws {
        try Self.serve(configPath: options.path)
    }

    /// The worker itself: also what `main.swift` runs without ArgumentParser.
    static func serve(configPath: String?) throws {
        let config = try ConfigOptions.load(path: configPath)
        let logger = bootstrapLogging(config, label: "worker")
        let store = try ConfigOptions.openStore(config, caching: true, prepared: false)
        // `serve` has checked it against the database's fingerprint.
        let secret = try ServerSecret.loadOrCreate(at: config.secretPath)
        // The master made it before starting any worker; without it (a worker started by hand)
        // requests are served all the same, uncounted.
        let board = try? Scoreboard.open(at: StoreLayout(root: config.dataDir).scoreboard, writable: true)
        let app = App(
            config: config, store: store, secret: secret, dispatch: HelperLink(dataDir: config.dataDir),
            scoreboard: board, logger: logger)
        FastCGIWorker(app: app, maxRequests: config.maxRequests, logger: logger).run()
    }
}
