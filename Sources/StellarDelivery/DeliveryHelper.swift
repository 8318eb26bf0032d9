import CPages
import FoundationEssentials
import Glibc
import Logging
import WebhooksCore

/// The delivery helper (docs/architecture.md: "A delivery"): the only process that talks to
/// Discord. One thread, one loop: read the outbox, start the sends the gate allows, wait on libcurl
/// and the helper socket, record what came back. Every state change is on disk before the next
/// step, so a helper killed at any instant loses nothing: its successor finds every pending
/// delivery in the outbox.
public final class DeliveryHelper {
    static let longestWait: TimeInterval = 1
    static let scanBatch = 128
    /// At most this many deliveries are held as jobs; the rest of a backlog stays on disk until
    /// there is room, so the helper's memory does not grow with the backlog.
    static let window = 4096
    /// Deliveries due further off than this are parked (a name and a time) instead.
    static let parkBeyond: TimeInterval = 60
    /// How long before the rate lets the next send go its delivery is claimed (`ClaimedAhead`):
    /// more than a claim waits behind a burst of fan-outs.
    static let claimAhead: TimeInterval = 0.5
    /// A claim made ahead and not sent within this long is dropped.
    static let claimKept: TimeInterval = 2 * claimAhead

    let config: Config
    /// The webhooks it sends to, and the outbox.
    let store: Store & Outbox
    /// The other hosts' helpers, when several share the store.
    let coordination: HostCoordination?
    let logger: Logger
    let policy: DeliveryPolicy
    /// Opens the signing secrets of webhooks whose provider signs; made at the first such send,
    /// so a helper that sends only to Discord and Slack never sets up OpenSSL's MAC.
    lazy var secrets = SecretBox(serverSecret: serverSecret)
    private let serverSecret: [UInt8]
    let transport: CurlTransport
    /// The host's scoreboard: the helper's state and its sends, for metrics and `status`.
    let board: Scoreboard?

    // The helper's state, one owner per concern.
    /// Who may send now.
    var gate: SendGate
    /// What waits to be sent, in send order: the deliveries due soonest, `window` at most.
    var queue = DueQueue()
    /// Deliveries due later on.
    var parked = ParkedJobs()
    /// Sends under way, by outbox entry name.
    var inFlight: [String: InFlight] = [:]
    /// The send that goes when the rate next allows, already claimed.
    var claimedAhead: ClaimedAhead?
    /// Workers waiting for a manual send to finish.
    var waiters = Waiters()
    /// A full or failing disk: sends pause, and outcomes in hand wait here to be written.
    var outage = StorageOutage()
    /// When to read the outbox and prune.
    var chores: Chores

    public init(
        config: Config, store: StoreBackend, serverSecret: [UInt8], scoreboard: Scoreboard?, logger: Logger
    ) throws {
        self.config = config
        self.store = store
        self.coordination = store.coordination
        self.board = scoreboard
        self.logger = logger
        self.policy = DeliveryPolicy(retrySchedule: config.retrySchedule)
        self.serverSecret = serverSecret
        self.gate = SendGate(concurrency: config.deliveryConcurrency, ratePerSecond: config.globalRateLimit)
        self.chores = Chores(now: Date())
        self.transport = try CurlTransport(
            settings: .init(
                timeout: config.deliveryTimeout, caFile: config.caFile, allowInsecure: config.allowInsecureTargets))
    }

    /// Runs until SIGTERM or SIGINT, then lets the sends in flight finish and returns.
    public func run() throws {
        // One helper per data_dir: a successor (after a reload) waits here for its predecessor.
        // Both files are this host's own, whichever store holds the data.
        let local = StoreLayout(root: config.dataDir)
        let lock = try FileLock(local.helperLock)
        defer { lock.unlock() }
        let stopSignals = try StopSignals()
        let socket = try HelperSocket(path: local.helperSocket)
        defer { socket.shutdown() }  // runs before the unlock above
        board?.helperStarted(pid: getpid())
        logger.info(
            "delivery helper started",
            metadata: [
                "pid": "\(getpid())", "concurrency": "\(config.deliveryConcurrency)",
                "rate": "\(config.globalRateLimit)/s",
            ])

        var stopping = false
        var pageDrops = stellar_page_drops()
        while !stopping || transport.inFlight > 0 {
            // What start-up touched (and a library's initialization, when a send loaded one), and
            // each minute what the loop ran since, stops counting in the helper's memory; what the
            // loop runs comes back (stellar_pages.h).
            stellar_drop_read_only_pages(&pageDrops, 60)
            // One `now` for deciding and for the sleep that follows, so nothing the decision
            // left waiting can fall between them.
            let now = Date()
            if !stopping {
                maintain(now: now)
                startDueSends(now: now)
            }
            publishState(now: now)
            let queued = coordination?.queuedSignal().map { [$0] } ?? []  // another host's fan-outs
            let ready = transport.wait(
                extraFDs: [stopSignals.fd] + socket.watched + queued, timeout: stopping ? 0.2 : timeout(now: now))
            if coordination?.takeQueuedSignal() == true { chores.scanRequested = true }
            if ready.contains(stopSignals.fd), !stopping {
                stopping = true
                // Sends already on the wire finish; the rest stay pending for the next helper.
                for name in transport.cancelUnsent() { inFlight.removeValue(forKey: name) }
                logger.info("delivery helper stopping", metadata: ["inFlight": "\(transport.inFlight)"])
            }
            socket.dropSilentClients(now: now)
            for received in socket.commands(ready: ready) {
                if case .send(let deliveryId) = received.command, let client = received.waitingClient {
                    waiters.add(client, for: deliveryId)
                }
                chores.scanRequested = true
            }
            for (name, result) in transport.finished() {
                complete(name, result, now: Date())
            }
            answerWaiters(socket)
        }
        for client in waiters.takeAll() { close(client) }
        logger.info("delivery helper stopped")
    }

