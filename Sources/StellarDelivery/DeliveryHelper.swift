import Foundation
import Logging
import WebhooksCore

/// The delivery helper (design §8): the only process that talks to Discord. One thread, one loop:
/// read the outbox, start the sends the gate allows, wait on libcurl and the helper socket,
/// record what came back. Every state change is on disk before the next step, so a helper killed
/// at any instant loses nothing: its successor finds every pending delivery in the outbox.
public final class DeliveryHelper {
    /// A pending delivery known to the helper, by its outbox entry's name.
    struct Job {
        var delivery: Delivery
        /// The Discord webhook it goes to, for one-at-a-time and bucket waits.
        var rateLimitKey: String
        var dueAt: Date
    }

    static let scanInterval: TimeInterval = 5
    static let pruneInterval: TimeInterval = 3600
    static let longestWait: TimeInterval = 1
    static let scanBatch = 128

    private let config: Config
    private let store: Store
    private let logger: Logger
    private let policy: DeliveryPolicy
    private var gate: SendGate
    private let transport: CurlTransport

    private var waiting: [String: Job] = [:]
    /// Names of `waiting`, manual sends first, then in queue order.
    private var order: [String] = []
    private var sending: [String: Job] = [:]
    /// Clients waiting for a delivery to finish, by delivery id.
    private var waiters: [String: [Int32]] = [:]
    private var scanRequested = true
    private var lastScan = Date.distantPast
    private var nextPrune = Date()

    public init(config: Config, store: Store, logger: Logger) {
        self.config = config
        self.store = store
        self.logger = logger
        self.policy = DeliveryPolicy(retrySchedule: config.retrySchedule)
        self.gate = SendGate(concurrency: config.deliveryConcurrency, ratePerSecond: config.globalRateLimit)
        self.transport = CurlTransport(settings: .init(
            timeout: config.deliveryTimeout, caFile: config.caFile, allowInsecure: config.allowInsecureTargets))
    }

    /// Runs until SIGTERM or SIGINT, then lets the sends in flight finish and returns.
    public func run() throws {
        // One helper per data_dir: a successor (after a reload) waits here for its predecessor.
        let lock = try FileLock("\(config.dataDir)/deliver.lock")
        defer { lock.unlock() }
        let stopSignals = try StopSignals()
        let socket = try HelperSocket(path: HelperLink.socketPath(dataDir: config.dataDir))
        defer { socket.shutdown() }  // runs before the unlock above
        logger.info("delivery helper started", metadata: ["pid": "\(getpid())", "concurrency": "\(config.deliveryConcurrency)", "rate": "\(config.globalRateLimit)/s"])

        var stopping = false
        while !stopping || transport.inFlight > 0 {
            if !stopping {
                maintain(now: Date())
                startDueSends()
            }
            let ready = transport.wait(extraFDs: [stopSignals.fd] + socket.watched, timeout: stopping ? 0.2 : timeout(now: Date()))
            if ready.contains(stopSignals.fd), !stopping {
                stopping = true
                // Sends already on the wire finish; the rest stay pending for the next helper.
                for name in transport.cancelUnsent() { sending.removeValue(forKey: name) }
                logger.info("delivery helper stopping", metadata: ["inFlight": "\(transport.inFlight)"])
            }
            for command in socket.commands(ready: ready) {
                switch command {
                case .wake:
                    scanRequested = true
                case .send(let deliveryId, let client):
                    waiters[deliveryId, default: []].append(client)
                    scanRequested = true
                }
            }
            for (name, result) in transport.finished() {
                complete(name, result, now: Date())
            }
            answerWaiters(socket)
        }
        for client in waiters.values.joined() { close(client) }
        logger.info("delivery helper stopped")
    }

    // MARK: The outbox

    private func maintain(now: Date) {
        if scanRequested || now.timeIntervalSince(lastScan) >= Self.scanInterval {
            scanRequested = false
            lastScan = now
            catching("reading the outbox") { try scanOutbox(now: now) }
        }
        if now >= nextPrune {
            nextPrune = now.addingTimeInterval(Self.pruneInterval)
            catching("pruning") { try prune(now: now) }
        }
    }

