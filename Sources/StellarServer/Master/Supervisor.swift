import CPages
import FoundationEssentials
import Glibc
import Logging
import WebhooksCore

/// The master's process manager (docs/architecture.md: "Processes"): keeps `workers` worker
/// processes and one delivery helper running, replaces any that die (with backoff if they die
/// young), recycles a generation on SIGHUP and stops everything gracefully on SIGTERM/SIGINT.
/// It counts restarts on the scoreboard and tells systemd, when it runs under it, when the service
/// is ready, reloading or stopping, and how it is doing (`STATUS=`).
///
/// Signals are blocked and taken synchronously with sigtimedwait, so the loop below is the only
/// place anything happens: no handlers, no shared state.
public final class Supervisor {
    public struct Settings {
        /// Arguments after the binary for a worker child, e.g. `["worker", "--config", path]`.
        public var workerArguments: [String]
        /// The same for the delivery helper, e.g. `["deliver", "--config", path]`.
        public var helperArguments: [String]
        public var reloadConfig: () -> (Config, [ConfigProblem])
        /// The store's pending deliveries, for systemd's status line.
        public var pending: () -> PendingSummary?
        public var stopTimeout: TimeInterval = 30

        public init(
            workerArguments: [String], helperArguments: [String],
            reloadConfig: @escaping () -> (Config, [ConfigProblem]),
            pending: @escaping () -> PendingSummary?
        ) {
            self.workerArguments = workerArguments
            self.helperArguments = helperArguments
            self.reloadConfig = reloadConfig
            self.pending = pending
        }
    }

    /// How often systemd's status line is brought up to date.
    static let statusInterval: TimeInterval = 5

    private enum Role: String {
        case worker
        case helper = "delivery helper"
    }

    private struct Child {
        var role: Role
        var generation: Int
        var startedAt: Date
    }

    private let settings: Settings
    private let listenFD: Int32
    private let board: Scoreboard
    private let notifier: SystemdNotifier
    private let logger: Logger
    private var config: Config
    private var generation = 0
    private var children: [pid_t: Child] = [:]
    /// Worker slots to refill, each not before its time (the backoff for crash loops).
    private var pendingRestarts: [Date] = []
    private var backoff = RestartBackoff()
    /// When to start the delivery helper again, if it is not running.
    private var helperRestart: Date?
    private var helperBackoff = RestartBackoff()
    /// Whether systemd has been told the current generation is ready (READY=1).
    private var announcedReady = false
    private var nextStatus = Date.distantPast

    public init(
        config: Config, listenFD: Int32, settings: Settings, scoreboard: Scoreboard, notifier: SystemdNotifier,
        logger: Logger
    ) {
        self.config = config
        self.listenFD = listenFD
        self.settings = settings
        self.board = scoreboard
        self.notifier = notifier
        self.logger = logger
    }

    /// Runs until SIGTERM or SIGINT has stopped every child.
    public func run() {
        var signals = sigset_t()
        sigemptyset(&signals)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGCHLD] { sigaddset(&signals, signal) }
        sigprocmask(SIG_BLOCK, &signals, nil)

        logger.info("master started", metadata: ["workers": "\(config.workers)", "pid": "\(getpid())"])
        for _ in 0..<config.workers { spawnWorker() }
        spawnHelper()
        // Start-up's code stops counting in the master's memory; the loop's comes back (stellar_pages.h).
        var pageDrops = stellar_page_drops()
        stellar_drop_read_only_pages(&pageDrops, 0)

