import FoundationEssentials
import Glibc
import WebhooksCore

/// A pending delivery the helper knows of, by its outbox entry's name: only what scheduling
/// needs. The delivery itself is read again when it is sent, so a long backlog stays small in
/// memory and a send always starts from what is on disk.
struct Job {
    var deliveryId: String
    var webhookId: String
    var manual: Bool
    /// The Discord webhook it goes to, for one-at-a-time and bucket waits.
    var rateLimitKey: String
    var dueAt: Date

    init(_ delivery: Delivery, rateLimitKey: String, now: Date) {
        deliveryId = delivery.id
        webhookId = delivery.webhookId
        manual = delivery.manual
        self.rateLimitKey = rateLimitKey
        dueAt = delivery.nextAttemptAt.flatMap(Timestamp.parse) ?? now
    }
}

/// The deliveries waiting to be sent (not in flight), kept in send order: manual sends first,
/// then queue order, which is the order of their outbox names.
struct DueQueue {
    private var jobs: [String: Job] = [:]
    /// The names of `jobs`, in send order.
    private var order: [String] = []

    var count: Int { jobs.count }

    subscript(name: String) -> Job? { jobs[name] }

    /// Every waiting job, in send order.
    var inSendOrder: [(name: String, job: Job)] { order.map { ($0, jobs[$0]!) } }

    var deliveryIds: Set<String> { Set(jobs.values.map(\.deliveryId)) }

    /// Adds a job, or replaces the one of that name.
    mutating func insert(_ name: String, _ job: Job) {
        remove(name)
        jobs[name] = job
        order.insert(name, at: position(of: name, manual: job.manual))
    }

    @discardableResult
    mutating func remove(_ name: String) -> Job? {
        guard let job = jobs[name] else { return nil }
        order.remove(at: position(of: name, manual: job.manual))
        jobs.removeValue(forKey: name)
        return job
    }

    /// The names of a webhook's automatic (not manual) jobs.
    func automaticJobs(ofWebhook webhookId: String) -> [String] {
        jobs.filter { $0.value.webhookId == webhookId && !$0.value.manual }.map(\.key)
    }

    /// The earliest time a job not yet due falls due.
    func nextDue(after now: Date) -> Date? {
        jobs.values.lazy.map(\.dueAt).filter { $0 > now }.min()
    }

    /// Where `name` is or would go in `order` (binary search on the send order).
    private func position(of name: String, manual: Bool) -> Int {
        var low = 0, high = order.count
        while low < high {
            let middle = (low + high) / 2
            let other = order[middle]
            let otherManual = jobs[other]?.manual ?? false
            let before = otherManual != manual ? otherManual : other < name
            if before { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

/// A send under way: its job and the delivery as it was read to send it, by outbox entry name.
struct InFlight {
    var job: Job
    var delivery: Delivery
    var startedAt: Date
}

/// Workers waiting on the helper socket for a manual send to finish, by delivery id.
struct Waiters {
    private var clients: [String: [Int32]] = [:]

    var isEmpty: Bool { clients.isEmpty }

    func isAwaited(_ deliveryId: String) -> Bool { clients[deliveryId] != nil }

    mutating func add(_ client: Int32, for deliveryId: String) {
        clients[deliveryId, default: []].append(client)
    }

    /// Takes the clients of every delivery not in `pending`: theirs are finished.
    mutating func takeFinished(pending: Set<String>) -> [Int32] {
        let finished = clients.keys.filter { !pending.contains($0) }
        return finished.flatMap { clients.removeValue(forKey: $0) ?? [] }
    }

    mutating func takeAll() -> [Int32] {
        defer { clients.removeAll() }
        return Array(clients.values.joined())
    }
}

/// When the helper reads the outbox and prunes old records.
struct Chores {
    static let scanInterval: TimeInterval = 5
    static let pruneInterval: TimeInterval = 3600

    /// More of the outbox to read now (a wake, a send request, a batch left over).
    var scanRequested = true
    private var lastScan = Date.distantPast
    private var nextPrune: Date

    init(now: Date) {
        nextPrune = now
    }

    mutating func scanDue(now: Date) -> Bool {
        guard scanRequested || now.timeIntervalSince(lastScan) >= Self.scanInterval else { return false }
        scanRequested = false
        lastScan = now
        return true
    }

    mutating func pruneDue(now: Date) -> Bool {
        guard now >= nextPrune else { return false }
        nextPrune = now.addingTimeInterval(Self.pruneInterval)
        return true
    }
}

/// Pending deliveries not due for a while (retries later on), by outbox entry name: only the name
/// and the time, so a long backlog of them costs little memory and none is read again before it
/// falls due.
struct ParkedJobs {
    private var due: [String: Date] = [:]
    /// When the first of them falls due.
    private(set) var earliest: Date?

    var count: Int { due.count }

    mutating func park(_ name: String, until: Date) {
        due[name] = until
        earliest = min(earliest ?? until, until)
    }

    /// Whether `name` is parked and not due yet.
    func isWaiting(_ name: String, now: Date) -> Bool {
        due[name].map { $0 > now } ?? false
    }

    mutating func unpark(_ name: String) {
        due.removeValue(forKey: name)
    }

    /// Forgets entries that are no longer in the outbox (finished or gone with their webhook).
    /// `listed` is the outbox, sorted.
    mutating func keepOnly(listed: [String]) {
        guard !due.isEmpty else { return }
        var gone: [String] = []
        var cursor = listed.startIndex
        for name in due.keys.sorted() {
            while cursor < listed.endIndex && listed[cursor] < name { cursor += 1 }
            if cursor == listed.endIndex || listed[cursor] != name { gone.append(name) }
        }
        for name in gone { due.removeValue(forKey: name) }
        earliest = due.values.min()
    }
}