    /// Picks up entries not seen yet: those a client waits for, then the oldest. Cost: one
    /// listing, plus one read per new entry, at most `scanBatch` of them per pass so a large burst
    /// starts sending at once.
    private func scanOutbox(now: Date) throws {
        var added = 0
        let names = try store.outboxNames()
        let awaited = waiters.isEmpty ? [] : names.filter { waiters[Store.deliveryId(outboxName: $0)] != nil }
        for name in awaited + names where waiting[name] == nil && sending[name] == nil {
            guard added < Self.scanBatch else {
                scanRequested = true  // the rest on the next pass
                break
            }
            guard let delivery = try store.pendingDelivery(outboxName: name) else { continue }
            let key = try store.webhook(userId: delivery.userId, id: delivery.webhookId)
                .flatMap(target)?.rateLimitKey ?? delivery.webhookId
            waiting[name] = Job(delivery: delivery, rateLimitKey: key, dueAt: Self.dueAt(delivery, now: now))
            added += 1
        }
        if added > 0 { sortOrder() }
    }

    private func sortOrder() {
        order = waiting.keys.sorted { left, right in
            let (a, b) = (waiting[left]!.delivery.manual, waiting[right]!.delivery.manual)
            return a != b ? a : left < right
        }
    }

    private func prune(now: Date) throws {
        let cutoff = now.addingTimeInterval(-Double(config.retentionDays) * 86400)
        let pruned = try store.pruneDeliveries(createdBefore: cutoff)
        let expired = try store.expireIdempotencyKeys(now: now)
        if pruned + expired > 0 {
            logger.info("pruned old records", metadata: ["deliveries": "\(pruned)", "idempotencyKeys": "\(expired)"])
        }
    }

    // MARK: Sending

    /// Starts every send the gate allows, in order: manual sends first, then queue order. Only
    /// the first due delivery of each Discord webhook is considered, so first attempts to it
    /// leave in the order they were queued.
    private func startDueSends() {
        var considered = Set<String>()
        for name in order {
            let now = Date()  // reading the store takes time: the rate window needs the real one
            guard gate.isOpen(now: now) else { break }
            guard let job = waiting[name], job.dueAt <= now,
                considered.insert(job.rateLimitKey).inserted,
                gate.mayStart(job.rateLimitKey, now: now)
            else { continue }
            catching("starting a send") { try begin(name, job, now: now) }
        }
        if order.count != waiting.count { order.removeAll { waiting[$0] == nil } }
    }

    private func begin(_ name: String, _ job: Job, now: Date) throws {
        var job = job
        let delivery = job.delivery
        // Read the webhook again: its URL or state may have changed while this waited.
        guard let webhook = try store.webhook(userId: delivery.userId, id: delivery.webhookId) else {
            _ = try store.pendingDelivery(outboxName: name)  // its delivery went with it: drops the entry
            waiting.removeValue(forKey: name)
            return
        }
        guard webhook.enabled || delivery.manual else {
            return try finishUnsent(name, job, error: "Webhook is disabled" + (webhook.disabledReason.map { ": \($0)" } ?? ""), now: now)
        }
        guard let target = target(webhook) else {
            return try finishUnsent(name, job, error: "Webhook URL is not allowed by discord_hosts", now: now)
        }
        if target.rateLimitKey != job.rateLimitKey {
            job.rateLimitKey = target.rateLimitKey
            waiting[name] = job
            guard gate.mayStart(job.rateLimitKey, now: now) else { return }
        }
        let body = DiscordMessage.body(for: delivery.payload, footer: config.discordFooter).serialized()
        try transport.start(key: name, url: target.sendURL, body: body)
        gate.started(job.rateLimitKey, now: Date())
        waiting.removeValue(forKey: name)
        sending[name] = job
        logger.debug("sending", metadata: ["delivery": "\(delivery.id)", "webhook": "\(delivery.webhookId)", "to": "\(target.redacted)"])
    }

    /// Fails a delivery that cannot be sent at all, without an attempt.
    private func finishUnsent(_ name: String, _ job: Job, error: String, now: Date) throws {
        var delivery = job.delivery
        delivery.status = .failed
        delivery.error = error
        delivery.nextAttemptAt = nil
        try store.record(delivery, outboxName: name)
        waiting.removeValue(forKey: name)
        logger.info("delivery failed", metadata: ["delivery": "\(delivery.id)", "webhook": "\(delivery.webhookId)", "error": "\(error)"])
    }

