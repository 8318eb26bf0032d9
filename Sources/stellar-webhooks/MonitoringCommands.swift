import ArgumentParser
import FoundationEssentials
import Glibc
import WebhooksCore

/// `status` and `metrics`: what the running service is doing, read from its scoreboard
/// (`data_dir/scoreboard`) and its store, as root or as the service's user.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Say whether the service runs and how it is doing.",
        discussion: """
            Version, master pid and uptime, socket, store, workers busy and idle, requests served, \
            the delivery helper's state (sending, or paused: why and until when), pending \
            deliveries and the oldest one's age, the last delivered and failed delivery, and \
            webhooks their provider had disabled. Exit status as LSB's: 0 running, 3 not running, 4 \
            unknown (the configuration or data_dir cannot be read).
            """)

    @OptionGroup var options: ConfigOptions
    @Flag(help: "Print JSON, for scripts.") var json = false

    func run() throws {
        let config = try options.load(failing: RunningService.unknown)
        guard let snapshot = try RunningService.find(config) else {
            if json {
                print(
                    String(
                        decoding: JSONValue.object([
                            "running": .bool(false), "version": .string(Product.version),
                            "dataDir": .string(config.dataDir),
                        ]).serialized(), as: UTF8.self))
            } else {
                print("stellar-webhooks is not running (data_dir \(config.dataDir))")
            }
            throw ExitCode(3)
        }
        let status = ServiceStatus(snapshot: snapshot, pending: RunningService.pending(config), now: Date())
        print(json ? String(decoding: status.json.serialized(), as: UTF8.self) : status.text)
    }
}

struct Metrics: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Print the host's metrics in Prometheus' text format (what GET /metrics answers).",
        discussion: """
            For node_exporter's textfile collector, e.g. every minute from cron: \
            stellar-webhooks metrics > /var/lib/prometheus/node-exporter/stellar-webhooks.prom.$$ \
            && mv /var/lib/prometheus/node-exporter/stellar-webhooks.prom.$$ \
            /var/lib/prometheus/node-exporter/stellar-webhooks.prom. Exit status 3 when the \
            service is not running.
            """)

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let config = try options.load(failing: RunningService.unknown)
        guard let snapshot = try RunningService.find(config) else {
            printError("stellar-webhooks is not running (data_dir \(config.dataDir)): no metrics")
            throw ExitCode(3)
        }
        guard let pending = RunningService.pending(config) else {
            printError("the store cannot be read: no metrics")
            throw ExitCode(1)
        }
        print(MetricsText.render(snapshot, pending: pending, now: Date()), terminator: "")
    }
}

/// Finding the running service of a configuration: its scoreboard, and a live master behind it.
enum RunningService {
    /// LSB's exit status for "unknown": the configuration or the scoreboard cannot be read.
    static let unknown: Int32 = 4

    /// What the scoreboard says, when the master that made it still runs; nil when none does.
    static func find(_ config: Config) throws -> ScoreboardSnapshot? {
        let path = StoreLayout(root: config.dataDir).scoreboard
        let board: Scoreboard?
        do {
            board = try Scoreboard.open(at: path, writable: false)
        } catch let failure as FileSystem.Failure where failure.code == EACCES {
            printError(
                "cannot read \(path): run this as root or as the user the service runs as (e.g. sudo -u stellar-webhooks)"
            )
            throw ExitCode(unknown)
        }
        guard let board else { return nil }
        let snapshot = board.snapshot()
        return isServe(pid: snapshot.masterPid) ? snapshot : nil
    }

    /// Whether `pid` is a running `stellar-webhooks serve` (not another process that took the pid
    /// of a master that died): its command line, which /proc shows every user.
    static func isServe(pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM,
            let bytes = try? FileSystem.read("/proc/\(pid)/cmdline")
        else { return false }
        return bytes.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == "serve" }
    }

    /// The store's pending deliveries; nil when it cannot be read (said as unknown).
    static func pending(_ config: Config) -> PendingSummary? {
        try? ConfigOptions.openStore(config, prepared: false).pendingSummary()
    }
}
