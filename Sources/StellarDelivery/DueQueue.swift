import FoundationEssentials

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
        var low = 0
        var high = order.count
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
