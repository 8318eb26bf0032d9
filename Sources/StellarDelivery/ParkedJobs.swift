import FoundationEssentials

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
