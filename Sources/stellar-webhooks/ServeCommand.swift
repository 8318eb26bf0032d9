import ArgumentParser
import FoundationEssentials
import Glibc
import StellarServer
import WebhooksCore

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the service: the master, its FastCGI workers and the delivery helper.",
        discussion: """
            Listens on the unix socket `socket` (created with socket_mode and socket_group), or on \
            fd 0 when that is already a listening socket (spawn-fcgi, systemd StandardInput=socket). \
            Signals: SIGTERM or SIGINT stop gracefully (requests in hand finish); SIGHUP reloads the \
            configuration by replacing the workers and the delivery helper gracefully.
            """)

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let config = try options.load()
        let logger = bootstrapLogging(config, label: "master")
        let store = try ConfigOptions.openStore(config)
        _ = try ConfigOptions.openSecret(config, store: store)
        if let files = store as? FileStore {
            let removed = try files.removeStrayTempFiles()
            if !removed.isEmpty {
                logger.notice("removed stray temp files", metadata: ["count": "\(removed.count)"])
            }
            let webhooks = try files.recoverWebhooks()
            if webhooks.moved > 0 {
                logger.notice("moved webhooks into webhooks.jsonl", metadata: ["count": "\(webhooks.moved)"])
            }
            if webhooks.removed > 0 {
                logger.notice("removed folders of deleted webhooks", metadata: ["count": "\(webhooks.removed)"])
            }
        }

        let listenFD: Int32
        if ListenSocket.inheritedOnStandardInput {
            listenFD = 0
            logger.info("listening on the socket inherited as fd 0")
        } else {
            listenFD = try ListenSocket.open(config.listenAddress, mode: config.socketMode, group: config.socketGroup)
            logger.info("listening", metadata: ["socket": "\(config.socket)"])
        }

        let configArguments = options.path.map { ["--config", $0] } ?? []
        let settings = Supervisor.Settings(
            workerArguments: ["worker"] + configArguments, helperArguments: ["deliver"] + configArguments,
            reloadConfig: options.loadAll)
        Supervisor(config: config, listenFD: listenFD, settings: settings, logger: logger).run()
        if listenFD != 0, case .unix(let path) = config.listenAddress { unlink(path) }
    }
}
