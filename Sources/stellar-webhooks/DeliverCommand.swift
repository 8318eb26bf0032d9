import ArgumentParser
import StellarDelivery
import WebhooksCore

/// The delivery helper process `serve` spawns and supervises; not for direct use.
struct Deliver: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliver",
        abstract: "Internal: the delivery helper, which sends queued deliveries to their providers.",
        shouldDisplay: false)

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let config = try options.load()
        let logger = bootstrapLogging(config, label: "deliver")
        let store = try ConfigOptions.openStore(config, caching: true, prepared: false)  // serve has prepared it
        let secret = try ServerSecret.loadOrCreate(at: config.secretPath)  // `serve` has checked it
        let board = try? Scoreboard.open(at: StoreLayout(root: config.dataDir).scoreboard, writable: true)
        try DeliveryHelper(config: config, store: store, serverSecret: secret, scoreboard: board, logger: logger).run()
    }
}
