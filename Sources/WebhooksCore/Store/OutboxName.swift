import FoundationEssentials

/// An outbox entry's name on either store, `{queued at: ns since 1970, 20 digits}-{deliveryId}.json`:
/// names sort in the order deliveries were queued, so first attempts to a webhook leave in that
/// order, and the oldest pending delivery's age is read from a name.
public enum OutboxName {
    static let timeDigits = 20
    static let suffix = ".json"

    /// `sequence` orders the deliveries of one queueing, which share `queuedAt`.
    public static func make(deliveryId: String, queuedAt: Date, sequence: Int) -> String {
        let nanoseconds = Int64(queuedAt.timeIntervalSince1970 * 1_000_000_000) + Int64(sequence)
        return "\(nanoseconds.zeroPadded(timeDigits))-\(deliveryId)\(suffix)"
    }

    /// When the entry was queued; nil for a name not of this form.
    public static func queuedAt(of name: String) -> Date? {
        guard deliveryId(of: name) != nil, let nanoseconds = Int64(name.prefix(timeDigits)) else { return nil }
        return Date(timeIntervalSince1970: Double(nanoseconds) / 1_000_000_000)
    }

    /// The delivery a name points to; nil for a name not of this form.
    public static func deliveryId(of name: String) -> String? {
        let parts = name.split(separator: "-", maxSplits: 1)
        guard parts.count == 2, parts[0].count == timeDigits, parts[0].allSatisfy(\.isASCIIDigit),
            parts[1].hasSuffix(suffix)
        else { return nil }
        return String(parts[1].dropLast(suffix.count))
    }
}
