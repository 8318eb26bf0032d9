import FoundationEssentials

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