    // MARK: Helpers

    /// The helper's state on the scoreboard: paused (and why, until when) or not, sends in flight.
    func publishState(now: Date) {
        guard let board else { return }
        let pause = outage.isActive ? (reason: Scoreboard.Pause.fullDisk, until: nil) : gate.pause(now: now)
        board.helperState(pause: pause.reason, until: pause.until, inFlight: inFlight.count)
    }

    /// The webhook's provider, and where a send to it goes; nil when its URL is not allowed.
    func target(_ webhook: Webhook) -> (provider: DeliveryProvider, target: DeliveryTarget)? {
        guard let provider = Providers.named(webhook.provider),
            let target = provider.target(webhook.url, config: config)
        else { return nil }
        return (provider, target)
    }

    /// How long the loop may sleep: until the next due delivery or gate change, at most a second.
    func timeout(now: Date) -> TimeInterval {
        guard !(chores.scanRequested && wantsScan(now: now)) else { return 0 }  // more of the outbox to read
        var wake = now.addingTimeInterval(Self.longestWait)
        if let change = gate.nextChange(now: now) { wake = min(wake, change) }
        if claimedAhead == nil, let opens = gate.rateOpens(now: now), opens.addingTimeInterval(-Self.claimAhead) > now {
            wake = min(wake, opens.addingTimeInterval(-Self.claimAhead))
        }
        if let retry = outage.nextChange { wake = min(wake, retry) }
        if let parkedDue = parked.earliest, parkedDue > now { wake = min(wake, parkedDue) }
        // Deliveries already due but held back wait for a send to end or the gate to change.
        if let due = queue.nextDue(after: now) {
            wake = min(wake, due)
        }
        return max(0, wake.timeIntervalSince(now))
    }

    func catching(_ what: String, _ body: () throws -> Void) {
        do {
            try body()
        } catch {
            report(what, error)
        }
    }

    /// A failed step: a store that cannot be written pauses sends (StorageOutage); anything else
    /// is logged.
    func report(_ what: String, _ error: Error) {
        if let failure = error as? StorageFailure, failure.isStorageUnavailable {
            storageFailed(what, failure, now: Date())
        } else {
            logger.error("delivery helper: failed \(what)", metadata: ["cause": "\(error)"])
        }
    }

    func storageFailed(_ what: String, _ error: Error, now: Date) {
        if outage.failed(now: now) {
            logger.critical(
                "the store cannot be written: sends pause until it can",
                metadata: [
                    "while": "\(what)", "cause": "\(error)", "outcomesHeld": "\(outage.held.count)",
                ])
        }
    }

    /// Writes the outcomes held during an outage (or, with none, probes the store); when that
    /// works, the outage is over and sends resume.
    func retryStorage(now: Date) {
        do {
            if outage.held.isEmpty { try store.checkWritable() }
            for (name, held) in outage.held {
                if try store.record(held.delivery, outboxName: name), held.delivery.status == .pending {
                    keep(name, Job(held.delivery, rateLimitKey: held.rateLimitKey, now: now), now: now)
                }
                outage.written(name)
            }
            let lasted = outage.ended(now: now)
            logger.notice("the store takes writes again: sends resume", metadata: ["after": "\(Int(lasted)) s"])
        } catch {
            storageFailed("writing held outcomes", error, now: now)
        }
    }

    /// An outbox entry, or the delivery it points to, does not decode: it goes aside for the admin.
    func setAside(_ name: String, _ error: Error) {
        queue.remove(name)
        do {
            try store.rejectOutboxEntry(name)
            logger.error(
                "unreadable outbox entry moved to outbox-rejected/",
                metadata: ["entry": "\(name)", "cause": "\(error)"])
        } catch {
            report("moving an unreadable outbox entry aside", error)
        }
    }
}
