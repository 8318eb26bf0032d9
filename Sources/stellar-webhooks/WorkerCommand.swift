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
        let config = try options.load()
        let logger = bootstrapLogging(config, label: "worker")
        let store = try options.openStore(config, caching: true, prepared: false)
        // `serve` has checked it against the database's fingerprint.
        let secret = try ServerSecret.loadOrCreate(at: config.secretPath)
        let app = App(config: config, store: store, secret: secret, dispatch: HelperLink(dataDir: config.dataDir), logger: logger)
        FastCGIWorker(app: app, maxRequests: config.maxRequests, logger: logger).run()
    }
}
