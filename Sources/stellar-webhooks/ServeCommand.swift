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
            Listens on the socket systemd passes (socket activation: LISTEN_PID, LISTEN_FDS, fd 3), \
            else on fd 0 when that is already a listening socket (spawn-fcgi, mod_fcgid, systemd \
            StandardInput=socket), else on `socket`, created with socket_mode and socket_group. \
            Under systemd (Type=notify) it reports READY=1, RELOADING=1, STOPPING=1 and a STATUS= \
            line. Signals: SIGTERM or SIGINT stop gracefully (requests in hand finish); SIGHUP \
            reloads the configuration by replacing the workers and the delivery helper gracefully.
            """)

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let config = try options.load()
        let logger = bootstrapLogging(config, label: "master")
        let store = try ConfigOptions.openStore(config, creating: true)
        _ = try store.openSecret(at: config.secretPath)
        for (what, count) in try store.recoverAtStart() { logger.notice("\(what)", metadata: ["count": "\(count)"]) }

        let notifier = SystemdNotifier.fromEnvironment()
        let inherited = ListenSocket.inherited()
        let listenFD: Int32
        if let inherited {
            listenFD = inherited.fd
            logger.info(
                "listening on the socket inherited from \(inherited.from)",
                metadata: ["socket": "\(ListenSocket.name(of: listenFD))"])
        } else {
            listenFD = try ListenSocket.open(config.listenAddress, mode: config.socketMode, group: config.socketGroup)
            logger.info("listening", metadata: ["socket": "\(config.socket)"])
        }
        let board = try Scoreboard.create(
            at: StoreLayout(root: config.dataDir).scoreboard, masterPid: getpid(), startedAt: Date(),
            workers: config.workers,
            socket: inherited == nil ? config.socket : ListenSocket.name(of: listenFD), inherited: inherited != nil,
            store: store.summary())

        let configArguments = options.path.map { ["--config", $0] } ?? []
        let settings = Supervisor.Settings(
            workerArguments: ["worker"] + configArguments, helperArguments: ["deliver"] + configArguments,
            reloadConfig: options.loadAll, pending: { try? store.pendingSummary() })
        Supervisor(
            config: config, listenFD: listenFD, settings: settings, scoreboard: board, notifier: notifier,
            logger: logger
        ).run()
        if inherited == nil, case .unix(let path) = config.listenAddress { unlink(path) }
    }
}