        while true {
            // Short while waiting to announce readiness, which workers reach in milliseconds.
            let awaitingReady = notifier.isActive && !announcedReady
            var timeout = timespec(tv_sec: 0, tv_nsec: awaitingReady ? 20_000_000 : 200_000_000)
            let signal = sigtimedwait(&signals, nil, &timeout)
            if signal == SIGTERM || signal == SIGINT {
                // Before reaping: children that took the same Ctrl-C and left are stopping, not
                // recycled or dead.
                stop(reason: signal == SIGTERM ? "SIGTERM" : "SIGINT")
                return
            }
            reapChildren()
            if signal == SIGHUP { reload() }
            refillSlots()
            tellSystemd()
        }
    }

    /// READY=1 once every worker of the current generation has taken its place on the scoreboard
    /// (it waits for connections) and the helper runs; then a STATUS= line every few seconds.
    private func tellSystemd() {
        guard notifier.isActive else { return }
        let now = Date()
        if !announcedReady {
            let snapshot = board.snapshot()
            let current = Set(children.filter { $0.value.generation == generation && $0.value.role == .worker }.keys)
            let waiting = snapshot.workers.filter { current.contains($0.pid) }.count
            let helperRuns = snapshot.helperPid.map { children[$0]?.generation == generation } ?? false
            guard waiting >= config.workers, helperRuns else { return }
            announcedReady = true
            notifier.send(["READY=1", "STATUS=" + statusLine(snapshot, now: now)])
            nextStatus = now.addingTimeInterval(Self.statusInterval)
        } else if now >= nextStatus {
            notifier.send(["STATUS=" + statusLine(board.snapshot(), now: now)])
            nextStatus = now.addingTimeInterval(Self.statusInterval)
        }
    }

    /// "8 workers (1 busy, 7 idle); 3 deliveries pending; last delivered 12 s ago", for `systemctl status`.
    private func statusLine(_ snapshot: ScoreboardSnapshot, now: Date) -> String {
        var parts = ["\(config.workers) workers (\(snapshot.busyWorkers) busy, \(snapshot.idleWorkers) idle)"]
        if let pending = settings.pending() { parts.append("\(pending.count) deliveries pending") }
        let pause = snapshot.pauseInForce(at: now)
        if pause != .none { parts.append("sends paused (\(pause.label))") }
        parts.append(
            "last delivered "
                + (snapshot.lastDelivered.map { "\(Int(now.timeIntervalSince($0))) s ago" } ?? "never since start"))
        return parts.joined(separator: "; ")
    }

    private func spawnWorker() {
        do {
            let pid = try ChildProcess.spawn(arguments: settings.workerArguments, listenFD: listenFD)
            children[pid] = Child(role: .worker, generation: generation, startedAt: Date())
            logger.debug("worker started", metadata: ["pid": "\(pid)"])
        } catch {
            logger.error("cannot start a worker", metadata: ["cause": "\(error)"])
            scheduleRestart(after: backoff.grow())
        }
    }

    /// The helper gets no listening socket. After a reload the new one waits for the old one's
    /// lock, so two helpers never send at once.
    private func spawnHelper() {
        helperRestart = nil
        do {
            let pid = try ChildProcess.spawn(arguments: settings.helperArguments, listenFD: nil)
            children[pid] = Child(role: .helper, generation: generation, startedAt: Date())
            logger.debug("delivery helper started", metadata: ["pid": "\(pid)"])
        } catch {
            logger.error("cannot start the delivery helper", metadata: ["cause": "\(error)"])
            helperRestart = Date().addingTimeInterval(helperBackoff.grow())
        }
    }

    private func reapChildren() {
        var status: Int32 = 0
        while true {
            let pid = waitpid(-1, &status, WNOHANG)
            guard pid > 0 else { return }
            guard let child = children.removeValue(forKey: pid) else { continue }
            board.childEnded(pid: pid)
            guard child.generation == generation else {
                logger.debug("old \(child.role.rawValue) finished", metadata: ["pid": "\(pid)"])
                continue
            }
            let why = ChildProcess.describe(status: status)
            if child.role == .helper {
                let delay = helperBackoff.delay(afterLivingFor: Date().timeIntervalSince(child.startedAt))
                let what =
                    ChildProcess.exitedCleanly(status: status) ? "delivery helper exited" : "delivery helper died"
                logger.error(
                    "\(what), restarting it", metadata: ["pid": "\(pid)", "why": "\(why)", "delay": "\(delay)s"])
                helperRestart = Date().addingTimeInterval(delay)
                board.helperRestarted()
            } else if ChildProcess.exitedCleanly(status: status) {
                // Recycled after max_requests: a normal replacement.
                logger.info("worker recycled", metadata: ["pid": "\(pid)"])
                scheduleRestart(after: 0)
                board.workerRestarted(.maxRequests)
            } else {
                let delay = backoff.delay(afterLivingFor: Date().timeIntervalSince(child.startedAt))
                logger.error(
                    "worker died, replacing it", metadata: ["pid": "\(pid)", "why": "\(why)", "delay": "\(delay)s"])
                scheduleRestart(after: delay)
                board.workerRestarted(.crashed)
            }
        }
    }

    private func scheduleRestart(after delay: TimeInterval) {
        pendingRestarts.append(Date().addingTimeInterval(delay))
    }

    private func refillSlots() {
        let now = Date()
        let due = pendingRestarts.filter { $0 <= now }
        pendingRestarts.removeAll { $0 <= now }
        let running = children.values.filter { $0.generation == generation && $0.role == .worker }.count
        let missing = config.workers - running - pendingRestarts.count
        for _ in 0..<min(due.count, max(missing, 0)) { spawnWorker() }
        if let helperRestart, helperRestart <= now { spawnHelper() }
    }

    /// SIGHUP: read the configuration again and replace every worker gracefully: the new
    /// generation starts first, then the old one is asked to finish its requests and leave.
    private func reload() {
        let (newConfig, problems) = settings.reloadConfig()
        guard problems.isEmpty else {
            logger.error(
                "reload refused, keeping the running configuration",
                metadata: ["problems": "\(problems.map(\.description).joined(separator: "; "))"])
            return
        }
        // READY=1 follows once the new generation waits for connections (tellSystemd).
        notifier.send(["RELOADING=1"])
        announcedReady = false
        if newConfig.socket != config.socket {
            logger.warning("socket changes take effect on restart, not reload")
        }
        config = newConfig
        let old = children.keys.filter { children[$0]?.generation == generation }
        generation += 1
        pendingRestarts.removeAll()
        backoff = RestartBackoff()
        helperBackoff = RestartBackoff()
        for _ in 0..<config.workers { spawnWorker() }
        spawnHelper()
        for pid in old { kill(pid, SIGTERM) }
        board.reloaded(workers: config.workers)
        logger.info("reloaded", metadata: ["workers": "\(config.workers)", "replaced": "\(old.count)"])
    }

    /// Asks every child to finish the request in hand and exit; kills what is left after
    /// `stopTimeout`.
    private func stop(reason: String) {
        notifier.send(["STOPPING=1"])
        logger.info("stopping", metadata: ["signal": "\(reason)", "children": "\(children.count)"])
        generation += 1  // nothing reaped from now on is replaced
        for pid in children.keys { kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(settings.stopTimeout)
        while !children.isEmpty && Date() < deadline {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid > 0 {
                children.removeValue(forKey: pid)
                board.childEnded(pid: pid)
            } else {
                usleep(20_000)
            }
        }
        for pid in children.keys {
            logger.warning("child did not stop in time, killing it", metadata: ["pid": "\(pid)"])
            kill(pid, SIGKILL)
            waitpid(pid, nil, 0)
        }
        logger.info("stopped")
    }
}