    /// Records an attempt's result and applies its outcome (design §8).
    private func complete(_ name: String, _ result: AttemptResult, now: Date) {
        guard var job = sending.removeValue(forKey: name) else { return }
        let outcome = policy.outcome(of: result, retriesUsed: job.delivery.retriesUsed, manual: job.delivery.manual, jitter: Double.random(in: -1...1))
        let delivery = policy.record(outcome, of: result, on: job.delivery, now: now)

        var bucketWait: TimeInterval?
        if case .answered(_, let headers, _) = result { bucketWait = DeliveryPolicy.bucketWait(headers: headers) }
        switch outcome {
        case .rateLimited(let wait, .webhook):
            bucketWait = max(bucketWait ?? 0, wait)
            logger.notice("rate limited by Discord", metadata: ["webhook": "\(delivery.webhookId)", "wait": "\(wait)s"])
        case .rateLimited(let wait, .global):
            gate.pauseAll(until: now.addingTimeInterval(wait))
            logger.warning("global rate limit from Discord: pausing every send", metadata: ["wait": "\(wait)s"])
        case .rateLimited(let wait, .cloudflareBan):
            gate.pauseAll(until: now.addingTimeInterval(wait))
            logger.critical("Discord's Cloudflare temporarily banned this address (429 without rate-limit headers): pausing every send for an hour")
        case .webhookGone(let reason):
            catching("disabling a webhook") { try disable(delivery, reason: reason, now: now) }
        default:
            break
        }
        gate.finished(job.rateLimitKey, wait: bucketWait, now: now)

        catching("recording a delivery") {
            job.delivery = delivery
            job.dueAt = Self.dueAt(delivery, now: now)
            if try store.record(delivery, outboxName: name), delivery.status == .pending {
                waiting[name] = job
                sortOrder()
            }
        }
        if delivery.status != .pending {
            logger.info("delivery \(delivery.status.rawValue)", metadata: [
                "delivery": "\(delivery.id)", "webhook": "\(delivery.webhookId)",
                "status": "\(delivery.statusCode.map(String.init) ?? "none")", "attempts": "\(delivery.attempts)",
            ])
        }
    }

    /// Discord says the webhook is gone: disable it and fail its other automatic deliveries.
    private func disable(_ delivery: Delivery, reason: String, now: Date) throws {
        _ = try store.updateWebhook(userId: delivery.userId, id: delivery.webhookId) {
            $0.enabled = false
            $0.disabledReason = reason
            $0.updatedAt = Timestamp.format(now)
        }
        logger.warning("webhook disabled", metadata: ["webhook": "\(delivery.webhookId)", "reason": "\(reason)"])
        for (name, job) in waiting where job.delivery.webhookId == delivery.webhookId && !job.delivery.manual {
            try finishUnsent(name, job, error: "Webhook disabled: \(reason)", now: now)
        }
    }

    private func answerWaiters(_ socket: HelperSocket) {
        guard !waiters.isEmpty, !scanRequested else { return }
        let pending = Set(waiting.values.map(\.delivery.id)).union(sending.values.map(\.delivery.id))
        for (deliveryId, clients) in waiters where !pending.contains(deliveryId) {
            clients.forEach(socket.answerDone)
            waiters.removeValue(forKey: deliveryId)
        }
    }

    // MARK: Helpers

    private func target(_ webhook: Webhook) -> DiscordWebhookURL? {
        DiscordWebhookURL(webhook.url, allowedHosts: config.discordHosts, allowInsecure: config.allowInsecureTargets)
    }

    /// How long the loop may sleep: until the next due delivery or gate change, at most a second.
    private func timeout(now: Date) -> TimeInterval {
        var wake = now.addingTimeInterval(Self.longestWait)
        if let change = gate.nextChange(now: now) { wake = min(wake, change) }
        // Deliveries already due but held back wait for a send to end or the gate to change.
        if let due = waiting.values.lazy.map(\.dueAt).filter({ $0 > now }).min() {
            wake = min(wake, due)
        }
        return max(0, wake.timeIntervalSince(now))
    }

    private static func dueAt(_ delivery: Delivery, now: Date) -> Date {
        delivery.nextAttemptAt.flatMap(Timestamp.parse) ?? now
    }

    private func catching(_ what: String, _ body: () throws -> Void) {
        do {
            try body()
        } catch {
            logger.error("delivery helper: failed \(what)", metadata: ["cause": "\(error)"])
        }
    }
}
